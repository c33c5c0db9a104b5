import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { aggregateRound, type AggregationJob, type AggregationOutcome } from './aggregate-round';
import { RoundEngine, type EngineEvent, type EngineHooks } from './engine';
import { InMemoryNetwork } from './in-memory-transport';
import { mlpSpec } from './models';
import { PROTOCOL_VERSION } from './protocol';
import { Rng } from './rng';
import { startTestSession } from './strategies/test-session';
import type { StrategyConfig } from './strategies/types';
import { consistentDeltaC, testEngineConfig, testMetrics } from './testing/engine-fixtures';
import type { WeightSet } from './weights';
import { settleFake } from './testing/fake-time';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shapes = [
  { name: 'fc1/kernel', shape: [2, 3] },
  { name: 'fc1/bias', shape: [3] },
];
const initial = (): WeightSet => shapes.map(({ name, shape }) => ({ name, shape, values: new Float32Array(shape[0] * (shape[1] ?? 1)) }));

/** A deterministic pseudo-random weight set for (round, client, salt); 'big' sends 50x larger deltas (dropped), 'b' 2.5x (clipped). */
function pseudo(round: number, client: string, salt: number): WeightSet {
  const rng = new Rng(round * 1009 + client.charCodeAt(0) * 31 + salt);
  const scale = salt !== 1 ? 1 : client === 'big' ? 50 : client === 'b' ? 2.5 : 1;
  return shapes.map(({ name, shape }) => ({ name, shape, values: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => scale * (rng.next() - 0.3)) }));
}

/** An engine with four scripted clients (sample counts 10..1e6, one outsized), SCAFFOLD-style extras on every update. */
async function engineWith(strategy: StrategyConfig, hooks: EngineHooks = {}) {
  const network = new InMemoryNetwork();
  const events: EngineEvent[] = [];
  // Gross outliers dropped rather than shrunk (the default), so that one screening step of each kind shows.
  const config = testEngineConfig({ model: mlpSpec([2], 3, []), strategy, robust: { mode: 'clip', outliers: 'drop' } });
  const engine = new RoundEngine(network.endpoint('agg'), config, { weights: initial() }, { ...hooks, onEvent: (e) => events.push(e) });
  for (const [id, n, claimed] of [['a', 10, 10], ['b', 30, 30], ['big', 60, 60], ['liar', 20, 1_000_000]] as const) {
    const ep = network.endpoint(id);
    ep.onMessage((from, m) => {
      if (m.type !== 'round-start') return;
      const delta = pseudo(m.version + 1, id, 1);
      ep.send(from, { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta, numSamples: claimed, metrics: testMetrics, extras: { deltaC: consistentDeltaC(m.extras?.c, delta) } });
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: n, labelHistogram: [n] });
  }
  await settleFake(engine.waitForClients(4, 1000));
  return { engine, events };
}

/** What a worker does: the job arrives as a structured clone, the outcome goes back as one. */
const workerLike = (calls: AggregationJob[], outcomes: AggregationOutcome[] = []) => async (job: AggregationJob): Promise<AggregationOutcome> => {
  calls.push(job);
  await new Promise((r) => setTimeout(r, 1));
  const outcome = structuredClone(aggregateRound(structuredClone(job)));
  outcomes.push(outcome);
  return outcome;
};

const failures = (events: EngineEvent[]) => events.flatMap((e) => (e.kind === 'round-failed' ? [e.reason] : []));

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('aggregation through EngineHooks.aggregate', () => {
  it.each<[string, StrategyConfig]>([
    ['FedAvg', { name: 'fedavg' }],
    ['FedLD', { name: 'fedld', rho: 0.67 }],
    ['SCAFFOLD', { name: 'scaffold' }],
    ['FedAvg + FedAdam', { name: 'fedavg', serverOpt: 'adam', serverLr: 0.1 }],
  ])('%s: the hook path gives the same model, state and reports as the in-process path', async (_label, strategy) => {
    const inProcess = await engineWith(strategy);
    const calls: AggregationJob[] = [];
    const outcomes: AggregationOutcome[] = [];
    const hooked = await engineWith(strategy, { aggregate: workerLike(calls, outcomes) });
    for (let round = 1; round <= 3; round++) {
      const a = await settleFake(inProcess.engine.runRound());
      const b = await settleFake(hooked.engine.runRound());
      expect(a).not.toBeNull();
      expect(b?.participants).toEqual(a?.participants);
      expect(b?.missing).toEqual(a?.missing);
      expect(b?.screening).toEqual(a?.screening);
      expect(a?.screening.some((v) => v.clientId === 'big' && v.action === 'left-out')).toBe(true);
    }
    expect(calls.map((j) => j.round)).toEqual([1, 2, 3]);
    expect(calls[0].declaredSamples).toEqual({ a: 10, b: 30, big: 60, liar: 20 });
    expect(hooked.engine.globalWeights).toEqual(inProcess.engine.globalWeights);
    expect(hooked.engine.serverState).toEqual(inProcess.engine.serverState);
    expect(hooked.engine.serverState?.strategy).toBe(strategy.name);
    // Screening dropped 'big', capped the liar's claim and clipped 'b' (whose clipped delta came back with the outcome).
    for (const o of outcomes) {
      expect(o).toMatchObject({ ok: true, dropped: [{ clientId: 'big' }], capped: [{ clientId: 'liar', claimed: 1_000_000, capped: 20 }] });
      // (Clipped extras, SCAFFOLD's delta-c, are listed with their part; a delta clipped comes back with the outcome.)
      if (o.ok) expect(o.accepted.filter((a) => a.delta).map((a) => a.clientId)).toEqual(o.clipped.filter((c) => c.part === undefined).map((c) => c.clientId));
    }
    expect(outcomes.some((o) => o.clipped.some((c) => c.clientId === 'b'))).toBe(true);
    const rejections = (events: EngineEvent[]) => events.filter((e) => e.kind === 'rejected');
    expect(rejections(hooked.events)).toEqual(rejections(inProcess.events));
  });

  it('a hook that rejects fails the round uncommitted; the next call aggregates normally', async () => {
    let fail = true;
    const { engine, events } = await engineWith({ name: 'fedld', rho: 0.67 }, {
      aggregate: async (job) => {
        if (fail) throw new Error('aggregation worker died');
        return aggregateRound(job);
      },
    });
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(failures(events)).toEqual(['aggregation failed: aggregation worker died']);
    expect(engine.currentRound).toBe(0);
    expect(engine.serverState).toBeNull();
    expect(engine.globalWeights).toEqual(initial());
    fail = false;
    expect((await settleFake(engine.runRound()))?.round).toBe(1);
    expect(engine.serverState?.steps).toBe(1);
  });

  it('an outcome of another layout, a non-finite model, a foreign state or unknown clients fails the round uncommitted', async () => {
    const broken: Array<[(o: AggregationOutcome & { ok: true }) => unknown, RegExp]> = [
      [(o) => ({ ...o, global: o.global.slice(0, 1) }), /another layout/],
      [(o) => ({ ...o, global: o.global.map((t) => ({ ...t, values: t.values.map(() => NaN) })) }), /non-finite/],
      [(o) => ({ ...o, state: { strategy: 'scaffold', steps: 1, tensors: {}, values: {} } }), /not a fedavg state/],
      [(o) => ({ ...o, state: { ...o.state!, tensors: { m: o.global.slice(1) } } }), /state/],
      [(o) => ({ ...o, accepted: [...o.accepted, { clientId: 'mallory', numSamples: 1 }] }), /mallory/],
      [(o) => ({ ...o, accepted: o.accepted.map((a) => ({ ...a, numSamples: 1e9 })) }), /samples/],
      [() => undefined, /no outcome/],
    ];
    for (const [corrupt, reason] of broken) {
      const { engine, events } = await engineWith({ name: 'fedavg' }, {
        aggregate: async (job) => {
          const o = aggregateRound(job);
          if (!o.ok) throw new Error('unexpected');
          return corrupt(o) as AggregationOutcome;
        },
      });
      expect(await settleFake(engine.runRound())).toBeNull();
      expect(failures(events)).toHaveLength(1);
      expect(failures(events)[0]).toMatch(/^aggregation failed: /);
      expect(failures(events)[0]).toMatch(reason);
      expect(engine.currentRound).toBe(0);
      expect(engine.globalWeights).toEqual(initial());
      expect(engine.serverState).toBeNull();
    }
  });

  it('the job is plain data: it survives a structured clone unchanged, and its robust settings are the engine\'s', async () => {
    const calls: AggregationJob[] = [];
    const { engine } = await engineWith({ name: 'scaffold' }, { aggregate: workerLike(calls) });
    await settleFake(engine.runRound());
    await settleFake(engine.runRound());
    const job = calls[1];
    expect(structuredClone(job)).toEqual(job);
    expect(job).toMatchObject({ strategy: { name: 'scaffold' }, round: 2, population: 4, valuesScanned: true, robust: { mode: 'clip' } });
    expect(job.updates.map((u) => u.clientId)).toEqual(['a', 'b', 'big', 'liar']);
    expect(job.updates[0].extras?.deltaC).toBeDefined();
    expect(job.state?.strategy).toBe('scaffold');
  });

  it('with real tfjs clients (FedLD), the hook path trains as before and the tensor count stays flat', async () => {
    // Real training: real time, with deadlines (60 s) that only bound a hang.
    vi.useRealTimers();
    const calls: AggregationJob[] = [];
    const session = await startTestSession({ strategy: { name: 'fedld', rho: 0.67 }, hooks: { aggregate: workerLike(calls) } });
    try {
      expect(await session.engine.runRound()).not.toBeNull();
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) expect(await session.engine.runRound()).not.toBeNull();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(calls).toHaveLength(3);
      expect(session.engine.serverState?.steps).toBe(3);
    } finally {
      session.dispose();
    }
  });
});
