import { describe, expect, it } from 'vitest';
import { crc32 } from './checksum';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard CRC-32 check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('continues over chunks like one pass', () => {
    const all = ascii('federated learning in the browser');
    expect(crc32(all.subarray(10), crc32(all.subarray(0, 10)))).toBe(crc32(all));
  });

  it('gives the bytewise result for every length and offset (the 8-byte steps and the tail agree)', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 73 + 11) & 0xff);
    const bytewise = (b: Uint8Array) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    for (const [start, end] of [[0, 300], [1, 17], [3, 299], [5, 13], [0, 7], [8, 16]]) expect(crc32(bytes.subarray(start, end))).toBe(bytewise(bytes.subarray(start, end)));
  });

  it('changes when one bit flips', () => {
    const a = ascii('weights');
    const b = a.slice();
    b[3] ^= 0x10;
    expect(crc32(b)).not.toBe(crc32(a));
  });
});
