import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { statsForTests } from '../robust/stats';
import { coordinateMedianSimd, MEDIAN_SIMD_CONFIG, medianNetwork, medianSimdAvailable } from './median-simd';

function rows(rng: Rng, K: number, d: number, ties: boolean): Float32Array[] {
  return Array.from({ length: K }, () => Float32Array.from({ length: d }, () => (ties ? Math.round(rng.normal() * 10) / 10 : rng.normal() * 10 ** (rng.int(5) - 2))));
}

describe('coordinate-wise median on the SIMD sorting network', () => {
  it('the pruned network selects the middle rank(s) of every input (all K up to 40, exhaustive 0/1 inputs to K = 12)', () => {
    for (let K = 3; K <= 40; K++) {
      const m = K >> 1;
      const ranks = K % 2 ? [m] : [m - 1, m];
      const { comparators, outputs } = medianNetwork(K, ranks);
      const apply = (x: number[]) => {
        const v = [...x];
        for (const c of comparators) {
          const [a, b] = [v[c.lo], v[c.hi]];
          if (c.emitLo) v[c.lo] = Math.min(a, b);
          if (c.emitHi) v[c.hi] = Math.max(a, b);
        }
        return outputs.map((o) => v[o]);
      };
      const check = (x: number[]) => {
        const sorted = [...x].sort((a, b) => a - b);
        expect(apply(x), `K=${K} [${x}]`).toEqual(ranks.map((r) => sorted[r]));
      };
      // The 0-1 principle: a comparator network sorts (selects) every input iff it does every 0/1 input.
      if (K <= 12) for (let bits = 0; bits < 1 << K; bits++) check(Array.from({ length: K }, (_, i) => (bits >> i) & 1));
      const rng = new Rng(K);
      for (let trial = 0; trial < 50; trial++) check(Array.from({ length: K }, () => rng.int(7)));
    }
  });

  it('runs here and equals the JS selection bit for bit (odd and even K, ties, d not a multiple of the block or of 4)', () => {
    expect(medianSimdAvailable(50)).toBe(true);
    const rng = new Rng(7);
    for (const [K, d] of [[3, 1], [4, 5], [5, 1027], [13, 2 * MEDIAN_SIMD_CONFIG.blockElements + 2], [49, 3001], [50, 5000], [64, 33], [127, 257], [128, 100]]) {
      for (const ties of [false, true]) {
        const r = rows(rng, K, d, ties);
        const simd = coordinateMedianSimd(r);
        expect(simd, `K=${K}`).not.toBeNull();
        const js = statsForTests.statisticOfRows(r, null);
        // Equal as numbers (a zero may differ in its sign only).
        expect(Array.from(simd!).map((x) => x + 0), `K=${K} d=${d} ties=${ties}`).toEqual(Array.from(js).map((x) => x + 0));
      }
    }
  });

  it('leaves K outside its range to the caller, and does not modify the rows', () => {
    const rng = new Rng(3);
    expect(coordinateMedianSimd(rows(rng, 2, 10, false))).toBeNull();
    expect(coordinateMedianSimd(rows(rng, MEDIAN_SIMD_CONFIG.maxClients + 1, 4, false))).toBeNull();
    const r = rows(rng, 9, 100, false);
    const copy = r.map((x) => x.slice());
    coordinateMedianSimd(r);
    expect(r).toEqual(copy);
  });
});
