import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { equalBytes, hmacSha256, hmacSha256Key, sha256, sha256Digest } from './sha256';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('SHA-256 and HMAC without WebCrypto (plain-http LAN pages)', () => {
  it('matches the FIPS 180-4 and RFC 4231 test vectors', () => {
    expect(hex(sha256(utf8('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    // RFC 4231 case 2 and case 6 (a key longer than the block).
    expect(hex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(hex(hmacSha256(new Uint8Array(131).fill(0xaa), utf8('Test Using Larger Than Block-Size Key - Hash Key First')))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it("agrees with Node's crypto on random inputs of every length around the block boundaries", () => {
    for (let n = 0; n < 200; n++) {
      const data = randomBytes(n);
      const key = randomBytes(n % 97);
      expect(hex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
      expect(hex(hmacSha256(key, data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
  });

  it('the fallback key signs and verifies exactly like the WebCrypto one', async () => {
    const web = hmacSha256Key('s3cret', true);
    const js = hmacSha256Key('s3cret', false);
    const data = utf8('fedtab-auth-v1|host|a|b');
    const sig = await web.sign(data);
    expect(hex(await js.sign(data))).toBe(hex(sig));
    expect(await js.verify(new Uint8Array(sig), data)).toBe(true);
    const bad = new Uint8Array(sig);
    bad[31] ^= 1;
    expect(await js.verify(bad, data)).toBe(false);
    expect(await web.verify(bad, data)).toBe(false);
    expect(hex(await sha256Digest(data, false))).toBe(hex(await sha256Digest(data, true)));
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });
});
