import { describe, expect, it } from 'vitest';
import { exactDecomposition, proxyDecomposition } from './decomposition';
import { Rng } from './rng';

function randomMatrix(rng: Rng, k: number): number[][] {
  return Array.from({ length: k }, () => Array.from({ length: k }, () => 0.1 + 3 * rng.next()));
}

describe('exact loss decomposition', () => {
  it('local + shift + aggregation equals the global loss for random inputs', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const k = 1 + rng.int(12);
      const C = randomMatrix(rng, k);
      const G = Array.from({ length: k }, () => 0.1 + 3 * rng.next());
      const n = Array.from({ length: k }, () => 1 + rng.int(500));
      const d = exactDecomposition(C, G, n);
      expect(d.local + d.shift + d.aggregation).toBeCloseTo(d.global, 10);
    }
  });

  it('matches the definitions on a hand-worked 2-client case', () => {
    // p = [0.25, 0.75]
    const C = [
      [1, 3],
      [2, 0.5],
    ];
    const G = [1.5, 1];
    const d = exactDecomposition(C, G, [100, 300]);
    const local = 0.25 * 1 + 0.75 * 0.5;
    const mix = 0.25 * (0.25 * 1 + 0.75 * 3) + 0.75 * (0.25 * 2 + 0.75 * 0.5);
    expect(d.local).toBeCloseTo(local, 12);
    expect(d.shift).toBeCloseTo(mix - local, 12);
    expect(d.global).toBeCloseTo(0.25 * 1.5 + 0.75 * 1, 12);
    expect(d.aggregation).toBeCloseTo(d.global - mix, 12);
  });

  it('has zero shift when every local model does as well everywhere as at home', () => {
    const d = exactDecomposition([[2, 2], [1, 1]], [1.2, 1.2], [1, 1]);
    expect(d.shift).toBeCloseTo(0, 12);
  });

  it('rejects NaN losses and mismatched sizes with a clear error', () => {
    expect(() => exactDecomposition([[NaN]], [1], [1])).toThrow(/C\[0\]\[0\] is NaN/);
    expect(() => exactDecomposition([[1, 2]], [1], [1])).toThrow(/row 0 has 2 entries/);
    expect(() => exactDecomposition([[1]], [1], [0])).toThrow(/positive/);
  });
});

describe('proxy loss decomposition', () => {
  it('sums to the global loss on the validation set', () => {
    const d = proxyDecomposition([0.2, 0.4, 0.3], [1.1, 0.9, 1.4], 0.8, [10, 20, 30]);
    expect(d.local + d.shift + d.aggregation).toBeCloseTo(0.8, 12);
    expect(d.local).toBeCloseTo((0.2 * 10 + 0.4 * 20 + 0.3 * 30) / 60, 12);
  });
});
