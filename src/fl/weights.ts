/**
 * Model weights as plain data: one named, shaped Float32Array per tensor.
 * This is the form that crosses every boundary (worker, codec, transport, aggregator).
 */
import { firstNonFiniteSimd } from './linalg/float-scan-simd';
import { addScaledSimd } from './linalg/vector-simd';

export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export type WeightSet = NamedTensor[];

/** Names and shapes only: what a model expects. */
export interface TensorLayout {
  name: string;
  shape: number[];
}

export function layoutOf(weights: WeightSet): TensorLayout[] {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape] }));
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function totalParameters(weights: WeightSet): number {
  return weights.reduce((n, t) => n + t.values.length, 0);
}

export function cloneWeights(weights: WeightSet): WeightSet {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape], values: new Float32Array(t.values) }));
}

/** Throws a clear error unless `candidate` has exactly the names and shapes of `reference`. */
export function assertSameLayout(reference: readonly TensorLayout[], candidate: WeightSet, what = 'weights'): void {
  if (candidate.length !== reference.length) {
    throw new Error(`${what}: expected ${reference.length} tensors, got ${candidate.length}`);
  }
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i];
    const c = candidate[i];
    if (c.name !== r.name) throw new Error(`${what}: tensor ${i} is named "${c.name}", expected "${r.name}"`);
    if (c.shape.length !== r.shape.length || c.shape.some((d, k) => d !== r.shape[k])) {
      throw new Error(`${what}: tensor "${r.name}" has shape [${c.shape}], expected [${r.shape}]`);
    }
    if (c.values.length !== sizeOfShape(r.shape)) {
      throw new Error(`${what}: tensor "${r.name}" holds ${c.values.length} values, expected ${sizeOfShape(r.shape)}`);
    }
  }
}

/** The index of the first NaN or ±Infinity in `values`, or -1: the one finiteness scan (see assertFinite). */
export function firstNonFinite(values: Float32Array): number {
  // On the SIMD scan for large tensors: the same answer, without a cold JS loop in a session's first rounds.
  const simd = values.length >= 256 ? firstNonFiniteSimd(values) : null;
  if (simd !== null) return simd;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** Throws unless every value is finite (no NaN, no ±Infinity). */
export function assertFinite(weights: WeightSet, what = 'weights'): void {
  for (const t of weights) {
    const i = firstNonFinite(t.values);
    if (i >= 0) throw new Error(`${what}: tensor "${t.name}" has a non-finite value (${t.values[i]}) at index ${i}`);
  }
}

/** a - b, tensor by tensor (layouts must match). */
export function subtractWeights(a: WeightSet, b: WeightSet): WeightSet {
  assertSameLayout(a, b);
  return a.map((t, i) => {
    const out = new Float32Array(t.values.length);
    const bv = b[i].values;
    for (let k = 0; k < out.length; k++) out[k] = t.values[k] - bv[k];
    return { name: t.name, shape: [...t.shape], values: out };
  });
}

/** a + scale * b, tensor by tensor (layouts must match). */
export function addScaledWeights(a: WeightSet, b: WeightSet, scale = 1): WeightSet {
  assertSameLayout(a, b);
  return a.map((t, i) => {
    const bv = b[i].values;
    // The SIMD kernel for large tensors (same bits): no cold JS loop on the aggregating tab's main thread.
    const simd = t.values.length >= 256 ? addScaledSimd(t.values, bv, scale) : null;
    if (simd) return { name: t.name, shape: [...t.shape], values: simd };
    const out = new Float32Array(t.values.length);
    for (let k = 0; k < out.length; k++) out[k] = t.values[k] + scale * bv[k];
    return { name: t.name, shape: [...t.shape], values: out };
  });
}

export function zerosLike(weights: WeightSet): WeightSet {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape], values: new Float32Array(t.values.length) }));
}

export function l2Norm(weights: WeightSet): number {
  let s = 0;
  for (const t of weights) for (let i = 0; i < t.values.length; i++) s += t.values[i] * t.values[i];
  return Math.sqrt(s);
}
