/**
 * Cyclic Jacobi eigen-solver for small real symmetric matrices (FedLD's K x K client Gram matrix).
 * TF.js has no eig/SVD op, and K is at most a few dozen, so a plain float64 solver is both exact and cheap.
 */

import { jacobiSweepsSimd } from './jacobi-simd';

export interface JacobiConfig {
  /** Converged when the off-diagonal Frobenius norm is at most this fraction of the matrix's Frobenius norm. */
  relativeTolerance: number;
  /** A sweep rotates every off-diagonal pair once; Jacobi converges quadratically, so a handful usually suffices. */
  maxSweeps: number;
  /** Input is rejected as non-symmetric when |a_ij - a_ji| exceeds this fraction of the largest |a_ij|. */
  symmetryTolerance: number;
  /** Sweep on the WebAssembly SIMD kernel (./jacobi-simd.ts, bit-identical) when it runs and A is exactly symmetric. */
  simd: boolean;
}

export const DEFAULT_JACOBI_CONFIG: Readonly<JacobiConfig> = {
  relativeTolerance: 1e-14,
  maxSweeps: 64,
  symmetryTolerance: 1e-10,
  simd: true,
};

export interface EigenDecomposition {
  /** Eigenvalues, sorted descending. */
  values: Float64Array;
  /** Row-major n x n; column j (entries vectors[i * n + j]) is the unit eigenvector of values[j]. */
  vectors: Float64Array;
  /** Sweeps performed. */
  sweeps: number;
  /** False when maxSweeps ran out first; the result is then the best approximation reached. */
  converged: boolean;
}

/** Eigen-decomposition of the real symmetric n x n row-major `matrix` (which is not modified). */
export function jacobiEigen(matrix: ArrayLike<number>, n: number, opts: Partial<JacobiConfig> = {}): EigenDecomposition {
  const config = { ...DEFAULT_JACOBI_CONFIG, ...opts };
  validateInput(matrix, n, config);

  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1; // stored transposed: v[j * n + r] is row r of eigenvector j

  let frobeniusSq = 0;
  for (let i = 0; i < n * n; i++) frobeniusSq += a[i] * a[i];
  const thresholdSq = config.relativeTolerance * config.relativeTolerance * frobeniusSq;

  // The same sweeps on the WebAssembly kernel where it runs (bit-identical; it needs A exactly symmetric).
  const simd = config.simd ? jacobiSweepsSimd(a, v, n, thresholdSq, config.maxSweeps) : null;
  if (simd) return sortDescending(a, v, n, simd.sweeps, simd.converged);

  let sweeps = 0;
  let converged = offDiagonalSq(a, n) <= thresholdSq;
  while (!converged && sweeps < config.maxSweeps) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) rotate(a, v, n, p, q);
    }
    sweeps++;
    converged = offDiagonalSq(a, n) <= thresholdSq;
  }

  return sortDescending(a, v, n, sweeps, converged);
}

function validateInput(matrix: ArrayLike<number>, n: number, config: JacobiConfig): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`jacobiEigen: size n must be a positive integer, got ${n}`);
  if (matrix.length !== n * n) throw new Error(`jacobiEigen: expected ${n * n} entries for a ${n}x${n} matrix, got ${matrix.length}`);
  if (!(config.relativeTolerance >= 0) || !(config.maxSweeps >= 0)) {
    throw new Error(`jacobiEigen: relativeTolerance and maxSweeps must be non-negative numbers`);
  }
  let maxAbs = 0;
  for (let i = 0; i < n * n; i++) {
    const x = matrix[i];
    if (!Number.isFinite(x)) throw new Error(`jacobiEigen: entry (${Math.floor(i / n)}, ${i % n}) is not finite (${x})`);
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(matrix[i * n + j] - matrix[j * n + i]) > config.symmetryTolerance * maxAbs) {
        throw new Error(`jacobiEigen: matrix is not symmetric at (${i}, ${j}): ${matrix[i * n + j]} vs ${matrix[j * n + i]}`);
      }
    }
  }
}

function offDiagonalSq(a: Float64Array, n: number): number {
  let s = 0;
  for (let p = 0; p < n - 1; p++) {
    for (let q = p + 1; q < n; q++) s += a[p * n + q] * a[p * n + q];
  }
  return 2 * s;
}

/** One Jacobi rotation J(p, q) with A <- J^T A J zeroing a_pq, and V <- V J (Golub & Van Loan, sym.schur2). */
function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q];
  if (apq === 0) return;
  const app = a[p * n + p];
  const aqq = a[q * n + q];
  const theta = (aqq - app) / (2 * apq);
  // Smaller-angle root of t^2 + 2 theta t - 1 = 0; the 1/(2 theta) branch avoids overflow of theta^2.
  const t =
    Math.abs(theta) > 1e150
      ? 1 / (2 * theta)
      : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;

  // Rows r < p, p < r < q and r > q (the same arithmetic as one loop skipping p and q, without the branch).
  const pn = p * n;
  const qn = q * n;
  for (let r = 0; r < p; r++) rotatePair(a, n, pn, qn, p, q, r, c, s);
  for (let r = p + 1; r < q; r++) rotatePair(a, n, pn, qn, p, q, r, c, s);
  for (let r = q + 1; r < n; r++) rotatePair(a, n, pn, qn, p, q, r, c, s);
  a[p * n + p] = app - t * apq;
  a[q * n + q] = aqq + t * apq;
  a[p * n + q] = 0;
  a[q * n + p] = 0;

  for (let r = 0; r < n; r++) {
    const vrp = v[pn + r];
    const vrq = v[qn + r];
    v[pn + r] = c * vrp - s * vrq;
    v[qn + r] = s * vrp + c * vrq;
  }
}

function rotatePair(a: Float64Array, n: number, pn: number, qn: number, p: number, q: number, r: number, c: number, s: number): void {
  const rn = r * n;
  const arp = a[rn + p];
  const arq = a[rn + q];
  const newRp = c * arp - s * arq;
  const newRq = s * arp + c * arq;
  a[rn + p] = newRp;
  a[pn + r] = newRp;
  a[rn + q] = newRq;
  a[qn + r] = newRq;
}

function sortDescending(a: Float64Array, v: Float64Array, n: number, sweeps: number, converged: boolean): EigenDecomposition {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src];
    for (let r = 0; r < n; r++) vectors[r * n + dst] = v[src * n + r];
  });
  return { values, vectors, sweeps, converged };
}
