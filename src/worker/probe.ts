/**
 * Timed training steps of the real model on the current backend: a warm-up batch (shader compilation,
 * weight packing), then timed batches until a batch or time budget runs out. Uses the local data when it
 * is loaded, so the probe measures the model and input the round will really train.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize } from '../fl/data/dataset';
import { inputTensor, labelTensor } from '../fl/data/batches';
import type { ModelSpec } from '../fl/models';
import { buildModel, modelInputShape } from '../fl/models';
import { crossEntropy } from '../fl/train';

export interface ProbeOptions {
  batchSize: number;
  warmupBatches: number;
  maxBatches: number;
  budgetMs: number;
  /** After a warm-up longer than this, time one batch only. */
  slowWarmupMs: number;
  learningRate: number;
}

export interface ProbeMeasurement {
  samplesPerSecond: number;
  warmupMs: number;
  timedBatches: number;
  timedMs: number;
  /** Loss of the last step (finite, or the backend computed garbage). */
  lastLoss: number;
}

/** Fixed training batches: the first samples of `data`, or uniform noise of the model's input shape. */
function probeBatch(spec: ModelSpec, data: Dataset | null, batchSize: number): { xs: tf.Tensor; ys: tf.Tensor1D } {
  if (data && datasetSize(data) > 0) {
    const idx = Int32Array.from({ length: batchSize }, (_, i) => i % datasetSize(data));
    return { xs: inputTensor(data, idx), ys: labelTensor(data, idx) };
  }
  return tf.tidy(() => ({
    xs: tf.randomUniform([batchSize, ...modelInputShape(spec)], 0, 1, 'float32', 1),
    ys: tf.randomUniform([batchSize], 0, spec.numClasses, 'int32', 2) as tf.Tensor1D,
  }));
}

/** Measures training throughput of `spec` on the active backend. Leaves no tensors behind. */
export async function probeTraining(spec: ModelSpec, data: Dataset | null, opts: ProbeOptions): Promise<ProbeMeasurement> {
  const model = buildModel(spec, 1);
  const optimizer = tf.train.sgd(opts.learningRate);
  const { xs, ys } = probeBatch(spec, data, opts.batchSize);
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(() => crossEntropy(model.apply(xs, { training: true }) as tf.Tensor2D, ys), true) as tf.Scalar;
    const value = (await loss.data())[0];
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`probe step produced loss ${value}`);
    return value;
  };
  try {
    const warmStart = performance.now();
    for (let i = 0; i < opts.warmupBatches; i++) await step();
    const warmupMs = performance.now() - warmStart;
    const maxBatches = warmupMs > opts.slowWarmupMs ? 1 : opts.maxBatches;
    let timed = 0;
    let lastLoss = NaN;
    const started = performance.now();
    let elapsed = 0;
    while (timed < maxBatches && (timed === 0 || elapsed < opts.budgetMs)) {
      lastLoss = await step();
      timed++;
      elapsed = performance.now() - started;
    }
    return { samplesPerSecond: (timed * opts.batchSize * 1000) / Math.max(elapsed, 1e-3), warmupMs, timedBatches: timed, timedMs: elapsed, lastLoss };
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  }
}
