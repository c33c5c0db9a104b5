import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { GRAM_F32_CONFIG, gramF32SimdAvailable, gramMatrixF32Simd } from './gram-f32-simd';

/** The exact Gram (float64 products of float32 values, summed in order). */
function exactGram(rows: Float32Array[]): Float64Array {
  const K = rows.length;
  const g = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let t = 0; t < rows[i].length; t++) s += rows[i][t] * rows[j][t];
      g[i * K + j] = s;
    }
  }
  return g;
}

function randomRows(K: number, d: number, seed: number, scale = 1e-2): Float32Array[] {
  const rng = new Rng(seed);
  const shared = Array.from({ length: d }, () => rng.normal());
  return Array.from({ length: K }, () => {
    const mix = rng.next();
    return Float32Array.from({ length: d }, (_, t) => scale * (mix * shared[t] + rng.normal()));
  });
}

describe('the float32 Gram kernel', () => {
  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(gramF32SimdAvailable()).toBe(true);
  });

  it('is within 1e-6 of ||g_i|| ||g_j|| of the exact Gram at any K and d (odd, past a block, past a chunk), and symmetric', () => {
    const B = GRAM_F32_CONFIG.blockElements;
    for (const [K, d] of [[2, 1], [3, 7], [4, 129], [5, B + 3], [26, 2 * B + 1], [50, 3001]]) {
      const rows = randomRows(K, d, K * 7 + d);
      const exact = exactGram(rows);
      const fast = gramMatrixF32Simd(rows)!;
      expect(fast, `K=${K} d=${d}`).not.toBeNull();
      let worst = 0;
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          worst = Math.max(worst, Math.abs(fast[i * K + j] - exact[i * K + j]) / Math.sqrt(exact[i * K + i] * exact[j * K + j]));
          expect(fast[i * K + j]).toBe(fast[j * K + i]);
        }
      }
      expect(worst, `K=${K} d=${d}`).toBeLessThan(1e-6);
      expect(worst, `K=${K} d=${d}: the float32 sums must differ from the exact ones somewhere`).toBeGreaterThan(0);
    }
  });

  it('gives the same bits on every call (a fixed order of sums)', () => {
    const rows = randomRows(13, 5000, 3);
    expect(Array.from(gramMatrixF32Simd(rows)!)).toEqual(Array.from(gramMatrixF32Simd(rows)!));
  });

  it('declines (null) where float32 sums could overflow or underflow: huge, tiny or all-zero rows', () => {
    const ok = randomRows(4, 100, 9);
    expect(gramMatrixF32Simd(ok)).not.toBeNull();
    expect(gramMatrixF32Simd([...ok, Float32Array.from({ length: 100 }, () => 1e25)])).toBeNull();
    expect(gramMatrixF32Simd([...ok, Float32Array.from({ length: 100 }, () => 1e-30)])).toBeNull();
    expect(gramMatrixF32Simd([...ok, new Float32Array(100)])).toBeNull();
    // Inside the range, far from 1: still accurate (the bound is relative to the norms).
    const large = randomRows(6, 500, 4, 1e12);
    const exact = exactGram(large);
    const fast = gramMatrixF32Simd(large)!;
    for (let i = 0; i < 36; i++) expect(Math.abs(fast[i] - exact[i])).toBeLessThan(1e-6 * Math.sqrt(exact[(Math.floor(i / 6)) * 7] * exact[(i % 6) * 7]));
  });
});
