import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AggregationJob } from './aggregate-round';
import { RoundEngine, type EngineEvent } from './engine';
import { InMemoryNetwork } from './in-memory-transport';
import { privateAggregateRound, type PrivacySettings } from './private-aggregation';
import { PROTOCOL_VERSION } from './protocol';
import { Rng } from './rng';
import { testEngineConfig, testMetrics, tinyWeights } from './testing/engine-fixtures';
import { settleFake } from './testing/fake-time';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const settings: PrivacySettings = { secureAggregation: true, clipNorm: 10, noiseMultiplier: 0, delta: 1e-5, budget: null };
const ids = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const deltaOf = (round: number, k: number) => [round + k, -k, 0.5 * k, 1].map((x) => x / 10);

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a private round in the engine', () => {
  it('commits the secure sum\'s mean, and a round with fewer than t survivors fails without counting', async () => {
    const network = new InMemoryNetwork();
    const events: EngineEvent[] = [];
    let drop: string[] = [];
    const hook = async (job: AggregationJob) => (await privateAggregateRound(job, settings, { sessionId: 'S', selected: job.updates.length, graphSeed: job.round, noiseFor: () => new Rng(1), dropAfterSharing: drop })).outcome;
    const engine = new RoundEngine(network.endpoint('agg'), testEngineConfig({ robust: 'off' }), { weights: tinyWeights([0, 0, 0, 0]) }, { aggregate: hook, onEvent: (e) => events.push(e) });
    ids.forEach((id, k) => {
      const ep = network.endpoint(id);
      ep.onMessage((from, m) => {
        if (m.type === 'round-start') ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: tinyWeights(deltaOf(m.version + 1, k)), numSamples: 10, metrics: testMetrics });
      });
      ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
    });
    await settleFake(engine.waitForClients(6, 1000));
    const mean = (round: number, ks: number[]) => [0, 1, 2, 3].map((i) => ks.reduce((s, k) => s + deltaOf(round, k)[i], 0) / ks.length);

    const first = await settleFake(engine.runRound());
    expect(first?.participants).toEqual(ids);
    Array.from(engine.globalWeights[0].values).forEach((x, i) => expect(x).toBeCloseTo(mean(1, [0, 1, 2, 3, 4, 5])[i], 5));
    const after = Array.from(engine.globalWeights[0].values);

    // 6 clients: everyone's neighbour, threshold 3. Three drop after sharing: 3 survivors hold 2 shares of each other's seeds.
    drop = ['c0', 'c2', 'c4'];
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(events.filter((e) => e.kind === 'round-failed').map((e) => (e as { reason: string }).reason)).toEqual([expect.stringMatching(/aggregation failed: secagg: 2 of 3 needed self-mask seed shares of c1 came back; the round cannot be unmasked/)]);
    expect(engine.currentRound).toBe(1);
    expect(Array.from(engine.globalWeights[0].values)).toEqual(after);

    // Two drop: the round counts, with the survivors' mean.
    drop = ['c1', 'c4'];
    const third = await settleFake(engine.runRound());
    expect(third?.round).toBe(2);
    expect(third?.participants).toEqual(['c0', 'c2', 'c3', 'c5']);
    Array.from(engine.globalWeights[0].values).forEach((x, i) => expect(x).toBeCloseTo(after[i] + mean(2, [0, 2, 3, 5])[i], 5));
    engine.dispose();
  });
});
