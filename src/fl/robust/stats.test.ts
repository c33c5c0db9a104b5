import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { coordinateStatistic, cosineWith, median, medianConsensus, normOf, statsForTests, sumOfSquares } from './stats';
import { flat, randomDelta } from './test-helpers';

const MAX_FLOAT = 3.4028234663852886e38;

describe('robust statistics against direct references', () => {
  it('normOf equals sqrt(sum of squares) on random inputs, and is finite for max-float values', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const d = randomDelta(rng, 10 ** (rng.int(6) - 3));
      const ref = Math.sqrt(flat(d).reduce((s, x) => s + x * x, 0));
      expect(Math.abs(normOf(d) - ref) / ref).toBeLessThan(1e-12);
    }
    const huge = randomDelta(rng);
    huge.forEach((t) => t.values.fill(-MAX_FLOAT));
    const n = normOf(huge);
    expect(Number.isFinite(n)).toBe(true);
    expect(n / (MAX_FLOAT * Math.sqrt(40))).toBeCloseTo(1, 12);
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('coordinate-wise median and trimmed mean equal a per-coordinate sort on random inputs', () => {
    const rng = new Rng(5);
    for (const [K, ties] of [[1, false], [2, false], [3, false], [4, false], [5, false], [8, false], [13, false], [50, false], [7, true], [12, true], [50, true]] as const) {
      // With ties: values rounded to one decimal, so many coordinates repeat values (the selection must still agree).
      const deltas = Array.from({ length: K }, () => randomDelta(rng)).map((d) => (ties ? d.map((t) => ({ ...t, values: t.values.map((v) => Math.round(v * 10) / 10) })) : d));
      const columns = flat(deltas[0]).map((_, i) => deltas.map((d) => flat(d)[i]).sort((a, b) => a - b));
      const refMedian = columns.map((c) => (K % 2 ? c[K >> 1] : (c[K / 2 - 1] + c[K / 2]) / 2));
      flat(coordinateStatistic(deltas, null)).forEach((x, i) => expect(x).toBeCloseTo(refMedian[i], 12));
      for (let trim = 0; 2 * trim < K; trim++) {
        const ref = columns.map((c) => c.slice(trim, K - trim).reduce((s, x) => s + x, 0) / (K - 2 * trim));
        flat(coordinateStatistic(deltas, trim)).forEach((x, i) => expect(x).toBeCloseTo(ref[i], 12));
      }
      expect(() => coordinateStatistic(deltas, Math.ceil(K / 2))).toThrow();
    }
  });

  it('cosineWith equals the dot product over the norms; null for a zero vector', () => {
    const rng = new Rng(9);
    const a = randomDelta(rng);
    const b = randomDelta(rng);
    const ref = b.map((t) => Float64Array.from(t.values));
    const x = flat(a);
    const y = flat(b);
    const dot = x.reduce((s, v, i) => s + v * y[i], 0);
    const expected = dot / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
    expect(cosineWith(a, ref)).toBeCloseTo(expected, 12);
    expect(cosineWith(a, ref.map((r) => r.map((v) => -v)))).toBeCloseTo(-expected, 12);
    expect(cosineWith(a, ref.map((r) => new Float64Array(r.length)))).toBeNull();
  });

  it('medianConsensus: the median, every delta\'s dot product with it and its norm (SIMD for K <= 128, JS beyond)', () => {
    const rng = new Rng(21);
    for (const K of [3, 4, 50, 130]) {
      const deltas = Array.from({ length: K }, () => randomDelta(rng, 1, 0.2));
      const c = medianConsensus(deltas);
      const m = coordinateStatistic(deltas, null);
      expect(c.median.map((t) => Array.from(t))).toEqual(m.map((t) => Array.from(t)));
      const mm = flat(m);
      deltas.forEach((d, k) => expect(c.dots[k]).toBeCloseTo(flat(d).reduce((s, x, i) => s + x * mm[i], 0), 10));
      expect(c.norm).toBeCloseTo(Math.sqrt(mm.reduce((s, x) => s + x * x, 0)), 10);
    }
  });
});

describe('sumOfSquares', () => {
  it('gives the same bits on the SIMD kernel as the JS loop, at any length (tails too) and for extreme float32 values', () => {
    const rng = new Rng(11);
    for (const n of [0, 1, 3, 255, 256, 257, 258, 259, 1001, 50_176]) {
      const v = Float32Array.from({ length: n }, () => rng.normal() * 10 ** rng.int(6));
      const expected = statsForTests.sumOfSquaresJs(v);
      expect(sumOfSquares(v), `n=${n}`).toBe(expected);
      let direct = 0;
      for (let i = 0; i < n; i++) direct += v[i] * v[i];
      expect(Math.abs(sumOfSquares(v) - direct)).toBeLessThanOrEqual(1e-12 * direct);
    }
    const extreme = Float32Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 3.4e38 : i % 3 === 1 ? -1e-45 : 1));
    expect(sumOfSquares(extreme)).toBe(statsForTests.sumOfSquaresJs(extreme));
    expect(Number.isFinite(sumOfSquares(extreme))).toBe(true);
  });
});
