/**
 * The session controller the dashboard talks to: ties the training worker, the peer transport and the session node
 * together, and keeps the SessionState the dashboard renders. Runs on the main thread; never trains. Everything
 * that needs a browser (worker, WebRTC, IndexedDB, fetch, location) comes in through ControllerDeps.
 */
import type { WireCodec } from '../fl/transport';
import type { Dataset } from '../fl/data/dataset';
import type { ModelSpec } from '../fl/model-spec';
import { cnnSpec, mlpSpec } from '../fl/model-spec';
import type { DecompositionMode, SessionConfig } from '../fl/protocol';
import type { LocalDataImportResult } from '../data/local-data';
import type { LocalFile } from '../data/pickers';
import type { TransportError } from '../net/peer-transport';
import type { LocalDataInfo, BackendReport } from '../worker/api';
import type { WorkerTrainer } from '../worker/worker-trainer';
import { hostPeerId, joinLink, normaliseSessionCode, randomSecret, randomSessionCode } from './session-code';
import { AuthenticatedTransport } from './authenticated-transport';
import { SessionNode, type ValidationEvaluator } from './session-node';
import { LOBBY_RETRY_MS, LobbyKeeper, type LobbyTransport } from './lobby';
import { randomClientKey, type HostSnapshot, type HostSnapshotStore, type TabSession, type TabSessionStore } from './resume-store';
import type { SessionTransport } from './session-transport';
import { SwitchableWireCodec } from './switchable-codec';
import { INITIAL_SESSION_STATE, type LogEntry, type PeerStatus, type SessionController, type SessionSettings, type SessionState } from './types';

/** What the controller asks of the training worker (and of the validation worker, when this tab aggregates). */
export type ControllerTrainer = Pick<
  WorkerTrainer,
  'train' | 'evaluate' | 'info' | 'selectBackend' | 'loadStoredData' | 'loadDemoShard' | 'loadDatasets' | 'initialWeights' | 'cancel' | 'terminate' | 'memory'
>;

/** The peer transport as the controller uses it. */
export interface ControllerTransport extends SessionTransport {
  close(): void;
  onError(handler: (error: TransportError) => void): unknown;
}

/** Everything browser-bound the controller needs; src/session/controller.ts has the real ones. */
export interface ControllerDeps {
  createTrainer(): ControllerTrainer;
  /** `onSignallingState`: given for the host, whose id must be kept (and reclaimed after a signalling drop). */
  openTransport(options: {
    id?: string;
    codec: WireCodec;
    iceServers: string;
    onSignallingState?: (state: 'lost' | 'retrying' | 'reclaimed') => void;
  }): Promise<ControllerTransport>;
  /** Addresses other devices of the LAN can open. */
  lanUrls(): Promise<string[]>;
  /** The demo test split: the aggregating tab's held-out data. */
  demoTestSplit(): Promise<Dataset>;
  storedData: {
    load(): Promise<{ problems: string[] } | null>;
    import(files: File[] | LocalFile[]): Promise<LocalDataImportResult>;
    forget(): Promise<void>;
  };
  /** This page's address without its hash: the base of join links. */
  pageUrl(): string;
  /** Which session this tab is in, kept across reloads (absent: a reload ends participation). */
  tabSession?: TabSessionStore;
  /** The host's session after each round, so a reloaded host tab resumes it. */
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

export function modelSpecForSettings(settings: Pick<SessionSettings, 'model'>): ModelSpec {
  return settings.model === 'cnn' ? cnnSpec(DEMO_INPUT, DEMO_CLASSES) : mlpSpec(DEMO_INPUT, DEMO_CLASSES);
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
    demo: { partition: s.demoPartition, clients: s.demoClients },
  };
}

function settingsFromConfig(c: SessionConfig, hostTrains: boolean): SessionSettings {
  return {
    model: c.model.kind === 'cnn' ? 'cnn' : 'mlp',
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
    demoPartition: c.demo.partition,
    demoClients: c.demo.clients,
    seed: c.seed,
    hostTrains,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SessionControllerCore implements SessionController {
  private state: SessionState = INITIAL_SESSION_STATE;
  private readonly listeners = new Set<(s: SessionState) => void>();
  private readonly worker: ControllerTrainer;
  private validationWorker: ControllerTrainer | null = null;
  private transport: ControllerTransport | null = null;
  private auth: AuthenticatedTransport | null = null;
  private readonly codec = new SwitchableWireCodec();
  private node: SessionNode | null = null;
  private hasData = false;
  private backendPreference = 'auto';
  private activity: PeerStatus = 'idle';
  private secret = '';
  /** The host tab's peer id (derived from code and secret). */
  private hostId = '';
  /** Holds the host id for the session after a takeover by this tab (see src/session/lobby.ts). */
  private lobby: LobbyKeeper | null = null;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly options: SessionControllerOptions = {},
  ) {
    this.worker = deps.createTrainer();
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
    const log = [...this.state.log, { time: Date.now(), level, text }].slice(-CONTROLLER_CONFIG.maxLogEntries);
    this.set({ log });
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
    this.lobby?.update();
    const aggregatorId = node.aggregatorId;
    const clients = node.isAggregator ? node.clients : [];
    const roster = node.roster;
    const peers = (node.isAggregator ? clients.map((c) => ({ ...c })) : roster.map((r) => ({ ...r, joinedAt: 0 }))).map((p) => ({
      ...p,
      isAggregator: p.id === aggregatorId,
      isSelf: p.id === node.selfId,
      status: (p.id === node.selfId ? this.activity : 'idle') as PeerStatus,
    }));
    const code = this.state.code;
    const joinUrl = code ? joinLink(this.deps.pageUrl(), code, this.secret, aggregatorId ?? undefined, this.hostId) : null;
    this.set({
      selfId: node.selfId,
      aggregatorId,
      isAggregator: node.isAggregator,
      peers,
      rounds: node.rounds.map((r) => ({ ...r })),
      currentRound: node.currentRound,
      joinUrl,
      settings: node.config ? settingsFromConfig(node.config, this.state.settings?.hostTrains ?? true) : this.state.settings,
      status: node.isRunning ? 'running' : node.config && node.currentRound >= node.config.rounds ? 'finished' : this.state.status === 'connecting' ? 'connecting' : 'lobby',
    });
  }

  private async openTransport(id?: string): Promise<ControllerTransport> {
    const onSignallingState =
      id === undefined
        ? undefined
        : (state: 'lost' | 'retrying' | 'reclaimed') => {
            if (state === 'lost') this.log('warn', "lost the signalling server: open connections stay; re-registering this session's id");
            else if (state === 'reclaimed') this.log('info', 'signalling server reached again: new tabs can join');
          };
    const t = await this.deps.openTransport({ id, codec: this.codec, iceServers: this.options.iceServers?.() ?? '', onSignallingState });
    t.onError((e) => this.log(e.kind === 'decode' ? 'warn' : 'error', `${e.peerId ? `${e.peerId}: ` : ''}${e.message}`));
    this.transport = t;
    return t;
  }

  private createNode(transport: ControllerTransport, name: string, validation?: ValidationEvaluator, clientKey?: string): SessionNode {
    // Only peers that prove they know the join secret get through; the secret itself never leaves this tab.
    this.auth?.close();
    const auth = new AuthenticatedTransport(transport, { secret: this.secret, onSummary: (text) => this.log('warn', text) });
    this.auth = auth;
    const node = new SessionNode({
      transport: auth,
      name,
      trainer: () => (this.hasData ? this.worker : null),
      validation,
      clientKey,
      onCheckpoint: (checkpoint, records, roster) => this.saveHostSnapshot(checkpoint, records, roster),
      onChange: () => this.refresh(),
      onLog: (level, text) => this.log(level, text),
      onProgress: (round, p) => this.set({ localProgress: { round, ...p } }),
      onActivity: (a) => {
        this.activity = a === 'idle' ? 'uploaded' : a;
        this.refresh();
      },
    });
    this.node = node;
    this.lobby?.close();
    this.lobby = this.createLobby(node);
    return node;
  }

  // ---- surviving the host tab and reloads (issue 10) ---------------------------------------------

  /** After a takeover this tab also holds the session's host id, so the original code, link and QR code still work. */
  private createLobby(node: SessionNode): LobbyKeeper {
    const hostId = this.hostId;
    const secret = this.secret;
    return new LobbyKeeper({
      open: async (): Promise<LobbyTransport> => {
        const t = await this.deps.openTransport({ id: hostId, codec: this.codec, iceServers: this.options.iceServers?.() ?? '' });
        const auth = new AuthenticatedTransport(t, { secret, onSummary: (text) => this.log('warn', `lobby: ${text}`) });
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

  /** The session this tab was in before a reload, if it can be resumed. */
  resumable(): Pick<TabSession, 'code' | 'role' | 'name'> | null {
    const saved = this.deps.tabSession?.load() ?? null;
    return saved ? { code: saved.code, role: saved.role, name: saved.name } : null;
  }

  /**
   * Resumes the session this tab was in before a reload: a client rejoins with its key (same slot, same demo shard);
   * the host reopens its session at its last round under the same host id, or, when that id is held by a newer
   * aggregator's lobby (the session went on without it), joins as a client.
   */
  async resume(): Promise<void> {
    const saved = this.deps.tabSession?.load();
    if (!saved) throw new Error('no session to resume in this tab');
    const snapshot = saved.role === 'host' ? await this.deps.hostSnapshots?.load(saved.code).catch(() => null) : null;
    if (snapshot) {
      this.codec.use(snapshot.config.codec);
      const transport = await this.openTransport(await hostPeerId(saved.code, saved.secret)).catch(() => null);
      if (transport) return this.resumeHost(transport, saved, snapshot.config, snapshot.hostTrains, { checkpoint: snapshot.checkpoint, records: snapshot.records, roster: snapshot.roster });
      this.log('info', `session ${saved.code} went on without this tab: joining it as a client`);
    }
    return this.join(saved.code, saved.secret, saved.name);
  }

  private async resumeHost(transport: ControllerTransport, saved: TabSession, config: SessionConfig, hostTrains: boolean, from: Parameters<SessionNode['host']>[2]): Promise<void> {
    try {
      this.secret = saved.secret;
      const settings = settingsFromConfig(config, hostTrains);
      this.set({ status: 'connecting', role: 'host', code: saved.code, settings, error: null });
      this.codec.use(config.codec);
      const validation = this.demoValidation();
      this.hostId = await hostPeerId(saved.code, saved.secret);
      this.set({ lanUrls: await this.lanUrls() });
      await this.chooseBackend(config.model);
      const node = this.createNode(transport, saved.name, validation, saved.clientKey);
      if (hostTrains) await this.loadInitialData(config, 0);
      const initialWeights = from?.checkpoint.weights ?? (await this.worker.initialWeights(config.model, config.seed));
      validation(config.model, [initialWeights]).catch((e) => this.log('warn', `validation data: ${message(e)}`));
      await node.host(config, initialWeights, from);
      this.log('info', `session ${saved.code} resumed after round ${from?.checkpoint.round ?? 0}`);
      this.set({ status: 'lobby' });
      this.refresh();
    } catch (e) {
      this.set({ status: 'error' });
      this.fail(e);
    }
  }

  private rememberTab(role: 'host' | 'client', code: string, name: string): string {
    const previous = this.deps.tabSession?.load();
    const clientKey = previous && previous.code === code && previous.secret === this.secret ? previous.clientKey : randomClientKey();
    this.deps.tabSession?.save({ code, secret: this.secret, role: previous?.code === code && previous.role === 'host' ? 'host' : role, clientKey, name });
    return clientKey;
  }

  private saveHostSnapshot(checkpoint: HostSnapshot['checkpoint'], records: HostSnapshot['records'], roster: HostSnapshot['roster']): void {
    const code = this.state.code;
    const config = this.node?.config;
    // Only the tab that holds the host id resumes under it.
    if (!code || !config || !this.deps.hostSnapshots || this.node?.selfId !== this.hostId) return;
    const snapshot = { code, config, hostTrains: this.state.settings?.hostTrains ?? true, checkpoint, records: records.map((r) => ({ ...r })), roster: roster.map((e) => ({ ...e, labelHistogram: [] })), savedAt: Date.now() };
    this.deps.hostSnapshots.save(snapshot).catch((e) => this.log('warn', `could not keep the session for a reload: ${message(e)}`));
  }

  private async lanUrls(): Promise<string[]> {
    try {
      return await this.deps.lanUrls();
    } catch {
      return [];
    }
  }

  private async chooseBackend(model: ModelSpec): Promise<void> {
    const report: BackendReport = await this.worker.selectBackend(this.backendPreference, model);
    this.set({
      backend: {
        name: report.backend,
        adapter: report.adapter ? { vendor: report.adapter.vendor, architecture: report.adapter.architecture, isFallbackAdapter: report.adapter.isFallbackAdapter } : null,
        probe: report.probes.map((p) => ({ backend: p.backend, samplesPerSecond: p.samplesPerSecond ?? null, error: p.error })),
        message: [report.reason, ...report.notices].join(' '),
      },
    });
    report.notices.forEach((n) => this.log('warn', n));
  }

  private showData(info: LocalDataInfo, source: 'demo' | 'own', problems: string[] = []): void {
    this.hasData = true;
    this.set({ localData: { source, description: info.name, numSamples: info.trainSamples, numEval: info.evalSamples, labelHistogram: info.labelHistogram, problems } });
  }

  /** The user's stored data if there is any (a reload keeps it), else the demo shard of this slot. */
  private async loadInitialData(config: SessionConfig, slot: number): Promise<void> {
    const stored = await this.deps.storedData.load().catch(() => null);
    if (stored) {
      try {
        this.showData(await this.worker.loadStoredData(), 'own', stored.problems);
        return;
      } catch (e) {
        this.log('warn', `your stored data does not fit this session's model (${message(e)}); using the demo data`);
      }
    }
    await this.loadDemo(config, slot);
  }

  private async loadDemo(config: SessionConfig, slot: number): Promise<void> {
    const info = await this.worker.loadDemoShard({ partition: config.demo.partition, seed: config.seed, numClients: config.demo.clients, slot: slot % config.demo.clients });
    this.showData(info, 'demo');
  }

  /**
   * Held-out data of the aggregating tab: the demo test split, evaluated in a second worker. Lazy: the worker and
   * the download start on the first evaluation, so a client tab pays for them only if it ever aggregates.
   */
  private demoValidation(): ValidationEvaluator {
    let ready: Promise<ControllerTrainer> | null = null;
    const start = async () => {
      const worker = this.deps.createTrainer();
      this.validationWorker = worker;
      const test = await this.deps.demoTestSplit();
      await worker.loadDatasets('demo test split', test, test);
      return worker;
    };
    return async (spec, weightSets) => {
      ready ??= start();
      const r = await (await ready).evaluate(spec, weightSets);
      return { losses: r.losses, accuracies: r.accuracies };
    };
  }

  async host(settings: SessionSettings, name: string): Promise<void> {
    try {
      const code = randomSessionCode();
      this.secret = randomSecret();
      this.set({ status: 'connecting', role: 'host', code, settings, error: null });
      const config = sessionConfigFromSettings(settings);
      this.codec.use(config.codec);
      const validation = this.demoValidation();
      this.hostId = await hostPeerId(code, this.secret);
      const [transport, lanUrls] = await Promise.all([this.openTransport(this.hostId), this.lanUrls()]);
      this.set({ lanUrls });
      await this.chooseBackend(config.model);
      const node = this.createNode(transport, name, validation, this.rememberTab('host', code, name));
      if (settings.hostTrains) await this.loadInitialData(config, 0);
      const initialWeights = await this.worker.initialWeights(config.model, config.seed);
      // Start the validation worker and warm its backend now, not during round 1.
      validation(config.model, [initialWeights]).catch((e) => this.log('warn', `validation data: ${message(e)}`));
      await node.host(config, initialWeights);
      this.log('info', `session ${code} created; share the link or the code`);
      this.set({ status: 'lobby' });
      this.refresh();
    } catch (e) {
      this.set({ status: 'error' });
      this.fail(e);
    }
  }

  async join(codeInput: string, secret: string, name: string, aggregatorId?: string): Promise<void> {
    try {
      const code = normaliseSessionCode(codeInput);
      if (!code) throw new Error(`"${codeInput}" is not a session code (6 letters and digits)`);
      this.secret = secret;
      this.hostId = await hostPeerId(code, secret);
      this.set({ status: 'connecting', role: 'client', code, error: null });
      const transport = await this.openTransport();
      const node = this.createNode(transport, name, this.demoValidation(), this.rememberTab('client', code, name));
      const welcome = await node.join(aggregatorId ?? this.hostId).catch((e: unknown) => {
        // The signalling server knows no tab under the host's id: nobody hosts this code (any more).
        if (/not known|unavailable|could not connect/i.test(message(e))) throw new Error(`no open session has the code ${code} (${message(e)})`);
        throw e;
      });
      this.codec.use(welcome.config.codec);
      this.set({ lanUrls: await this.lanUrls() });
      await this.chooseBackend(welcome.config.model);
      await this.loadInitialData(welcome.config, welcome.slot);
      await node.announce();
      this.log('info', `joined session ${code} as slot ${welcome.slot}`);
      this.set({ status: 'lobby' });
      this.refresh();
    } catch (e) {
      this.set({ status: 'error' });
      this.fail(e);
    }
  }

  async start(): Promise<void> {
    if (!this.node) throw new Error('no session');
    const run = this.node.start();
    this.refresh();
    await run.catch((e) => this.fail(e));
    this.refresh();
  }

  stop(): void {
    this.node?.stop();
    this.log('info', 'stopping after the current round');
  }

  leave(): void {
    // Leaving on purpose: nothing to resume after a reload.
    const saved = this.deps.tabSession?.load();
    if (saved && this.node) {
      this.deps.tabSession?.clear();
      if (saved.role === 'host') this.deps.hostSnapshots?.forget(saved.code).catch(() => undefined);
    }
    this.lobby?.close();
    this.lobby = null;
    this.node?.leave();
    this.worker.cancel();
    this.auth?.close();
    this.auth = null;
    this.transport?.close();
    this.validationWorker?.terminate();
    this.validationWorker = null;
    this.node = null;
    this.transport = null;
    this.set({ ...INITIAL_SESSION_STATE, localData: this.state.localData, backend: this.state.backend, log: this.state.log });
  }

  async useDemoData(): Promise<void> {
    const node = this.node;
    if (!node?.config) throw new Error('join or host a session first: the demo shard depends on the session');
    await this.loadDemo(node.config, node.slot ?? 0).catch((e) => this.fail(e));
    await node.announce();
  }

  async importFiles(files: File[] | LocalFile[]): Promise<void> {
    const result = await this.deps.storedData.import(files);
    result.problems.forEach((p) => this.log('warn', p));
    if (!result.summary) this.fail(new Error(`nothing could be loaded: ${result.problems.join('; ')}`));
    try {
      const info = await this.worker.loadStoredData();
      this.showData(info, 'own', result.problems);
      this.log('info', `loaded ${info.trainSamples + info.evalSamples} samples of your own data (they stay on this device)`);
      await this.node?.announce();
    } catch (e) {
      this.fail(e);
    }
  }

  async forgetData(): Promise<void> {
    await this.deps.storedData.forget();
    this.hasData = false;
    this.set({ localData: null });
    this.log('info', 'your stored data was deleted from this browser');
    await this.node?.announce();
  }

  async setBackend(preference: string): Promise<void> {
    this.backendPreference = preference;
    const spec = this.node?.config?.model ?? (this.state.settings ? modelSpecForSettings(this.state.settings) : null);
    if (spec) await this.chooseBackend(spec).catch((e) => this.fail(e));
  }

  setDecomposition(mode: DecompositionMode): void {
    this.node?.setDecompositionMode(mode);
    this.log('info', mode === 'exact' ? 'exact decomposition: local models now travel to every client for cross-evaluation' : `decomposition: ${mode}`);
  }

  /** Test hook: tensors held by the training worker. */
  workerMemory() {
    return this.worker.memory();
  }
}
