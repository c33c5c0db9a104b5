import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWireCodec, encodeMessage } from '../fl/codec';
import { splitIntoFrames } from '../fl/codec/frames';
import { emptyMapBomb } from '../fl/codec/test-messages';
import { CONTROL_MESSAGE_LIMIT, sessionMessageLimit } from '../fl/codec/session-limits';
import { InMemoryNetwork, type InMemoryEndpoint } from '../fl/in-memory-transport';
import { modelLayout } from '../fl/model-layout';
import { mlpSpec } from '../fl/model-spec';
import { PROTOCOL_VERSION, type Message, type SessionConfig } from '../fl/protocol';
import { sizeOfShape, type WeightSet } from '../fl/weights';
import { SessionNode } from './session-node';
import { fakeTrainer, TINY_TIMING } from './testing/tiny-session';

/** 64 inputs, 1,024 hidden units: about 270 KB per weight set, so four of them pass the 1 MB floor. */
const SPEC = mlpSpec([64], 2, [1024]);
/** Exact decomposition with three participants (4 models per eval-request) and FedAdam (3 sets in a checkpoint). */
const CONFIG: SessionConfig = {
  model: SPEC,
  strategy: { name: 'fedld', serverOpt: 'adam' },
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  rounds: 4,
  minClients: 3,
  fraction: 1,
  roundDeadlineMs: 400,
  decomposition: 'exact',
  decompositionEvery: 1,
  codec: 'float32',
  seed: 1,
  demo: { partition: { kind: 'iid' }, clients: 4 },
};
const TIMING = { ...TINY_TIMING, exactDecompositionMaxParticipants: 3 };
const LIMIT = sessionMessageLimit(CONFIG, { evalModels: 4 });

const limitOf = (e: InMemoryEndpoint) => ({ bytes: e.messageLimitBytes, objects: e.messageLimitObjects });

const zeros = (): WeightSet => modelLayout(SPEC).map((t) => ({ ...t, values: new Float32Array(sizeOfShape(t.shape)) }));

/** Messages of this type go on the wire as these frames instead (a hostile sender). */
const replaced = new Map<string, Uint8Array[]>();

function makeSession(names = ['host', 'ann', 'bob']) {
  const wireErrors: string[] = [];
  const largest = new Map<string, number>();
  const network = new InMemoryNetwork({
    codec: createWireCodec('float32'),
    plan: (_from, _to, m) => (replaced.has(m.type) ? { frames: () => replaced.get(m.type)! } : undefined),
    onWireError: (from, to, reason) => wireErrors.push(`${from}->${to}: ${reason}`),
    tap: (_from, _to, m) => {
      if (m.type === 'eval-request' || m.type === 'checkpoint' || m.type === 'update' || m.type === 'round-start') {
        largest.set(m.type, Math.max(largest.get(m.type) ?? 0, encodeMessage(m, 'float32').length));
      }
    },
  });
  const endpoints = names.map((name) => network.endpoint(name));
  const logs: string[] = [];
  const nodes = endpoints.map(
    (transport) => new SessionNode({ transport, name: transport.selfId, trainer: () => fakeTrainer(), timing: TIMING, onLog: (level, text) => logs.push(`${transport.selfId} ${level}: ${text}`) }),
  );
  return { network, endpoints, nodes, wireErrors, largest, logs };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("each tab's message limit, from the session config", () => {
  it('is set on the host when it hosts and on each client at its welcome, and every legitimate message fits it', async () => {
    const { endpoints, nodes, wireErrors, largest } = makeSession();
    const [host, ...members] = nodes;
    expect(endpoints.map((e) => e.messageLimitBytes)).toEqual([undefined, undefined, undefined]);
    await host.host(CONFIG, zeros());
    expect(limitOf(endpoints[0])).toEqual(LIMIT);
    const joined = Promise.all(members.map((m) => m.join('host')));
    await vi.advanceTimersByTimeAsync(50);
    await joined;
    expect(endpoints.map(limitOf)).toEqual([LIMIT, LIMIT, LIMIT]);
    void host.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(host.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    expect(host.rounds.every((r) => r.decomposition !== null)).toBe(true);
    expect(wireErrors).toEqual([]);
    // The session did send messages past the 1 MB floor: the limit is what let them through.
    expect(largest.get('eval-request')).toBeGreaterThan(CONTROL_MESSAGE_LIMIT.bytes);
    expect(largest.get('checkpoint')).toBeGreaterThan(CONTROL_MESSAGE_LIMIT.bytes * 0.75);
    expect(Math.max(...largest.values())).toBeLessThanOrEqual(LIMIT.bytes);
    nodes.forEach((n) => n.leave());
  });

  it('refuses a larger message, or one with more objects, from an admitted peer', async () => {
    const { endpoints, nodes, wireErrors } = makeSession(['host', 'ann']);
    const [host, ann] = nodes;
    await host.host({ ...CONFIG, minClients: 5 }, zeros());
    const joined = ann.join('host');
    await vi.advanceTimersByTimeAsync(50);
    await joined;
    const huge = Math.ceil(LIMIT.bytes / 4);
    const update: Message = {
      type: 'update', v: PROTOCOL_VERSION, assignment: 1, numSamples: 1,
      delta: [{ name: 'fc1/kernel', shape: [huge], values: new Float32Array(huge) }],
      metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 1, samplesPerSecond: 1 },
    };
    endpoints[1].send('host', update);
    await vi.advanceTimersByTimeAsync(50);
    expect(wireErrors).toEqual([expect.stringMatching(new RegExp(`^ann->host: frame rejected: message \\d+: total length \\d+ exceeds the ${LIMIT.bytes}-byte message limit$`))]);
    // 20,000 empty maps: far within the bytes and the protocol's object bound, but more objects than this session sends.
    expect(LIMIT.objects).toBeLessThan(20_000);
    replaced.set('bye', splitIntoFrames(emptyMapBomb(20_000), 77));
    endpoints[1].send('host', { type: 'bye', v: PROTOCOL_VERSION, reason: 'x' });
    await vi.advanceTimersByTimeAsync(50);
    replaced.clear();
    expect(wireErrors[1]).toBe(`ann->host: message rejected: message is not valid msgpack: msgpack holds more than ${LIMIT.objects} objects (maps, arrays, strings, binaries)`);
    nodes.forEach((n) => n.leave());
  });

  it('stays set on the tab that takes over, and a client that follows it sets it again from its welcome', async () => {
    const { network, endpoints, nodes, wireErrors } = makeSession(['host', 'ann', 'bob', 'cy']);
    const [host, ann, bob] = nodes;
    await host.host({ ...CONFIG, minClients: 2, rounds: 40, decomposition: 'proxy' }, zeros());
    const joined = Promise.all(nodes.slice(1).map((m) => m.join('host')));
    await vi.advanceTimersByTimeAsync(50);
    await joined;
    void host.start();
    await vi.advanceTimersByTimeAsync(1_000);
    endpoints[2].messageLimitBytes = undefined;
    host.leave();
    network.disconnect('host');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ann.isAggregator).toBe(true);
    // ann aggregates with the limit it set at its welcome; bob (limit forgotten here) set it again at ann's welcome.
    expect(limitOf(endpoints[1])).toEqual(LIMIT);
    expect(bob.aggregatorId).toBe('ann');
    expect(limitOf(endpoints[2])).toEqual(LIMIT);
    expect(wireErrors).toEqual([]);
    nodes.forEach((n) => n.leave());
  });

  it('is set on a host that resumes from its checkpoint', async () => {
    const { endpoints, nodes } = makeSession(['host']);
    await nodes[0].host(CONFIG, zeros(), { checkpoint: { weights: zeros(), round: 3, serverState: null }, records: [], roster: [], term: 2 });
    expect(limitOf(endpoints[0])).toEqual(LIMIT);
    nodes[0].leave();
  });

  it('counts on the exact-decomposition cap, which the host switching to exact with more participants does not pass', async () => {
    const { nodes, logs } = makeSession(['host', 'ann', 'bob', 'cy', 'dan']);
    const [host, ...members] = nodes;
    await host.host({ ...CONFIG, decomposition: 'proxy' }, zeros());
    const joined = Promise.all(members.map((m) => m.join('host')));
    await vi.advanceTimersByTimeAsync(50);
    await joined;
    host.setDecompositionMode('exact');
    expect(host.config?.decomposition).toBe('proxy');
    expect(logs).toContain('host warn: more than 3 participants: the decomposition switches from exact to proxy (local models no longer go to every peer)');
    nodes.forEach((n) => n.leave());
  });
});
