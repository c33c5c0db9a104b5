/**
 * Node only: STUN messages (RFC 5389) with the TURN methods and attributes (RFC 5766/8656), and TURN ChannelData.
 * Parsing checks every length against the bytes that are there; nothing is allocated from a declared length.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from './crc32';

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;

export const Method = { Binding: 0x001, Allocate: 0x003, Refresh: 0x004, Send: 0x006, Data: 0x007, CreatePermission: 0x008, ChannelBind: 0x009 } as const;
export const MessageClass = { Request: 0, Indication: 1, Success: 2, Error: 3 } as const;
export type MessageClassValue = (typeof MessageClass)[keyof typeof MessageClass];

export const Attr = {
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;

export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

export interface StunAttribute {
  type: number;
  /** A view into the message's bytes. */
  value: Buffer;
  /** Offset of the attribute's header within the message. */
  offset: number;
}

export interface StunMessage {
  method: number;
  cls: MessageClassValue;
  transactionId: Buffer;
  attributes: StunAttribute[];
  /** The whole message, header included. */
  raw: Buffer;
}

export class StunParseError extends Error {}

/** Most attributes one message may carry; real TURN messages have about ten. */
const MAX_ATTRIBUTES = 32;

export function messageType(method: number, cls: MessageClassValue): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}

/** Whether `buf` starts like a STUN message (the two top bits 0 and the magic cookie). */
export function looksLikeStun(buf: Buffer): boolean {
  return buf.length >= HEADER_BYTES && (buf[0] & 0xc0) === 0 && buf.readUInt32BE(4) === MAGIC_COOKIE;
}

/** Parses one STUN message that fills `buf` exactly. Throws StunParseError naming the defect. */
export function parseStun(buf: Buffer): StunMessage {
  if (buf.length < HEADER_BYTES) throw new StunParseError(`STUN message of ${buf.length} bytes is shorter than its 20-byte header`);
  if (!looksLikeStun(buf)) throw new StunParseError('not a STUN message (bad leading bits or magic cookie)');
  const type = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0) throw new StunParseError(`STUN length ${length} is not a multiple of 4`);
  if (HEADER_BYTES + length !== buf.length) throw new StunParseError(`STUN length ${length} does not match the ${buf.length - HEADER_BYTES} bytes after the header`);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type >> 4) & 1) | ((type >> 7) & 2)) as MessageClassValue;
  const attributes: StunAttribute[] = [];
  let offset = HEADER_BYTES;
  while (offset < buf.length) {
    if (attributes.length >= MAX_ATTRIBUTES) throw new StunParseError(`more than ${MAX_ATTRIBUTES} attributes`);
    if (offset + 4 > buf.length) throw new StunParseError(`attribute header at byte ${offset} runs past the message`);
    const attrType = buf.readUInt16BE(offset);
    const attrLength = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + attrLength;
    if (end > buf.length) throw new StunParseError(`attribute 0x${attrType.toString(16)} of ${attrLength} bytes runs past the message`);
    attributes.push({ type: attrType, value: buf.subarray(offset + 4, end), offset });
    offset = end + ((4 - (attrLength % 4)) % 4);
  }
  return { method, cls, transactionId: buf.subarray(8, 20), attributes, raw: buf };
}

export function getAttribute(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  if (value.length < 4) throw new StunParseError(`XOR address of ${value.length} bytes is too short`);
  const family = value[1];
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (family === 0x01) {
    if (value.length !== 8) throw new StunParseError(`IPv4 XOR address has ${value.length} bytes, not 8`);
    const ip = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
    return { family: 4, address: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port };
  }
  if (family === 0x02) {
    if (value.length !== 20) throw new StunParseError(`IPv6 XOR address has ${value.length} bytes, not 20`);
    const mask = Buffer.concat([cookieBytes(), transactionId]);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((value[4 + i] ^ mask[i]) << 8) | (value[5 + i] ^ mask[i + 1])).toString(16));
    return { family: 6, address: groups.join(':'), port };
  }
  throw new StunParseError(`unknown address family 0x${family.toString(16)}`);
}

function cookieBytes(): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(MAGIC_COOKIE);
  return b;
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

export function encodeXorAddress(addr: TransportAddress, transactionId: Buffer): Buffer {
  const port = addr.port ^ (MAGIC_COOKIE >>> 16);
  if (addr.family === 4) {
    const out = Buffer.alloc(8);
    out[1] = 0x01;
    out.writeUInt16BE(port, 2);
    const ip = addr.address.split('.').reduce((acc, part) => (acc << 8) | Number(part), 0) >>> 0;
    out.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, 4);
    return out;
  }
  const out = Buffer.alloc(20);
  out[1] = 0x02;
  out.writeUInt16BE(port, 2);
  const mask = Buffer.concat([cookieBytes(), transactionId]);
  const ip = ipv6Bytes(addr.address);
  for (let i = 0; i < 16; i++) out[4 + i] = ip[i] ^ mask[i];
  return out;
}

/** The long-term credential key (RFC 5389 §15.4): MD5(username ":" realm ":" password). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/** Checks MESSAGE-INTEGRITY against `key`; false when it is missing or wrong. */
export function verifyIntegrity(message: StunMessage, key: Buffer): boolean {
  const attr = message.attributes.find((a) => a.type === Attr.MessageIntegrity);
  if (!attr || attr.value.length !== 20) return false;
  const covered = Buffer.from(message.raw.subarray(0, attr.offset));
  covered.writeUInt16BE(attr.offset + 24 - HEADER_BYTES, 2);
  const expected = createHmac('sha1', key).update(covered).digest();
  return timingSafeEqual(expected, attr.value);
}

/** Builds one STUN message attribute by attribute. */
export class StunWriter {
  private readonly parts: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly method: number,
    private readonly cls: MessageClassValue,
    readonly transactionId: Buffer,
  ) {}

  add(type: number, value: Buffer): this {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(value.length, 2);
    const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
    this.parts.push(header, value, pad);
    this.length += 4 + value.length + pad.length;
    return this;
  }

  addString(type: number, text: string): this {
    return this.add(type, Buffer.from(text, 'utf8'));
  }

  addUInt32(type: number, n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return this.add(type, b);
  }

  addAddress(type: number, addr: TransportAddress): this {
    return this.add(type, encodeXorAddress(addr, this.transactionId));
  }

  addError(code: number, reason: string): this {
    const b = Buffer.concat([Buffer.from([0, 0, Math.floor(code / 100), code % 100]), Buffer.from(reason, 'utf8')]);
    return this.add(Attr.ErrorCode, b);
  }

  private header(length: number): Buffer {
    const h = Buffer.alloc(HEADER_BYTES);
    h.writeUInt16BE(messageType(this.method, this.cls), 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC_COOKIE, 4);
    this.transactionId.copy(h, 8);
    return h;
  }

  /** The message; with `key`, MESSAGE-INTEGRITY is appended; with `fingerprint`, FINGERPRINT last. */
  build(options: { key?: Buffer; fingerprint?: boolean } = {}): Buffer {
    let message = Buffer.concat([this.header(this.length + (options.key ? 24 : 0)), ...this.parts]);
    if (options.key) {
      const mac = createHmac('sha1', options.key).update(message).digest();
      const attr = Buffer.alloc(24);
      attr.writeUInt16BE(Attr.MessageIntegrity, 0);
      attr.writeUInt16BE(20, 2);
      mac.copy(attr, 4);
      message = Buffer.concat([message, attr]);
    }
    if (options.fingerprint) {
      message.writeUInt16BE(message.length - HEADER_BYTES + 8, 2);
      const attr = Buffer.alloc(8);
      attr.writeUInt16BE(Attr.Fingerprint, 0);
      attr.writeUInt16BE(4, 2);
      attr.writeUInt32BE((crc32(message) ^ 0x5354554e) >>> 0, 4);
      message = Buffer.concat([message, attr]);
    }
    return message;
  }
}

/** A TURN ChannelData message: channel number, length, data (padded to 4 bytes when `pad`, as TCP requires). */
export function encodeChannelData(channel: number, data: Buffer, pad: boolean): Buffer {
  const padding = pad ? (4 - (data.length % 4)) % 4 : 0;
  const out = Buffer.alloc(4 + data.length + padding);
  out.writeUInt16BE(channel, 0);
  out.writeUInt16BE(data.length, 2);
  data.copy(out, 4);
  return out;
}

export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x7fff;

/** Whether `buf` starts with a ChannelData header (channel numbers 0x4000-0x7FFF). */
export function isChannelData(buf: Buffer): boolean {
  return buf.length >= 4 && (buf[0] & 0xc0) === 0x40;
}

/**
 * The bytes one framed message occupies at the front of a TCP stream, once its 4-byte prefix is there:
 * STUN 20 + length, ChannelData 4 + length padded to 4. Undefined while fewer than 4 bytes have arrived.
 */
export function tcpFrameLength(buf: Buffer): number | undefined {
  if (buf.length < 4) return undefined;
  const top = buf[0] & 0xc0;
  const length = buf.readUInt16BE(2);
  if (top === 0) return HEADER_BYTES + length;
  if (top === 0x40) return 4 + length + ((4 - (length % 4)) % 4);
  throw new StunParseError(`stream byte 0x${buf[0].toString(16)} starts neither a STUN message nor ChannelData`);
}
