import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './data/dataset';
import { datasetSize } from './data/dataset';
import { batchRanges, inputTensor, labelTensor } from './data/batches';
import { setWeights } from './models';
import { yieldToEventLoop } from './next-task';
import { Rng } from './rng';
import { createLocalOptimizer } from './create-local-optimizer';
import { LOCAL_OPTIMIZER_DEFAULTS, type LocalOptimizerName } from './local-optimizer';
import type { ClientRound } from './strategies/types';
import type { WeightSet } from './weights';

export const TRAINING_DEFAULTS = {
  /** Yield to the event loop every this many batches, so cancel and other messages get through. */
  yieldEveryBatches: 4,
  /** Batch size used for evaluation passes. */
  evalBatchSize: 256,
} as const;

export interface LocalTrainOptions {
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  optimizer?: LocalOptimizerName;
  momentum?: number;
}

export interface TrainProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  /** Loss of the latest batch (CE + strategy term). */
  loss: number;
  samplesPerSecond: number;
}

export interface TrainHooks {
  onProgress?: (p: TrainProgress) => void;
  shouldCancel?: () => boolean;
}

export interface LocalTrainResult {
  /** Mean batch loss over the last epoch. */
  trainLoss: number;
  numSamples: number;
  trainMs: number;
  samplesPerSecond: number;
  /** Optimizer steps taken (mini-batches). */
  steps: number;
  cancelled: boolean;
}

/** Mean softmax cross-entropy of integer labels, from logits. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * Trains `model` in place on `data` for the configured local epochs, starting from its current weights
 * (which the caller set to the round's global model). Adds the client strategy's loss term (null: plain CE).
 */
export async function trainLocal(
  model: tf.LayersModel,
  data: Dataset,
  strategy: Pick<ClientRound, 'extraLoss'> | null,
  opts: LocalTrainOptions,
  hooks: TrainHooks = {},
): Promise<LocalTrainResult> {
  const n = datasetSize(data);
  if (n === 0) throw new Error('trainLocal: the local dataset is empty');
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const globalParams = params.map((p) => tf.clone(p));
  const { optimizer, dispose: disposeOptimizer } = createLocalOptimizer(opts.optimizer ?? LOCAL_OPTIMIZER_DEFAULTS.optimizer, opts.learningRate, opts.momentum);
  const rng = new Rng(opts.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const batchesPerEpoch = Math.ceil(n / opts.batchSize);
  const started = performance.now();
  let samplesSeen = 0;
  let lastEpochLoss = NaN;
  let cancelled = false;
  let steps = 0;
  try {
    outer: for (let epoch = 0; epoch < opts.localEpochs; epoch++) {
      rng.shuffle(order);
      let lossSum = 0;
      let batches = 0;
      let batch = 0;
      for (const [start, end] of batchRanges(n, opts.batchSize)) {
        if (hooks.shouldCancel?.()) {
          cancelled = true;
          break outer;
        }
        const idx = order.subarray(start, end);
        const lossTensor = tf.tidy(() => {
          const xs = inputTensor(data, idx);
          const ys = labelTensor(data, idx);
          return optimizer.minimize(
            () => {
              const logits = model.apply(xs, { training: true }) as tf.Tensor2D;
              const ce = crossEntropy(logits, ys);
              const extra = strategy?.extraLoss({ logits, params, globalParams }) ?? null;
              return extra ? (tf.add(ce, extra) as tf.Scalar) : ce;
            },
            true,
            params,
          ) as tf.Scalar;
        });
        let loss: number;
        try {
          loss = (await lossTensor.data())[0];
        } finally {
          // Also when the read fails (a GPU backend died mid-round).
          lossTensor.dispose();
        }
        if (!Number.isFinite(loss)) throw new Error(`local training diverged: loss is ${loss} (lower the learning rate)`);
        lossSum += loss;
        batches++;
        steps++;
        batch++;
        samplesSeen += end - start;
        const elapsed = performance.now() - started;
        hooks.onProgress?.({ epoch, batch, batchesPerEpoch, loss, samplesPerSecond: (samplesSeen * 1000) / Math.max(elapsed, 1e-3) });
        if (batch % TRAINING_DEFAULTS.yieldEveryBatches === 0) await yieldToEventLoop();
      }
      lastEpochLoss = lossSum / Math.max(batches, 1);
    }
  } finally {
    disposeOptimizer();
    tf.dispose(globalParams);
  }
  const trainMs = performance.now() - started;
  return { trainLoss: lastEpochLoss, numSamples: n, trainMs, samplesPerSecond: (samplesSeen * 1000) / Math.max(trainMs, 1e-3), steps, cancelled };
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  numSamples: number;
  /** Accuracy on the samples of each class; null for a class with no sample here. */
  perClassAccuracy: (number | null)[];
  /** How many samples the model assigned to each class. */
  predictionCounts: number[];
}

/**
 * Plain mean cross-entropy and accuracy (overall and per class) of the model's current weights on `data`
 * (eval mode), and how often it predicts each class. Reads results asynchronously: synchronous reads return
 * zeros on some WebGPU adapters (see getWeights in models.ts).
 */
export async function evaluateModel(model: tf.LayersModel, data: Dataset, batchSize: number = TRAINING_DEFAULTS.evalBatchSize): Promise<EvalResult> {
  const n = datasetSize(data);
  const classes = data.numClasses;
  const predictionCounts = new Array<number>(classes).fill(0);
  if (n === 0) return { loss: NaN, accuracy: NaN, numSamples: 0, perClassAccuracy: new Array(classes).fill(null), predictionCounts };
  const perClassTotal = new Array<number>(classes).fill(0);
  const perClassHits = new Array<number>(classes).fill(0);
  let lossSum = 0;
  let correct = 0;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (const [start, end] of batchRanges(n, batchSize)) {
    const idx = all.subarray(start, end);
    const [ce, predicted] = tf.tidy(() => {
      const xs = inputTensor(data, idx);
      const ys = labelTensor(data, idx);
      const logits = model.predict(xs) as tf.Tensor2D;
      return [tf.mul(crossEntropy(logits, ys), end - start), tf.argMax(logits, 1)];
    });
    try {
      const [l, p] = await Promise.all([ce.data(), predicted.data()]);
      lossSum += l[0];
      for (let i = 0; i < idx.length; i++) {
        const label = data.labels[idx[i]];
        const guess = p[i];
        predictionCounts[guess]++;
        perClassTotal[label]++;
        if (guess === label) {
          perClassHits[label]++;
          correct++;
        }
      }
    } finally {
      tf.dispose([ce, predicted]);
    }
  }
  return {
    loss: lossSum / n,
    accuracy: correct / n,
    numSamples: n,
    perClassAccuracy: perClassTotal.map((t, c) => (t > 0 ? perClassHits[c] / t : null)),
    predictionCounts,
  };
}

/** Evaluates several weight sets on the same data with one model instance (leaves the last one loaded). */
export async function evaluateWeightSets(model: tf.LayersModel, weightSets: WeightSet[], data: Dataset): Promise<EvalResult[]> {
  const results: EvalResult[] = [];
  for (const w of weightSets) {
    setWeights(model, w);
    results.push(await evaluateModel(model, data));
  }
  return results;
}
