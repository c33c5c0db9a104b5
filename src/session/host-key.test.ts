import { describe, expect, it } from 'vitest';
import { hostCommitment, hostProof, opensCommitment, randomHostSeed } from './host-key';

describe('the host key', () => {
  it('opens the commitment once per link: each proof becomes the next commitment, and no other value opens it', () => {
    const seed = randomHostSeed();
    const c0 = hostCommitment(seed);
    const p1 = hostProof(seed, c0)!;
    expect(opensCommitment(p1, c0)).toBe(true);
    // The next reclaim needs the link before p1; p1 itself (replayed) no longer opens anything.
    const p2 = hostProof(seed, p1)!;
    expect(opensCommitment(p2, p1)).toBe(true);
    expect(opensCommitment(p1, p1)).toBe(false);
    expect(p2).not.toBe(p1);
    expect(opensCommitment(hostProof(randomHostSeed(), c0) ?? '0'.repeat(64), c0)).toBe(false);
    expect(hostProof(randomHostSeed(), c0)).toBeNull();
    expect(opensCommitment('not hex', c0)).toBe(false);
  });
});
