import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateMessage } from '../codec/validate';
import { PROTOCOL_VERSION } from '../protocol';
import type { WeightSet } from '../weights';
import { numberParam } from './params';
import { checkStrategyConfig, describeStrategyConfig, registerStrategy, strategyNames } from './registry';
import { startTestSession } from './test-session';
import type { ClientUpdate, Strategy } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Coordinate-wise median of the updates, scaled; clients count their rounds in a local state and send the count. */
const aggregatedBy: ClientUpdate[][] = [];
const medianStrategy: Strategy = {
  name: 'test-median',
  label: 'Median',
  summary: 'coordinate-wise median of the updates (test plug-in)', traits: { weightedMean: false, labelDirected: false },
  params: [{ name: 'scale', kind: 'number', label: 'scale', help: 'step scale', default: 1, min: 0, max: 10, minExclusive: true }],
  client: ({ global, state }) => {
    const rounds = (state?.values.rounds ?? 0) + 1;
    return {
      extraLoss: () => null,
      finish: () => ({
        extras: { count: global.map((t) => ({ ...t, values: new Float32Array(t.values.length).fill(rounds) })) },
        state: { strategy: 'test-median', steps: rounds, tensors: {}, values: { rounds } },
      }),
    };
  },
  server: (params) => ({
    planRound: (ctx) => ({ selected: ctx.candidates.map((c) => c.id).reverse().slice(0, 2).sort() }),
    aggregate: (global, updates, state) => {
      aggregatedBy.push(updates);
      const scale = numberParam(params, 'scale');
      const weights: WeightSet = global.map((t, ti) => {
        const values = t.values.map((v, i) => {
          const xs = updates.map((u) => u.delta[ti].values[i]).sort((a, b) => a - b);
          const mid = xs.length >> 1;
          const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
          return v + scale * median;
        });
        return { name: t.name, shape: [...t.shape], values };
      });
      return { weights, state: { strategy: 'test-median', steps: (state?.steps ?? 0) + 1, tensors: {}, values: { calls: (state?.values.calls ?? 0) + 1 } } };
    },
  }),
};

describe('strategy registry', () => {
  let unregister: (() => void) | null = null;
  afterEach(() => {
    unregister?.();
    unregister = null;
    aggregatedBy.length = 0;
  });

  it('runs a session with a strategy registered from outside, through the real wire format', async () => {
    unregister = registerStrategy(medianStrategy);
    expect(strategyNames()).toContain('test-median');
    expect(describeStrategyConfig({ name: 'test-median', scale: 0.5 })).toBe('Median (scale 0.5)');
    const session = await startTestSession({ strategy: { name: 'test-median', scale: 0.5 } });
    try {
      const before = session.engine.globalWeights;
      const first = await session.engine.runRound();
      expect(first?.participants).toEqual(['c1', 'c2']); // the strategy's own plan
      expect(first?.strategy).toBe('Median (scale 0.5)');
      // The new global model is exactly the strategy's aggregate of what arrived.
      const [u1, u2] = aggregatedBy[0];
      const i = 3;
      const expected = Math.fround(before[0].values[i] + 0.5 * ((u1.delta[0].values[i] + u2.delta[0].values[i]) / 2));
      expect(session.engine.globalWeights[0].values[i]).toBe(expected);
      // Client-local state survives between rounds; extras travel beside the delta.
      await session.engine.runRound();
      expect(aggregatedBy[1].map((u) => u.extras?.count[0].values[0])).toEqual([2, 2]);
      expect(session.engine.serverState).toMatchObject({ strategy: 'test-median', steps: 2, values: { calls: 2 } });
      expect(session.events.filter((e) => e.kind === 'rejected')).toEqual([]);
    } finally {
      session.dispose();
    }
  });

  it('the wire validator follows the registry', () => {
    const start = (strategy: object) => ({ type: 'round-start', v: PROTOCOL_VERSION, version: 0, assignment: 1, model: { kind: 'tabular', features: 2, hidden: [], numClasses: 2 }, strategy, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1, seed: 1 }, weights: [] });
    expect(validateMessage(start({ name: 'test-median' })).ok).toBe(false);
    unregister = registerStrategy(medianStrategy);
    expect(validateMessage(start({ name: 'test-median', scale: 2 })).ok).toBe(true);
    const bad = validateMessage(start({ name: 'test-median', scale: 0 }));
    expect(!bad.ok && bad.reason).toMatch(/round-start.strategy.scale: must be in \(0, 10\]/);
  });

  it('refuses duplicate names and parameters that clash with the server optimizer', () => {
    expect(() => registerStrategy({ ...medianStrategy, name: 'fedavg' })).toThrow(/already registered/);
    expect(() => registerStrategy({ ...medianStrategy, name: 'x', params: [{ ...medianStrategy.params[0], name: 'serverLr' }] })).toThrow(/reserved/);
    expect(() => registerStrategy({ ...medianStrategy, name: 'Bad Name' })).toThrow(/lower-case/);
  });

  it('fills defaults only on resolution, keeps configs as given, and rejects unknown fields', () => {
    expect(checkStrategyConfig({ name: 'fedld', rho: 0.5 })).toEqual({ name: 'fedld', rho: 0.5 });
    expect(() => checkStrategyConfig({ name: 'fedld', rh0: 0.5 })).toThrow(/unknown parameter "rh0"/);
  });
});
