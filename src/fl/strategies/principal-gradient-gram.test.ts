import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { GRAM_CONFIG, gramForTests } from './principal-gradient';

function randomRows(K: number, d: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: K }, () => Float32Array.from({ length: d }, () => (rng.next() - 0.5) * 1e-2));
}

describe('FedLD Gram matrix paths', () => {
  it('the blocked and the pairwise Gram are bit-identical (every entry summed over t in the same order)', () => {
    for (const [K, d] of [[1, 5], [3, 7], [5, GRAM_CONFIG.blockElements + 3], [24, 2 * GRAM_CONFIG.blockElements], [50, 3001]]) {
      const rows = randomRows(K, d, K * 1000 + d);
      const blocked = gramForTests.gramMatrixBlocked(rows);
      const pairs = gramForTests.gramMatrixPairs(rows);
      expect(Array.from(blocked), `K=${K} d=${d}`).toEqual(Array.from(pairs));
    }
  });

  it('matches a naive float64 dot product, symmetric', () => {
    const rows = randomRows(27, 777, 5);
    const g = gramForTests.gramMatrix(rows);
    for (const [i, j] of [[0, 0], [3, 26], [26, 3], [13, 14]]) {
      let s = 0;
      for (let t = 0; t < 777; t++) s += rows[i][t] * rows[j][t];
      expect(g[i * 27 + j]).toBe(s);
    }
  });
});
