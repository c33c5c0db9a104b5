import * as tf from '@tensorflow/tfjs';
import { batchRanges, inputTensor, labelTensor } from '../fl/data/batches';
import { datasetSize, type Dataset } from '../fl/data/dataset';
import { crossEntropy } from '../fl/train';

export interface PerClassEval {
  loss: number;
  accuracy: number;
  /** Accuracy on the test samples of each class (NaN for a class with none). */
  perClass: number[];
}

/** Mean plain CE, accuracy and per-class accuracy of the model's current weights on `data`, in one pass. */
export async function evaluatePerClass(model: tf.LayersModel, data: Dataset, batchSize = 256): Promise<PerClassEval> {
  const n = datasetSize(data);
  const hits = new Array<number>(data.numClasses).fill(0);
  const totals = new Array<number>(data.numClasses).fill(0);
  let lossSum = 0;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (const [start, end] of batchRanges(n, batchSize)) {
    const idx = all.subarray(start, end);
    const [ce, predicted] = tf.tidy(() => {
      const logits = model.predict(inputTensor(data, idx)) as tf.Tensor2D;
      return [tf.mul(crossEntropy(logits, labelTensor(data, idx)), end - start), tf.argMax(logits, 1)];
    });
    try {
      const [l, p] = await Promise.all([ce.data(), predicted.data()]);
      lossSum += l[0];
      for (let i = 0; i < idx.length; i++) {
        const y = data.labels[idx[i]];
        totals[y]++;
        if (p[i] === y) hits[y]++;
      }
    } finally {
      tf.dispose([ce, predicted]);
    }
  }
  const correct = hits.reduce((a, b) => a + b, 0);
  return { loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN, perClass: hits.map((h, c) => (totals[c] ? h / totals[c] : NaN)) };
}
