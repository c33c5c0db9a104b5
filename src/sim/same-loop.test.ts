/**
 * One round loop: for the same seed and settings, the app's engines (over the in-memory network, FlClient clients, the
 * wall clock under fake timers) and the simulator's driving of the same engines (SimulatedClock, SimulatedLinks,
 * simulated clients) end with bit-identical models, sync and async, over random settings that include robust
 * statistics and server optimizers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AsyncEngine } from '../fl/async/async-engine';
import { FlClient } from '../fl/client';
import { SimulatedClock } from '../fl/coordinator/clock';
import { RoundEngine } from '../fl/engine';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import type { LocalTrainer, TrainRequest, TrainResponse } from '../fl/local-trainer';
import { mlpSpec } from '../fl/models';
import { PROTOCOL_VERSION } from '../fl/protocol';
import type { RobustMode } from '../fl/robust/types';
import { Rng } from '../fl/rng';
import type { StrategyConfig } from '../fl/strategies/types';
import { consistentDeltaC } from '../fl/testing/engine-fixtures';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';
import { drive, PendingWork, runDue, simulatedClient, SimulatedLinks } from './simulated-links';

const LAYOUT = [
  { name: 'fc1/kernel', shape: [3, 2] },
  { name: 'fc1/bias', shape: [2] },
];

const initial = (): WeightSet => LAYOUT.map((l, t) => ({ name: l.name, shape: l.shape, values: Float32Array.from({ length: l.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.1 * (t + 1) * Math.cos(i)) }));

/** A deterministic local "training": the delta depends on the client, the model sent and the job's seed only. */
class PureTrainer implements LocalTrainer {
  constructor(
    private readonly k: number,
    private readonly delayMs: number,
    private readonly wait: boolean,
  ) {}
  async train(req: TrainRequest): Promise<TrainResponse> {
    if (this.wait) await new Promise((r) => setTimeout(r, this.delayMs));
    const delta = req.weights.map((t) => ({ name: t.name, shape: t.shape, values: t.values.map((w, i) => 0.05 * (this.k + 1) * Math.sin(req.train.seed * 0.001 + i + this.k) - 0.1 * w) }));
    return {
      delta,
      numSamples: 10 * (this.k + 1),
      cancelled: false,
      metrics: { trainLoss: 1 / (this.k + 1), evalLoss: 1, evalAccuracy: 0.5, trainMs: this.delayMs, samplesPerSecond: 1 },
      ...(req.extras ? { extras: { deltaC: consistentDeltaC(req.extras.c, delta) } } : {}),
    };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10 * (this.k + 1), labelHistogram: [5 * (this.k + 1), 5 * (this.k + 1)] };
  }
}

const PRIMES = [101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199];

interface Setting {
  mode: 'sync' | 'async';
  strategy: StrategyConfig;
  robust: RobustMode;
  clients: number;
  delays: number[];
  bufferSize: number;
  fraction: number;
  steps: number;
  seed: number;
}

function randomSetting(rng: Rng, seed: number): Setting {
  const strategies: StrategyConfig[] = [
    { name: 'fedavg' },
    { name: 'fedavg', serverOpt: 'avgm', serverMomentum: 0.5 },
    { name: 'fedavg', serverOpt: 'adam', serverLr: 0.1 },
    { name: 'fedprox', mu: 0.01 },
    { name: 'scaffold' },
    { name: 'fedld', rho: 0.67 },
  ];
  const robust: RobustMode[] = ['off', 'clip', 'median', 'trimmed-mean'];
  const clients = 3 + Math.floor(rng.next() * 3);
  const mode = rng.next() < 0.5 ? 'sync' : 'async';
  return {
    mode,
    strategy: strategies[Math.floor(rng.next() * strategies.length)],
    robust: robust[Math.floor(rng.next() * robust.length)],
    clients,
    // Distinct primes: a client's arrivals fall at multiples of its delay, so no two ever coincide in these short runs.
    delays: rng.shuffle([...PRIMES]).slice(0, clients),
    bufferSize: 2 + Math.floor(rng.next() * 2),
    fraction: mode === 'sync' && rng.next() < 0.5 ? 0.7 : 1,
    steps: 4,
    seed,
  };
}

const engineConfig = (s: Setting) => ({
  model: mlpSpec([3], 2, []),
  strategy: s.strategy,
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  seed: s.seed,
  robust: s.robust,
  decomposition: 'off' as const,
  decompositionEvery: 1,
});

/** The app: engines on the wall clock (faked), the in-memory network, FlClient clients whose training takes delays[k]. */
async function appRun(s: Setting): Promise<WeightSet> {
  const network = new InMemoryNetwork();
  const timing = { roundDeadlineMs: 60_000 };
  const sync = s.mode === 'sync' ? new RoundEngine(network.endpoint('agg'), { ...engineConfig(s), minClients: 1, fraction: s.fraction, timing }, { weights: initial() }) : null;
  const async_ = s.mode === 'async' ? new AsyncEngine(network.endpoint('agg'), { ...engineConfig(s), async: { bufferSize: s.bufferSize, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null }, timing }, initial()) : null;
  for (let k = 0; k < s.clients; k++) await new FlClient(network.endpoint(String(k)), 'agg', new PureTrainer(k, s.delays[k], true), { name: String(k) }).join();
  await vi.advanceTimersByTimeAsync(0);
  const settle = async <T,>(work: Promise<T>): Promise<T> => {
    let done: { value: T } | null = null;
    void work.then((value) => (done = { value }));
    for (let i = 0; i < 100_000 && !done; i++) await vi.advanceTimersByTimeAsync(1);
    expect(done).not.toBeNull();
    return done!.value;
  };
  for (let i = 0; i < s.steps; i++) expect(await settle<unknown>(sync ? sync.runRound() : async_!.nextStep())).not.toBeNull();
  const weights = (sync ?? async_!).globalWeights;
  sync?.dispose();
  async_?.dispose();
  return weights;
}

/** The simulator: the same engines on a SimulatedClock, SimulatedLinks, simulated clients answering after delays[k]. */
async function simulatorRun(s: Setting): Promise<WeightSet> {
  const clock = new SimulatedClock();
  const links = new SimulatedLinks(clock);
  const pending = new PendingWork();
  const agg: Transport = links.endpoint('agg');
  const timing = { roundDeadlineMs: 60_000 };
  const sync = s.mode === 'sync' ? new RoundEngine(agg, { ...engineConfig(s), minClients: 1, fraction: s.fraction, timing }, { weights: initial() }, {}, clock) : null;
  const async_ = s.mode === 'async' ? new AsyncEngine(agg, { ...engineConfig(s), async: { bufferSize: s.bufferSize, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null }, timing }, initial(), {}, 0, null, clock) : null;
  for (let k = 0; k < s.clients; k++) {
    const trainer = new PureTrainer(k, s.delays[k], false);
    simulatedClient(links, clock, pending, String(k), trainer, s.delays[k]);
    const info = await trainer.info();
    links.deliver(String(k), 'agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: String(k), backend: info.backend, numSamples: info.numSamples, labelHistogram: info.labelHistogram }, 0);
  }
  await runDue(clock, pending);
  for (let i = 0; i < s.steps; i++) {
    const run = await drive<unknown>(sync ? sync.runRound() : async_!.nextStep(), clock, pending);
    expect(run.done && run.value !== null).toBe(true);
  }
  const weights = (sync ?? async_!).globalWeights;
  sync?.dispose();
  async_?.dispose();
  return weights;
}

describe('one round loop for the app and the simulator', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const rng = new Rng(2026);
  const settings = Array.from({ length: 16 }, (_, i) => randomSetting(rng, 1 + i));
  // Both modes, every robust mode and the server optimizers appear among the cases.
  it('draws cases that cover sync and async, each robust mode and server optimizers', () => {
    expect(new Set(settings.map((s) => s.mode))).toEqual(new Set(['sync', 'async']));
    expect(new Set(settings.map((s) => s.robust)).size).toBe(4);
    expect(settings.some((s) => s.strategy.serverOpt === 'adam' || s.strategy.serverOpt === 'avgm')).toBe(true);
  });

  it.each(settings.map((s, i) => [i, `${s.mode}, ${s.strategy.name}${s.strategy.serverOpt ? `+${s.strategy.serverOpt}` : ''}, robust ${s.robust}, ${s.clients} clients`, s] as const))(
    'case %i (%s): the same seed gives the same model',
    async (_i, _label, s) => {
      const app = await appRun(s);
      // The simulator needs no fake timers: its clock is its own (and it yields to real macrotasks while it settles).
      vi.useRealTimers();
      const sim = await simulatorRun(s);
      expect(sim.map((t) => Array.from(t.values))).toEqual(app.map((t) => Array.from(t.values)));
      // And the run moved the model: the comparison is not between two untouched initial models.
      expect(Array.from(app[0].values)).not.toEqual(Array.from(initial()[0].values));
    },
  );
});

/** A client whose update is always the same delta (one number per weight), answering after `delayMs`. */
class FixedTrainer implements LocalTrainer {
  constructor(private readonly value: number) {}
  async train(req: TrainRequest): Promise<TrainResponse> {
    return { delta: req.weights.map((t) => ({ name: t.name, shape: t.shape, values: new Float32Array(t.values.length).fill(this.value) })), numSamples: 10, cancelled: false, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 1, samplesPerSecond: 1 } };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10, labelHistogram: [5, 5] };
  }
}

/** The simulator's driving of an engine with three clients sending deltas 1, 2 and 3 (one round or one step of 3). */
async function probe(mode: 'sync' | 'async', strategy: StrategyConfig, robust: RobustMode, hooks: { evaluateGlobal?: () => Promise<never>; onEvent?: (e: { kind: string }) => void } = {}) {
  const clock = new SimulatedClock();
  const links = new SimulatedLinks(clock);
  const pending = new PendingWork();
  const zero = (): WeightSet => LAYOUT.map((l) => ({ name: l.name, shape: l.shape, values: new Float32Array(l.shape.reduce((a, b) => a * b, 1)) }));
  const config = { model: mlpSpec([3], 2, []), strategy, train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 }, seed: 1, robust, decomposition: 'off' as const, decompositionEvery: 1, timing: { roundDeadlineMs: 60_000 } };
  const engine =
    mode === 'sync'
      ? new RoundEngine(links.endpoint('agg'), { ...config, minClients: 1, fraction: 1 }, { weights: zero() }, hooks, clock)
      : new AsyncEngine(links.endpoint('agg'), { ...config, async: { bufferSize: 3, staleness: { kind: 'constant' }, maxStaleness: null } }, zero(), hooks, 0, null, clock);
  [1, 2, 3].forEach((value, k) => {
    simulatedClient(links, clock, pending, String(k), new FixedTrainer(value), 100 + k);
    links.deliver(String(k), 'agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: String(k), backend: 'test', numSamples: 10, labelHistogram: [5, 5] }, 0);
  });
  await runDue(clock, pending);
  const run = await drive<unknown>(engine instanceof RoundEngine ? engine.runRound() : engine.nextStep(), clock, pending);
  const weights = engine.globalWeights;
  engine.dispose();
  return { run, value: weights[0].values[0] };
}

describe('what the simulator on a simulated clock used to do differently from the app', () => {
  it.each(['sync', 'async'] as const)('%s: a coordinate-wise median goes through the server optimizer (FedAvg, server lr 0.5: 1, not 2)', async (mode) => {
    const { value } = await probe(mode, { name: 'fedavg', serverLr: 0.5 }, 'median');
    expect(value).toBeCloseTo(1, 6);
  });

  it('async: a failing test-set evaluation is a warning; the step still counts and the next one runs', async () => {
    const events: Array<{ kind: string }> = [];
    const { run } = await probe('async', { name: 'fedavg' }, 'off', {
      evaluateGlobal: () => Promise.reject(new Error('the test set is gone')),
      onEvent: (e) => events.push(e),
    });
    expect(run.done && run.value !== null).toBe(true);
    expect(events.some((e) => e.kind === 'warning' && /evaluating the global model failed: the test set is gone/.test((e as { reason?: string }).reason ?? ''))).toBe(true);
  });

  it('async: an observer that throws does not stop a step', async () => {
    const { run, value } = await probe('async', { name: 'fedavg' }, 'off', {
      onEvent: () => {
        throw new Error('a broken dashboard');
      },
    });
    expect(run.done && run.value !== null).toBe(true);
    expect(value).toBeCloseTo(2, 6);
  });
});
