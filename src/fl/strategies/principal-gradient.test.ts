import { describe, expect, it } from 'vitest';
import {
  plainMeanUpdate,
  principalDirectionCount,
  principalGradientUpdate,
  principalGradientUpdateDetailed,
} from './principal-gradient';
import { jacobiEigen } from '../linalg/jacobi';
import { Rng } from '../rng';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let t = 0; t < a.length; t++) s += a[t] * b[t];
  return s;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

/**
 * Spec section 3 steps 1-5 taken literally: explicit d-length directions v_j = G^T e_j, sign calibration by counting
 * g_i . v_j < 0, revised client updates g_i', and u = mean of g_i'. Zero-norm clients cast no sign vote.
 */
function directReference(rows: Float32Array[], rho: number): Float64Array {
  const K = rows.length;
  const d = rows[0].length;
  const k = Math.floor(rho * K + 1e-9);
  if (K === 1 || d === 1 || k < 1) {
    const mean = new Float64Array(d);
    for (const g of rows) for (let t = 0; t < d; t++) mean[t] += g[t] / K;
    return mean;
  }
  const M = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) M[i * K + j] = dot(rows[i], rows[j]) / K;
  const { values: s, vectors: E } = jacobiEigen(M, K);
  const sumS = s.reduce((a, b) => a + b, 0);
  const u = new Float64Array(d);
  if (!(s[0] > 0)) return u;
  for (let j = 0; j < k && s[j] > 1e-8 * s[0]; j++) {
    const v = new Float64Array(d);
    for (let i = 0; i < K; i++) for (let t = 0; t < d; t++) v[t] += rows[i][t] * E[i * K + j];
    let negative = 0;
    let nonNegative = 0;
    for (const g of rows) {
      if (norm(g) === 0) continue;
      if (dot(g, v) < 0) negative++;
      else nonNegative++;
    }
    if (negative > nonNegative) for (let t = 0; t < d; t++) v[t] = -v[t];
    const vNorm = norm(v);
    for (const g of rows) {
      const revised = (Math.sign(dot(g, v)) * (s[j] / sumS) * norm(g)) / vNorm;
      for (let t = 0; t < d; t++) u[t] += (revised * v[t]) / K;
    }
  }
  return u;
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  for (let t = 0; t < expected.length; t++) diff += (actual[t] - expected[t]) ** 2;
  return Math.sqrt(diff) / Math.max(norm(expected), 1e-300);
}

/** Heterogeneous client updates: a shared drift, client-specific noise, and norms spread over an order of magnitude. */
function randomRows(rng: Rng, K: number, d: number): Float32Array[] {
  const shared = Array.from({ length: d }, () => rng.normal());
  return Array.from({ length: K }, () => {
    const scale = 0.1 + rng.next();
    const mix = rng.next();
    return Float32Array.from({ length: d }, (_, t) => scale * (mix * shared[t] + rng.normal()));
  });
}

const allFinite = (a: Float32Array) => a.every(Number.isFinite);

describe('principalGradientUpdate', () => {
  it('equals the literal d-length reference on random updates (K 2..10, d 1..300, rho 0.5/0.8/1)', () => {
    const rng = new Rng(2024);
    let principalCases = 0;
    for (let K = 2; K <= 10; K++) {
      for (const d of [1, 2, 7, 64, 300]) {
        for (const rho of [0.5, 0.8, 1.0]) {
          const rows = randomRows(rng, K, d);
          const { update, mode } = principalGradientUpdateDetailed(rows, rho);
          if (mode === 'principal') principalCases++;
          expect(update).toHaveLength(d);
          expect(relativeError(update, directReference(rows, rho)), `K=${K} d=${d} rho=${rho}`).toBeLessThan(1e-5);
        }
      }
    }
    expect(principalCases).toBeGreaterThan(100);
  });

  it('differs from the plain mean on heterogeneous updates (it is not a disguised average)', () => {
    const rows = randomRows(new Rng(1), 6, 50);
    const u = principalGradientUpdate(rows, 0.8);
    expect(relativeError(u, plainMeanUpdate(rows))).toBeGreaterThan(0.05);
  });

  it('points with the majority of clients, whichever sign the eigen-solver gives the direction', () => {
    // Four clients push x down, one pushes it up, all with equal strength; y is small client-specific noise.
    const majorityDown = [
      [-1, 0.1],
      [-1, -0.1],
      [-1, 0.05],
      [-1, -0.05],
      [1, 0],
    ].map((r) => Float32Array.from(r));
    const down = principalGradientUpdate(majorityDown, 1);
    expect(down[0]).toBeLessThan(-0.5);
    expect(relativeError(down, directReference(majorityDown, 1))).toBeLessThan(1e-6);
    // Mirror the clients: the update mirrors too.
    const up = principalGradientUpdate(majorityDown.map((r) => r.map((x) => -x)), 1);
    expect(up[0]).toBeCloseTo(-down[0], 6);
    expect(up[1]).toBeCloseTo(-down[1], 6);
  });

  it('is positively homogeneous: scaling all updates by c scales u by c, down to tiny and up to huge magnitudes', () => {
    const rows = randomRows(new Rng(8), 5, 40);
    const base = principalGradientUpdate(rows, 0.8);
    for (const c of [1e-30, 1e30]) {
      const scaled = principalGradientUpdate(rows.map((r) => r.map((x) => x * c)), 0.8);
      expect(allFinite(scaled)).toBe(true);
      expect(relativeError(scaled.map((x) => x / c), base)).toBeLessThan(1e-5);
    }
    const subnormal = principalGradientUpdate(rows.map((r) => r.map((x) => x * 1e-42)), 0.8);
    expect(allFinite(subnormal)).toBe(true);
  });

  it('lets a zero update take no vote but count in K: appending one scales u by K/(K+1)', () => {
    const rows = randomRows(new Rng(4), 4, 30);
    const withZero = [...rows.slice(0, 2), new Float32Array(30), ...rows.slice(2)];
    const base = principalGradientUpdate(rows, 1);
    const diluted = principalGradientUpdate(withZero, 1);
    expect(allFinite(diluted)).toBe(true);
    expect(relativeError(diluted, base.map((x) => (x * 4) / 5))).toBeLessThan(1e-5);
    expect(relativeError(diluted, directReference(withZero, 1))).toBeLessThan(1e-5);
  });

  it('returns zeros for all-zero updates', () => {
    const rows = [new Float32Array(10), new Float32Array(10), new Float32Array(10)];
    const r = principalGradientUpdateDetailed(rows, 0.8);
    expect(r.mode).toBe('zero');
    expect(Array.from(r.update)).toEqual(new Array(10).fill(0));
  });

  it('handles rank-deficient G: identical rows give back that row with one direction kept', () => {
    const row = randomRows(new Rng(6), 1, 20)[0];
    const r = principalGradientUpdateDetailed(Array.from({ length: 6 }, () => new Float32Array(row)), 1);
    expect(r.mode).toBe('principal');
    expect(r.directionsKept).toBe(1);
    expect(relativeError(r.update, row)).toBeLessThan(1e-6);
  });

  it('handles more clients than elements (K > d): at most d directions, matching the reference', () => {
    const rows = randomRows(new Rng(7), 10, 3);
    const r = principalGradientUpdateDetailed(rows, 1);
    expect(r.directionsKept).toBeLessThanOrEqual(3);
    expect(allFinite(r.update)).toBe(true);
    expect(relativeError(r.update, directReference(rows, 1))).toBeLessThan(1e-5);
  });

  it('keeps floor(rho K) directions at most', () => {
    const rows = randomRows(new Rng(9), 10, 100);
    expect(principalGradientUpdateDetailed(rows, 0.8).directionsKept).toBe(8);
    expect(principalGradientUpdateDetailed(rows, 0.5).directionsKept).toBe(5);
    expect(principalDirectionCount(0.29, 100)).toBe(29);
  });

  it('falls back to the plain mean for K = 1, d = 1 and floor(rho K) < 1', () => {
    const single = Float32Array.from([0.5, -2, 3e-7]);
    const one = principalGradientUpdateDetailed([single], 0.8);
    expect(one.mode).toBe('mean');
    expect(Array.from(one.update)).toEqual(Array.from(single));

    const scalars = [1, 2, 6].map((x) => Float32Array.from([x]));
    const scalar = principalGradientUpdateDetailed(scalars, 1);
    expect(scalar.mode).toBe('mean');
    expect(scalar.update[0]).toBeCloseTo(3, 6);

    const rows = randomRows(new Rng(10), 3, 12);
    const fewDirections = principalGradientUpdateDetailed(rows, 0.3);
    expect(fewDirections.mode).toBe('mean');
    expect(relativeError(fewDirections.update, plainMeanUpdate(rows))).toBe(0);
  });

  it('rejects bad input with a clear error', () => {
    const ok = randomRows(new Rng(12), 3, 5);
    expect(() => principalGradientUpdate([], 0.8)).toThrow(/K = 0/);
    expect(() => principalGradientUpdate(ok, 0)).toThrow(/rho must be in \(0, 1\]/);
    expect(() => principalGradientUpdate(ok, 1.5)).toThrow(/rho/);
    expect(() => principalGradientUpdate([ok[0], new Float32Array(4)], 0.8)).toThrow(/row 1 has 4 values, row 0 has 5/);
    const withNaN = [ok[0], Float32Array.from([1, NaN, 0, 0, 0]), ok[2]];
    expect(() => principalGradientUpdate(withNaN, 0.8)).toThrow(/row 1 contains a non-finite value/);
    expect(() => principalGradientUpdate([Float32Array.from([1, Infinity])], 0.8)).toThrow(/non-finite|finite float32/);
  });

  it('runs at K = 10, d = 50 000 (MLP scale) and still matches the reference', () => {
    const rows = randomRows(new Rng(13), 10, 50_000);
    const r = principalGradientUpdateDetailed(rows, 0.8);
    expect(r.mode).toBe('principal');
    expect(r.directionsKept).toBe(8);
    expect(allFinite(r.update)).toBe(true);
    expect(relativeError(r.update, directReference(rows, 0.8))).toBeLessThan(1e-5);
  });
});
