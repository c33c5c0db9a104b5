import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { addF32Simd, addScaledSimd, decayIntoSimd } from './vector-simd';

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.slice().buffer));

describe('element-wise float32 kernels (FedLD new model and history)', () => {
  it('a + b and decay h + (1 - decay) u are bit-identical to the JS loops, any length, magnitudes up to overflow', () => {
    const rng = new Rng(3);
    for (const n of [1, 3, 4, 5, 10, 64, 641, 50_176]) {
      for (const scale of [1e-40, 1e-3, 1, 1e30, 3e38]) {
        const a = Float32Array.from({ length: n }, () => rng.normal() * scale * 10 ** (rng.int(9) - 4));
        const b = Float32Array.from({ length: n }, () => rng.normal() * scale * 10 ** (rng.int(9) - 4));
        const sum = new Float32Array(n);
        for (let i = 0; i < n; i++) sum[i] = a[i] + b[i];
        expect(bits(addF32Simd(a, b)!), `n=${n} scale=${scale}`).toEqual(bits(sum));
        const h = a.slice();
        const ref = a.slice();
        for (let i = 0; i < n; i++) ref[i] = 0.99 * ref[i] + (1 - 0.99) * b[i];
        expect(decayIntoSimd(h, b, 0.99)).toBe(true);
        expect(bits(h), `n=${n} scale=${scale}`).toEqual(bits(ref));
        for (const s of [1, -1, 0.37, 1e-3]) {
          const scaled = new Float32Array(n);
          for (let i = 0; i < n; i++) scaled[i] = a[i] + s * b[i];
          expect(bits(addScaledSimd(a, b, s)!), `a + ${s} b, n=${n} scale=${scale}`).toEqual(bits(scaled));
        }
      }
    }
  });
});
