import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlClient } from '../client';
import { InMemoryNetwork } from '../in-memory-transport';
import type { LocalTrainer, TrainRequest, TrainResponse } from '../local-trainer';
import { mlpSpec } from '../models';
import { PROTOCOL_VERSION, type Message } from '../protocol';
import type { WeightSet } from '../weights';
import { AsyncEngine, type AsyncEngineConfig, type AsyncEngineEvent, type AsyncStepReport } from './async-engine';

const weights = (x: number): WeightSet => [{ name: 'w', shape: [2], values: Float32Array.from([x, x]) }];

/** A client that "trains" for delayMs of (fake) time and returns a fixed delta. */
class TimedTrainer implements LocalTrainer {
  started: number[] = [];
  /** The first weight of each model it was sent (the tests' global model is uniform). */
  bases: number[] = [];
  constructor(
    private readonly delayMs: number,
    private readonly deltaValue: number,
  ) {}
  async train(req: TrainRequest): Promise<TrainResponse> {
    this.started.push(req.round);
    this.bases.push(req.weights[0].values[0]);
    await new Promise((r) => setTimeout(r, this.delayMs));
    return { delta: weights(this.deltaValue), numSamples: 10, cancelled: false, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: this.delayMs, samplesPerSecond: 1 } };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10, labelHistogram: [10] };
  }
}

const config: AsyncEngineConfig = {
  model: mlpSpec([2], 2, []),
  strategy: { name: 'fedavg' },
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  async: { bufferSize: 2, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null },
  decomposition: 'proxy',
  decompositionEvery: 1,
  seed: 1,
  timing: { roundDeadlineMs: 5_000 },
};

function setup(opts: { plan?: ConstructorParameters<typeof InMemoryNetwork>[0]; bufferSize?: number } = {}) {
  const network = new InMemoryNetwork(opts.plan ?? {});
  const events: AsyncEngineEvent[] = [];
  const validated: number[] = [];
  const engine = new AsyncEngine(network.endpoint('agg'), { ...config, async: { ...config.async, bufferSize: opts.bufferSize ?? 2 } }, weights(0), {
    onEvent: (e) => events.push(e),
    evaluateOnValidation: async (sets) => (validated.push(sets.length), sets.map((_, i) => 1 + i / 10)),
    evaluateGlobal: async (w) => ({ loss: 1, accuracy: w[0].values[0] / 100 }),
  });
  const trainers = new Map<string, TimedTrainer>();
  const addClient = async (id: string, delayMs: number, deltaValue: number) => {
    const trainer = new TimedTrainer(delayMs, deltaValue);
    trainers.set(id, trainer);
    const client = new FlClient(network.endpoint(id), 'agg', trainer, { name: id });
    await client.join();
    await vi.advanceTimersByTimeAsync(1);
    return client;
  };
  /** Runs nextStep while advancing fake time until it settles. */
  const step = async (): Promise<AsyncStepReport | null> => {
    let settled = false;
    let result: AsyncStepReport | null = null;
    void engine.nextStep().then((r) => ((settled = true), (result = r)));
    for (let i = 0; i < 10_000 && !settled; i++) await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(true);
    return result;
  };
  return { network, engine, events, trainers, addClient, step, validated };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('AsyncEngine over the in-memory transport (fake timers)', () => {
  it('clients train again as soon as they send; a slow client is included with staleness above zero; each update is used once', async () => {
    const { engine, addClient, step, trainers, validated } = setup();
    await addClient('fast1', 100, 1);
    await addClient('fast2', 120, 1);
    await addClient('slow', 470, 1);
    const reports: AsyncStepReport[] = [];
    for (let i = 0; i < 8; i++) reports.push((await step())!);
    expect(reports.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const keys = reports.flatMap((r) => r.used.map((u) => u.key));
    expect(new Set(keys).size).toBe(keys.length);
    const slowUses = reports.flatMap((r) => r.used.filter((u) => u.clientId === 'slow'));
    expect(slowUses.length).toBeGreaterThan(0);
    expect(Math.max(...slowUses.map((u) => u.staleness))).toBeGreaterThan(0);
    for (const u of slowUses) expect(u.weight).toBeCloseTo(Math.pow(1 + u.staleness, -0.5), 12);
    // The fast clients kept training meanwhile: far more assignments than the slow one.
    expect(trainers.get('fast1')!.started.length).toBeGreaterThan(3 * trainers.get('slow')!.started.length - 1);
    // Each client trains from ever newer models (the round a job is for is the version it starts from + 1), and every
    // one of them existed: versions 0..8.
    for (const t of trainers.values()) expect(t.started).toEqual([...t.started].sort((a, b) => a - b));
    for (const t of trainers.values()) for (const r of t.started) expect(r >= 1 && r <= 9).toBe(true);
    // Proxy decomposition per step: M locals + the new global on V.
    expect(validated).toEqual(new Array(8).fill(3));
    expect(reports.every((r) => r.decomposition !== null)).toBe(true);
    expect(engine.contributions.get('slow')).toBe(slowUses.length);
    engine.setDecompositionMode('off');
    expect((await step())!.decomposition).toBeNull();
    engine.setDecompositionMode('exact'); // measured in proxy mode: the clients are busy training
    expect((await step())!.decomposition).not.toBeNull();
    engine.dispose();
  });

  it('a client that vanishes mid-training is dropped; the others go on; its late update is refused', async () => {
    const { engine, addClient, step, network, events } = setup();
    await addClient('a', 100, 1);
    await addClient('b', 100, 1);
    await addClient('c', 300, 1);
    await step();
    network.disconnect('c'); // mid-training
    await vi.advanceTimersByTimeAsync(1);
    expect(events.some((e) => e.kind === 'client-left' && e.clientId === 'c')).toBe(true);
    const before = engine.contributions.get('c') ?? 0;
    for (let i = 0; i < 4; i++) expect(await step()).not.toBeNull();
    expect(engine.contributions.get('c') ?? 0).toBe(before);
    expect(engine.connectedClients.map((c) => c.id).sort()).toEqual(['a', 'b']);
    engine.dispose();
  });

  it('a late joiner starts from the newest model and contributes', async () => {
    const { engine, addClient, step, trainers } = setup();
    await addClient('a', 100, 1);
    await addClient('b', 100, 1);
    for (let i = 0; i < 3; i++) await step();
    const newest = engine.globalWeights[0].values[0];
    expect(newest).toBeGreaterThan(0);
    await addClient('late', 150, 1);
    expect(trainers.get('late')!.bases[0]).toBe(newest);
    const used: string[] = [];
    for (let i = 0; i < 4; i++) used.push(...(await step())!.used.map((u) => u.clientId));
    expect(used).toContain('late');
    engine.dispose();
  });

  it('never waits forever: past the deadline a step aggregates what waits, and with nothing it fails', async () => {
    const { engine, addClient, step, events } = setup({ bufferSize: 1000 });
    // Three clients, one of which never answers within the deadline: M = 1000 will not come, nor one from each.
    await addClient('a', 100, 1);
    await addClient('b', 150, 1);
    await addClient('silent', 60_000, 1);
    const r = await step(); // after the 5 s deadline the waiting updates (one per client that answered) are aggregated
    expect(r!.waitedMs).toBeGreaterThanOrEqual(4_900);
    expect(r!.used.map((u) => u.clientId).sort()).toEqual(['a', 'b']);
    const lonely = setup();
    expect(await lonely.step()).toBeNull();
    expect(lonely.events.some((e) => e.kind === 'step-failed')).toBe(true);
    expect(events.some((e) => e.kind === 'step-finished')).toBe(true);
    engine.dispose();
    lonely.engine.dispose();
  });

  it('does not wait for a client whose updates are refused: the others make the step', async () => {
    const { engine, addClient, step, events } = setup({ bufferSize: 5 });
    await addClient('a', 100, 1);
    await addClient('b', 150, 1);
    await addClient('broken', 50, NaN);
    const r = await step();
    expect(r!.used.map((u) => u.clientId).sort()).toEqual(['a', 'b']);
    expect(r!.waitedMs).toBeLessThan(1_000);
    expect(events.some((e) => e.kind === 'rejected' && e.from === 'broken')).toBe(true);
    engine.dispose();
  });

  it('a client holds one place in a step: a fast one does not fill it, and with fewer clients than M it takes one from each', async () => {
    const { engine, addClient, step, events } = setup({ bufferSize: 3 });
    await addClient('fast', 10, 1);
    await addClient('slow', 400, 1);
    const r = await step();
    // Before: the fast client's ~40 updates would have filled the step of 3 at once, without the slow one.
    expect(r!.used.map((u) => u.clientId).sort()).toEqual(['fast', 'slow']);
    expect(r!.waitedMs).toBeLessThan(1_000);
    expect(events.filter((e) => e.kind === 'update-superseded' && e.from === 'fast').length).toBeGreaterThan(10);
    engine.dispose();
  });

  it('a duplicated update is refused and never aggregated twice', async () => {
    const plan = { plan: (_f: string, _t: string, m: Message) => (m.type === 'update' ? { copies: 2 } : undefined) };
    const { engine, addClient, step, events } = setup({ plan });
    await addClient('a', 100, 1);
    await addClient('b', 130, 1);
    const reports = [await step(), await step(), await step()];
    const keys = reports.flatMap((r) => r!.used.map((u) => u.key));
    expect(new Set(keys).size).toBe(keys.length);
    const updatesSent = reports.reduce((n, r) => n + r!.used.length, 0);
    expect(events.filter((e) => e.kind === 'rejected' && /duplicate/.test(e.reason)).length).toBeGreaterThanOrEqual(updatesSent);
    // Everything accepted is either used once or still waits: no copy slipped in as a new update.
    expect(events.filter((e) => e.kind === 'update-received').length).toBe(updatesSent + engine.waiting);
    engine.dispose();
  });

  it('a client whose assignment was lost is sent the newest model again after the deadline', async () => {
    let dropped = 0;
    const plan = { plan: (_f: string, to: string, m: Message) => (to === 'b' && m.type === 'round-start' && dropped++ === 0 ? { drop: true } : undefined) };
    const { engine, addClient, step, trainers } = setup({ plan });
    await addClient('a', 100, 1);
    await addClient('b', 100, 1);
    const used: string[] = [];
    for (let i = 0; i < 40 && !used.includes('b'); i++) used.push(...(await step())!.used.map((u) => u.clientId));
    expect(dropped).toBeGreaterThan(1);
    expect(trainers.get('b')!.started.length).toBeGreaterThan(0);
    expect(used).toContain('b');
    engine.dispose();
  });

  it('drops updates past the maximum staleness', async () => {
    const network = new InMemoryNetwork();
    const events: AsyncEngineEvent[] = [];
    const engine = new AsyncEngine(network.endpoint('agg'), { ...config, decomposition: 'off', async: { bufferSize: 1, staleness: { kind: 'constant' }, maxStaleness: 1 } }, weights(0), { onEvent: (e) => events.push(e) });
    for (const [id, ms] of [['fast', 50], ['slow', 400]] as const) await new FlClient(network.endpoint(id), 'agg', new TimedTrainer(ms, 1), { name: id }).join();
    const run = async () => {
      let done = false;
      void engine.nextStep().then(() => (done = true));
      while (!done) await vi.advanceTimersByTimeAsync(10);
    };
    for (let i = 0; i < 12; i++) await run();
    expect(events.some((e) => e.kind === 'update-dropped' && e.from === 'slow' && e.staleness > 1)).toBe(true);
    expect(engine.contributions.get('slow') ?? 0).toBe(0);
    engine.dispose();
  });
  it("a client's progress on its open assignment becomes an event; any other progress is dropped without a word", async () => {
    const network = new InMemoryNetwork();
    const events: AsyncEngineEvent[] = [];
    const engine = new AsyncEngine(network.endpoint('agg'), config, weights(0), { onEvent: (e) => events.push(e) });
    const client = network.endpoint('a');
    const assigned: number[] = [];
    client.onMessage((_from, m) => m.type === 'round-start' && assigned.push(m.assignment));
    const progress = (round: number, fraction: number): Message => ({ type: 'progress', v: PROTOCOL_VERSION, assignment: round, fraction });
    client.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'a', backend: 'test', numSamples: 10, labelHistogram: [10] });
    await vi.advanceTimersByTimeAsync(1);
    client.send('agg', progress(0, 0.1)); // no assignment yet
    engine.start();
    await vi.advanceTimersByTimeAsync(1);
    const round = assigned[0];
    for (const m of [progress(round, 0.4), progress(round - 1, 0.5), progress(round, NaN), progress(round, -0.1)]) client.send('agg', m);
    network.endpoint('stranger').send('agg', progress(round, 0.6));
    await vi.advanceTimersByTimeAsync(1);
    expect(events.filter((e) => e.kind === 'client-progress')).toEqual([{ kind: 'client-progress', clientId: 'a', round, fraction: 0.4 }]);
    expect(events.filter((e) => e.kind === 'rejected')).toEqual([]);
    engine.dispose();
  });
});
