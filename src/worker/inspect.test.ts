import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TabularDataset } from '../fl/data/dataset';
import { buildModel, getWeights, tabularSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';
import { confusion, predictSample, predictValues } from './inspect';

const spec = tabularSpec(2, 2, []);
/** A linear model that predicts class 1 exactly when x0 > x1. */
async function handMadeWeights(): Promise<WeightSet> {
  const w = await getWeights(buildModel(spec));
  return w.map((t) => (t.shape.length === 2 ? { ...t, values: Float32Array.from([-5, 5, 5, -5]) } : { ...t, values: new Float32Array(t.values.length) }));
}
const data: TabularDataset = {
  kind: 'tabular',
  features: 2,
  rows: Float32Array.from([1, 0, 0, 1, 2, 1, 1, 2, 3, 0]),
  labels: Int32Array.from([1, 0, 1, 1, 0]),
  numClasses: 2,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('looking into a model', () => {
  it('predicts one input with class probabilities that sum to 1', async () => {
    const p = await predictValues(spec, await handMadeWeights(), Float32Array.from([2, 0]));
    expect(p.predicted).toBe(1);
    expect(p.probabilities[0] + p.probabilities[1]).toBeCloseTo(1, 5);
    expect(p.probabilities[1]).toBeGreaterThan(0.99);
    await expect(predictValues(spec, await handMadeWeights(), Float32Array.from([1, 2, 3]))).rejects.toThrow(/3 values; the model takes 2/);
  });

  it('predicts a held-out sample and returns it with its label', async () => {
    const p = await predictSample(spec, await handMadeWeights(), data, 3);
    expect(p).toMatchObject({ index: 3, label: 1, predicted: 0, features: [1, 2], image: null });
    await expect(predictSample(spec, await handMadeWeights(), data, 5)).rejects.toThrow(/no sample 5/);
  });

  it('counts the confusion matrix and per-class accuracy, without leaking tensors', async () => {
    const weights = await handMadeWeights();
    const before = tf.memory().numTensors;
    const r = await confusion(spec, weights, data, 2);
    // truth 0: samples 1 (pred 0) and 4 (pred 1); truth 1: samples 0 (pred 1), 2 (pred 1), 3 (pred 0)
    expect(r.matrix).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(r.perClassAccuracy[0]).toBe(0.5);
    expect(r.perClassAccuracy[1]).toBeCloseTo(2 / 3);
    expect(r.accuracy).toBeCloseTo(0.6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
