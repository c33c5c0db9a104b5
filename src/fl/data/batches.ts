import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './dataset';
import { sampleSize } from './dataset';

/** Model input for the given samples: images scaled to [0, 1] as [B, h, w, c]; tabular rows as [B, features]. */
export function inputTensor(ds: Dataset, indices: ArrayLike<number>): tf.Tensor {
  const n = indices.length;
  const per = sampleSize(ds);
  const buf = new Float32Array(n * per);
  if (ds.kind === 'image') {
    const scale = 1 / 255;
    for (let i = 0; i < n; i++) {
      const src = indices[i] * per;
      const dst = i * per;
      for (let k = 0; k < per; k++) buf[dst + k] = ds.images[src + k] * scale;
    }
    return tf.tensor4d(buf, [n, ds.shape[0], ds.shape[1], ds.shape[2]]);
  }
  for (let i = 0; i < n; i++) buf.set(ds.rows.subarray(indices[i] * per, (indices[i] + 1) * per), i * per);
  return tf.tensor2d(buf, [n, per]);
}

export function labelTensor(ds: Dataset, indices: ArrayLike<number>): tf.Tensor1D {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < out.length; i++) out[i] = ds.labels[indices[i]];
  return tf.tensor1d(out, 'int32');
}

/** Consecutive index ranges [start, end) of at most batchSize. */
export function* batchRanges(n: number, batchSize: number): Generator<[number, number]> {
  for (let start = 0; start < n; start += batchSize) yield [start, Math.min(n, start + batchSize)];
}
