/**
 * Looking into a model: class probabilities for one input, and the confusion matrix on a dataset. Runs where
 * the model runs (the training or the validation worker; Node in tests), never on the page's main thread.
 */
import * as tf from '@tensorflow/tfjs';
import { batchRanges, inputTensor } from '../fl/data/batches';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize, sampleSize } from '../fl/data/dataset';
import { buildModel, modelInputShape, setWeights, type ModelSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';

export interface Prediction {
  /** Softmax of the model's logits, one per class. */
  probabilities: number[];
  predicted: number;
}

export interface SamplePrediction extends Prediction {
  index: number;
  /** The sample's true label. */
  label: number;
  /** The sample itself, to show it: image bytes (h*w*c) or the row's features. */
  image: { shape: [number, number, number]; pixels: Uint8Array } | null;
  features: number[] | null;
}

export interface ConfusionResult {
  /** matrix[true][predicted] counts. */
  matrix: number[][];
  /** Share of each true class predicted right (null for a class without samples). */
  perClassAccuracy: (number | null)[];
  accuracy: number;
  numSamples: number;
}

function withModel<T>(spec: ModelSpec, weights: WeightSet, use: (model: tf.LayersModel) => Promise<T>): Promise<T> {
  const model = buildModel(spec);
  setWeights(model, weights);
  return use(model).finally(() => model.dispose());
}

/** Probabilities for one input given as model-ready values (images scaled to [0, 1], channels last). */
export async function predictValues(spec: ModelSpec, weights: WeightSet, values: Float32Array): Promise<Prediction> {
  const shape = modelInputShape(spec);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`the input has ${values.length} values; the model takes ${size} ([${shape.join(', ')}])`);
  return withModel(spec, weights, async (model) => {
    const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor(values, [1, ...shape])) as tf.Tensor2D));
    const p = [...(await probs.data())];
    probs.dispose();
    return { probabilities: p, predicted: p.indexOf(Math.max(...p)) };
  });
}

/** Probabilities for sample `index` of `data`, with the sample and its label. */
export async function predictSample(spec: ModelSpec, weights: WeightSet, data: Dataset, index: number): Promise<SamplePrediction> {
  const n = datasetSize(data);
  if (!(Number.isInteger(index) && index >= 0 && index < n)) throw new Error(`no sample ${index} (this device holds ${n} held-out samples)`);
  return withModel(spec, weights, async (model) => {
    const probs = tf.tidy(() => tf.softmax(model.predict(inputTensor(data, [index])) as tf.Tensor2D));
    const p = [...(await probs.data())];
    probs.dispose();
    const per = sampleSize(data);
    return {
      index,
      label: data.labels[index],
      probabilities: p,
      predicted: p.indexOf(Math.max(...p)),
      image: data.kind === 'image' ? { shape: [...data.shape], pixels: data.images.slice(index * per, (index + 1) * per) } : null,
      features: data.kind === 'tabular' ? [...data.rows.subarray(index * per, (index + 1) * per)] : null,
    };
  });
}

/** Confusion matrix and per-class accuracy of the model on `data`, in batches. */
export async function confusion(spec: ModelSpec, weights: WeightSet, data: Dataset, batchSize = 256): Promise<ConfusionResult> {
  const classes = spec.numClasses;
  return withModel(spec, weights, async (model) => {
    const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    const n = datasetSize(data);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    for (const [start, end] of batchRanges(n, batchSize)) {
      const predicted = tf.tidy(() => tf.argMax(model.predict(inputTensor(data, all.subarray(start, end))) as tf.Tensor2D, 1));
      const values = await predicted.data();
      predicted.dispose();
      for (let i = 0; i < values.length; i++) {
        const truth = data.labels[start + i];
        if (truth >= 0 && truth < classes) matrix[truth][values[i]]++;
      }
    }
    const perClassAccuracy = matrix.map((row, c) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total > 0 ? row[c] / total : null;
    });
    const correct = matrix.reduce((s, row, c) => s + row[c], 0);
    return { matrix, perClassAccuracy, accuracy: n > 0 ? correct / n : NaN, numSamples: n };
  });
}
