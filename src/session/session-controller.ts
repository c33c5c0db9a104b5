/**
 * The session controller the dashboard talks to: ties the training worker, the peer transport and the session node
 * together, and keeps the SessionState the dashboard renders. Runs on the main thread; never trains. Everything
 * that needs a browser (worker, WebRTC, IndexedDB, fetch, location) comes in through ControllerDeps.
 */
import type { WireCodec } from '../fl/transport';
import { CannotTakePart, secureAggregationProblem, type PageCrypto } from './secure-aggregation-support';
import type { ModelSpec } from '../fl/model-spec';
import { cnnSpec, mlpSpec, tabularSpec } from '../fl/model-spec';
import type { DecompositionMode, Message, SessionConfig } from '../fl/protocol';
import type { LocalTrainer } from '../fl/local-trainer';
import type { WeightSet } from '../fl/weights';
import type { EngineHooks } from '../fl/engine';
import type { LocalFile } from '../data/pickers';
import { demoDataFits } from '../data/task-fit';
import type { TransportError } from '../net/peer-transport';
import type { PredictInput } from '../worker/api';
import type { ConfusionResult, Prediction, SamplePrediction } from '../worker/inspect';
import { TabWorkers, type WorkerFactories } from './controller/tab-workers';
import { LocalData, type StoredData } from './controller/local-data';
import { GlobalModel } from './controller/global-model';
import { TabMemory } from './controller/tab-memory';
import { hostCommitment, hostProof, randomHostSeed } from './host-key';
import { hostPeerId, joinLink, normaliseSessionCode, randomSecret, randomSessionCode } from './session-code';
import { AuthenticatedTransport } from './authenticated-transport';
import { trainingFraction } from '../fl/progress-report';
import { LiveStatusTracker } from './live-status';
import { projectSession } from './session-projection';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { LOBBY_RETRY_MS, LobbyKeeper, type LobbyTransport } from './lobby';
import { wasAggregating, type HostSnapshot, type HostSnapshotStore, type TabSession, type TabSessionStore } from './resume-store';
import type { SessionTransport } from './session-transport';
import { CONTROL_MESSAGE_LIMIT } from '../fl/codec/session-limits';
import { SwitchableWireCodec } from './switchable-codec';
import { watchNetwork, withNetworkReason } from './network-monitor';
import type { NetworkReport } from '../net/connection-watch';
import { INITIAL_SESSION_STATE, type LogEntry, type SessionController, type SessionSettings, type SessionState, type SessionTask } from './types';

export type { ControllerTrainer } from './controller/tab-workers';

/** The peer transport as the controller uses it. */
export interface ControllerTransport extends SessionTransport {
  /** How each connection runs (direct or relayed, RTT) and why an attempt never opened (see src/net/connection-watch). */
  networkReport?(): Promise<NetworkReport>;
  whyUnconnected?(peerId: string): string | undefined;
  close(): void;
  onError(handler: (error: TransportError) => void): unknown;
}

/** Everything browser-bound the controller needs; src/session/controller.ts has the real ones. */
export interface ControllerDeps extends WorkerFactories {
  /** `onSignallingState`: given for the host, whose id must be kept (and reclaimed after a signalling drop). */
  openTransport(options: {
    id?: string;
    codec: WireCodec;
    iceServers: string;
    /** The session's id (its host's signalling id): the app server's relay is fetched for tabs of it. */
    relaySession?: string;
    onSignallingState?: (state: 'lost' | 'retrying' | 'reclaimed') => void;
  }): Promise<ControllerTransport>;
  /** Addresses other devices of the LAN can open. */
  lanUrls(): Promise<string[]>;
  /** The user's data stored in this browser (IndexedDB); importing happens in the training worker. */
  storedData: StoredData;
  /** This page's address without its hash: the base of join links. */
  pageUrl(): string;
  /** What this page offers of WebCrypto (secure aggregation needs it; plain-http LAN pages have none). */
  page: PageCrypto;
  /** Which session this tab is in, kept across reloads (absent: a reload ends participation). */
  tabSession?: TabSessionStore;
  /** The aggregating tab's session after each round (the host's, or a successor's), so that tab resumes it after a reload. */
  hostSnapshots?: HostSnapshotStore;
}

export interface SessionControllerOptions {
  /** STUN/TURN servers as typed by the user, one per line (see src/net/ice-config); empty means LAN only. */
  iceServers?: () => string;
}

export const CONTROLLER_CONFIG = {
  /** Log entries kept for the dashboard. */
  maxLogEntries: 200,
} as const;

const DEMO_INPUT: [number, number, number] = [28, 28, 1];
const DEMO_CLASSES = 10;

/** The model the host's settings define: the task fixes inputs and outputs, the settings the architecture. */
export function modelSpecForSettings(settings: Pick<SessionSettings, 'model' | 'task' | 'hidden'>): ModelSpec {
  const task = settings.task ?? { kind: 'mnist' };
  if (task.kind === 'tabular') return tabularSpec(task.features, task.classes, settings.hidden ?? [32, 16]);
  const input: [number, number, number] = task.kind === 'mnist' ? DEMO_INPUT : [task.height, task.width, task.channels];
  const classes = task.kind === 'mnist' ? DEMO_CLASSES : task.classes;
  return settings.model === 'cnn' ? cnnSpec(input, classes) : mlpSpec(input, classes, settings.hidden ?? [64]);
}

/** The task a model spec stands for (the inverse of modelSpecForSettings, for joining tabs). */
export function taskOfSpec(spec: ModelSpec): SessionTask {
  if (spec.kind === 'tabular') return { kind: 'tabular', features: spec.features, classes: spec.numClasses };
  const [h, w, c] = spec.inputShape.length === 3 ? spec.inputShape : [spec.inputShape[0] ?? 1, 1, 1];
  if (demoFits(spec)) return { kind: 'mnist' };
  return { kind: 'images', height: h, width: w, channels: c === 3 ? 3 : 1, classes: spec.numClasses };
}

/** Whether the built-in MNIST demo data (and its test split) fits this model. */
export function demoFits(spec: ModelSpec): boolean {
  return demoDataFits(spec);
}

export function sessionConfigFromSettings(s: SessionSettings): SessionConfig {
  return {
    model: modelSpecForSettings(s),
    strategy: s.strategy,
    train: { localEpochs: s.localEpochs, batchSize: s.batchSize, learningRate: s.learningRate, ...(s.optimizer ? { optimizer: s.optimizer } : {}), ...(s.momentum !== undefined ? { momentum: s.momentum } : {}) },
    rounds: s.rounds,
    minClients: s.minClients,
    fraction: s.fraction,
    roundDeadlineMs: s.roundDeadlineMs,
    decomposition: s.decomposition,
    decompositionEvery: s.decompositionEvery,
    codec: s.codec,
    seed: s.seed,
    ...(s.robust ? { robust: s.robust } : {}),
    demo: { partition: s.demoPartition, clients: s.demoClients },
    ...(s.aggregation && s.aggregation.mode !== 'sync' ? { aggregation: s.aggregation } : {}),
    ...(s.privacy ? { privacy: s.privacy } : {}),
  };
}

function settingsFromConfig(c: SessionConfig, hostTrains: boolean): SessionSettings {
  return {
    task: taskOfSpec(c.model),
    model: c.model.kind === 'cnn' ? 'cnn' : 'mlp',
    ...(c.model.kind === 'cnn' ? {} : { hidden: c.model.hidden }),
    strategy: c.strategy,
    rounds: c.rounds,
    localEpochs: c.train.localEpochs,
    batchSize: c.train.batchSize,
    learningRate: c.train.learningRate,
    ...(c.train.optimizer ? { optimizer: c.train.optimizer } : {}),
    ...(c.train.momentum !== undefined ? { momentum: c.train.momentum } : {}),
    minClients: c.minClients,
    fraction: c.fraction,
    roundDeadlineMs: c.roundDeadlineMs,
    decomposition: c.decomposition,
    decompositionEvery: c.decompositionEvery,
    codec: c.codec,
    ...(c.robust ? { robust: c.robust } : {}),
    demoPartition: c.demo.partition,
    demoClients: c.demo.clients,
    seed: c.seed,
    hostTrains,
    ...(c.aggregation ? { aggregation: c.aggregation } : {}),
    ...(c.privacy ? { privacy: c.privacy } : {}),
  };
}

/**
 * The node's transport (the authenticated one: only messages of peers that proved the join secret), with every
 * application message it sends and receives also shown to `tap` (the live status tracker) and to `onGlobal`: the
 * UI's per-peer status comes from the protocol traffic itself. Messages between the aggregating tab and its own
 * local client never cross this transport (see LocalLoop); setSelf covers them.
 */
export function tappedTransport(inner: SessionTransport, tap: LiveStatusTracker, onGlobal?: (round: number, weights: WeightSet) => void): SessionTransport {
  const seeGlobal = (m: Message) => {
    // A round-start carries the global model after the previous round; a checkpoint the one after its round.
    if (m.type === 'round-start') onGlobal?.(m.version, m.weights);
    else if (m.type === 'checkpoint') onGlobal?.(m.round, m.weights);
  };
  inner.onMessage((from, m) => {
    tap.received(from, m);
    seeGlobal(m);
  });
  inner.onPeerLeft((peer) => tap.left(peer));
  return {
    get selfId() {
      return inner.selfId;
    },
    send: (to, m) => {
      tap.sent(to, m);
      seeGlobal(m);
      return inner.send(to, m);
    },
    onMessage: (handler) => inner.onMessage(handler),
    onPeerLeft: (handler) => inner.onPeerLeft(handler),
    connect: (peerId) => inner.connect(peerId),
    trafficTotals: () => inner.trafficTotals(),
    admit: (peerId) => inner.admit(peerId),
    disconnect: (peerId) => inner.disconnect(peerId),
    setMessageLimit: (bytes, objects) => inner.setMessageLimit(bytes, objects),
  };
}

/**
 * The log with `entry` appended; a line already there (same level and text: a repeated condition, such as a round
 * that cannot run, retried every second) is counted instead, and moves to the end, so it never pushes the others out.
 */
export function appendLog(log: readonly LogEntry[], entry: LogEntry): LogEntry[] {
  const at = log.findIndex((e) => e.level === entry.level && e.text === entry.text);
  if (at < 0) return [...log, entry].slice(-CONTROLLER_CONFIG.maxLogEntries);
  return [...log.slice(0, at), ...log.slice(at + 1), { ...entry, count: (log[at].count ?? 1) + 1 }];
}

/** `next` unless it equals `prev` element by element (shallow): then `prev`, so the UI sees an unchanged reference and skips the render. */
export function keepIfSame<T extends object>(prev: T[], next: T[]): T[] {
  if (prev.length !== next.length) return next;
  for (let i = 0; i < next.length; i++) {
    const a = prev[i] as Record<string, unknown>;
    const b = next[i] as Record<string, unknown>;
    const keys = Object.keys(b);
    if (keys.length !== Object.keys(a).length || keys.some((k) => a[k] !== b[k])) return next;
  }
  return prev;
}

function sameNumbers(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What an action still in flight throws when the user left the session (or cancelled the rejoin) before it finished. */
export class SessionEnded extends Error {
  constructor() {
    super('the session was left before this finished');
    this.name = 'SessionEnded';
  }
}

/** Why joining found nobody, in the words of the join form: the code and the passphrase typed. */
export function noSessionFound(code: string, passphrase: string): string {
  return `no open session has the code ${code} with the passphrase ${passphrase}: check both against the host's screen (the passphrase is shown beside the code), or ask the host whether the session is still open`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SessionControllerCore implements SessionController {
  private state: SessionState = INITIAL_SESSION_STATE;
  private readonly listeners = new Set<(s: SessionState) => void>();
  private readonly workers: TabWorkers;
  private readonly data: LocalData;
  /** The newest global model this tab has seen (round-start, checkpoint, its own training, its node's checkpoint). */
  private readonly model = new GlobalModel();
  private transport: ControllerTransport | null = null;
  private auth: AuthenticatedTransport | null = null;
  private readonly codec = new SwitchableWireCodec();
  private node: SessionNode | null = null;
  private live = new LiveStatusTracker();
  /** How each round's decomposition was measured, as known when the round's record first appeared. */
  private readonly modeByRound = new Map<number, DecompositionMode | null>();
  private roundsSeen = 0;
  private secret = '';
  /** The host tab's peer id (derived from code and secret). */
  private hostId = '';
  /** Holds the host id for the session after a takeover by this tab (see src/session/lobby.ts). */
  private lobby: LobbyKeeper | null = null;
  /** Counts the sessions this tab ended (left, or a rejoin cancelled): a join begun before one stops instead of reviving it. */
  private ended = 0;
  /** What this tab keeps of its session across a reload. */
  private readonly memory: TabMemory;
  /** A resuming successor's registration of the host id, handed to its lobby (see resume()). */
  private keptLobby: ControllerTransport | null = null;
  private stopNetworkWatch: () => void = () => undefined;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly options: SessionControllerOptions = {},
  ) {
    this.workers = new TabWorkers(deps);
    this.memory = new TabMemory(deps.tabSession, deps.hostSnapshots, (text) => this.log('warn', text));
    this.data = new LocalData(this.workers.trainer, deps.storedData, (level, text) => this.log(level, text), (localData) => this.set({ localData }));
  }

  getState(): SessionState {
    return this.state;
  }

  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<SessionState>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l(this.state));
  }

  private log(level: LogEntry['level'], text: string): void {
    this.set({ log: appendLog(this.state.log, { time: Date.now(), level, text }) });
  }

  /** An action failed in a way that concerns that action only (shown next to it by the UI): logged, thrown, not the session's error. */
  private failAction(e: unknown): never {
    const text = message(e);
    this.log('error', text);
    throw e instanceof Error ? e : new Error(text);
  }

  private fail(e: unknown): never {
    const text = message(e);
    this.log('error', text);
    this.set({ error: text });
    throw e instanceof Error ? e : new Error(text);
  }

  /** Recomputes everything the dashboard derives from the session node. */
  private refresh(): void {
    const node = this.node;
    if (!node) return;
    this.memory.aggregates(this.state.code, node.isAggregator);
    this.lobby?.update();
    const aggregatorId = node.aggregatorId;
    const roster = node.roster;
    const live = this.live;
    live.roundsFinished(node.rounds);
    const latest = node.globalModel;
    // Round 0 (the initial model) only once a round has started: it then travels with round 1's start.
    if (latest && latest.round > 0) this.rememberGlobal(latest.round, latest.weights);
    const ownHistogram = this.state.localData?.labelHistogram ?? [];
    const base = node.isAggregator
      ? node.clients.map((c) => ({ ...c }))
      : // Rosters sent to non-aggregating tabs carry no label counts (privacy); this tab knows its own.
        roster.map((r) => ({ ...r, joinedAt: 0, ...(r.id === node.selfId && r.labelHistogram.length === 0 && r.numSamples > 0 ? { labelHistogram: ownHistogram } : {}) }));
    // This tab's own training progress (its reports to itself never cross the network).
    const own = this.state.localProgress;
    const ownFraction = (round: number) => (own && own.round === round ? trainingFraction(own, node.config?.train.localEpochs ?? null) : null);
    const peers = base.map((p) => {
      const s = live.view(p.id, p.numSamples);
      const round = s.round;
      return {
        ...p,
        isAggregator: p.id === aggregatorId,
        isSelf: p.id === node.selfId,
        // A client tab sees only the roster: what the others do is known to the aggregator alone.
        status: node.isAggregator || p.id === node.selfId ? s.status : p.numSamples > 0 ? ('idle' as const) : ('no-data' as const),
        statusDetail: node.isAggregator || p.id === node.selfId ? s.detail : null,
        statusSince: s.since,
        statusRound: round,
        statusProgress: p.id === node.selfId ? (s.status === 'training' ? (s.fraction ?? ownFraction(round)) : null) : node.isAggregator ? (s.fraction ?? null) : null,
      };
    });
    const code = this.state.code;
    const joinUrl = code ? joinLink(this.deps.pageUrl(), code, this.secret, aggregatorId ?? undefined, this.hostId) : null;
    const settings = node.config ? settingsFromConfig(node.config, this.state.settings?.hostTrains ?? true) : this.state.settings;
    // Header and buttons come from the session's record (the aggregator's own, or the one it replicated here).
    const view = projectSession({
      record: node.sessionRecord,
      connecting: this.state.status === 'connecting',
      // The aggregator's own header reads its record too (its engine counts a round a moment before the record does).
      roundsKnown: node.isAggregator ? 0 : Math.max(node.currentRound, live.marks.finished),
      totalRounds: node.config?.rounds ?? null,
    });
    const mode = node.config?.decomposition ?? null;
    for (const r of node.rounds) if (!this.modeByRound.has(r.round)) this.modeByRound.set(r.round, r.decomposition ? mode : null);
    if (!sameNumbers(this.state.selfContributions, live.selfContributions)) this.memory.keepContributions(this.state.code, live.selfContributions);
    if (node.isAggregator) this.memory.keepRunning(this.state.code, view.phase === 'running' || view.phase === 'waiting');
    // A finished round is a success: an older session error is stale now.
    const progressed = node.rounds.length > this.roundsSeen;
    this.roundsSeen = node.rounds.length;
    this.set({
      ...(progressed && this.state.error ? { error: null } : {}),
      modelSpec: node.config?.model ?? null,
      selfId: node.selfId,
      aggregatorId,
      isAggregator: node.isAggregator,
      peers: keepIfSame(this.state.peers, peers),
      rounds: keepIfSame(
        this.state.rounds,
        node.rounds.map((r) => ({ ...r, decompositionMode: this.modeByRound.get(r.round) ?? null })),
      ),
      currentRound: view.currentRound,
      runningRound: view.runningRound,
      stopping: view.stopping,
      phase: view.phase,
      waitingFor: view.waitingFor,
      endedBecause: view.endedBecause,
      selfContributions: sameNumbers(this.state.selfContributions, live.selfContributions) ? this.state.selfContributions : live.selfContributions,
      joinUrl,
      settings,
      status: view.status,
    });
  }

  /** `ended`: the count when the action that opens it began; the transport is closed again if the session ended meanwhile. */
  private async openTransport(id?: string, ended = this.ended): Promise<ControllerTransport> {
    const onSignallingState =
      id === undefined
        ? undefined
        : (state: 'lost' | 'retrying' | 'reclaimed') => {
            if (state === 'lost') this.log('warn', "lost the signalling server: open connections stay; re-registering this session's id");
            else if (state === 'reclaimed') this.log('info', 'signalling server reached again: new tabs can join');
          };
    const t = await this.deps.openTransport({ id, codec: this.codec, iceServers: this.options.iceServers?.() ?? '', relaySession: this.hostId, onSignallingState });
    if (ended !== this.ended) {
      t.close();
      throw new SessionEnded();
    }
    t.onError((e) => this.log(e.kind === 'decode' ? 'warn' : 'error', `${e.peerId ? `${e.peerId}: ` : ''}${e.message}`));
    this.transport = t;
    this.stopNetworkWatch();
    this.stopNetworkWatch = watchNetwork(t, (network) => this.set({ network }));
    return t;
  }

  private createNode(transport: ControllerTransport, name: string, validation?: ValidationEvaluator, clientKey?: string): SessionNode {
    // Only peers that prove they know the join secret get through; the secret itself never leaves this tab.
    this.auth?.close();
    const auth = new AuthenticatedTransport(transport, { secret: this.secret, onSummary: (text) => this.log('warn', text) });
    this.auth = auth;
    const live = new LiveStatusTracker();
    live.selfId = transport.selfId;
    // The rounds this tab contributed to before a reload of this session.
    live.restoreContributions(this.memory.contributions(this.state.code));
    this.live = live;
    const node: SessionNode = new SessionNode({
      // The live status sees what the node sees: application messages of authenticated peers only.
      transport: tappedTransport(auth, live, (round, weights) => this.rememberGlobal(round, weights)),
      name,
      trainer: () => (this.data.has ? this.observedTrainer : null),
      party: this.workers.trainer.party,
      validation,
      ...(this.workers.aggregatesElsewhere ? { aggregate: this.workers.aggregate, unmask: this.workers.unmask } : {}),
      clientKey,
      onCheckpoint: (checkpoint, records, roster) => this.saveHostSnapshot(checkpoint, records, roster),
      onChange: () => this.refresh(),
      onLog: (level, text) => this.log(level, text),
      onProgress: (round, p) => this.set({ localProgress: { round, ...p } }),
      onPeerProgress: (peerId, round, fraction) => live.progress(peerId, round, fraction),
      onActivity: (a) => {
        // Training happens in the round being run; cross-evaluation after that round was aggregated.
        const round = !node.isAggregator ? live.marks.started : a === 'training' ? node.currentRound + 1 : node.currentRound;
        live.setSelf(node.selfId, a, round);
        this.refresh();
      },
    });
    this.node = node;
    this.lobby?.close();
    this.lobby = this.createLobby(node);
    return node;
  }

  private rememberGlobal(round: number, weights: WeightSet): void {
    if (this.model.remember(round, weights) && this.state.globalModelRound !== round) this.set({ globalModelRound: round });
  }

  /** The training worker, seen by the session: each round's request carries the global model it starts from. */
  private readonly observedTrainer: LocalTrainer = {
    train: (req, hooks) => {
      this.rememberGlobal(req.round - 1, req.weights);
      return this.workers.trainer.train(req, hooks);
    },
    evaluate: (spec, weights) => this.workers.trainer.evaluate(spec, weights),
    info: () => this.workers.trainer.info(),
  };

  // ---- surviving the host tab and reloads ---------------------------------------------

  /** After a takeover this tab also holds the session's host id, so the original code, link and QR code still work. */
  private createLobby(node: SessionNode): LobbyKeeper {
    const hostId = this.hostId;
    const secret = this.secret;
    return new LobbyKeeper({
      open: async (): Promise<LobbyTransport> => {
        const kept = this.keptLobby;
        this.keptLobby = null;
        const t = kept ?? (await this.deps.openTransport({ id: hostId, codec: this.codec, iceServers: this.options.iceServers?.() ?? '', relaySession: hostId }));
        const auth = new AuthenticatedTransport(t, { secret, onSummary: (text) => this.log('warn', `lobby: ${text}`) });
        // Joiners send a lobby nothing but their hello: no model-sized message.
        auth.setMessageLimit(CONTROL_MESSAGE_LIMIT.bytes, CONTROL_MESSAGE_LIMIT.objects);
        const closeAuth = auth.close.bind(auth);
        return Object.assign(auth, {
          close: () => {
            closeAuth();
            t.close();
          },
        });
      },
      target: () => (node.isAggregator && node.selfId !== hostId ? { aggregatorId: node.selfId, term: node.term } : null),
      retryMs: LOBBY_RETRY_MS,
      log: (level, text) => this.log(level, text),
    });
  }

  /**
   * The session this tab was in before a reload, if it can be resumed. `role` is what the tab comes back as: 'host'
   * when it aggregated the session (it hosted it, or took over from its host: either way the session's host now),
   * which a reload offers to resume; 'client' otherwise, which rejoins by itself.
   */
  resumable(): Pick<TabSession, 'code' | 'role' | 'name'> | null {
    return this.memory.resumable();
  }

  /**
   * Resumes the session this tab was in before a reload. A client rejoins with its key (same slot, same demo shard).
   * The tab that aggregated it (its host, or a successor that took over) reopens it from its snapshot: at its last
   * round, in the same term, with the strategy's state, under the same id; unless the session went on without it
   * (see reopenAsAggregator), when it joins as a client.
   */
  async resume(): Promise<void> {
    const saved = this.memory.load();
    if (!saved) throw new Error('no session to resume in this tab');
    const snapshot = wasAggregating(saved) ? await this.memory.ownSnapshot(saved) : null;
    if (snapshot) {
      this.codec.use(snapshot.config.codec);
      const reopened = await this.reopenAsAggregator(saved, snapshot);
      if (reopened.resume) return this.resumeHost(reopened.resume, saved, snapshot);
      this.log('info', `session ${saved.code} went on without this tab: joining it as a client`);
      await this.joinOn(saved.code, saved.secret, saved.name, undefined, reopened.joinOn ?? undefined);
      // In as a client: the snapshot is stale (kept until then, should joining fail and the session turn out gone).
      await this.memory.forgetSnapshot(saved.code);
      return;
    }
    return this.join(saved.code, saved.secret, saved.name);
  }

  /**
   * Registers the ids an aggregating tab resumes under. `resume`: the transport to aggregate on again; else the
   * session went on without this tab, and `joinOn`, when not null, is the transport to join it as a client on.
   *
   * The host resumes under the host id, which is both the id its members follow and the lobby newcomers use: if a
   * newer aggregator's lobby holds it, the session went on.
   *
   * A successor resumes under its own former id, not the host id, although it also held the host id (its lobby):
   * - its members follow that id in its term, so they take it back as they take back a reloaded host (a reload within
   *   their silence deadline goes unnoticed). Under the host id it would be a stranger announcing an old term: they
   *   would ignore it, elect the next successor anyway, and it could only lose;
   * - should a later term have replaced it, that term's aggregator is this id's successor and calls this id back
   *   (AggregatorRole.announceTo, onStale), so the usual merge applies: this tab, having no majority, steps down;
   * - its slot, hence its demo shard, stays its own: the others know the slot by this id, as a client after
   *   the session went on too (it joins the newer aggregator under this id).
   * The host id still decides whether the session went on: held (by a newer aggregator's lobby, or by the host tab
   * back in the session), this tab joins as a client through it; free, this tab keeps it as its lobby again.
   */
  private async reopenAsAggregator(saved: TabSession, snapshot: HostSnapshot): Promise<{ resume: ControllerTransport | null; joinOn: ControllerTransport | null }> {
    const ended = this.ended;
    const hostId = await hostPeerId(saved.code, saved.secret);
    const ownId = snapshot.peerId ?? hostId;
    const own = await this.openTransport(ownId, ended).catch((e: unknown) => {
      if (e instanceof SessionEnded) throw e;
      return null;
    });
    if (ownId === hostId || !own) return { resume: own, joinOn: null };
    const lobby = await this.deps.openTransport({ id: hostId, codec: this.codec, iceServers: this.options.iceServers?.() ?? '', relaySession: hostId }).catch(() => null);
    if (ended !== this.ended) {
      lobby?.close();
      throw new SessionEnded();
    }
    if (!lobby) return { resume: null, joinOn: own };
    this.keptLobby?.close();
    this.keptLobby = lobby;
    return { resume: own, joinOn: null };
  }

  /**
   * After a reload: a client tab that was in a session rejoins it by itself, with its key (same slot, same demo shard);
   * state.rejoining says so meanwhile. Resolves true once rejoined; false when there was nothing to rejoin (no session
   * kept, or this tab aggregated it, as its host or its successor: resuming that stays the user's choice), the user
   * cancelled, or it failed: the tab is then back where a reload leaves it, offering resume(), with the reason as the
   * session's error.
   */
  async rejoinAfterReload(): Promise<boolean> {
    const saved = this.memory.load();
    if (!saved || wasAggregating(saved) || this.node || this.state.status !== 'idle') return false;
    this.set({ rejoining: { code: saved.code } });
    this.log('info', `rejoining session ${saved.code} after the reload`);
    try {
      await this.join(saved.code, saved.secret, saved.name);
      return true;
    } catch (e) {
      if (e instanceof SessionEnded) return false;
      this.endSession();
      this.set({ error: `could not rejoin session ${saved.code}: ${message(e)}` });
      return false;
    } finally {
      if (this.state.rejoining) this.set({ rejoining: null });
    }
  }

  /** Stops rejoining after a reload; the tab keeps the session, so resume() can still rejoin it. */
  cancelRejoin(): void {
    const rejoining = this.state.rejoining;
    if (!rejoining) return;
    this.log('info', `stopped rejoining session ${rejoining.code}`);
    this.endSession();
  }

  private async resumeHost(transport: ControllerTransport, saved: TabSession, snapshot: HostSnapshot): Promise<void> {
    const { config, hostTrains, checkpoint, records, roster, term } = snapshot;
    try {
      this.secret = saved.secret;
      this.memory.adopt(saved);
      const settings = settingsFromConfig(config, hostTrains);
      this.set({ status: 'connecting', role: 'host', code: saved.code, settings, error: null });
      this.codec.use(config.codec);
      const validation = this.workers.demoValidation();
      this.hostId = await hostPeerId(saved.code, saved.secret);
      this.set({ lanUrls: await this.lanUrls() });
      await this.chooseBackend(config.model);
      const node = this.createNode(transport, saved.name, validation, saved.clientKey);
      // Its own slot's data: 0 for the host, a successor's slot from when it joined.
      if (hostTrains) await this.data.loadInitial(config, roster.find((e) => e.id === transport.selfId)?.slot ?? 0);
      validation(config.model, [checkpoint.weights]).catch((e) => this.log('warn', `validation data: ${message(e)}`));
      await node.host(config, checkpoint.weights, { checkpoint, records, roster, ...(term !== undefined ? { term } : {}) });
      this.log('info', `session ${saved.code} resumed after round ${checkpoint.round}${term !== undefined && term > 1 ? ` (term ${term})` : ''}`);
      this.set({ status: 'lobby' });
      this.refresh();
      // It ran rounds when the tab went away: it runs on (waiting, and saying why, until its members are back).
      if (saved.running) {
        this.log('info', 'the run was going when this tab went away: it goes on');
        void this.start().catch(() => undefined);
      }
    } catch (e) {
      this.set({ status: 'error' });
      this.fail(e);
    }
  }

  /** The host tab, back in its session as a client: asks the aggregator for control with the next link of its key. */
  private reclaimControl(node: SessionNode): void {
    const commitment = node.config?.hostCommitment;
    const seed = this.memory.hostSeed;
    if (!seed || !commitment) return;
    const proof = hostProof(seed, commitment);
    if (!proof) {
      this.log('warn', "this tab's host key does not open this session any more: it stays a client");
      return;
    }
    this.log('info', 'this tab hosts the session: asking the aggregating tab to hand control back');
    node.reclaim(proof);
  }

  /** Keeps the session as this tab aggregates it (host or successor), for a reload: see resume(). */
  private saveHostSnapshot(checkpoint: HostSnapshot['checkpoint'], records: HostSnapshot['records'], roster: HostSnapshot['roster']): void {
    const code = this.state.code;
    const node = this.node;
    const config = node?.config;
    if (!code || !node || !config || !this.memory.keepsSnapshots) return;
    this.memory.saveSnapshot({
      code,
      config,
      hostTrains: this.state.settings?.hostTrains ?? true,
      checkpoint,
      records: records.map((r) => ({ ...r })),
      roster: roster.map((e) => ({ ...e, labelHistogram: [] })),
      term: node.term,
      peerId: node.selfId,
    });
  }

  private async lanUrls(): Promise<string[]> {
    try {
      return await this.deps.lanUrls();
    } catch {
      return [];
    }
  }

  private async chooseBackend(model: ModelSpec, preference?: string): Promise<void> {
    const { backend, notices } = await this.workers.chooseBackend(model, preference);
    this.set({ backend });
    notices.forEach((n) => this.log('warn', n));
  }

  async host(settings: SessionSettings, name: string): Promise<void> {
    try {
      const unsupported = settings.privacy?.secureAggregation ? secureAggregationProblem(this.deps.page, 'host') : null;
      if (unsupported) throw new Error(unsupported);
      const code = randomSessionCode();
      this.secret = randomSecret();
      this.set({ status: 'connecting', role: 'host', code, settings, error: null });
      const hostSeed = randomHostSeed();
      this.memory.hostSeed = hostSeed;
      const config: SessionConfig = { ...sessionConfigFromSettings(settings), hostCommitment: hostCommitment(hostSeed) };
      this.codec.use(config.codec);
      const validation = demoFits(config.model) ? this.workers.demoValidation() : undefined;
      this.hostId = await hostPeerId(code, this.secret);
      const [transport, lanUrls] = await Promise.all([this.openTransport(this.hostId), this.lanUrls()]);
      this.set({ lanUrls });
      await this.chooseBackend(config.model);
      const node = this.createNode(transport, name, validation, this.memory.remember('host', code, this.secret, name));
      if (settings.hostTrains) await this.data.loadInitial(config, 0);
      const initialWeights = await this.workers.trainer.initialWeights(config.model, config.seed);
      // Start the validation worker and warm its backend now, not during round 1.
      validation?.(config.model, [initialWeights]).catch((e) => this.log('warn', `validation data: ${message(e)}`));
      if (!validation) this.log('info', `no test set for this task on this tab: the rounds show the decomposition (exact mode) but no accuracy`);
      await node.host(config, initialWeights);
      this.log('info', `session ${code} created; share the link or the code`);
      this.set({ status: 'lobby' });
      this.refresh();
    } catch (e) {
      this.set({ status: 'error' });
      this.fail(e);
    }
  }

  join(codeInput: string, secret: string, name: string, aggregatorId?: string): Promise<void> {
    return this.joinOn(codeInput, secret, name, aggregatorId);
  }

  /** join(), on `transport` when given (a tab that aggregated under that id before a reload: see resume()). */
  private async joinOn(codeInput: string, secret: string, name: string, aggregatorId?: string, transport?: ControllerTransport): Promise<void> {
    const ended = this.ended;
    // After each wait: the user may have left (or cancelled a rejoin) meanwhile.
    const stillWanted = () => {
      if (ended !== this.ended) throw new SessionEnded();
    };
    try {
      const code = normaliseSessionCode(codeInput);
      if (!code) throw new Error(`"${codeInput}" is not a session code (6 letters and digits)`);
      this.secret = secret;
      this.hostId = await hostPeerId(code, secret);
      stillWanted();
      this.set({ status: 'connecting', role: 'client', code, error: null });
      const node = this.createNode(transport ?? (await this.openTransport(undefined, ended)), name, this.workers.demoValidation(), this.memory.remember('client', code, this.secret, name));
      // The host tab back as a client (another tab aggregates): it is still the host, and asks for control below.
      if (this.memory.hostSeed) this.set({ role: 'host' });
      const welcome = await node.join(aggregatorId ?? this.hostId).catch((e: unknown) => {
        // No tab under the id that code and passphrase lead to: nobody hosts this code (any more), or the passphrase is
        // wrong. Said in the user's words: the peer id is an internal detail.
        if (/not known|not on the network/i.test(message(e))) throw new Error(noSessionFound(code, secret));
        if (/unavailable|could not connect/i.test(message(e))) throw new Error(`session ${code} was found but this device could not connect to it`);
        throw e;
      });
      stillWanted();
      const unsupported = welcome.config.privacy?.secureAggregation ? secureAggregationProblem(this.deps.page, 'client') : null;
      if (unsupported) throw new CannotTakePart(unsupported);
      this.codec.use(welcome.config.codec);
      this.set({ lanUrls: await this.lanUrls() });
      stillWanted();
      await this.chooseBackend(welcome.config.model);
      stillWanted();
      await this.data.loadInitial(welcome.config, welcome.slot);
      stillWanted();
      await node.announce();
      stillWanted();
      this.log('info', `joined session ${code} as slot ${welcome.slot}`);
      this.reclaimControl(node);
      this.set({ status: 'lobby' });
      this.refresh();
    } catch (e) {
      if (ended !== this.ended) throw e instanceof SessionEnded ? e : new SessionEnded();
      if (e instanceof CannotTakePart) {
        // Nothing to rejoin after a reload: it would fail the same way.
        this.memory.forget();
        this.endSession();
        this.set({ status: 'error' });
        this.fail(e);
      }
      this.set({ status: 'error' });
      this.fail(withNetworkReason(e, this.transport, aggregatorId ?? this.hostId));
    }
  }

  async start(): Promise<void> {
    if (!this.node) throw new Error('no session');
    this.set({ error: null });
    const run = this.node.start();
    this.refresh();
    await run.catch((e) => this.fail(e));
    this.refresh();
  }

  stop(): void {
    this.node?.stop();
    this.refresh();
    this.log('info', 'stopping after the current round');
  }

  leave(): void {
    // Leaving on purpose (also while joining or rejoining): nothing to resume or rejoin after a reload.
    if (this.node || this.state.status !== 'idle') this.memory.forget();
    this.endSession();
  }

  /** Ends this tab's part in the session (what leaving does, less forgetting the session for a reload). */
  private endSession(): void {
    this.ended++;
    this.lobby?.close();
    this.lobby = null;
    this.keptLobby?.close();
    this.keptLobby = null;
    this.memory.endSession();
    this.node?.leave();
    this.workers.endSession();
    this.auth?.close();
    this.auth = null;
    this.stopNetworkWatch();
    this.transport?.close();
    this.node = null;
    this.transport = null;
    this.model.clear();
    this.modeByRound.clear();
    this.roundsSeen = 0;
    this.set({ ...INITIAL_SESSION_STATE, localData: this.state.localData, backend: this.state.backend, log: this.state.log });
  }

  async useDemoData(): Promise<void> {
    const node = this.node;
    if (!node?.config) throw new Error('join or host a session first: the demo shard depends on the session');
    await this.data.loadDemo(node.config, node.slot ?? 0).catch((e) => this.failAction(e));
    await node.announce();
  }

  async importFiles(files: File[] | LocalFile[]): Promise<void> {
    await this.data.importFiles(files, this.node?.config?.model ?? null).catch((e: unknown) => this.failAction(e));
    await this.node?.announce();
  }

  async forgetData(): Promise<void> {
    await this.data.forget();
    await this.node?.announce();
  }

  async setBackend(preference: string): Promise<void> {
    const spec = this.node?.config?.model ?? (this.state.settings ? modelSpecForSettings(this.state.settings) : null);
    if (spec) await this.chooseBackend(spec, preference).catch((e) => this.failAction(e));
  }

  clearError(): void {
    this.set({ error: null });
  }

  /** The newest global model's class probabilities for a drawn input or one of this tab's held-out samples (in the training worker). */
  async predict(input: PredictInput): Promise<(Prediction | SamplePrediction) & { round: number }> {
    const spec = this.node?.config?.model;
    if (!spec) throw new Error('join or host a session first');
    return this.model.predict(this.workers.trainer, spec, input, this.data.has);
  }

  /** Aggregating tab: per-class accuracy and the confusion matrix of the newest global model on its test set (validation worker). */
  async confusion(): Promise<ConfusionResult & { round: number }> {
    const spec = this.node?.config?.model;
    if (!spec || !this.node?.isAggregator) throw new Error('only the aggregating tab holds the test set');
    return this.model.confusion(this.workers.validation, spec);
  }

  /** The newest global model this tab holds, as TensorFlow.js files (model.json + weights.bin), from the training worker. */
  async exportModel(): Promise<{ round: number; modelJson: string; weightsBin: ArrayBuffer }> {
    const spec = this.node?.config?.model;
    if (!spec) throw new Error('join or host a session first');
    return this.model.export(this.workers.trainer, spec, this.state.code ?? '');
  }

  setDecomposition(mode: DecompositionMode): void {
    this.node?.setDecompositionMode(mode);
    this.log('info', mode === 'exact' ? 'exact decomposition: local models now travel to every client for cross-evaluation' : `decomposition: ${mode}`);
  }

  /** Test hook: tensors held by the training worker. */
  workerMemory() {
    return this.workers.memory();
  }
}
