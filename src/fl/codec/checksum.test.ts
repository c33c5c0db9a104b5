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

  it('changes when one bit flips', () => {
    const a = ascii('weights');
    const b = a.slice();
    b[3] ^= 0x10;
    expect(crc32(b)).not.toBe(crc32(a));
  });
});
