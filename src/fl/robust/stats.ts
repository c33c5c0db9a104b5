/**
 * Numerics of the robust aggregation, over update deltas (WeightSets of one layout). Everything accumulates in
 * float64, so even updates holding float32's largest values give finite norms and products.
 */
import { coordinateMedianSimd } from '../linalg/median-simd';
import { sumOfSquaresPartialsSimd } from '../linalg/vector-simd';
import { firstNonFinite, type WeightSet } from '../weights';

/**
 * Sum of squares of each tensor, in float64. Never overflows for float32 input: the largest float32 squared is
 * 1.2e77, and float64 would need 1e231 of those to overflow; subnormal float32 values squared (1e-90) are still
 * normal float64 numbers. One pass, no scaling.
 */
export function tensorSquares(delta: WeightSet): Float64Array {
  const out = new Float64Array(delta.length);
  for (let ti = 0; ti < delta.length; ti++) out[ti] = sumOfSquares(delta[ti].values);
  return out;
}

/**
 * Sum of squares of float32 values, accumulated in float64 (four interleaved partial sums: no add-latency chain). On
 * the SIMD kernel where it runs, for large tensors (the same partial sums, so the same bits; no cold JS loop in the
 * first rounds of a session).
 */
export function sumOfSquares(values: Float32Array): number {
  const simd = values.length >= SUM_OF_SQUARES_SIMD_FROM ? sumOfSquaresPartialsSimd(values) : null;
  if (simd) {
    let s0 = simd[0];
    for (let i = values.length - (values.length & 3); i < values.length; i++) s0 += values[i] * values[i];
    return s0 + simd[1] + (simd[2] + simd[3]);
  }
  return sumOfSquaresJs(values);
}

/** Below this many values the JS loop is cheaper than copying into the kernel's memory. */
const SUM_OF_SQUARES_SIMD_FROM = 256;

function sumOfSquaresJs(values: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = values.length;
  const n4 = n - (n & 3);
  for (let i = 0; i < n4; i += 4) {
    const a = values[i];
    const b = values[i + 1];
    const c = values[i + 2];
    const d = values[i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (let i = n4; i < n; i++) s0 += values[i] * values[i];
  return s0 + s1 + (s2 + s3);
}

/** L2 norm of a weight set, in float64 (finite for any finite float32 input; see tensorSquares). */
export function normOf(delta: WeightSet): number {
  let s = 0;
  for (const t of delta) s += sumOfSquares(t.values);
  return Math.sqrt(s);
}

/** True when every value is finite (weights.ts's scan, which the engine's checks on receipt already keep hot). */
export function allFinite(w: WeightSet): boolean {
  for (const t of w) if (firstNonFinite(t.values) >= 0) return false;
  return true;
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** delta * scale, with the product taken in float64 and rounded once to float32. */
export function scaleDelta(delta: WeightSet, scale: number): WeightSet {
  return delta.map((t) => {
    const out = new Float32Array(t.values.length);
    for (let i = 0; i < out.length; i++) out[i] = t.values[i] * scale;
    return { name: t.name, shape: [...t.shape], values: out };
  });
}

/**
 * Coordinate-wise statistic of K deltas (finite values): for every coordinate, the K values sorted and `trim` cut at
 * each end, then the mean of the rest; `trim` = null takes the median instead. Float64 per tensor.
 */
export function coordinateStatistic(deltas: readonly WeightSet[], trim: number | null): Float64Array[] {
  const K = deltas.length;
  if (K === 0) throw new Error('coordinate statistic of no updates');
  if (trim !== null && !(Number.isInteger(trim) && trim >= 0 && 2 * trim < K)) throw new Error(`cannot trim ${trim} of ${K} values at each end`);
  return deltas[0].map((_, ti) => {
    const rows = deltas.map((d) => d[ti].values);
    // The median on the SIMD sorting network where it runs (same values; ~13x faster at K = 50), else by selection.
    return (trim === null ? coordinateMedianSimd(rows) : null) ?? statisticOfRows(rows, trim);
  });
}

/** coordinateStatistic of one tensor's rows, by selection in plain JS (the SIMD median's fallback). */
function statisticOfRows(rows: readonly Float32Array[], trim: number | null): Float64Array {
  const K = rows.length;
  const column = new Float64Array(K);
  const m = K >> 1;
  const out = new Float64Array(rows[0].length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < K; k++) column[k] = rows[k][i];
    // Selection instead of a sort: O(K) per coordinate, which matters at classroom scale (K = 50, 100k coordinates).
    if (trim === null) {
      selectKth(column, 0, K - 1, m);
      // After selecting m, everything left of it is <= column[m]: the lower middle is their maximum.
      out[i] = K % 2 === 1 ? column[m] : (maxOf(column, 0, m - 1) + column[m]) / 2;
    } else {
      if (trim > 0) {
        selectKth(column, 0, K - 1, trim);
        selectKth(column, trim, K - 1, K - trim - 1);
      }
      let s = 0;
      for (let k = trim; k < K - trim; k++) s += column[k];
      out[i] = s / (K - 2 * trim);
    }
  }
  return out;
}

/** The round's consensus for the direction check: the coordinate-wise median update, and what the cosines need. */
export interface MedianConsensus {
  /** Per tensor, float64. */
  median: Float64Array[];
  /** Each delta's dot product with the median (over all tensors). */
  dots: Float64Array;
  /** The median's L2 norm. */
  norm: number;
}

/**
 * The coordinate-wise median of K deltas (finite values) with each delta's dot product with it and its norm. On the
 * SIMD kernel the dot products are taken block by block while the kernel has the block in cache (one pass over the
 * updates instead of two); else the JS selection and dot products.
 */
export function medianConsensus(deltas: readonly WeightSet[]): MedianConsensus {
  const K = deltas.length;
  if (K === 0) throw new Error('coordinate statistic of no updates');
  const dots = new Float64Array(K);
  let squares = 0;
  const median = deltas[0].map((_, ti) => {
    const rows = deltas.map((d) => d[ti].values);
    const simd = coordinateMedianSimd(rows, true);
    if (simd) {
      for (let k = 0; k < K; k++) dots[k] += simd.dots[k];
      squares += simd.squares;
      return simd.median;
    }
    const m = statisticOfRows(rows, null);
    for (let k = 0; k < K; k++) dots[k] += dot32x64(rows[k], m);
    for (let i = 0; i < m.length; i++) squares += m[i] * m[i];
    return m;
  });
  return { median, dots, norm: Math.sqrt(squares) };
}

/** Exposed for tests: the plain-JS statistic of one tensor's rows. */
export const statsForTests = { statisticOfRows, sumOfSquaresJs };

/**
 * Rearranges a[lo..hi] so that a[k] holds the value a sorted a[lo..hi] would have there, everything before it is
 * <= a[k] and everything after it >= a[k] (Hoare's selection, median-of-three pivot).
 */
function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function maxOf(a: Float64Array, lo: number, hi: number): number {
  let best = a[lo];
  for (let i = lo + 1; i <= hi; i++) if (a[i] > best) best = a[i];
  return best;
}

/** Cosine similarity of a delta with a float64 reference of the same layout; null when either is zero. */
export function cosineWith(delta: WeightSet, reference: readonly Float64Array[]): number | null {
  return cosineFromDot(dotWith(delta, reference), normOf(delta), referenceNorm(reference));
}

/** L2 norm of a float64 reference (a coordinate statistic of float32 deltas: no overflow, see tensorSquares). */
export function referenceNorm(reference: readonly Float64Array[]): number {
  let s = 0;
  for (const r of reference) for (let i = 0; i < r.length; i++) s += r[i] * r[i];
  return Math.sqrt(s);
}

/** delta . reference, accumulated in float64 (each product is at most 1.2e77 for float32-range inputs). */
export function dotWith(delta: WeightSet, reference: readonly Float64Array[]): number {
  let dot = 0;
  for (let ti = 0; ti < delta.length; ti++) dot += dot32x64(delta[ti].values, reference[ti]);
  return dot;
}

/** a . b for float32 a and float64 b of one length, in float64 (four interleaved partial sums). */
function dot32x64(a: Float32Array, b: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  const n4 = n - (n & 3);
  for (let i = 0; i < n4; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (let i = n4; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

/** The cosine from a dot product and the two norms; null when either vector is zero. */
export function cosineFromDot(dot: number, deltaNorm: number, referenceNorm: number): number | null {
  if (deltaNorm === 0 || referenceNorm === 0) return null;
  return dot / deltaNorm / referenceNorm;
}
