import { describe, expect, it } from 'vitest';
import { jacobiEigen } from './jacobi';
import { jacobiSimdAvailable } from './jacobi-simd';
import { Rng } from '../rng';

function column(vectors: Float64Array, n: number, j: number): number[] {
  return Array.from({ length: n }, (_, r) => vectors[r * n + j]);
}

/** Max |A v_j - lambda_j v_j| over all pairs, and max |V^T V - I|. */
function residuals(a: ArrayLike<number>, n: number, values: Float64Array, vectors: Float64Array) {
  let eigen = 0;
  let ortho = 0;
  for (let j = 0; j < n; j++) {
    const v = column(vectors, n, j);
    for (let r = 0; r < n; r++) {
      let av = 0;
      for (let c = 0; c < n; c++) av += a[r * n + c] * v[c];
      eigen = Math.max(eigen, Math.abs(av - values[j] * v[r]));
    }
    for (let k = 0; k < n; k++) {
      const w = column(vectors, n, k);
      const dot = v.reduce((s, x, i) => s + x * w[i], 0);
      ortho = Math.max(ortho, Math.abs(dot - (j === k ? 1 : 0)));
    }
  }
  return { eigen, ortho };
}

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  }
  return a;
}

/** Q diag(lambda) Q^T with Q a random orthogonal matrix (Gram-Schmidt of a Gaussian matrix). */
function withSpectrum(rng: Rng, lambda: number[]): Float64Array {
  const n = lambda.length;
  const q: number[][] = [];
  while (q.length < n) {
    const v = Array.from({ length: n }, () => rng.normal());
    for (const u of q) {
      const p = v.reduce((s, x, i) => s + x * u[i], 0);
      for (let i = 0; i < n; i++) v[i] -= p * u[i];
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const a = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k][r] * lambda[k] * q[k][c];
      a[r * n + c] = s;
    }
  }
  return a;
}

describe('jacobiEigen', () => {
  it('the WebAssembly sweep runs here and is bit-identical to the JS sweep (values, vectors, sweeps), any n', () => {
    expect(jacobiSimdAvailable()).toBe(true);
    const rng = new Rng(77);
    const bits = (x: Float64Array) => Array.from(new BigUint64Array(x.buffer.slice(0)), (b) => b.toString(16));
    const cases: Float64Array[] = [];
    for (let n = 1; n <= 12; n++) cases.push(randomSymmetric(rng, n));
    for (const n of [25, 50, 51]) cases.push(randomSymmetric(rng, n));
    // Gram matrices of K rows in d dimensions, rank d < K included (what FedLD solves), with a zero row.
    for (const [K, d] of [[50, 10], [50, 200], [33, 5]]) {
      const rows = Array.from({ length: K }, (_, k) => Array.from({ length: d }, () => (k === 3 ? 0 : rng.normal() * 1e-3)));
      const g = new Float64Array(K * K);
      for (let i = 0; i < K; i++) for (let j = i; j < K; j++) g[i * K + j] = g[j * K + i] = rows[i].reduce((s, x, t) => s + x * rows[j][t], 0) / K;
      cases.push(g);
    }
    cases.push(withSpectrum(rng, [5, 5, 5, 1, 1, 0, 0, -2]));
    for (const a of cases) {
      const n = Math.round(Math.sqrt(a.length));
      const js = jacobiEigen(a, n, { simd: false });
      const simd = jacobiEigen(a, n);
      expect(simd.sweeps, `n=${n}`).toBe(js.sweeps);
      expect(simd.converged).toBe(js.converged);
      expect(bits(simd.values), `n=${n}`).toEqual(bits(js.values));
      expect(bits(simd.vectors), `n=${n}`).toEqual(bits(js.vectors));
    }
    // Not exactly symmetric (within the tolerance): the JS sweep runs, with the same result either way.
    const a = randomSymmetric(rng, 6);
    a[1] += 1e-13;
    expect(bits(jacobiEigen(a, 6).vectors)).toEqual(bits(jacobiEigen(a, 6, { simd: false }).vectors));
  });


  it('solves the 2x2 case analytically: [[2,1],[1,2]] has eigenpairs 3,(1,1)/sqrt2 and 1,(1,-1)/sqrt2', () => {
    const { values, vectors, converged } = jacobiEigen([2, 1, 1, 2], 2);
    expect(converged).toBe(true);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    const v0 = column(vectors, 2, 0);
    const v1 = column(vectors, 2, 1);
    expect(Math.abs(v0[0])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(v0[0] * v0[1]).toBeCloseTo(0.5, 14); // same sign
    expect(v1[0] * v1[1]).toBeCloseTo(-0.5, 14); // opposite signs
  });

  it('returns a diagonal matrix sorted descending with permuted unit vectors', () => {
    const { values, vectors, sweeps } = jacobiEigen([1, 0, 0, 0, -4, 0, 0, 0, 7], 3);
    expect(Array.from(values)).toEqual([7, 1, -4]);
    expect(sweeps).toBe(0);
    expect(column(vectors, 3, 0)).toEqual([0, 0, 1]);
    expect(column(vectors, 3, 1)).toEqual([1, 0, 0]);
    expect(column(vectors, 3, 2)).toEqual([0, 1, 0]);
  });

  it('decomposes random symmetric matrices: A v = lambda v, V orthonormal, values descending', () => {
    const rng = new Rng(11);
    for (const n of [3, 5, 10, 16]) {
      const a = randomSymmetric(rng, n);
      const { values, vectors, converged } = jacobiEigen(a, n);
      expect(converged).toBe(true);
      for (let j = 1; j < n; j++) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
      const { eigen, ortho } = residuals(a, n, values, vectors);
      expect(eigen).toBeLessThan(1e-12);
      expect(ortho).toBeLessThan(1e-12);
      const trace = Array.from({ length: n }, (_, i) => a[i * n + i]).reduce((s, x) => s + x, 0);
      expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 12);
    }
  });

  it('recovers a known spectrum with repeated eigenvalues', () => {
    const rng = new Rng(3);
    const lambda = [5, 2, 2, 2, 1, 0];
    const a = withSpectrum(rng, lambda);
    const { values, vectors, converged } = jacobiEigen(a, 6);
    expect(converged).toBe(true);
    lambda.forEach((l, j) => expect(values[j]).toBeCloseTo(l, 12));
    const { eigen, ortho } = residuals(a, 6, values, vectors);
    expect(eigen).toBeLessThan(1e-12);
    expect(ortho).toBeLessThan(1e-12);
  });

  it('is accurate for a Gram matrix whose scale is tiny or huge', () => {
    const rng = new Rng(5);
    for (const scale of [1e-80, 1e80]) {
      const a = withSpectrum(rng, [3, 1, 0.5].map((x) => x * scale));
      const { values } = jacobiEigen(a, 3);
      expect(values[0] / scale).toBeCloseTo(3, 10);
      expect(values[2] / scale).toBeCloseTo(0.5, 10);
    }
  });

  it('handles n = 1 and the zero matrix', () => {
    const one = jacobiEigen([-2.5], 1);
    expect(Array.from(one.values)).toEqual([-2.5]);
    expect(Array.from(one.vectors)).toEqual([1]);
    const zero = jacobiEigen(new Float64Array(16), 4);
    expect(Array.from(zero.values)).toEqual([0, 0, 0, 0]);
    expect(zero.converged).toBe(true);
    expect(residuals(new Float64Array(16), 4, zero.values, zero.vectors).ortho).toBe(0);
  });

  it('does not modify its input', () => {
    const a = Float64Array.from([2, 1, 1, 2]);
    jacobiEigen(a, 2);
    expect(Array.from(a)).toEqual([2, 1, 1, 2]);
  });

  it('reports non-convergence instead of looping when maxSweeps is too small', () => {
    const a = randomSymmetric(new Rng(9), 8);
    const r = jacobiEigen(a, 8, { maxSweeps: 1 });
    expect(r.sweeps).toBe(1);
    expect(r.converged).toBe(false);
  });

  it('rejects bad input with a clear error', () => {
    expect(() => jacobiEigen([1, 2, 3], 2)).toThrow(/expected 4 entries/);
    expect(() => jacobiEigen([1, 2, 3, 4], 2)).toThrow(/not symmetric at \(0, 1\)/);
    expect(() => jacobiEigen([1, NaN, NaN, 1], 2)).toThrow(/not finite/);
    expect(() => jacobiEigen([], 0)).toThrow(/positive integer/);
  });
});
