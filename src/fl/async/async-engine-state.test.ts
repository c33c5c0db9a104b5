import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlClient } from '../client';
import { InMemoryNetwork } from '../in-memory-transport';
import type { LocalTrainer, TrainRequest, TrainResponse } from '../local-trainer';
import { mlpSpec } from '../models';
import { consistentDeltaC } from '../testing/engine-fixtures';
import type { ServerState, StrategyConfig } from '../strategies/types';
import type { WeightSet } from '../weights';
import { AsyncEngine, type AsyncEngineConfig, type AsyncEngineEvent } from './async-engine';

const weights = (x: number): WeightSet => [{ name: 'w', shape: [2], values: Float32Array.from([x, x]) }];

/** Trains for 50 ms of fake time, returns delta 1 (and an honest delta-c, -c - 1, when sent extras); records requests. */
class RecordingTrainer implements LocalTrainer {
  requests: TrainRequest[] = [];
  async train(req: TrainRequest): Promise<TrainResponse> {
    this.requests.push(req);
    await new Promise((r) => setTimeout(r, 50));
    return { delta: weights(1), ...(req.extras ? { extras: { deltaC: consistentDeltaC(req.extras.c, weights(1)) } } : {}), numSamples: 10, cancelled: false, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 50, samplesPerSecond: 1 } };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10, labelHistogram: [10] };
  }
}

const config = (strategy: StrategyConfig): AsyncEngineConfig => ({
  model: mlpSpec([2], 2, []),
  strategy,
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  async: { bufferSize: 2, staleness: { kind: 'constant' }, maxStaleness: null },
  decomposition: 'off',
  decompositionEvery: 1,
  seed: 1,
  timing: { roundDeadlineMs: 5_000 },
});

async function session(strategy: StrategyConfig, start: { version?: number; state?: ServerState | null } = {}) {
  const network = new InMemoryNetwork();
  const events: AsyncEngineEvent[] = [];
  const engine = new AsyncEngine(network.endpoint('agg'), config(strategy), weights(0), { onEvent: (e) => events.push(e) }, start.version ?? 0, start.state ?? null);
  const trainers = [new RecordingTrainer(), new RecordingTrainer()];
  for (const [i, t] of trainers.entries()) await new FlClient(network.endpoint(`c${i}`), 'agg', t, { name: `c${i}` }).join();
  await vi.advanceTimersByTimeAsync(1);
  const step = async () => {
    let done = false;
    void engine.nextStep().then(() => (done = true));
    while (!done) await vi.advanceTimersByTimeAsync(10);
  };
  return { engine, events, trainers, step };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("AsyncEngine keeps the strategy's server state (for checkpoints and handover)", () => {
  it('advances the server state with every step, and a successor engine continues from it', async () => {
    const strategy = { name: 'fedavg', serverOpt: 'avgm', serverMomentum: 0.5 };
    const first = await session(strategy);
    expect(first.engine.serverState).toBeNull();
    for (let i = 0; i < 3; i++) await first.step();
    const state = structuredClone(first.engine.serverState!);
    expect(state).toMatchObject({ strategy: 'fedavg', steps: 3 });
    expect(Object.keys(state.tensors).length).toBeGreaterThan(0);
    first.engine.dispose();

    const next = await session(strategy, { version: 3, state });
    expect(next.engine.serverState).toEqual(state);
    await next.step();
    expect(next.engine.version).toBe(4);
    expect(next.engine.serverState!.steps).toBe(4);
    next.engine.dispose();
  });

  it("ignores a state of another strategy, and warns about one that does not fit the model", async () => {
    const other = await session({ name: 'fedavg' }, { state: { strategy: 'fedld', steps: 2, tensors: {}, values: {} } });
    expect(other.engine.serverState).toBeNull();
    other.engine.dispose();
    const misfit = await session({ name: 'fedavg', serverOpt: 'avgm' }, { state: { strategy: 'fedavg', steps: 2, tensors: { 'serverOpt.m': [{ name: 'w', shape: [3], values: new Float32Array(3) }] }, values: {} } });
    expect(misfit.engine.serverState).toBeNull();
    expect(misfit.events.some((e) => e.kind === 'warning' && e.reason.includes('handed-over strategy state'))).toBe(true);
    misfit.engine.dispose();
  });

  it("SCAFFOLD: assignments carry the server control variate, and the clients' delta-c reaches the state", async () => {
    const s = await session({ name: 'scaffold' });
    await s.step();
    const first = s.trainers[0].requests[0];
    expect(first.extras?.c?.[0].values).toEqual(new Float32Array([0, 0]));
    const state = s.engine.serverState!;
    expect(state.strategy).toBe('scaffold');
    expect(Array.from(state.tensors.c[0].values)).toEqual([-1, -1]); // c + sum(delta-c) / N with N = 2 clients, delta-c = -1
    await s.step();
    const later = s.trainers[0].requests.at(-1)!;
    expect(Array.from(later.extras!.c[0].values)).not.toEqual([0, 0]);
    s.engine.dispose();
  });
});
