import { describe, expect, it } from 'vitest';
import { assertValidPeerId, randomPeerId } from './create-peer';

describe('peer ids', () => {
  it('makes random ids that peerjs accepts and that differ', () => {
    const ids = new Set(Array.from({ length: 50 }, () => randomPeerId('host')));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^host[0-9a-f]{20}$/);
      expect(() => assertValidPeerId(id)).not.toThrow();
    }
  });

  it('rejects ids peerjs would refuse, saying which', () => {
    expect(() => assertValidPeerId('-leading')).toThrow('peer id "-leading" is invalid');
    expect(() => assertValidPeerId('a/b')).toThrow('peer id "a/b" is invalid');
    expect(() => assertValidPeerId('')).toThrow('is invalid');
    expect(() => assertValidPeerId('tab-a_1 x')).not.toThrow();
  });
});
