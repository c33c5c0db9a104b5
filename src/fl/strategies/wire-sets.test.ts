import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WeightSet } from '../weights';
import { listStrategies } from './registry';
import { openClientRound, strategyRuntime } from './runtime';
import type { ServerState, StrategyConfig } from './types';
import { strategyWireSets } from './wire-sets';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ws = (scale: number): WeightSet => [
  { name: 'k', shape: [2, 2], values: Float32Array.from([1, -2, 3, 0.5].map((x) => x * scale)) },
  { name: 'b', shape: [2], values: Float32Array.from([0.25, -1].map((x) => x * scale)) },
];

/**
 * Every registered strategy, with each server optimizer, runs two rounds on both halves: what it puts beside the
 * weights and the delta, and in its server state, must stay within what it declares (the message limit's sizing).
 */
describe('Strategy.wireSets', () => {
  for (const strategy of listStrategies()) {
    for (const serverOpt of ['sgd', 'avgm', 'adam']) {
      it(`${strategy.name} with the ${serverOpt} server optimizer sends and keeps no more weight sets than it declares`, () => {
        const config: StrategyConfig = { name: strategy.name, serverOpt, serverLr: 0.5 };
        const declared = strategyWireSets(config);
        const runtime = strategyRuntime(config);
        let global = ws(1);
        let serverState: ServerState | null = null;
        let clientState: ServerState | null = null;
        for (let round = 1; round <= 2; round++) {
          const plan = runtime.planRound({ round, candidates: [{ id: 'a', numSamples: 5 }, { id: 'b', numSamples: 7 }], fraction: 1, minClients: 1, seed: 1, global, state: serverState });
          expect(Object.keys(plan.extras ?? {}).length).toBeLessThanOrEqual(declared.extras);
          const client = openClientRound(config, { tf, global, extras: plan.extras ?? {}, state: clientState, trainableIndex: [0, 1] });
          const finished = client.finish?.({ delta: ws(0.1 * round), steps: 3, learningRate: 0.1, optimizer: 'sgd', momentum: 0 }) ?? {};
          client.dispose?.();
          expect(Object.keys(finished.extras ?? {}).length).toBeLessThanOrEqual(declared.extras);
          clientState = finished.state ?? null;
          const updates = ['a', 'b'].map((clientId, i) => ({ clientId, delta: ws(0.1 * (i + 1)), numSamples: 5 + i, extras: finished.extras }));
          const result = runtime.aggregate(global, updates, serverState, { round, population: 2 });
          serverState = result.state;
          global = result.weights;
          expect(Object.keys(serverState?.tensors ?? {}).length).toBeLessThanOrEqual(declared.serverState);
        }
      });
    }
  }
});
