import type { Dataset } from '../fl/data/dataset';

/** True for a structurally valid Dataset (typed arrays of matching sizes), e.g. after IndexedDB or postMessage. */
export function isDataset(value: unknown): value is Dataset {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  if (!(d.labels instanceof Int32Array) || !Number.isInteger(d.numClasses) || (d.numClasses as number) < 1) return false;
  if (d.kind === 'image') {
    const shape = d.shape;
    return (
      d.images instanceof Uint8Array &&
      Array.isArray(shape) &&
      shape.length === 3 &&
      shape.every((x) => Number.isInteger(x) && x > 0) &&
      d.images.length === d.labels.length * shape[0] * shape[1] * shape[2]
    );
  }
  if (d.kind === 'tabular') {
    return d.rows instanceof Float32Array && Number.isInteger(d.features) && d.rows.length === d.labels.length * (d.features as number);
  }
  return false;
}
