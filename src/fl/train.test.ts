import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classBalance } from './collapse';
import { buildModel, setWeights } from './models';
import { tabularSpec } from './model-spec';
import { separableData, TEST_CLASSES, TEST_FEATURES } from './strategies/test-session';
import { evaluateModel, trainLocal } from './train';
import type { WeightSet } from './weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const spec = tabularSpec(TEST_FEATURES, TEST_CLASSES, []);

/** Logits = x W + b for the single dense layer of `spec`. */
function linear(kernel: (f: number, c: number) => number, bias: number[]): WeightSet {
  const k = new Float32Array(TEST_FEATURES * TEST_CLASSES);
  for (let f = 0; f < TEST_FEATURES; f++) for (let c = 0; c < TEST_CLASSES; c++) k[f * TEST_CLASSES + c] = kernel(f, c);
  return [
    { name: 'logits/kernel', shape: [TEST_FEATURES, TEST_CLASSES], values: k },
    { name: 'logits/bias', shape: [TEST_CLASSES], values: Float32Array.from(bias) },
  ];
}

describe('evaluateModel per class', () => {
  const data = separableData(300, 7);

  it('a constant predictor: per-class accuracy 1 / 0 / 0 and a collapse warning', async () => {
    const model = buildModel(spec, 1);
    setWeights(model, linear(() => 0, [5, 0, 0]));
    const r = await evaluateModel(model, data, 64);
    model.dispose();
    expect(r.predictionCounts).toEqual([300, 0, 0]);
    expect(r.perClassAccuracy).toEqual([1, 0, 0]);
    const balance = classBalance(r.perClassAccuracy, r.predictionCounts);
    expect(balance.predictedShare).toBe(1);
    expect(balance.collapse).toMatch(/predicts class 0 for 100.0%.*classes 1, 2 never predicted/);
  });

  it('the exact rule (argmax of the first classes features): accuracy 1, balanced, no warning', async () => {
    const model = buildModel(spec, 1);
    setWeights(model, linear((f, c) => (f === c ? 1 : 0), [0, 0, 0]));
    const r = await evaluateModel(model, data, 64);
    model.dispose();
    expect(r.accuracy).toBe(1);
    expect(r.perClassAccuracy).toEqual([1, 1, 1]);
    const balance = classBalance(r.perClassAccuracy, r.predictionCounts);
    expect(balance.predictedShare).toBeLessThan(0.5);
    expect(balance.collapse).toBeNull();
  });
});

describe('local optimizers', () => {
  const data = separableData(96, 3);

  async function trainOnce(optimizer: 'sgd' | 'momentum' | 'adam'): Promise<Float32Array> {
    const model = buildModel(spec, 1);
    setWeights(model, linear(() => 0, [0, 0, 0]));
    const result = await trainLocal(model, data, null, { localEpochs: 1, batchSize: 16, learningRate: 0.05, seed: 1, optimizer });
    expect(result.steps).toBe(6);
    const kernel = (await model.getWeights()[0].data()) as Float32Array;
    model.dispose();
    return kernel;
  }

  it('sgd, momentum and adam take different steps and leak no tensors across rounds', async () => {
    const results: Record<string, Float32Array> = {};
    for (const name of ['sgd', 'momentum', 'adam'] as const) {
      await trainOnce(name); // warm-up: kernels and backend scalars are created once
      const before = tf.memory().numTensors;
      results[name] = await trainOnce(name);
      await trainOnce(name);
      expect(tf.memory().numTensors, name).toBe(before);
    }
    expect(results.sgd).not.toEqual(results.momentum);
    expect(results.sgd).not.toEqual(results.adam);
    // Adam's first steps move every touched weight by about the learning rate, whatever the gradient scale.
    const maxAdam = Math.max(...Array.from(results.adam, Math.abs));
    expect(maxAdam).toBeGreaterThan(0.1);
    expect(maxAdam).toBeLessThanOrEqual(6 * 0.05 + 1e-6);
  });
});
