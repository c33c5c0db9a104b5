/**
 * Numerics of the robust aggregation, over update deltas (WeightSets of one layout). Everything accumulates in
 * float64, so even updates holding float32's largest values give finite norms and products.
 */
import type { WeightSet } from '../weights';

/** L2 norm of a weight set, in float64 (finite for any finite float32 input). */
export function normOf(delta: WeightSet): number {
  // Scaled accumulation: max-float squared is 1.2e77, far inside float64, but a sum over millions of such values
  // still is; dividing by the largest magnitude first keeps every term <= 1.
  let max = 0;
  for (const t of delta) for (let i = 0; i < t.values.length; i++) max = Math.max(max, Math.abs(t.values[i]));
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (const t of delta) {
    for (let i = 0; i < t.values.length; i++) {
      const x = t.values[i] / max;
      s += x * x;
    }
  }
  return max * Math.sqrt(s);
}

/** True when every value is finite. */
export function allFinite(w: WeightSet): boolean {
  for (const t of w) for (let i = 0; i < t.values.length; i++) if (!Number.isFinite(t.values[i])) return false;
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
 * Coordinate-wise statistic of K deltas: for every coordinate, the K values sorted and `trim` cut at each end, then
 * the mean of the rest; `trim` = null takes the median instead. Float64 per tensor.
 */
export function coordinateStatistic(deltas: readonly WeightSet[], trim: number | null): Float64Array[] {
  const K = deltas.length;
  if (K === 0) throw new Error('coordinate statistic of no updates');
  if (trim !== null && !(Number.isInteger(trim) && trim >= 0 && 2 * trim < K)) throw new Error(`cannot trim ${trim} of ${K} values at each end`);
  const column = new Float64Array(K);
  const m = K >> 1;
  return deltas[0].map((t, ti) => {
    const rows = deltas.map((d) => d[ti].values);
    const out = new Float64Array(t.values.length);
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
  });
}

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
  const nd = normOf(delta);
  let rmax = 0;
  for (const r of reference) for (let i = 0; i < r.length; i++) rmax = Math.max(rmax, Math.abs(r[i]));
  if (nd === 0 || rmax === 0) return null;
  let dot = 0;
  let rr = 0;
  for (let ti = 0; ti < delta.length; ti++) {
    const d = delta[ti].values;
    const r = reference[ti];
    for (let i = 0; i < d.length; i++) {
      const x = d[i] / nd;
      const y = r[i] / rmax;
      dot += x * y;
      rr += y * y;
    }
  }
  return dot / Math.sqrt(rr);
}
