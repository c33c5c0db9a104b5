import { Rng } from '../rng';
import type { ClientUpdate } from '../strategies/types';
import type { WeightSet } from '../weights';

export const LAYOUT = [
  { name: 'dense/kernel', shape: [7, 5] },
  { name: 'dense/bias', shape: [5] },
];

/** A random delta with the test layout, values ~ N(mean, scale^2). */
export function randomDelta(rng: Rng, scale = 1, mean = 0): WeightSet {
  return LAYOUT.map((l) => ({ name: l.name, shape: [...l.shape], values: Float32Array.from({ length: l.shape.reduce((a, b) => a * b, 1) }, () => mean + scale * rng.normal()) }));
}

export function zeros(): WeightSet {
  return LAYOUT.map((l) => ({ name: l.name, shape: [...l.shape], values: new Float32Array(l.shape.reduce((a, b) => a * b, 1)) }));
}

export function update(clientId: string, delta: WeightSet, numSamples = 100): ClientUpdate {
  return { clientId, delta, numSamples };
}

/**
 * An update as softmax training on `histogram` (one count per output of LAYOUT's bias) makes it: the output bias
 * moves along (q - p) (p: the model's predictions, about uniform here), plus noise; the kernel moves along a
 * direction of the client's own.
 */
export function trained(rng: Rng, id: string, histogram: number[], kernelDirection: number): ClientUpdate {
  const total = histogram.reduce((a, b) => a + b, 0);
  const delta = randomDelta(rng, 0.02);
  delta[0].values.forEach((_, i) => (delta[0].values[i] += kernelDirection * 0.3));
  histogram.forEach((n, c) => (delta[1].values[c] += 0.5 * (n / total - 1 / histogram.length)));
  return update(id, delta, total);
}

/** All values of a weight set, flattened into plain numbers. */
export function flat(w: WeightSet | Float64Array[]): number[] {
  return (w as Array<{ values: Float32Array } | Float64Array>).flatMap((t) => Array.from(t instanceof Float64Array ? t : t.values));
}
