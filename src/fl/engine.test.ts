import { materialize, type ScoredModel } from './scored-model';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineConfig, type EngineEvent } from './engine';
import { testEngineConfig, testMetrics, tinyWeights } from './testing/engine-fixtures';
import { InMemoryNetwork } from './in-memory-transport';
import { PROTOCOL_VERSION, type Message, type RoundStartMessage, type UpdateMessage } from './protocol';
import type { Transport } from './transport';
import { settleFake } from './testing/fake-time';

const layout = tinyWeights;

const baseConfig = testEngineConfig();

type Behaviour = (round: RoundStartMessage, send: (m: Message) => void, endpoint: Transport) => void;

const metrics = testMetrics;
const update = (assignment: number, delta: number[], numSamples = 10): UpdateMessage => ({ type: 'update', v: PROTOCOL_VERSION, assignment, delta: layout(delta), numSamples, metrics });
const honest: Behaviour = (r, send) => send(update(r.assignment, [1, 1, 1, 1]));
const silent: Behaviour = () => {};

function setup(behaviours: Record<string, Behaviour>, config: Partial<EngineConfig> = {}) {
  const network = new InMemoryNetwork();
  const events: EngineEvent[] = [];
  const engine = new RoundEngine(network.endpoint('agg'), { ...baseConfig, ...config }, { weights: layout([0, 0, 0, 0]) }, { onEvent: (e) => events.push(e) });
  const received: Record<string, Message[]> = {};
  const endpoints: Record<string, Transport> = {};
  const join = (id: string, behaviour: Behaviour) => {
    const ep = network.endpoint(id);
    endpoints[id] = ep;
    received[id] = [];
    ep.onMessage((from, m) => {
      received[id].push(m);
      if (m.type === 'round-start') behaviour(m, (reply) => ep.send(from, reply), ep);
    });
    ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 'test', numSamples: 10, labelHistogram: [5, 5] });
  };
  for (const [id, b] of Object.entries(behaviours)) join(id, b);
  const rejections = () => events.filter((e): e is Extract<EngineEvent, { kind: 'rejected' }> => e.kind === 'rejected');
  return { network, engine, events, received, endpoints, join, rejections };
}

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('round engine', () => {
  it('aggregates the updates of all clients', async () => {
    // robust 'off': b claims 30 samples after joining with 10, which the default defence would cap (engine-robust.test.ts).
    const { engine } = setup({ a: honest, b: (r, send) => send(update(r.assignment, [3, 3, 3, 3], 30)) }, { robust: 'off' });
    await settleFake(engine.waitForClients(2, 1000));
    const report = await settleFake(engine.runRound());
    expect(report?.participants).toEqual(['a', 'b']);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([2.5, 2.5, 2.5, 2.5]); // (10*1 + 30*3) / 40
    expect(engine.currentRound).toBe(1);
  });

  it('does not wait past the deadline for a silent client and aggregates what arrived', async () => {
    const { engine } = setup({ a: honest, b: silent });
    await settleFake(engine.waitForClients(2, 1000));
    const started = Date.now();
    const report = await settleFake(engine.runRound());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(report?.participants).toEqual(['a']);
    expect(report?.missing).toEqual(['b']);
  });

  it('drops a client that vanishes mid-round without waiting for the deadline', async () => {
    const { engine, network } = setup({ a: honest, b: () => setTimeout(() => network.disconnect('b'), 10) }, { timing: { roundDeadlineMs: 60_000 } });
    await settleFake(engine.waitForClients(2, 1000));
    const started = Date.now();
    const report = await settleFake(engine.runRound());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report?.participants).toEqual(['a']);
    expect(engine.connectedClients.map((c) => c.id)).toEqual(['a']);
  });

  it('rejects stale, duplicate, NaN, wrong-shape and unsolicited updates with reasons, and keeps going', async () => {
    const { engine, rejections } = setup({
      stale: (r, send) => send(update(r.assignment - 1, [9, 9, 9, 9])),
      dup: (r, send) => {
        send(update(r.assignment, [1, 1, 1, 1]));
        send(update(r.assignment, [5, 5, 5, 5]));
      },
      nan: (r, send) => send(update(r.assignment, [NaN, 0, 0, 0])),
      shape: (r, send) => send({ ...update(r.assignment, [0]), delta: [{ name: 'fc1/kernel', shape: [1], values: new Float32Array(1) }] }),
    });
    await settleFake(engine.waitForClients(4, 1000));
    const report = await settleFake(engine.runRound());
    expect(report?.participants).toEqual(['dup']);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([1, 1, 1, 1]);
    const reasons = rejections().map((r) => `${r.from}: ${r.reason}`);
    expect(reasons.some((r) => r.startsWith('stale: stale update for assignment 0'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('dup: duplicate update'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('nan:') && r.includes('non-finite'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('shape:') && r.includes('shape [1]'))).toBe(true);
  });

  it('with too few updates the round is not lost: the global model stays and the round is retried', async () => {
    const { engine, events } = setup({ a: honest, b: silent }, { minClients: 2 });
    await settleFake(engine.waitForClients(2, 1000));
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(engine.currentRound).toBe(0);
    expect(Array.from(engine.globalWeights[0].values)).toEqual([0, 0, 0, 0]);
    expect(events.some((e) => e.kind === 'round-failed' && e.reason.includes('only 1 of 2'))).toBe(true);
  });

  it('refuses to start a round below the minimum number of clients', async () => {
    const { engine, events } = setup({ a: honest }, { minClients: 3 });
    await settleFake(engine.waitForClients(1, 1000));
    expect(await settleFake(engine.runRound())).toBeNull();
    expect(events.some((e) => e.kind === 'round-failed' && e.reason.includes('3 needed'))).toBe(true);
  });

  it('a late joiner enters at the next round with the current global model', async () => {
    const { engine, join, received } = setup({ a: honest });
    await settleFake(engine.waitForClients(1, 1000));
    await settleFake(engine.runRound());
    join('late', honest);
    await settleFake(engine.waitForClients(2, 1000));
    const report = await settleFake(engine.runRound());
    expect(report?.participants).toEqual(['a', 'late']);
    const start = received.late.find((m): m is RoundStartMessage => m.type === 'round-start')!;
    expect(start.version).toBe(1);
    expect(Array.from(start.weights[0].values)).toEqual([1, 1, 1, 1]);
  });

  it('asks only a fraction of the clients each round, deterministically under the seed', async () => {
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const selections: string[][] = [];
    for (let trial = 0; trial < 2; trial++) {
      const { engine } = setup(Object.fromEntries(ids.map((id) => [id, honest])), { fraction: 0.5 });
      await settleFake(engine.waitForClients(6, 1000));
      const report = await settleFake(engine.runRound());
      selections.push(report!.participants);
    }
    expect(selections[0]).toHaveLength(3);
    expect(selections[1]).toEqual(selections[0]);
  });

  it('refuses a hello that the admission check rejects', async () => {
    const network = new InMemoryNetwork();
    const engine = new RoundEngine(network.endpoint('agg'), baseConfig, { weights: layout([0, 0, 0, 0]) }, { admit: (h) => (h.clientName === 'y' ? null : 'not on the list') });
    const stranger = network.endpoint('stranger');
    const got: Message[] = [];
    stranger.onMessage((_, m) => got.push(m));
    stranger.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'x', backend: 'cpu', numSamples: 5, labelHistogram: [5] });
    const friend = network.endpoint('friend');
    friend.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: 'y', backend: 'cpu', numSamples: 5, labelHistogram: [5] });
    await settleFake(engine.waitForClients(1, 1000));
    await vi.advanceTimersByTimeAsync(20);
    expect(engine.connectedClients.map((c) => c.id)).toEqual(['friend']);
    expect(got).toEqual([{ type: 'error', v: PROTOCOL_VERSION, reason: 'not on the list' }]);
  });

  it('proxy mode: the decomposition comes from the clients\' own losses and the aggregator\'s validation set', async () => {
    const network = new InMemoryNetwork();
    const validationCalls: number[] = [];
    const models: ScoredModel[][] = [];
    const engine = new RoundEngine(network.endpoint('agg'), { ...baseConfig, decomposition: 'proxy' }, { weights: layout([0, 0, 0, 0]) }, {
      // L(w_a; V) = 1.0, L(w_b; V) = 2.0, L(w_g'; V) = 0.9
      evaluateOnValidation: async (ms) => {
        validationCalls.push(ms.length);
        models.push(ms);
        return [1.0, 2.0, 0.9];
      },
    });
    for (const [id, ownLoss, n] of [['a', 0.5, 10], ['b', 0.25, 30]] as const) {
      const ep = network.endpoint(id);
      ep.onMessage((from, m) => {
        if (m.type === 'round-start') ep.send(from, { ...update(m.assignment, [1, 1, 1, 1], n), metrics: { ...metrics, evalLoss: ownLoss } });
      });
      ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 't', numSamples: n, labelHistogram: [n] });
    }
    await settleFake(engine.waitForClients(2, 1000));
    const d = (await settleFake(engine.runRound()))!.decomposition!;
    expect(validationCalls).toEqual([3]);
    // The two local models go as the round's starting model plus each delta (built where they are scored), then the new global model.
    const [a, b, global] = models[0];
    expect(materialize(a)[0].values[0]).toBe(1);
    expect(materialize(b)[0].values[0]).toBe(1);
    expect(!Array.isArray(a) && !Array.isArray(b) && a.base === b.base).toBe(true); // one base, copied once to a worker
    expect(global).toBe(engine.globalWeights);
    const local = 0.25 * 0.5 + 0.75 * 0.25;
    const onV = 0.25 * 1.0 + 0.75 * 2.0;
    expect(d.local).toBeCloseTo(local, 12);
    expect(d.shift).toBeCloseTo(onV - local, 12);
    expect(d.aggregation).toBeCloseTo(0.9 - onV, 12);
    expect(d.global).toBeCloseTo(0.9, 12);
  });

  it('exact mode: clients that do not answer the cross-evaluation drop out of rows and columns; the sum still holds', async () => {
    const network = new InMemoryNetwork();
    const engine = new RoundEngine(network.endpoint('agg'), { ...baseConfig, decomposition: 'exact' }, { weights: layout([0, 0, 0, 0]) });
    const requests: Record<string, number> = {};
    for (const id of ['a', 'b', 'c']) {
      const ep = network.endpoint(id);
      ep.onMessage((from, m) => {
        if (m.type === 'round-start') ep.send(from, update(m.assignment, [1, 1, 1, 1]));
        if (m.type === 'eval-request') {
          requests[id] = m.models.length;
          if (id === 'c') return; // never answers
          const losses = m.models.map((_, i) => (id === 'a' ? 1 + i : 2 + i));
          ep.send(from, { type: 'eval-result', v: PROTOCOL_VERSION, round: m.round, requestId: m.requestId, losses, numSamples: 5 });
        }
      });
      ep.send('agg', { type: 'hello', v: PROTOCOL_VERSION, clientName: id, backend: 't', numSamples: 10, labelHistogram: [10] });
    }
    await settleFake(engine.waitForClients(3, 1000));
    const report = await settleFake(engine.runRound());
    expect(requests).toEqual({ a: 4, b: 4, c: 4 }); // 3 local models + the new global one
    const d = report!.decomposition!;
    // Rows/columns of a and b only: C = [[1, 2], [2, 3]] (C[i][j] = model i on client j), G = [4, 5], p = [0.5, 0.5]
    expect(d.local).toBeCloseTo(0.5 * 1 + 0.5 * 3, 12);
    expect(d.global).toBeCloseTo(4.5, 12);
    expect(d.local + d.shift + d.aggregation).toBeCloseTo(d.global, 12);
  });
  it('progress of a client training the running round becomes an event; any other progress is dropped without a word', async () => {
    const progress = (round: number, fraction: number): Message => ({ type: 'progress', v: PROTOCOL_VERSION, assignment: round, fraction });
    const { engine, events, endpoints, network, rejections } = setup({
      a: (r, send) => {
        send(progress(r.assignment, 0.4));
        send(progress(r.assignment - 1, 0.5)); // a stale round
        send(progress(r.assignment, NaN)); // in memory nothing refused it on the wire
        send(progress(r.assignment, 1.5));
        send(update(r.assignment, [1, 1, 1, 1]));
        send(progress(r.assignment, 0.9)); // after its update
      },
      b: honest,
    });
    await settleFake(engine.waitForClients(2, 1000));
    endpoints.b.send('agg', progress(1, 0.2)); // before the round runs
    await vi.advanceTimersByTimeAsync(5);
    network.endpoint('stranger').send('agg', progress(1, 0.3)); // arrives during the round: never selected
    const report = await settleFake(engine.runRound());
    expect(report?.participants).toEqual(['a', 'b']);
    const reported = events.filter((e) => e.kind === 'client-progress');
    expect(reported).toEqual([{ kind: 'client-progress', round: 1, clientId: 'a', fraction: 0.4 }]);
    expect(rejections()).toEqual([]);
  });
});
