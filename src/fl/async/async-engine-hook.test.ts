import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../aggregate-round';
import { FlClient } from '../client';
import type { EngineHooks } from '../engine';
import { InMemoryNetwork } from '../in-memory-transport';
import type { LocalTrainer, TrainRequest, TrainResponse } from '../local-trainer';
import { mlpSpec } from '../models';
import { consistentDeltaC } from '../testing/engine-fixtures';
import type { StrategyConfig } from '../strategies/types';
import type { WeightSet } from '../weights';
import { AsyncEngine, type AsyncEngineEvent } from './async-engine';

const weights = (x: number, y = x): WeightSet => [{ name: 'w', shape: [2], values: Float32Array.from([x, y]) }];

/** Client i answers every assignment after 50 ms with delta (i + 1, 1 - i), and an honest delta-c when sent extras. */
class Trainer implements LocalTrainer {
  constructor(private readonly i: number) {}
  async train(req: TrainRequest): Promise<TrainResponse> {
    await new Promise((r) => setTimeout(r, 50));
    const delta = weights(this.i + 1, 1 - this.i);
    return { delta, ...(req.extras ? { extras: { deltaC: consistentDeltaC(req.extras.c, delta) } } : {}), numSamples: 10 * (this.i + 1), cancelled: false, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 50, samplesPerSecond: 1 } };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10 * (this.i + 1), labelHistogram: [10] };
  }
}

async function session(strategy: StrategyConfig, hooks: Omit<EngineHooks, 'onEvent'> = {}) {
  const network = new InMemoryNetwork();
  const events: AsyncEngineEvent[] = [];
  const engine = new AsyncEngine(
    network.endpoint('agg'),
    {
      model: mlpSpec([2], 2, []),
      strategy,
      train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
      async: { bufferSize: 3, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null },
      decomposition: 'off',
      decompositionEvery: 1,
      seed: 1,
      timing: { roundDeadlineMs: 5_000 },
    },
    weights(0),
    { ...hooks, onEvent: (e) => events.push(e) },
  );
  for (let i = 0; i < 3; i++) await new FlClient(network.endpoint(`c${i}`), 'agg', new Trainer(i), { name: `c${i}` }).join();
  await vi.advanceTimersByTimeAsync(1);
  const step = async () => {
    let done = false;
    void engine.nextStep().then(() => (done = true));
    while (!done) await vi.advanceTimersByTimeAsync(10);
  };
  return { engine, events, step };
}

const workerLike = (calls: AggregationJob[]) => async (job: AggregationJob): Promise<AggregationOutcome> => {
  calls.push(job);
  await new Promise((r) => setTimeout(r, 5));
  return structuredClone(aggregateRound(structuredClone(job)));
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('AsyncEngine aggregation through EngineHooks.aggregate', () => {
  it.each<[string, StrategyConfig]>([
    ['FedAvg + FedAvgM', { name: 'fedavg', serverOpt: 'avgm', serverMomentum: 0.5 }],
    ['FedLD', { name: 'fedld', rho: 0.67 }],
    ['SCAFFOLD', { name: 'scaffold' }],
  ])('%s: the hook path gives the same model and state as the in-process path', async (_label, strategy) => {
    const inProcess = await session(strategy);
    const calls: AggregationJob[] = [];
    const hooked = await session(strategy, { aggregate: workerLike(calls) });
    for (let i = 0; i < 3; i++) {
      await inProcess.step();
      await hooked.step();
    }
    expect(inProcess.engine.version).toBe(3);
    expect(hooked.engine.version).toBe(3);
    expect(calls.map((j) => j.round)).toEqual([1, 2, 3]);
    expect(hooked.engine.globalWeights).toEqual(inProcess.engine.globalWeights);
    expect(hooked.engine.serverState).toEqual(inProcess.engine.serverState);
    expect(hooked.engine.serverState?.steps).toBe(3);
    inProcess.engine.dispose();
    hooked.engine.dispose();
  });

  it('a hook that rejects, or returns another layout, fails the step: version, model and state unchanged', async () => {
    for (const [hook, reason] of [
      [async () => Promise.reject(new Error('aggregation worker died')), /worker died/],
      [async (job: AggregationJob) => ({ ...aggregateRound(job), global: [] }) as AggregationOutcome, /another layout/],
    ] as const) {
      const s = await session({ name: 'fedavg', serverOpt: 'avgm' }, { aggregate: hook });
      await s.step();
      expect(s.engine.version).toBe(0);
      expect(s.engine.globalWeights).toEqual(weights(0));
      expect(s.engine.serverState).toBeNull();
      const failed = s.events.flatMap((e) => (e.kind === 'step-failed' ? [e.reason] : []));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(/^aggregation failed: /);
      expect(failed[0]).toMatch(reason);
      s.engine.dispose();
    }
  });
});
