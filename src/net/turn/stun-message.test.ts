import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Attr, MessageClass, Method, StunParseError, StunWriter, decodeXorAddress, encodeXorAddress, getAttribute, parseStun, tcpFrameLength } from './stun-message';
import { crc32 } from './crc32';

describe('STUN messages', () => {
  it('round-trips method, class, attributes and XOR addresses (IPv4 and IPv6)', () => {
    const tx = randomBytes(12);
    const buf = new StunWriter(Method.ChannelBind, MessageClass.Error, tx)
      .addError(438, 'Stale Nonce')
      .addAddress(Attr.XorPeerAddress, { family: 4, address: '192.168.1.20', port: 50000 })
      .addString(Attr.Realm, 'fedtab')
      .build({ fingerprint: true });
    const message = parseStun(buf);
    expect([message.method, message.cls]).toEqual([Method.ChannelBind, MessageClass.Error]);
    expect(decodeXorAddress(getAttribute(message, Attr.XorPeerAddress)!, tx)).toEqual({ family: 4, address: '192.168.1.20', port: 50000 });
    expect(getAttribute(message, Attr.Realm)!.toString()).toBe('fedtab');
    const fingerprint = getAttribute(message, Attr.Fingerprint)!.readUInt32BE(0);
    expect(fingerprint).toBe((crc32(buf.subarray(0, buf.length - 8)) ^ 0x5354554e) >>> 0);
    const v6 = { family: 6 as const, address: 'fd00:0:0:0:0:0:0:7', port: 3478 };
    expect(decodeXorAddress(encodeXorAddress({ ...v6, address: 'fd00::7' }, tx), tx)).toEqual(v6);
  });

  it('refuses messages whose lengths do not match the bytes that are there, naming the defect', () => {
    const good = new StunWriter(Method.Binding, MessageClass.Request, randomBytes(12)).addString(Attr.Software, 'x').build();
    expect(() => parseStun(good.subarray(0, 10))).toThrow(StunParseError);
    expect(() => parseStun(good.subarray(0, good.length - 4))).toThrow('does not match');
    const longAttr = Buffer.from(good);
    longAttr.writeUInt16BE(400, 22); // the attribute claims 400 bytes
    expect(() => parseStun(longAttr)).toThrow('runs past the message');
    const odd = Buffer.from(good);
    odd.writeUInt16BE(6, 2);
    expect(() => parseStun(odd)).toThrow('not a multiple of 4');
    const noCookie = Buffer.from(good);
    noCookie.writeUInt32BE(0, 4);
    expect(() => parseStun(noCookie)).toThrow('magic cookie');
    expect(() => decodeXorAddress(Buffer.from([0, 1, 0, 0]), randomBytes(12))).toThrow('IPv4 XOR address has 4 bytes');
    expect(() => decodeXorAddress(Buffer.from([0, 9, 0, 0, 0, 0, 0, 0]), randomBytes(12))).toThrow('unknown address family');
  });

  it('frames a TCP stream: STUN by its length, ChannelData padded to 4 bytes, anything else refused', () => {
    expect(tcpFrameLength(Buffer.from([0, 1, 0]))).toBeUndefined();
    expect(tcpFrameLength(Buffer.from([0x00, 0x01, 0x00, 0x08]))).toBe(28);
    expect(tcpFrameLength(Buffer.from([0x40, 0x00, 0x00, 0x05]))).toBe(12);
    expect(() => tcpFrameLength(Buffer.from([0x80, 0, 0, 0]))).toThrow('starts neither a STUN message nor ChannelData');
  });
});
