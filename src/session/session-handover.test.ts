import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundEngine, type EngineStart } from '../fl/engine';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { PROTOCOL_VERSION, type Message, type SessionConfig } from '../fl/protocol';
import type { ServerState } from '../fl/strategies/types';
import { AsyncRoundEngine } from './async-round-engine';
import { defaultEngineFactory, type AggregatorEngine } from './session-engine';
import { SessionNode, type EngineFactory } from './session-node';
import { fakeTrainer, TINY_CONFIG, TINY_TIMING, tinyWeights } from './testing/tiny-session';

const config = TINY_CONFIG;
const timing = TINY_TIMING;
const weights = tinyWeights;

interface Options {
  names?: string[];
  createEngine?: (name: string) => EngineFactory | undefined;
  plan?: (from: string, to: string, m: Message) => { drop?: boolean } | undefined;
  trainCalls?: Record<string, number[]>;
}

function makeSession(options: Options = {}) {
  const sent: Array<{ from: string; to: string; message: Message }> = [];
  /** Links in an outage: nothing passes, whoever tries to reconnect. */
  const down = new Set<string>();
  const key = (a: string, b: string) => [a, b].sort().join('|');
  const network = new InMemoryNetwork({
    plan: (from, to, m) => (down.has(key(from, to)) ? { drop: true } : options.plan?.(from, to, m)),
    tap: (from, to, message) => sent.push({ from, to, message }),
  });
  /** The link between a and b goes down (both are told the other left) or comes back. */
  const link = {
    cut: (a: string, b: string) => {
      down.add(key(a, b));
      network.cutLink(a, b);
    },
    restore: (a: string, b: string) => {
      down.delete(key(a, b));
      network.restoreLink(a, b);
    },
  };
  const logs: string[] = [];
  const endpoints = new Map<string, ReturnType<InMemoryNetwork['endpoint']>>();
  const nodes = (options.names ?? ['host', 'ann', 'bob', 'cy']).map(
    (name) =>
      new SessionNode({
        transport: endpoints.set(name, network.endpoint(name)).get(name)!,
        name,
        trainer: () => fakeTrainer((options.trainCalls ??= {})[name] ??= []),
        timing,
        createEngine: options.createEngine?.(name),
        onLog: (level, text) => logs.push(`${name} ${level}: ${text}`),
      }),
  );
  return { network, nodes, logs, sent, endpoints, link };
}

async function startSession(nodes: SessionNode[], sessionConfig = config) {
  const [host, ...members] = nodes;
  await host.host(sessionConfig, weights(0));
  const joined = Promise.all(members.map((m) => m.join(host.selfId)));
  await vi.advanceTimersByTimeAsync(50);
  await joined;
  expect(host.clients).toHaveLength(nodes.length);
  void host.start();
}

const aggregators = (nodes: SessionNode[]) => nodes.filter((n) => n.isAggregator);

/** Round numbers finished by whoever aggregated them, in order, without gaps. */
function roundsOf(nodes: SessionNode[]): number[] {
  const done = new Set<number>();
  for (const n of nodes) for (const r of n.rounds) if (r.aggregatorId === n.selfId) done.add(r.round);
  return [...done].sort((a, b) => a - b);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('one aggregator at a time', () => {
  it('a flapping host-client link while the host lives: no takeover, no round lost, everyone in one session', async () => {
    const { link, nodes, logs } = makeSession();
    const [host, ann] = nodes;
    await startSession(nodes);
    for (let flap = 0; flap < 5; flap++) {
      link.cut('host', 'ann');
      await vi.advanceTimersByTimeAsync(900); // past the silence deadline: ann asks for votes and is refused
      link.restore('host', 'ann');
      await vi.advanceTimersByTimeAsync(700); // ann reaches the host again and is re-admitted
    }
    expect(logs.some((l) => l.startsWith('ann info: the aggregator is silent; asking 2 peers'))).toBe(true);
    expect(logs.some((l) => l.startsWith('ann warn: no majority for term 2'))).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(aggregators(nodes)).toEqual([host]);
    expect(nodes.map((n) => [n.aggregatorId, n.term])).toEqual(nodes.map(() => ['host', 1]));
    expect(host.clients.map((c) => c.id).sort()).toEqual(['ann', 'bob', 'cy', 'host']);
    expect(roundsOf(nodes)).toEqual(Array.from({ length: config.rounds }, (_, i) => i + 1));
    expect(ann.rounds.at(-1)?.round).toBe(config.rounds);
    nodes.forEach((n) => n.leave());
  });

  it('two flapping links: the side without the host is no majority, so the host stays the only aggregator and no round is lost', async () => {
    const { link, nodes } = makeSession();
    const [host] = nodes;
    await startSession(nodes);
    await vi.advanceTimersByTimeAsync(400);
    for (let flap = 0; flap < 3; flap++) {
      link.cut('host', 'ann');
      link.cut('host', 'bob');
      await vi.advanceTimersByTimeAsync(1_500);
      expect(aggregators(nodes)).toEqual([host]); // ann and bob are 2 of 4: never a majority
      link.restore('host', 'ann');
      link.restore('host', 'bob');
      await vi.advanceTimersByTimeAsync(1_000);
    }
    await vi.advanceTimersByTimeAsync(3_000);
    expect(aggregators(nodes)).toEqual([host]);
    expect(nodes.map((n) => [n.aggregatorId, n.term])).toEqual(nodes.map(() => ['host', 1]));
    expect(host.clients.map((c) => c.id).sort()).toEqual(['ann', 'bob', 'cy', 'host']);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(host.rounds.at(-1)?.round).toBe(config.rounds);
    expect(host.rounds.map((r) => r.round)).toEqual(Array.from({ length: config.rounds }, (_, i) => i + 1));
    expect(host.rounds.at(-1)?.participantCount).toBe(4);
    nodes.forEach((n) => n.leave());
  });

  it('two tabs whose only link flaps: one tab alone is no majority, so the host stays the only aggregator', async () => {
    const { link, nodes } = makeSession({ names: ['host', 'ann'] });
    const [host, ann] = nodes;
    await startSession(nodes, { ...config, minClients: 1 });
    await vi.advanceTimersByTimeAsync(400);
    link.cut('host', 'ann');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(aggregators(nodes)).toEqual([host]);
    link.restore('host', 'ann');
    await vi.advanceTimersByTimeAsync(6_000);
    expect(aggregators(nodes)).toEqual([host]);
    expect(nodes.map((n) => [n.aggregatorId, n.term])).toEqual([['host', 1], ['host', 1]]);
    expect(host.clients.map((c) => c.id).sort()).toEqual(['ann', 'host']);
    expect(ann.isAggregator).toBe(false);
    nodes.forEach((n) => n.leave());
  });

  it('a two-tab session still hands over when the host leaves on purpose (it says bye, so it no longer counts)', async () => {
    const { nodes } = makeSession({ names: ['host', 'ann'] });
    const [host, ann] = nodes;
    await startSession(nodes, { ...config, minClients: 1, rounds: 8 });
    await vi.advanceTimersByTimeAsync(400);
    host.leave();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(ann.isAggregator).toBe(true);
    expect(ann.term).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ann.rounds.at(-1)?.round).toBe(8);
    ann.leave();
  });

  it('an aggregator frozen past the deadline (a busy tab) wakes up to a takeover: it steps down and joins the new term', async () => {
    let frozenUntil = 0;
    const { nodes } = makeSession({
      plan: (from, to) => {
        const left = frozenUntil - Date.now();
        if (left <= 0) return undefined;
        if (from === 'host') return { drop: true }; // a frozen tab sends nothing
        if (to === 'host') return { delayMs: left }; // and reads what arrived once it wakes up
        return undefined;
      },
    });
    const [host, ann] = nodes;
    await startSession(nodes, { ...config, rounds: 30 });
    await vi.advanceTimersByTimeAsync(600);
    frozenUntil = Date.now() + 3_000;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ann.isAggregator).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(aggregators(nodes)).toEqual([ann]);
    expect(nodes.map((n) => [n.aggregatorId, n.term])).toEqual(nodes.map(() => ['ann', 2]));
    expect(ann.clients.map((c) => c.id).sort()).toEqual(['ann', 'bob', 'cy', 'host']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(roundsOf(nodes)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    nodes.forEach((n) => n.leave());
  });

  it('a real handover: the successor takes over with a majority, resumes after its latest checkpoint, and every round is run once', async () => {
    const { network, nodes, logs } = makeSession();
    const [host, ann, bob, cy] = nodes;
    await startSession(nodes, { ...config, rounds: 12 });
    await vi.advanceTimersByTimeAsync(600);
    const hostDone = host.rounds.length;
    expect(hostDone).toBeGreaterThanOrEqual(2);
    network.disconnect('host');
    host.leave();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(aggregators(nodes.slice(1))).toEqual([ann]);
    expect([ann.term, bob.term, cy.term]).toEqual([2, 2, 2]);
    expect([bob.aggregatorId, cy.aggregatorId]).toEqual(['ann', 'ann']);
    await vi.advanceTimersByTimeAsync(10_000);
    const resumed = ann.rounds.filter((r) => r.aggregatorId === 'ann').map((r) => r.round);
    expect(resumed[0]).toBe(host.rounds.at(-1)!.round + 1);
    expect(roundsOf(nodes)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(ann.rounds.filter((r) => r.aggregatorId === 'ann').at(-1)?.participantCount).toBe(3);
    expect(logs).toContain('ann info: this tab now aggregates (term 2), resuming after round ' + host.rounds.at(-1)!.round);
    nodes.forEach((n) => n.leave());
  });

  it('during a real handover, an admitted peer that is not the successor announcing itself is ignored', async () => {
    const { network, nodes, logs, endpoints } = makeSession();
    const [host, ann, bob, cy] = nodes;
    await startSession(nodes, { ...config, rounds: 12 });
    await vi.advanceTimersByTimeAsync(600);
    network.disconnect('host');
    host.leave();
    // bob (slot 2, admitted) claims the session at once, with a term far above the real one, and asks for votes.
    const bobWire = endpoints.get('bob')!;
    const claim: Message = { type: 'roster', v: PROTOCOL_VERSION, term: 9, aggregatorId: 'bob', round: 99, peers: [] };
    bobWire.send('ann', claim);
    bobWire.send('cy', claim);
    bobWire.send('cy', { type: 'vote-request', v: PROTOCOL_VERSION, term: 3, previous: 'host' });
    await vi.advanceTimersByTimeAsync(10);
    expect(cy.aggregatorId).toBe('host');
    expect(logs.filter((l) => l.includes('ignored bob announcing itself as aggregator (term 9)'))).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(aggregators(nodes.slice(1))).toEqual([ann]);
    expect([ann.term, bob.term, cy.term]).toEqual([2, 2, 2]);
    expect(cy.aggregatorId).toBe('ann');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(roundsOf(nodes)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    nodes.forEach((n) => n.leave());
  });

  it('the rightful successor claiming a later term while the aggregator is alive and well is ignored, the aggregator included', async () => {
    const { nodes, endpoints, logs } = makeSession();
    const [host, , bob, cy] = nodes;
    await startSession(nodes, { ...config, rounds: 10 });
    await vi.advanceTimersByTimeAsync(400);
    const claim: Message = { type: 'roster', v: PROTOCOL_VERSION, term: 2, aggregatorId: 'ann', round: 0, peers: [] };
    for (const to of ['host', 'bob', 'cy']) endpoints.get('ann')!.send(to, claim);
    await vi.advanceTimersByTimeAsync(10);
    expect(logs.filter((l) => l.includes('ignored ann announcing itself as aggregator (term 2)'))).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(aggregators(nodes)).toEqual([host]);
    expect([host, bob, cy].map((n) => [n.aggregatorId, n.term])).toEqual([['host', 1], ['host', 1], ['host', 1]]);
    expect(roundsOf(nodes)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    nodes.forEach((n) => n.leave());
  });

  it("carries the strategy's server state through the handover to the new aggregator's engine", async () => {
    const starts: Record<string, EngineStart[]> = {};
    /** An engine whose server state is its round count: stands in for FedLD's history, whatever the strategy code. */
    const stateful: (name: string) => EngineFactory = (name) => (transport, cfg, start, hooks) => {
      (starts[name] ??= []).push(start);
      return new (class extends RoundEngine {
        override get serverState(): ServerState {
          return { strategy: 'fedld', steps: this.currentRound, tensors: { history: this.globalWeights }, values: { lambda: 0.1 } };
        }
      })(transport, cfg, start, hooks);
    };
    const { network, nodes, sent } = makeSession({ createEngine: stateful });
    const [host, ann] = nodes;
    await startSession(nodes, { ...config, rounds: 8, strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 } });
    await vi.advanceTimersByTimeAsync(600);
    const checkpoints = sent.filter((s) => s.from === 'host' && s.message.type === 'checkpoint').map((s) => s.message);
    expect(checkpoints.some((m) => m.type === 'checkpoint' && m.serverState?.steps === m.round && m.round > 0)).toBe(true);
    const lastRound = host.rounds.at(-1)!.round;
    network.disconnect('host');
    host.leave();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ann.isAggregator).toBe(true);
    const resumedFrom = starts.ann.at(-1)!;
    expect(resumedFrom.round).toBe(lastRound);
    expect(resumedFrom.serverState).toMatchObject({ strategy: 'fedld', steps: lastRound, values: { lambda: 0.1 } });
    expect(resumedFrom.serverState!.tensors.history[0].values).toEqual(resumedFrom.weights[0].values);
    nodes.forEach((n) => n.leave());
  });

  it("FedLD's real server state (its history) reaches the successor's engine unchanged", async () => {
    const engines: Record<string, Array<{ engine: RoundEngine; start: EngineStart }>> = {};
    const recording: (name: string) => EngineFactory = (name) => (transport, cfg, start, hooks) => {
      const engine = new RoundEngine(transport, cfg, start, hooks);
      (engines[name] ??= []).push({ engine, start });
      return engine;
    };
    const { network, nodes } = makeSession({ createEngine: recording });
    const [host, ann] = nodes;
    await startSession(nodes, { ...config, rounds: 8, strategy: { name: 'fedld', lambda: 0.1, rho: 0.67 } });
    await vi.advanceTimersByTimeAsync(700);
    const hostEngine = engines.host[0].engine;
    const stateAtLeave = structuredClone(hostEngine.serverState);
    const roundAtLeave = hostEngine.currentRound;
    expect(stateAtLeave).toMatchObject({ strategy: 'fedld', steps: roundAtLeave, tensors: { history: [{ name: 'w', shape: [2] }] } });
    network.disconnect('host');
    host.leave();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ann.isAggregator).toBe(true);
    const { start } = engines.ann.at(-1)!;
    expect(start.round).toBe(roundAtLeave);
    expect(start.serverState).toEqual(stateAtLeave);
    nodes.forEach((n) => n.leave());
  });

  it("async mode: the default factory makes AsyncRoundEngines, and the strategy's state still reaches the successor", async () => {
    const engines: Record<string, Array<{ engine: AggregatorEngine; start: EngineStart }>> = {};
    const recording: (name: string) => EngineFactory = (name) => (transport, cfg, start, hooks) => {
      const engine = defaultEngineFactory(transport, cfg, start, hooks);
      (engines[name] ??= []).push({ engine, start });
      return engine;
    };
    const { network, nodes } = makeSession({ createEngine: recording });
    const [host, ann] = nodes;
    const asyncConfig: SessionConfig = { ...config, rounds: 30, strategy: { name: 'fedavg', serverOpt: 'avgm' }, aggregation: { mode: 'async', bufferSize: 2, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null } };
    await startSession(nodes, asyncConfig);
    await vi.advanceTimersByTimeAsync(700);
    const hostEngine = engines.host[0].engine;
    expect(hostEngine).toBeInstanceOf(AsyncRoundEngine);
    const stepAtLeave = hostEngine.currentRound;
    expect(stepAtLeave).toBeGreaterThan(0);
    expect(host.rounds.at(-1)!.staleness).toHaveLength(2);
    const stateAtLeave = structuredClone(hostEngine.serverState);
    expect(stateAtLeave).toMatchObject({ strategy: 'fedavg', steps: stepAtLeave });
    network.disconnect('host');
    host.leave();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ann.isAggregator).toBe(true);
    const { engine, start } = engines.ann.at(-1)!;
    expect(engine).toBeInstanceOf(AsyncRoundEngine);
    expect(start.round).toBe(stepAtLeave);
    expect(start.serverState).toEqual(stateAtLeave);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(engine.currentRound).toBeGreaterThan(stepAtLeave);
    expect(engine.serverState!.steps).toBe(engine.currentRound);
    nodes.forEach((n) => n.leave());
  });

  it('a round-start of an older term is ignored; one of the current term is trained on', async () => {
    const trainCalls: Record<string, number[]> = {};
    const network = new InMemoryNetwork();
    const agg = network.endpoint('agg');
    const member = new SessionNode({ transport: network.endpoint('me'), name: 'me', trainer: () => fakeTrainer((trainCalls.me ??= [])), timing });
    const joined = member.join('agg');
    await vi.advanceTimersByTimeAsync(1);
    agg.send('me', { type: 'welcome', v: PROTOCOL_VERSION, term: 3, slot: 1, round: 0, config });
    await vi.advanceTimersByTimeAsync(1);
    await joined;
    const roundStart = (term: number, round: number): Message => ({ type: 'round-start', v: PROTOCOL_VERSION, term, version: round - 1, assignment: round, model: config.model, strategy: config.strategy, train: { ...config.train, seed: 1 }, weights: weights(0) });
    agg.send('me', roundStart(2, 1));
    await vi.advanceTimersByTimeAsync(100);
    expect(trainCalls.me ?? []).toEqual([]);
    agg.send('me', roundStart(3, 1));
    await vi.advanceTimersByTimeAsync(100);
    expect(trainCalls.me).toEqual([1]);
    member.leave();
  });
});

describe('a client across terms', () => {
  it('after following a new aggregator it trains that one\'s rounds even when their numbers are below what it saw before', async () => {
    const trainCalls: number[] = [];
    const network = new InMemoryNetwork();
    const [oldAgg, newAgg] = [network.endpoint('old'), network.endpoint('new')];
    const member = new SessionNode({ transport: network.endpoint('me'), name: 'me', trainer: () => fakeTrainer(trainCalls), timing });
    const roundStart = (term: number, round: number): Message => ({ type: 'round-start', v: PROTOCOL_VERSION, term, version: round - 1, assignment: round, model: config.model, strategy: config.strategy, train: { ...config.train, seed: 1 }, weights: weights(0) });
    const joined = member.join('old');
    await vi.advanceTimersByTimeAsync(1);
    oldAgg.send('me', { type: 'welcome', v: PROTOCOL_VERSION, term: 3, slot: 1, round: 9, config });
    oldAgg.send('me', roundStart(3, 10));
    await vi.advanceTimersByTimeAsync(300);
    await joined;
    // The old aggregator steps down in favour of "new", which resumes from an earlier checkpoint.
    oldAgg.send('me', { type: 'roster', v: PROTOCOL_VERSION, term: 4, aggregatorId: 'new', round: 10, peers: [] });
    await vi.advanceTimersByTimeAsync(10);
    newAgg.send('me', { type: 'welcome', v: PROTOCOL_VERSION, term: 4, slot: 1, round: 7, config });
    newAgg.send('me', roundStart(4, 8));
    await vi.advanceTimersByTimeAsync(300);
    expect(member.aggregatorId).toBe('new');
    expect(trainCalls).toEqual([10, 8]);
    member.leave();
  });
});

describe('private by default', () => {
  it('rosters sent to peers carry no label histograms; the aggregator keeps them', async () => {
    const { nodes, sent } = makeSession();
    await startSession(nodes);
    await vi.advanceTimersByTimeAsync(300);
    const rosters = sent.filter((s) => s.message.type === 'roster');
    expect(rosters.length).toBeGreaterThan(0);
    for (const { message } of rosters) if (message.type === 'roster') for (const p of message.peers) expect(p.labelHistogram).toEqual([]);
    expect(nodes[0].roster.find((e) => e.id === 'ann')?.labelHistogram).toEqual([7, 3]);
    expect(nodes[1].roster.find((e) => e.id === 'bob')?.labelHistogram).toEqual([]);
    nodes.forEach((n) => n.leave());
  });

  it('exact decomposition falls back to proxy above the participant cap', async () => {
    const names = Array.from({ length: 12 }, (_, i) => (i === 0 ? 'host' : `p${i}`));
    const { nodes, logs } = makeSession({ names });
    const [host, ...members] = nodes;
    await host.host({ ...config, decomposition: 'exact' }, weights(0));
    void Promise.all(members.slice(0, 9).map((m) => m.join('host')));
    await vi.advanceTimersByTimeAsync(50);
    expect(host.clients).toHaveLength(10);
    expect(host.config?.decomposition).toBe('exact');
    void Promise.all(members.slice(9).map((m) => m.join('host')));
    await vi.advanceTimersByTimeAsync(50);
    expect(host.clients).toHaveLength(12);
    expect(host.config?.decomposition).toBe('proxy');
    expect(logs.some((l) => l.includes('switches from exact to proxy'))).toBe(true);
    nodes.forEach((n) => n.leave());
  });
});
