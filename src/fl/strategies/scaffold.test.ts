import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfLocalTrainer } from '../local-trainer';
import { tabularSpec } from '../model-spec';
import type { WeightSet } from '../weights';
import { strategyRuntime } from './runtime';
import { scaffold } from './scaffold';
import { separableData } from './test-session';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ws = (...tensors: number[][]): WeightSet => tensors.map((values, i) => ({ name: `t${i}`, shape: [values.length], values: Float32Array.from(values) }));
const values = (w: WeightSet) => w.map((t) => Array.from(t.values));

describe('SCAFFOLD client half', () => {
  it('corrects the gradient by exactly c - c_k', () => {
    const global = ws([0, 0], [0]);
    const round = scaffold.client({
      tf,
      params: {},
      global,
      extras: { c: ws([1, 2], [3]) },
      state: { strategy: 'scaffold', steps: 1, tensors: { c: ws([0.5, -1], [1]) } , values: {} },
      trainableIndex: [0, 1],
    });
    const params = [tf.variable(tf.tensor1d([0.3, -0.7])), tf.variable(tf.tensor1d([2]))];
    const { grads } = tf.variableGrads(() => round.extraLoss({ logits: tf.zeros([1, 2]) as tf.Tensor2D, params, globalParams: [] })!, params);
    expect(Array.from(grads[params[0].name].dataSync())).toEqual([0.5, 3]);
    expect(Array.from(grads[params[1].name].dataSync())).toEqual([2]);
    tf.dispose([...params, ...Object.values(grads)]);
    round.dispose?.();
  });

  it('c_k+ = c_k - c + (w_g - w_k) / (steps * lr), sends delta-c = c_k+ - c_k and keeps c_k+', () => {
    const round = scaffold.client({ tf, params: {}, global: ws([0, 0]), extras: { c: ws([1, 1]) }, state: { strategy: 'scaffold', steps: 1, tensors: { c: ws([2, 0]) }, values: {} }, trainableIndex: [0] });
    const out = round.finish!({ delta: ws([-0.5, 1]), steps: 5, learningRate: 0.1 });
    // c_k+ = [2, 0] - [1, 1] - [-0.5, 1] / 0.5 = [2, -3]
    expect(values(out.state!.tensors.c)).toEqual([[2, -3]]);
    expect(values(out.extras!.deltaC)).toEqual([[0, -3]]);
    expect(out.state!.steps).toBe(2);
    round.dispose?.();
  });
});

describe('SCAFFOLD server half', () => {
  it('steps by the mean delta and moves c by (|S| / N) * mean(delta-c) under partial participation', () => {
    const runtime = strategyRuntime({ name: 'scaffold' });
    const updates = [
      { clientId: 'a', delta: ws([1, 3]), numSamples: 10, extras: { deltaC: ws([2, 0]) } },
      { clientId: 'b', delta: ws([3, 5]), numSamples: 90, extras: { deltaC: ws([0, 4]) } },
    ];
    const first = runtime.aggregate(ws([10, 10]), updates, null, { round: 1, population: 4 });
    expect(values(first.weights)).toEqual([[12, 14]]);
    expect(values(first.state!.tensors.c)).toEqual([[0.5, 1]]); // (2/4) * [1, 2]
    const plan = runtime.planRound({ round: 2, candidates: [{ id: 'a', numSamples: 10 }], fraction: 1, minClients: 1, seed: 1, global: first.weights, state: first.state });
    expect(values(plan.extras!.c)).toEqual([[0.5, 1]]);
    expect(() => runtime.aggregate(ws([0, 0]), [{ clientId: 'a', delta: ws([1, 1]), numSamples: 1 }], null, { round: 1, population: 1 })).toThrow(/carries no deltaC/);
  });
});

describe('SCAFFOLD on a client', () => {
  it('keeps c_k between rounds in the trainer and sends delta-c with the update', async () => {
    const trainer = new TfLocalTrainer(separableData(48, 1), separableData(12, 2), () => 'cpu');
    const model = tabularSpec(6, 3, []);
    const zeros: WeightSet = [
      { name: 'logits/kernel', shape: [6, 3], values: new Float32Array(18) },
      { name: 'logits/bias', shape: [3], values: new Float32Array(3) },
    ];
    const train = { localEpochs: 1, batchSize: 16, learningRate: 0.1, seed: 1 };
    const first = await trainer.train({ round: 1, model, strategy: { name: 'scaffold' }, train, weights: zeros, extras: { c: zeros } });
    // First round from c = c_k = 0: delta-c = -delta / (steps * lr), 3 steps.
    const expected = first.delta.map((t) => Array.from(t.values, (d) => Math.fround(-d / 0.30000000000000004)));
    first.extras!.deltaC.forEach((t, i) => t.values.forEach((v, k) => expect(v).toBeCloseTo(expected[i][k], 5)));
    const before = tf.memory().numTensors;
    const second = await trainer.train({ round: 2, model, strategy: { name: 'scaffold' }, train, weights: zeros, extras: { c: zeros } });
    expect(tf.memory().numTensors).toBe(before);
    // Same start and data, but now c - c_k = -c_k != 0 corrects the gradients: a different delta.
    expect(values(second.delta)).not.toEqual(values(first.delta));
    trainer.dispose();
  });
});

describe('SCAFFOLD under the default robust screening', () => {
  it('one client\'s outsized delta-c is clipped before it reaches the server control variate', async () => {
    const { aggregateRound } = await import('../aggregate-round');
    const { robustSettings } = await import('../robust');
    const honest = (id: string, dc: number) => ({ clientId: id, delta: ws([0.1, 0.1]), numSamples: 10, extras: { deltaC: ws([dc, dc]) } });
    const updates = [honest('a', 1), honest('b', 1.2), honest('c', 0.8), { ...honest('d', 0), extras: { deltaC: ws([1e6, 1e6]) } }];
    const job = { strategy: { name: 'scaffold' }, round: 1, population: 4, global: ws([0, 0]), state: null, updates, declaredSamples: { a: 10, b: 10, c: 10, d: 10 }, valuesScanned: true };
    const robust = aggregateRound({ ...job, robust: robustSettings('clip') });
    const open = aggregateRound({ ...job, robust: robustSettings('off') });
    if (!robust.ok || !open.ok) throw new Error('aggregation failed');
    const c = (o: typeof robust) => Math.max(...(o.ok ? o.state!.tensors.c[0].values : []));
    expect(c(open)).toBeGreaterThan(1e5); // without screening, one client moves everyone's correction
    // With it, d's delta-c counts at most clipFactor (2) x the median norm: c <= (1 + 1.2 + 0.8 + 2 * 1.1) / 4.
    expect(c(robust)).toBeLessThanOrEqual((1 + 1.2 + 0.8 + 2 * 1.1) / 4 + 1e-6);
    expect(robust.clipped.map((x) => [x.clientId, x.part])).toEqual([['d', 'deltaC']]);
  });
});
