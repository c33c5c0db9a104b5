/**
 * Rows 4 and 5 of scripts/bench-attacks.ts: who aggregates after a flapping link, and whether a peer that announces
 * itself during a handover is followed. Real SessionNodes over AuthenticatedTransport on the in-memory network with
 * real wire frames, real timers with short session timings, trainers that return zero updates (no tfjs), so the
 * rounds, checkpoints and handover run as in the tabs.
 */
import { createWireCodec } from '../src/fl/codec';
import { InMemoryNetwork } from '../src/fl/in-memory-transport';
import type { LocalTrainer } from '../src/fl/local-trainer';
import { mlpSpec } from '../src/fl/model-spec';
import { PROTOCOL_VERSION, type Message, type SessionConfig } from '../src/fl/protocol';
import type { WeightSet } from '../src/fl/weights';
import { AuthenticatedTransport } from '../src/session/authenticated-transport';
import { hostPeerId, randomSecret, randomSessionCode } from '../src/session/session-code';
import { SessionNode } from '../src/session/session-node';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) return false;
    await sleep(5);
  }
  return true;
}

/**
 * Timings of the bench's sessions, shorter than the defaults. Both generations of the session layer are covered: the
 * handover by join order (handoverStepMs) and the election with terms (heartbeatMs, silenceMs, voteTimeoutMs);
 * a SessionNode takes the keys it knows.
 */
export const ELECTION_TIMING = { handoverStepMs: 300, heartbeatMs: 100, silenceMs: 500, voteTimeoutMs: 300, retryRoundMs: 50, welcomeTimeoutMs: 3_000 };

/** How long a flapping link stays down: longer than the silence and handover timings above, so a successor does step in. */
export const FLAP_DOWN_MS = 1_500;
/** How long after the links are back (or the host left) the state is read. */
export const SETTLE_MS = 3_000;

const SPEC = mlpSpec([4], 2, [3]);

function config(): SessionConfig {
  return {
    model: SPEC,
    strategy: { name: 'fedavg' },
    train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
    rounds: 10_000,
    minClients: 2,
    fraction: 1,
    roundDeadlineMs: 2_000,
    decomposition: 'off',
    decompositionEvery: 1,
    codec: 'float32',
    seed: 1,
    demo: { partition: { kind: 'iid' }, clients: 4 },
  };
}

function zeroWeights(): WeightSet {
  return [
    { name: 'dense/kernel', shape: [4, 3], values: new Float32Array(12) },
    { name: 'dense/bias', shape: [3], values: new Float32Array(3) },
    { name: 'dense_1/kernel', shape: [3, 2], values: new Float32Array(6) },
    { name: 'dense_1/bias', shape: [2], values: new Float32Array(2) },
  ];
}

/** A trainer that returns a zero update after a few ms: rounds complete, nothing is learned. */
export function zeroTrainer(numSamples = 10): LocalTrainer {
  return {
    info: async () => ({ backend: 'cpu', numSamples, labelHistogram: [numSamples / 2, numSamples / 2] }),
    train: async (req) => {
      await sleep(5);
      return {
        delta: req.weights.map((t) => ({ name: t.name, shape: [...t.shape], values: new Float32Array(t.values.length) })),
        numSamples,
        metrics: { trainLoss: 0.5, evalLoss: 0.5, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 1000 },
        cancelled: false,
      };
    },
    evaluate: async (_spec, sets) => ({
      losses: sets.map(() => 0.5),
      accuracies: sets.map(() => 0.5),
      perClassAccuracies: sets.map(() => [0.5, 0.5]),
      predictionCounts: sets.map(() => [5, 5]),
      numSamples,
    }),
  };
}

interface Session {
  network: InMemoryNetwork;
  link: { cut(a: string, b: string): void; restore(a: string, b: string): void };
  nodes: SessionNode[];
  transports: AuthenticatedTransport[];
  names: Map<string, string>;
  close(): void;
}

/** A host and `members` clients, joined, with rounds running until every client holds a global model. */
async function session(members: string[]): Promise<Session> {
  const secret = randomSecret();
  const hostId = await hostPeerId(randomSessionCode(), secret);
  // Links in an outage drop everything, whoever tries to reconnect (an in-memory connect() would restore them).
  const down = new Set<string>();
  const key = (a: string, b: string) => [a, b].sort().join('|');
  const network = new InMemoryNetwork({ codec: createWireCodec('float32'), plan: (from, to) => (down.has(key(from, to)) ? { drop: true } : undefined) });
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
  const names = new Map<string, string>([[hostId, 'host']]);
  const transports: AuthenticatedTransport[] = [];
  const make = (id: string, name: string) => {
    const transport = new AuthenticatedTransport(network.endpoint(id), { secret });
    transports.push(transport);
    names.set(id, name);
    const trainer = zeroTrainer();
    return new SessionNode({ transport, name, trainer: () => trainer, timing: ELECTION_TIMING });
  };
  const host = make(hostId, 'host');
  await host.host(config(), zeroWeights());
  const clients = members.map((name) => make(`peer-${name}`, name));
  for (const c of clients) await c.join(hostId);
  void host.start().catch(() => undefined);
  const nodes = [host, ...clients];
  // Every client has seen a round start (so it holds a global model and could take over) and a roster of everyone.
  const ready = await waitUntil(() => clients.every((c) => c.rounds.length >= 1 && c.roster.length === nodes.length), 10_000);
  if (!ready) throw new Error('the session did not complete a round within 10 s');
  return {
    network,
    link,
    nodes,
    transports,
    names,
    close: () => nodes.forEach((n) => n.leave()),
  };
}

export interface ElectionOutcome {
  /** Names of the nodes that aggregate. */
  aggregators: string[];
  /** For each node, whom it follows (its aggregator's name). */
  views: Record<string, string>;
  /** Groups of nodes that agree on an aggregator. */
  sessions: number;
}

/** Who aggregates and who follows whom; `gone` (a node that left the network) is not counted. */
function outcome(s: Session, gone?: string): ElectionOutcome {
  const views: Record<string, string> = {};
  const nodes = s.nodes.filter((n) => n.selfId !== gone);
  for (const n of nodes) views[s.names.get(n.selfId)!] = n.aggregatorId ? (s.names.get(n.aggregatorId) ?? n.aggregatorId) : 'none';
  return {
    aggregators: nodes.filter((n) => n.isAggregator).map((n) => s.names.get(n.selfId)!),
    views,
    sessions: new Set(Object.values(views)).size,
  };
}

/** The flapping pattern of row 4: outages of FLAP_DOWN_MS, each followed by FLAP_UP_MS with the link back. */
export const FLAPS = 3;
export const FLAP_UP_MS = 1_000;

export interface FlapOutcome {
  /** SETTLE_MS after the last restore. */
  settled: ElectionOutcome;
  /** LATER_MS after that: whether two sessions stay apart. */
  later: ElectionOutcome;
}

/** How long after the settled reading the second one is taken. */
export const LATER_MS = 5_000;

/**
 * Row 4: the links between the host and `flapping` clients go down and come back FLAPS times, the host alive all
 * along. Read SETTLE_MS after the last restore, and again LATER_MS after that.
 */
export async function flappingLinks(flapping: number): Promise<FlapOutcome> {
  const s = await session(['ann', 'bob', 'cy']);
  try {
    const host = s.nodes[0];
    const cut = s.nodes.slice(1, 1 + flapping);
    for (let flap = 0; flap < FLAPS; flap++) {
      for (const c of cut) s.link.cut(host.selfId, c.selfId);
      await sleep(FLAP_DOWN_MS);
      for (const c of cut) s.link.restore(host.selfId, c.selfId);
      await sleep(FLAP_UP_MS);
    }
    await sleep(SETTLE_MS - FLAP_UP_MS);
    const settled = outcome(s);
    await sleep(LATER_MS);
    return { settled, later: outcome(s) };
  } finally {
    s.close();
  }
}

export interface AnnouncementTrial {
  /** Whom the victim follows at the end. */
  victimFollows: string;
  followedAttacker: boolean;
  /** Whether the victim was in a handover when the announcement was sent. */
  sentDuringHandover: boolean;
  outcome: ElectionOutcome;
}

/**
 * Row 5: the host leaves; while the victim (bob) is handing over, an admitted peer (dan, last in line, connected to
 * the victim beforehand) announces itself as the aggregator with a roster message. With `attack` false, nobody lies (the clean run).
 */
export async function announcementTrial(attack: boolean, settleMs = SETTLE_MS): Promise<AnnouncementTrial> {
  const s = await session(['ann', 'bob', 'cy', 'dan']);
  try {
    const [host, , bob, , dan] = s.nodes;
    const danTransport = s.transports[4];
    // The attacker is admitted (it knows the secret) and opens its link to the victim beforehand, to be first.
    if (attack) await danTransport.connect(bob.selfId);
    s.network.disconnect(host.selfId);
    await waitUntil(() => bob.inHandover, 5_000);
    let sentDuringHandover = bob.inHandover;
    if (attack) {
      // The roster announcement of the branch the bench runs on; where the session layer has terms, it claims the next one.
      const victimTerm = (bob as unknown as { term?: unknown }).term;
      const lie = {
        type: 'roster',
        v: PROTOCOL_VERSION,
        aggregatorId: dan.selfId,
        round: bob.currentRound,
        peers: bob.roster,
        ...(typeof victimTerm === 'number' ? { term: victimTerm + 1 } : {}),
      };
      sentDuringHandover = bob.inHandover;
      danTransport.send(bob.selfId, lie as unknown as Message);
    }
    await sleep(settleMs);
    const o = outcome(s, host.selfId);
    return { victimFollows: o.views.bob, followedAttacker: bob.aggregatorId === dan.selfId, sentDuringHandover, outcome: o };
  } finally {
    s.close();
  }
}
