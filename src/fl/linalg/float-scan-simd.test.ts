import { describe, expect, it } from 'vitest';
import { float32ToFloat16Bits } from '../codec/weight-codec';
import { Rng } from '../rng';
import { firstNonFiniteSimd, float16BitsSimd } from './float-scan-simd';

const isHalfInfinity = (h: number) => (h & 0x7c00) === 0x7c00;

describe('the float scan kernel', () => {
  it('finds the first NaN or Infinity wherever it is (every position of a vector, the tail) and -1 for none', () => {
    const rng = new Rng(5);
    for (const n of [1, 3, 4, 5, 8, 257, 1000]) {
      const v = Float32Array.from({ length: n }, () => rng.normal() * 1e30);
      expect(firstNonFiniteSimd(v), `n=${n}`).toBe(-1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of new Set([0, n >> 1, n - 1])) {
          const w = v.slice();
          w[at] = bad;
          if (at + 1 < n) w[n - 1] = NaN;
          expect(firstNonFiniteSimd(w), `n=${n} at=${at}`).toBe(at);
        }
      }
    }
    expect(firstNonFiniteSimd(Float32Array.of(3.4e38, -3.4e38, 1e-45, 0, -0))).toBe(-1);
  });

  it('rounds to float16 bit for bit as the JS codec, across every exponent, the rounding ties and both signs', () => {
    const rng = new Rng(6);
    const bits: number[] = [];
    const mantissas = [0, 1, 0xfff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x5000, 0x7fe000, 0x7ff000, 0x7fefff, 0x7fffff];
    for (let exp = 0; exp < 0xff; exp++) {
      for (const sign of [0, 0x80000000]) {
        for (const m of mantissas) bits.push((sign | (exp << 23) | m) >>> 0);
        for (let r = 0; r < 200; r++) bits.push((sign | (exp << 23) | rng.int(0x800000)) >>> 0);
      }
    }
    const values = new Float32Array(Uint32Array.from(bits).buffer);
    const expected = Array.from(values, (x) => float32ToFloat16Bits(x));
    const finiteHalves = values.filter((_, i) => !isHalfInfinity(expected[i]));
    const got = float16BitsSimd(finiteHalves)!;
    expect(got.overflow).toBe(false);
    expect(got.nonFinite).toBe(false);
    expect(Array.from(got.halves)).toEqual(expected.filter((h) => !isHalfInfinity(h)));
    expect(finiteHalves.length).toBeGreaterThan(50_000);
  });

  it('flags values that round past 65504 (the JS codec then falls back to float32) and non-finite values', () => {
    expect(float16BitsSimd(Float32Array.of(65504, -65519.99, 1, 2, 3))!.overflow).toBe(false);
    for (const big of [65520, -65520, 1e6, 3.4e38]) {
      const r = float16BitsSimd(Float32Array.of(1, 2, big))!;
      expect(r.overflow, String(big)).toBe(true);
      expect(r.nonFinite).toBe(false);
    }
    expect(float16BitsSimd(Float32Array.of(1, NaN))!.nonFinite).toBe(true);
    expect(float16BitsSimd(Float32Array.of(-Infinity))!.nonFinite).toBe(true);
  });
});
