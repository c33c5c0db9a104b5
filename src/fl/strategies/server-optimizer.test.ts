import { describe, expect, it } from 'vitest';
import type { WeightSet } from '../weights';
import { resolveParams } from './params';
import { SERVER_OPTIMIZER_PARAMS, serverOptimizerStep } from './server-optimizer';
import { createAggregator } from './runtime';

const ws = (values: number[]): WeightSet => [{ name: 't', shape: [values.length], values: Float32Array.from(values) }];
const params = (given: Record<string, unknown>) => resolveParams(SERVER_OPTIMIZER_PARAMS, given, 'test');

describe('server optimizer', () => {
  it('plain sgd with learning rate 1 returns the strategy output itself', () => {
    const proposed = ws([1.1, 2.2]);
    expect(serverOptimizerStep(params({}), ws([0, 0]), proposed, {}).weights).toBe(proposed);
  });

  it('sgd scales the pseudo-gradient by the server learning rate', () => {
    expect(Array.from(serverOptimizerStep(params({ serverLr: 0.5 }), ws([1, 1]), ws([3, -1]), {}).weights[0].values)).toEqual([2, 0]);
  });

  it('FedAvgM: m = β m + Δ, step lr * m', () => {
    const p = params({ serverOpt: 'avgm', serverLr: 1, serverMomentum: 0.5 });
    const one = serverOptimizerStep(p, ws([0]), ws([2]), {});
    expect(Array.from(one.weights[0].values)).toEqual([2]);
    const two = serverOptimizerStep(p, one.weights, ws([4]), one.tensors);
    expect(Array.from(two.tensors['serverOpt.m'][0].values)).toEqual([3]); // 0.5 * 2 + 2
    expect(Array.from(two.weights[0].values)).toEqual([5]);
  });

  it('FedAdam: m, v moments and lr * m / (sqrt(v) + τ)', () => {
    const p = params({ serverOpt: 'adam', serverLr: 0.1, serverMomentum: 0.9, serverBeta2: 0.99, serverTau: 0.001 });
    const step = serverOptimizerStep(p, ws([1]), ws([3]), {});
    const m = 0.1 * 2;
    const v = 0.01 * 4;
    expect(step.tensors['serverOpt.m'][0].values[0]).toBeCloseTo(m, 6);
    expect(step.tensors['serverOpt.v'][0].values[0]).toBeCloseTo(v, 6);
    expect(step.weights[0].values[0]).toBeCloseTo(1 + (0.1 * m) / (Math.sqrt(v) + 0.001), 6);
  });

  it('applies to any aggregator; its moments live in the ServerState', () => {
    const agg = createAggregator({ name: 'fedld', rho: 1, serverOpt: 'avgm', serverLr: 1, serverMomentum: 0.5 });
    agg.aggregate(ws([0, 0]), [{ clientId: 'a', delta: ws([2, 4]), numSamples: 1 }]);
    expect(agg.state?.strategy).toBe('fedld');
    expect(Object.keys(agg.state!.tensors).sort()).toEqual(['history', 'serverOpt.m']);
  });
});

describe('server optimizer under a robust coordinate-wise statistic', () => {
  it('still takes its step when the median replaces the mean (FedAvg + FedAvgM), and keeps its momentum', async () => {
    const { aggregateRound } = await import('../aggregate-round');
    const { robustSettings } = await import('../robust');
    const strategy = { name: 'fedavg', serverOpt: 'avgm', serverLr: 1, serverMomentum: 0.5 };
    const round = (global: WeightSet, deltas: number[], state: Parameters<typeof aggregateRound>[0]['state']) =>
      aggregateRound({
        strategy,
        round: 1,
        population: 3,
        global,
        state,
        updates: deltas.map((d, i) => ({ clientId: `c${i}`, delta: ws([d]), numSamples: 10 })),
        declaredSamples: { c0: 10, c1: 10, c2: 10 },
        robust: robustSettings('median'),
        valuesScanned: true,
      });
    const one = round(ws([0]), [1, 2, 3], null);
    if (!one.ok) throw new Error(one.reason);
    expect(one.combiner).toBe('median');
    expect(Array.from(one.global[0].values)).toEqual([2]); // m = median 2
    expect(Array.from(one.state!.tensors['serverOpt.m'][0].values)).toEqual([2]);
    const two = round(one.global, [3, 4, 5], one.state);
    if (!two.ok) throw new Error(two.reason);
    expect(Array.from(two.global[0].values)).toEqual([2 + 0.5 * 2 + 4]); // m = 0.5 m + median 4
    // Plain SGD with learning rate 1: the statistic's model and the state as they were.
    const plain = aggregateRound({ strategy: { name: 'fedavg' }, round: 1, population: 3, global: ws([0]), state: null, updates: [1, 2, 3].map((d, i) => ({ clientId: `c${i}`, delta: ws([d]), numSamples: 10 })), declaredSamples: {}, robust: robustSettings('median'), valuesScanned: true });
    expect(plain.ok && Array.from(plain.global[0].values)).toEqual([2]);
    expect(plain.ok && plain.state).toBeNull();
  });
});
