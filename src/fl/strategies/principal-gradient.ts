/**
 * FedLD principal-gradient update for ONE tensor (spec section 3, steps 1-5), in the cheap exact form:
 * everything is expressed through the K x K Gram matrix M = G G^T / K and its eigenvectors E, so no d-length
 * direction vector v_j = G^T e_j is ever built. Cost O(K^2 d) time, O(d) extra memory.
 */
import { gramMatrixF32Simd } from '../linalg/gram-f32-simd';
import { gramMatrixSimd } from '../linalg/gram-simd';
import { combineRowsSimd } from '../linalg/vector-simd';
import { jacobiEigen } from '../linalg/jacobi';
import { firstNonFinite } from '../weights';

export const PRINCIPAL_GRADIENT_CONFIG = {
  /** Directions with s_j <= this * s_1 carry no signal (rank deficiency, rounding) and are dropped. */
  relativeEigenFloor: 1e-8,
  /** floor(rho * K) is taken after adding this, so e.g. 0.29 * 100 = 28.999999999999996 still keeps 29. */
  rhoRoundingSlack: 1e-9,
} as const;

export type PrincipalGradientMode =
  /** Plain mean of the rows (K = 1, d = 1, or floor(rho * K) < 1). */
  | 'mean'
  /** All rows are zero: the update is zero. */
  | 'zero'
  /** Principal-gradient combination of the rows. */
  | 'principal';

export interface PrincipalGradientResult {
  update: Float32Array;
  mode: PrincipalGradientMode;
  /** Principal directions that contributed (0 unless mode is 'principal'). */
  directionsKept: number;
}

/** k = floor(rho * K): how many principal directions FedLD keeps for K clients. */
export function principalDirectionCount(rho: number, clients: number): number {
  return Math.floor(rho * clients + PRINCIPAL_GRADIENT_CONFIG.rhoRoundingSlack);
}

/** The tensor update u from the K client updates `rows` (each of length d). */
export function principalGradientUpdate(rows: readonly Float32Array[], rho: number): Float32Array {
  return principalGradientUpdateDetailed(rows, rho).update;
}

/**
 * As principalGradientUpdate, plus which path was taken and how many directions were kept.
 * `clientWeights` (summing to 1) replaces the unweighted 1/K of step 5 and of the plain mean; without it the
 * arithmetic is exactly the paper's unweighted form.
 */
export function principalGradientUpdateDetailed(rows: readonly Float32Array[], rho: number, clientWeights?: Float64Array): PrincipalGradientResult {
  if (!(rho > 0 && rho <= 1)) throw new Error(`principalGradientUpdate: rho must be in (0, 1], got ${rho}`);
  validateRows(rows);
  const K = rows.length;
  const d = rows[0].length;
  if (clientWeights && clientWeights.length !== K) throw new Error(`principalGradientUpdate: ${clientWeights.length} client weights for ${K} rows`);
  const k = principalDirectionCount(rho, K);
  if (K === 1 || d === 1 || k < 1) return { update: combineRows(rows, clientWeights ?? uniformWeights(K)), mode: 'mean', directionsKept: 0 };

  const gram = gramMatrix(rows); // gram[i][j] = g_i . g_j, i.e. K * M
  const norms = new Float64Array(K);
  let trace = 0;
  for (let i = 0; i < K; i++) {
    const sq = gram[i * K + i];
    if (!Number.isFinite(sq)) throw new Error(`principalGradientUpdate: row ${i} contains a non-finite value`);
    norms[i] = Math.sqrt(sq);
    trace += sq;
  }
  if (trace === 0) return { update: new Float32Array(d), mode: 'zero', directionsKept: 0 };

  const M = new Float64Array(K * K);
  for (let i = 0; i < K * K; i++) M[i] = gram[i] / K;
  const { values: s, vectors: E } = jacobiEigen(M, K);
  const sumS = trace / K; // = sum of all eigenvalues of M, without their rounding noise

  const floor = PRINCIPAL_GRADIENT_CONFIG.relativeEigenFloor * s[0];
  const alpha = new Float64Array(K);
  let kept = 0;
  for (let j = 0; j < k && s[j] > floor; j++) {
    kept++;
    // sign(g_i . v_j) = sign(K s_j E[i][j]) = sign(E[i][j]) because s_j > 0 here.
    // Skip = a client with ||g_i|| = 0 casts no sign vote; it still counts in K, adding g_i' = 0 to the mean.
    let negative = 0;
    let nonNegative = 0;
    for (let i = 0; i < K; i++) {
      if (norms[i] === 0) continue;
      if (E[i * K + j] < 0) negative++;
      else nonNegative++;
    }
    // u is invariant to this flip (m_j and E[.][j] both change sign); it keeps v_j pointing with the majority as specified.
    const orientation = negative > nonNegative ? -1 : 1;
    let m = 0;
    if (clientWeights) {
      for (let i = 0; i < K; i++) m += clientWeights[i] * Math.sign(orientation * E[i * K + j]) * norms[i];
    } else {
      for (let i = 0; i < K; i++) m += Math.sign(orientation * E[i * K + j]) * norms[i];
      m /= K;
    }
    const coefficient = ((s[j] / sumS) * m) / Math.sqrt(K * s[j]);
    for (let i = 0; i < K; i++) alpha[i] += coefficient * orientation * E[i * K + j];
  }

  return { update: combineRows(rows, alpha), mode: 'principal', directionsKept: kept };
}

function validateRows(rows: readonly Float32Array[]): void {
  if (rows.length === 0) throw new Error('principalGradientUpdate: no client updates (K = 0)');
  const d = rows[0].length;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].length !== d) throw new Error(`principalGradientUpdate: row ${i} has ${rows[i].length} values, row 0 has ${d}`);
  }
}

/** Mean of the rows (unweighted, or with `clientWeights` summing to 1), accumulated in float64. */
export function plainMeanUpdate(rows: readonly Float32Array[], clientWeights?: Float64Array): Float32Array {
  validateRows(rows);
  return combineRows(rows, clientWeights ?? uniformWeights(rows.length));
}

function uniformWeights(K: number): Float64Array {
  return new Float64Array(K).fill(1 / K);
}

/** sum_i alpha_i g_i, accumulated in float64. Throws rather than emit a value float32 cannot hold. */
function combineRows(rows: readonly Float32Array[], alpha: Float64Array): Float32Array {
  const acc = combineRowsSimd(rows, alpha) ?? combineRowsJs(rows, alpha);
  // Rounded once to float32 (a Float32Array's conversion rounds like Math.fround), then scanned.
  const out = new Float32Array(acc);
  const t = firstNonFinite(out);
  if (t >= 0) throw new Error(`principalGradientUpdate: update element ${t} is ${acc[t]}, not representable as a finite float32 (inputs non-finite or too large)`);
  return out;
}

/** The plain-JS combination (the SIMD kernel's fallback, bit-identical to it). */
function combineRowsJs(rows: readonly Float32Array[], alpha: Float64Array): Float64Array {
  const d = rows[0].length;
  const acc = new Float64Array(d);
  for (let i = 0; i < rows.length; i++) {
    const a = alpha[i];
    if (a === 0) continue;
    const g = rows[i];
    for (let t = 0; t < d; t++) acc[t] += a * g[t];
  }
  return acc;
}

/**
 * Row-major K x K matrix of dot products g_i . g_j. Where the runtime has WebAssembly SIMD: the float32 kernel
 * (gram-f32-simd.ts; float32 products summed in float32 over short runs, then in float64: entries within ~1e-6 of
 * ||g_i|| ||g_j||, measured ~1e-8, at twice the speed of the exact kernel), or the exact float64 kernel when the rows'
 * norms are out of the float32 kernel's safe range. Else in plain JS with float64 accumulators: the two JS paths are
 * bit-identical (every entry summed over t in order); the blocked one is faster for many clients (1.8x at K = 50).
 */
function gramMatrix(rows: readonly Float32Array[]): Float64Array {
  if (rows.length >= GRAM_CONFIG.simdFromClients) {
    const simd = gramMatrixF32Simd(rows) ?? gramMatrixSimd(rows);
    if (simd) return simd;
  }
  return rows.length >= GRAM_CONFIG.blockedFromClients ? gramMatrixBlocked(rows) : gramMatrixPairs(rows);
}

export const GRAM_CONFIG = {
  /** Use the SIMD kernel from this many rows on (it was faster at every K measured, 5 to 50). */
  simdFromClients: 2,
  /** Use the blocked Gram from this many rows on (below, padding to 4 rows and the copies cost more than they save). */
  blockedFromClients: 24,
  /** Elements per row per block: 4 + 2 rows of this many float64 stay in L1, all K rows of a block in L2. */
  blockElements: 1024,
} as const;

/** Two partner rows per pass over g_i. */
function gramMatrixPairs(rows: readonly Float32Array[]): Float64Array {
  const K = rows.length;
  const d = rows[0].length;
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    const gi = rows[i];
    let j = i;
    for (; j + 1 < K; j += 2) {
      const ga = rows[j];
      const gb = rows[j + 1];
      let sa = 0;
      let sb = 0;
      for (let t = 0; t < d; t++) {
        const x = gi[t];
        sa += x * ga[t];
        sb += x * gb[t];
      }
      gram[i * K + j] = gram[j * K + i] = sa;
      gram[i * K + j + 1] = gram[(j + 1) * K + i] = sb;
    }
    if (j < K) {
      const ga = rows[j];
      let sa = 0;
      for (let t = 0; t < d; t++) sa += gi[t] * ga[t];
      gram[i * K + j] = gram[j * K + i] = sa;
    }
  }
  return gram;
}

/**
 * Cache-blocked Gram: the rows are copied block by block (blockElements columns) into one contiguous float64
 * buffer, padded with zero rows to a multiple of 4, and each 4 x 2 tile of the upper triangle keeps its 8 running
 * sums in registers across a block (loaded from and stored back to the accumulator matrix between blocks).
 */
function gramMatrixBlocked(rows: readonly Float32Array[]): Float64Array {
  const K = rows.length;
  const d = rows[0].length;
  const B = GRAM_CONFIG.blockElements;
  const Kp = Math.ceil(K / 4) * 4;
  const acc = new Float64Array(Kp * Kp);
  const buf = new Float64Array(Kp * B); // rows K..Kp-1 stay zero
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    for (let k = 0; k < K; k++) {
      const r = rows[k];
      const o = k * B;
      for (let t = 0; t < n; t++) buf[o + t] = r[t0 + t];
    }
    for (let i = 0; i < Kp; i += 4) {
      const a0 = i * B;
      const a1 = a0 + B;
      const a2 = a1 + B;
      const a3 = a2 + B;
      const r0 = i * Kp;
      const r1 = r0 + Kp;
      const r2 = r1 + Kp;
      const r3 = r2 + Kp;
      for (let j = i; j < Kp; j += 2) {
        const b0 = j * B;
        const b1 = b0 + B;
        let s00 = acc[r0 + j];
        let s01 = acc[r0 + j + 1];
        let s10 = acc[r1 + j];
        let s11 = acc[r1 + j + 1];
        let s20 = acc[r2 + j];
        let s21 = acc[r2 + j + 1];
        let s30 = acc[r3 + j];
        let s31 = acc[r3 + j + 1];
        for (let t = 0; t < n; t++) {
          const y0 = buf[b0 + t];
          const y1 = buf[b1 + t];
          const x0 = buf[a0 + t];
          const x1 = buf[a1 + t];
          const x2 = buf[a2 + t];
          const x3 = buf[a3 + t];
          s00 += x0 * y0;
          s01 += x0 * y1;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s20 += x2 * y0;
          s21 += x2 * y1;
          s30 += x3 * y0;
          s31 += x3 * y1;
        }
        acc[r0 + j] = s00;
        acc[r0 + j + 1] = s01;
        acc[r1 + j] = s10;
        acc[r1 + j + 1] = s11;
        acc[r2 + j] = s20;
        acc[r2 + j + 1] = s21;
        acc[r3 + j] = s30;
        acc[r3 + j + 1] = s31;
      }
    }
  }
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) gram[i * K + j] = gram[j * K + i] = acc[i * Kp + j];
  return gram;
}

/** Exposed for tests: the Gram matrix by the path the given number of rows selects, and by each path. */
export const gramForTests = { gramMatrix, gramMatrixPairs, gramMatrixBlocked, combineRowsJs };
