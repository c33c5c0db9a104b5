import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfLocalTrainer } from '../local-trainer';
import { tabularSpec } from '../model-spec';
import type { WeightSet } from '../weights';
import { strategyRuntime } from './runtime';
import { effectiveSteps, scaffold, scaffoldOptimizerProblem } from './scaffold';
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
    const out = round.finish!({ delta: ws([-0.5, 1]), steps: 5, learningRate: 0.1, optimizer: 'sgd', momentum: 0.5 });
    // c_k+ = [2, 0] - [1, 1] - [-0.5, 1] / 0.5 = [2, -3]
    expect(values(out.state!.tensors.c)).toEqual([[2, -3]]);
    expect(values(out.extras!.deltaC)).toEqual([[0, -3]]);
    expect(out.state!.steps).toBe(2);
    round.dispose?.();
  });
});

describe('SCAFFOLD server half', () => {
  it('uniform weighting: steps by the mean delta and moves c by (|S| / N) * mean(delta-c) under partial participation', () => {
    const runtime = strategyRuntime({ name: 'scaffold', weighting: 'uniform' });
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

  it('sample weighting (the default): both the step and c follow the sample-weighted mean', () => {
    const runtime = strategyRuntime({ name: 'scaffold' });
    const updates = [
      { clientId: 'a', delta: ws([1, 3]), numSamples: 10, extras: { deltaC: ws([2, 0]) } },
      { clientId: 'b', delta: ws([3, 5]), numSamples: 90, extras: { deltaC: ws([0, 4]) } },
    ];
    const r = runtime.aggregate(ws([10, 10]), updates, null, { round: 1, population: 4 });
    values(r.weights)[0].forEach((x, i) => expect(x).toBeCloseTo([12.8, 14.8][i], 5)); // 10 + 0.1 * [1, 3] + 0.9 * [3, 5]
    values(r.state!.tensors.c)[0].forEach((x, i) => expect(x).toBeCloseTo([0.1, 1.8][i], 5)); // (2/4) * (0.1 * [2, 0] + 0.9 * [0, 4])
    expect(runtime.description).toMatch(/sample-weighted/);
  });
});

describe('SCAFFOLD with the local optimizer', () => {
  it('K_eff: steps for SGD; with momentum m the heavy-ball sum, about K / (1 - m) for long rounds; Adam refused', () => {
    expect(effectiveSteps(7, 'sgd', 0.9)).toBe(7);
    expect(effectiveSteps(7, 'momentum', 0)).toBe(7);
    // Heavy ball with a constant unit gradient: v = m v + 1, w -= v; the move after K steps is K_eff.
    for (const [K, m] of [[1, 0.5], [4, 0.5], [30, 0.9], [5, 1]] as const) {
      let v = 0;
      let moved = 0;
      for (let t = 0; t < K; t++) moved += v = m * v + 1;
      expect(effectiveSteps(K, 'momentum', m)).toBeCloseTo(moved, 9);
    }
    expect(effectiveSteps(1000, 'momentum', 0.5) / 1000).toBeCloseTo(2, 2);
    expect(() => effectiveSteps(3, 'adam', 0)).toThrow(/cannot run with the Adam local optimizer/);
    expect(scaffoldOptimizerProblem('adam')).toMatch(/choose SGD or SGD with momentum/);
    expect(scaffoldOptimizerProblem('momentum')).toBeNull();
  });

  it('c_k+ is the local gradient at w_g under momentum too (the paper\'s update assumed plain SGD: 1.5x off here)', async () => {
    const data = separableData(48, 1);
    const trainer = new TfLocalTrainer(data, separableData(12, 2), () => 'cpu');
    const zeros: WeightSet = [
      { name: 'logits/kernel', shape: [6, 3], values: new Float32Array(18) },
      { name: 'logits/bias', shape: [3], values: new Float32Array(3) },
    ];
    // Full batches, tiny steps: every step sees the same gradient, the one at w_g = 0, where softmax is uniform:
    // dCE/dW = mean_i x_i (1/3 - y_i), dCE/db = mean_i (1/3 - y_i).
    const train = { localEpochs: 4, batchSize: 48, learningRate: 1e-3, optimizer: 'momentum' as const, momentum: 0.5, seed: 1 };
    const r = await trainer.train({ round: 1, model: tabularSpec(6, 3, []), strategy: { name: 'scaffold' }, train, weights: zeros, extras: { c: zeros } });
    const kernel = new Float64Array(18);
    const bias = new Float64Array(3);
    for (let i = 0; i < 48; i++) {
      for (let k = 0; k < 3; k++) {
        const g = (1 / 3 - (data.labels[i] === k ? 1 : 0)) / 48;
        bias[k] += g;
        for (let f = 0; f < 6; f++) kernel[f * 3 + k] += data.rows[i * 6 + f] * g;
      }
    }
    const ck = r.clientState!.tensors.c;
    const expected = [Array.from(kernel), Array.from(bias)];
    ck.forEach((t, ti) => t.values.forEach((x, i) => expect(x).toBeCloseTo(expected[ti][i], 3)));
    // K_eff = (4 - 0.5 (1 - 0.5^4) / 0.5) / 0.5 = 6.125, not 4.
    const plain = r.delta.map((t) => Array.from(t.values, (d) => -d / (4 * 1e-3)));
    expect(plain[1][0] / expected[1][0]).toBeCloseTo(6.125 / 4, 1);
    trainer.dispose();
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
    const train = { localEpochs: 1, batchSize: 16, learningRate: 0.1, optimizer: 'sgd' as const, seed: 1 };
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
    // Consistent updates (delta-c + c along -delta-w, c = 0), so only the clipping acts.
    const honest = (id: string, dc: number) => ({ clientId: id, delta: ws([-0.1, -0.1]), numSamples: 10, extras: { deltaC: ws([dc, dc]) } });
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
