import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { gramMatrixSimd, gramMatrixSimdTiles, gramSimdAvailable } from '../linalg/gram-simd';
import { combineRowsSimd } from '../linalg/vector-simd';
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

  it('the JS paths match a naive float64 dot product exactly, symmetric', () => {
    const rows = randomRows(27, 777, 5);
    const g = gramForTests.gramMatrixBlocked(rows);
    for (const [i, j] of [[0, 0], [3, 26], [26, 3], [13, 14]]) {
      let s = 0;
      for (let t = 0; t < 777; t++) s += rows[i][t] * rows[j][t];
      expect(g[i * 27 + j]).toBe(s);
    }
  });

  it('the WebAssembly SIMD kernel runs here and matches the JS Gram to rounding, at any K, d (odd ones too)', () => {
    expect(gramSimdAvailable()).toBe(true); // Node 20 has WebAssembly SIMD; the fallback is for old browsers
    for (const [K, d] of [[2, 1], [3, 7], [5, GRAM_CONFIG.blockElements + 3], [26, 2 * GRAM_CONFIG.blockElements + 1], [50, 3001]]) {
      const rows = randomRows(K, d, K * 7 + d);
      const ref = gramForTests.gramMatrixPairs(rows);
      const scale = Math.max(...ref.map(Math.abs));
      const simd = gramMatrixSimd(rows)!;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(simd[i] - ref[i]), `K=${K} d=${d} entry ${i}`).toBeLessThanOrEqual(1e-12 * scale);
      const wide = gramMatrixSimdTiles(rows, 4)!;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(wide[i] - ref[i]), `4x4 tiles K=${K} d=${d} entry ${i}`).toBeLessThanOrEqual(1e-12 * scale);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) expect(simd[i * K + j]).toBe(simd[j * K + i]);
      // The whole-block kernel computes exactly the 4 x 2 tiles of the per-tile kernel: the same bits.
      expect(Array.from(simd), `K=${K} d=${d}`).toEqual(Array.from(gramMatrixSimdTiles(rows, 2)!));
    }
    // Exact products in float64: huge and tiny float32 values neither overflow nor flush to zero.
    const big = gramMatrixSimd([Float32Array.of(1e30, 0), Float32Array.of(2e30, 1)])!;
    expect(big[1]).toBe(Math.fround(1e30) * Math.fround(2e30));
    const tiny = gramMatrixSimd([Float32Array.of(1e-42, 0), Float32Array.of(1e-42, 0)])!;
    expect(tiny[0]).toBeGreaterThan(0);
    expect(gramForTests.gramMatrix(randomRows(30, 100, 1)).length).toBe(900);
  });

  it('the SIMD combination sum_i alpha_i g_i is bit-identical to the JS loop', () => {
    for (const [K, d] of [[1, 1], [3, 7], [50, 50_177]]) {
      const rows = randomRows(K, d, K + d);
      const alpha = Float64Array.from({ length: K }, (_, i) => (i % 3 === 1 ? 0 : Math.sin(i + 1) / K));
      expect(Array.from(combineRowsSimd(rows, alpha)!), `K=${K} d=${d}`).toEqual(Array.from(gramForTests.combineRowsJs(rows, alpha)));
    }
  });
});
