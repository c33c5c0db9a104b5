/**
 * Fixed-point quantisation into Z_(2^32), so that a sum of masked vectors is exact: every party encodes each
 * coordinate as round(v * scale) mod 2^32 after clamping it to the declared range [-bound, bound], and the scale
 * leaves room for `maxTerms` such values to add up without wrapping past 2^31 (read back as two's complement).
 */
export interface FixedPointPlan {
  /** Largest |coordinate| any one party may contribute (values beyond are clamped). */
  bound: number;
  /** How many contributions the sum may hold. */
  maxTerms: number;
  scale: number;
}

const HALF_RING = 2 ** 31;

export function fixedPointPlan(bound: number, maxTerms: number): FixedPointPlan {
  if (!(Number.isFinite(bound) && bound > 0)) throw new RangeError(`fixed point: the range bound must be positive, got ${bound}`);
  if (!(Number.isInteger(maxTerms) && maxTerms >= 1 && maxTerms < 2 ** 20)) throw new RangeError(`fixed point: ${maxTerms} terms is not a count in 1..2^20`);
  // Each term rounds to at most bound * scale + 1/2; their sum must stay below 2^31.
  const scale = (HALF_RING - 1 - maxTerms) / (maxTerms * bound);
  return { bound, maxTerms, scale };
}

/** Encodes `values` (clamped to the plan's range); returns the ring elements and how many values were clamped. */
export function quantise(values: Float64Array | Float32Array, plan: FixedPointPlan): { ring: Uint32Array; clamped: number } {
  const ring = new Uint32Array(values.length);
  let clamped = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`fixed point: value ${i} is not finite`);
    if (v > plan.bound || v < -plan.bound) {
      v = v > 0 ? plan.bound : -plan.bound;
      clamped++;
    }
    ring[i] = Math.round(v * plan.scale) >>> 0;
  }
  return { ring, clamped };
}

/** The real values of a ring vector that is a sum of at most plan.maxTerms quantised vectors. */
export function dequantise(ring: Uint32Array, plan: FixedPointPlan): Float64Array {
  const out = new Float64Array(ring.length);
  for (let i = 0; i < ring.length; i++) out[i] = (ring[i] | 0) / plan.scale;
  return out;
}

/** a += b (mod 2^32), in place. */
export function addInto(a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length) throw new RangeError(`ring vectors of lengths ${a.length} and ${b.length}`);
  for (let i = 0; i < a.length; i++) a[i] = (a[i] + b[i]) >>> 0;
}

/** a -= b (mod 2^32), in place. */
export function subtractInto(a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length) throw new RangeError(`ring vectors of lengths ${a.length} and ${b.length}`);
  for (let i = 0; i < a.length; i++) a[i] = (a[i] - b[i]) >>> 0;
}
