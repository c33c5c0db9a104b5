import { FlClient } from '../fl/client';
import { RoundEngine, type ClientInfo, type EngineEvent } from '../fl/engine';
import type { LocalTrainer } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import { PROTOCOL_VERSION, type CheckpointMessage, type DecompositionMode, type Message, type RosterEntry, type RosterMessage, type SessionConfig } from '../fl/protocol';
import type { TrainProgress } from '../fl/train';
import type { WeightSet } from '../fl/weights';
import type { RoundView } from './types';
import { LocalLoop, type SessionTransport } from './session-transport';

/** Every timing of the session layer, in one place. */
export const SESSION_TIMING = {
  /** After the aggregator vanishes, candidate i (in join order) takes over after i steps unless a new aggregator speaks first. */
  handoverStepMs: 3_000,
  /** Pause before retrying a round that could not run (too few clients). */
  retryRoundMs: 1_000,
  /** How long join() waits for the aggregator's welcome. */
  welcomeTimeoutMs: 15_000,
  /** How many clients next in line receive the global model after each round. */
  checkpointReplicas: 2,
} as const;

export type SessionTiming = { -readonly [K in keyof typeof SESSION_TIMING]: number };

/** Held-out data of the aggregating tab: plain-CE losses and accuracies of weight sets. */
export type ValidationEvaluator = (spec: ModelSpec, weightSets: WeightSet[]) => Promise<{ losses: number[]; accuracies: number[] }>;

/** A finished round as this tab knows it (a client learns less than the aggregator: no ids, no timings). */
export interface RoundRecord extends RoundView {
  aggregatorId: string;
}

export interface SessionNodeOptions {
  transport: SessionTransport;
  name: string;
  /** Join secret: the aggregator refuses hellos without it; clients send it. */
  secret: string;
  /** The trainer on this tab's local data, or null while it has none. */
  trainer: () => LocalTrainer | null;
  validation?: ValidationEvaluator;
  timing?: Partial<SessionTiming>;
  onChange?: () => void;
  onLog?: (level: 'info' | 'warn' | 'error', text: string) => void;
  onProgress?: (round: number, progress: TrainProgress) => void;
  onActivity?: (activity: 'training' | 'evaluating' | 'idle') => void;
}

interface Checkpoint {
  round: number;
  weights: WeightSet;
}

function engineConfigOf(config: SessionConfig) {
  return {
    model: config.model,
    strategy: config.strategy,
    train: config.train,
    minClients: config.minClients,
    fraction: config.fraction,
    decomposition: config.decomposition,
    decompositionEvery: config.decompositionEvery,
    seed: config.seed,
    robust: config.robust,
    timing: { roundDeadlineMs: config.roundDeadlineMs, evalDeadlineMs: config.roundDeadlineMs },
    // The next round starts while the aggregating tab's validation worker scores the new global model.
    evaluateInBackground: true,
  };
}

/**
 * One tab's part in a session, whatever its role: client of an aggregator, or the aggregator (with its own
 * local client when it has data). Handles joining, the roster, checkpoints and aggregator handover.
 * Transport-agnostic: runs over WebRTC in the browser and over the in-memory transport in Node tests.
 */
export class SessionNode {
  readonly selfId: string;
  private readonly timing: SessionTiming;
  private readonly loop: LocalLoop;
  private readonly client: FlClient;
  private engine: RoundEngine | null = null;
  private aggregator: string | null = null;
  private sessionConfig: SessionConfig | null = null;
  private mySlot: number | null = null;
  private rosterEntries: RosterEntry[] = [];
  private latest: Checkpoint | null = null;
  private readonly records: RoundRecord[] = [];
  private readonly pendingEvaluations: Promise<void>[] = [];
  /** A client's traffic per round, closed when the next round starts (the round's result may arrive later). */
  private readonly trafficByRound = new Map<number, { bytesSent: number; bytesReceived: number }>();
  private running = false;
  private started = false;
  private stopRequested = false;
  private handoverFrom: string | null = null;
  private handoverTimer: ReturnType<typeof setTimeout> | null = null;
  private welcomeWaiter: { resolve: (m: { slot: number; config: SessionConfig }) => void; reject: (e: Error) => void } | null = null;
  private readonly slots = new Map<string, number>();
  private nextSlot = 0;
  private lastTraffic = { bytesSent: 0, bytesReceived: 0 };
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: SessionNodeOptions) {
    this.selfId = options.transport.selfId;
    this.timing = { ...SESSION_TIMING, ...options.timing };
    this.loop = new LocalLoop(options.transport);
    const trainerProxy: LocalTrainer = {
      train: (req, hooks) => this.requireTrainer().train(req, hooks),
      evaluate: (spec, w) => this.requireTrainer().evaluate(spec, w),
      info: async () => (options.trainer() ? options.trainer()!.info() : { backend: 'none', numSamples: 0, labelHistogram: [] }),
    };
    this.client = new FlClient(this.loop.clientFace, '', trainerProxy, {
      name: options.name,
      secret: options.secret,
      onProgress: (round, p) => options.onProgress?.(round, p),
      onRoundResult: (r) => {
        if (this.isAggregator) return; // the aggregator records its own report
        const traffic = this.trafficByRound.get(r.round) ?? this.trafficSinceLastRound();
        this.trafficByRound.delete(r.round);
        this.records.push({
          round: r.round, accuracy: r.accuracy, loss: r.loss, decomposition: r.decomposition ?? null, participants: [], participantCount: r.participants,
          missing: [], trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, ...traffic, aggregatorId: this.aggregator ?? '',
        });
        this.changed();
      },
      onError: (reason) => this.log('error', reason),
    });
    this.unsubscribe.push(
      this.loop.clientFace.onMessage((from, m) => this.handleSessionMessage(from, m)),
      options.transport.onPeerLeft((peer) => this.onPeerLeft(peer)),
    );
  }

  // ---- read-only state -------------------------------------------------------------------------

  get aggregatorId(): string | null {
    return this.aggregator;
  }

  get isAggregator(): boolean {
    return this.engine !== null;
  }

  get config(): SessionConfig | null {
    return this.sessionConfig;
  }

  get slot(): number | null {
    return this.mySlot;
  }

  get roster(): RosterEntry[] {
    return this.rosterEntries;
  }

  get rounds(): RoundRecord[] {
    return this.records;
  }

  get currentRound(): number {
    return this.engine?.currentRound ?? this.latest?.round ?? 0;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get inHandover(): boolean {
    return this.handoverFrom !== null;
  }

  /** Connected clients as the aggregator sees them (empty on a non-aggregating tab). */
  get clients(): ClientInfo[] {
    return this.engine?.connectedClients ?? [];
  }

  // ---- becoming the aggregator ------------------------------------------------------------------

  /** Starts a new session with this tab aggregating, at round 0. */
  async host(config: SessionConfig, initialWeights: WeightSet): Promise<void> {
    this.sessionConfig = config;
    this.mySlot = this.slotFor(this.selfId);
    this.becomeAggregator({ round: 0, weights: initialWeights });
    await this.announce();
  }

  private becomeAggregator(from: Checkpoint): void {
    const config = this.requireConfig();
    this.aggregator = this.selfId;
    this.handoverFrom = null;
    this.engine = new RoundEngine(this.loop.engineFace, engineConfigOf(config), from.weights, {
      admit: (hello) => (hello.secret === this.options.secret ? null : 'wrong or missing join secret'),
      evaluateGlobal: this.options.validation
        ? async (w) => {
            const r = await this.options.validation!(config.model, [w]);
            return { loss: r.losses[0], accuracy: r.accuracies[0] };
          }
        : undefined,
      evaluateOnValidation: this.options.validation ? async (ws) => (await this.options.validation!(config.model, ws)).losses : undefined,
      onEvent: (e) => this.onEngineEvent(e),
    }, from.round);
    this.latest = from;
    for (const e of this.rosterEntries) this.slots.set(e.id, e.slot);
    this.nextSlot = Math.max(this.nextSlot, ...this.rosterEntries.map((e) => e.slot + 1), 0);
    this.client.join(this.selfId).catch((e) => this.log('error', `local client: ${String(e)}`));
    this.changed();
  }

  private slotFor(id: string): number {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.nextSlot++;
      this.slots.set(id, slot);
    }
    return slot;
  }

  private onEngineEvent(e: EngineEvent): void {
    switch (e.kind) {
      case 'client-joined': {
        const slot = this.slotFor(e.client.id);
        if (e.client.id === this.selfId) this.mySlot = slot;
        else this.loop.engineFace.send(e.client.id, { type: 'welcome', v: PROTOCOL_VERSION, slot, round: this.engine!.currentRound, config: this.requireConfig() });
        this.broadcastRoster();
        break;
      }
      case 'client-left':
        this.log('warn', `${this.nameOf(e.clientId)} left`);
        this.broadcastRoster();
        break;
      case 'rejected':
        this.log('warn', `rejected from ${this.nameOf(e.from)}: ${e.reason}`);
        break;
      case 'round-failed':
        this.log('warn', `round ${e.round} not run: ${e.reason}`);
        break;
      case 'round-started':
        this.log('info', `round ${e.round} started with ${e.selected.length} clients`);
        break;
      default:
        break;
    }
    this.changed();
  }

  private nameOf(id: string): string {
    return this.engine?.connectedClients.find((c) => c.id === id)?.name ?? this.rosterEntries.find((r) => r.id === id)?.name ?? id;
  }

  private buildRoster(): RosterEntry[] {
    const clients = this.engine?.connectedClients ?? [];
    return clients
      .map((c) => ({ id: c.id, name: c.name, slot: this.slotFor(c.id), backend: c.backend, numSamples: c.numSamples, labelHistogram: c.labelHistogram }))
      .sort((a, b) => a.slot - b.slot);
  }

  private broadcastRoster(): void {
    if (!this.engine) return;
    this.rosterEntries = this.buildRoster();
    if (!this.rosterEntries.some((e) => e.id === this.selfId)) {
      this.rosterEntries.unshift({ id: this.selfId, name: this.options.name, slot: this.slotFor(this.selfId), backend: 'none', numSamples: 0, labelHistogram: [] });
      this.rosterEntries.sort((a, b) => a.slot - b.slot);
    }
    const message: RosterMessage = { type: 'roster', v: PROTOCOL_VERSION, aggregatorId: this.selfId, round: this.engine.currentRound, peers: this.rosterEntries };
    for (const e of this.rosterEntries) if (e.id !== this.selfId) this.loop.engineFace.send(e.id, message);
  }

  /** Aggregator: runs rounds until the configured number is reached or stop() is called. */
  async start(): Promise<void> {
    if (!this.engine) throw new Error('only the aggregating tab can start rounds');
    if (this.running) return;
    this.running = true;
    this.started = true;
    this.stopRequested = false;
    this.changed();
    try {
      const config = this.requireConfig();
      while (!this.stopRequested && !this.closed && this.engine && this.engine.currentRound < config.rounds) {
        const report = await this.engine.runRound();
        if (!report) {
          await new Promise((r) => setTimeout(r, this.timing.retryRoundMs));
          continue;
        }
        this.latest = { round: report.round, weights: this.engine.globalWeights };
        const { evaluation, ...measured } = report;
        const record: RoundRecord = { ...measured, participantCount: report.participants.length, ...this.trafficSinceLastRound(), aggregatorId: this.selfId };
        this.records.push(record);
        this.pendingEvaluations.push(
          evaluation.then((test) => {
            if (test) Object.assign(record, { accuracy: test.accuracy, loss: test.loss });
            this.changed();
          }, () => undefined),
        );
        this.sendCheckpoints();
        this.log('info', `round ${report.round} done: ${report.participants.length} updates${report.accuracy !== null ? `, accuracy ${(100 * report.accuracy).toFixed(1)}%` : ''}`);
        this.changed();
      }
      await Promise.all(this.pendingEvaluations);
    } finally {
      this.running = false;
      this.changed();
    }
  }

  stop(): void {
    this.stopRequested = true;
  }

  setDecompositionMode(mode: DecompositionMode): void {
    if (this.sessionConfig) this.sessionConfig = { ...this.sessionConfig, decomposition: mode };
    this.engine?.setDecompositionMode(mode);
    this.changed();
  }

  private sendCheckpoints(): void {
    if (!this.engine || !this.latest) return;
    const message: CheckpointMessage = { type: 'checkpoint', v: PROTOCOL_VERSION, round: this.latest.round, weights: this.latest.weights };
    this.successorsOf(this.selfId)
      .slice(0, this.timing.checkpointReplicas)
      .forEach((e) => this.loop.engineFace.send(e.id, message));
  }

  /** Everyone but `aggregatorId`, in the deterministic order in which they would take over. */
  private successorsOf(aggregatorId: string): RosterEntry[] {
    return this.rosterEntries.filter((e) => e.id !== aggregatorId).sort((a, b) => a.slot - b.slot);
  }

  // ---- being a client ----------------------------------------------------------------------------

  /** Joins the session whose aggregator has this peer id; resolves with the welcome (slot and config). */
  async join(aggregatorId: string): Promise<{ slot: number; config: SessionConfig }> {
    this.aggregator = aggregatorId;
    await this.options.transport.connect(aggregatorId);
    const welcome = new Promise<{ slot: number; config: SessionConfig }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.welcomeWaiter = null;
        reject(new Error(`no answer from the session's aggregator within ${this.timing.welcomeTimeoutMs / 1000} s (wrong code or secret?)`));
      }, this.timing.welcomeTimeoutMs);
      this.welcomeWaiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
    await this.client.join(aggregatorId);
    return welcome;
  }

  /** (Re)sends this tab's hello, e.g. after its local data was loaded or changed. */
  async announce(): Promise<void> {
    if (this.aggregator) await this.client.join(this.aggregator);
  }

  private handleSessionMessage(from: string, m: Message): void {
    switch (m.type) {
      case 'welcome':
        if (from !== this.aggregator) return;
        this.sessionConfig = m.config;
        this.mySlot = m.slot;
        this.welcomeWaiter?.resolve({ slot: m.slot, config: m.config });
        this.welcomeWaiter = null;
        this.changed();
        return;
      case 'roster':
        return this.onRoster(from, m);
      case 'checkpoint':
        if (from === this.aggregator) this.remember({ round: m.round, weights: m.weights });
        return;
      case 'round-start':
        if (from === this.aggregator) {
          this.started = true;
          if (m.round > 1 && !this.records.some((r) => r.round === m.round - 1)) this.trafficByRound.set(m.round - 1, this.trafficSinceLastRound());
          this.remember({ round: m.round - 1, weights: m.weights });
          this.options.onActivity?.('training');
        }
        return;
      case 'eval-request':
        if (from === this.aggregator) this.options.onActivity?.('evaluating');
        return;
      case 'round-result':
        if (from === this.aggregator) this.options.onActivity?.('idle');
        return;
      case 'error':
        if (from !== this.aggregator) return;
        if (this.welcomeWaiter) {
          this.welcomeWaiter.reject(new Error(`the session refused this tab: ${m.reason}`));
          this.welcomeWaiter = null;
        } else this.log('error', `aggregator: ${m.reason}`);
        return;
      default:
        return;
    }
  }

  private remember(c: Checkpoint): void {
    if (!this.latest || c.round >= this.latest.round) this.latest = c;
  }

  private onRoster(from: string, m: RosterMessage): void {
    if (from !== m.aggregatorId) return;
    const fromCurrent = from === this.aggregator;
    const newAggregatorAfterHandover = this.handoverFrom !== null && from !== this.handoverFrom && !this.isAggregator;
    if (!fromCurrent && !newAggregatorAfterHandover) return this.log('warn', `ignored a roster from ${from}, which does not aggregate this session`);
    this.rosterEntries = m.peers;
    if (newAggregatorAfterHandover) {
      this.clearHandover();
      this.aggregator = from;
      this.log('info', `${m.peers.find((p) => p.id === from)?.name ?? from} now aggregates`);
      this.client.join(from).catch((e) => this.log('error', `re-joining after handover: ${String(e)}`));
    }
    this.changed();
  }

  private onPeerLeft(peer: string): void {
    if (peer !== this.aggregator || this.isAggregator || this.closed) return;
    this.log('warn', `the aggregator (${this.nameOf(peer)}) left; handing over`);
    this.handoverFrom = peer;
    this.aggregator = null;
    const order = this.successorsOf(peer);
    const position = order.findIndex((e) => e.id === this.selfId);
    if (position < 0) {
      this.log('error', 'not in the roster: cannot take part in the handover');
      return;
    }
    this.handoverTimer = setTimeout(() => this.takeOver(peer), position * this.timing.handoverStepMs);
    this.changed();
  }

  private clearHandover(): void {
    if (this.handoverTimer) clearTimeout(this.handoverTimer);
    this.handoverTimer = null;
    this.handoverFrom = null;
  }

  private takeOver(previous: string): void {
    if (this.closed || this.isAggregator || this.handoverFrom !== previous) return;
    const config = this.sessionConfig;
    if (!config || !this.latest) {
      this.log('error', 'cannot take over: this tab never received the session configuration and a global model');
      return;
    }
    const wasRunning = this.started;
    const peers = this.successorsOf(previous).filter((e) => e.id !== this.selfId);
    this.rosterEntries = this.rosterEntries.filter((e) => e.id !== previous);
    this.clearHandover();
    this.log('info', `this tab now aggregates, resuming after round ${this.latest.round}`);
    this.becomeAggregator(this.latest);
    // Tell everyone else who aggregates now; each answers with a hello, which updates the roster.
    const announcement: RosterMessage = { type: 'roster', v: PROTOCOL_VERSION, aggregatorId: this.selfId, round: this.latest.round, peers: this.rosterEntries };
    for (const p of peers) {
      this.options.transport
        .connect(p.id)
        .then(() => this.loop.engineFace.send(p.id, announcement))
        .catch(() => this.log('warn', `could not reach ${p.name} after the handover`));
    }
    if (wasRunning) void this.start();
  }

  // ---- common -----------------------------------------------------------------------------------

  leave(): void {
    if (this.closed) return;
    this.stop();
    if (this.aggregator && !this.isAggregator) this.client.leave('left the session');
    this.closed = true;
    this.clearHandover();
    this.engine?.dispose();
    this.unsubscribe.forEach((u) => u());
    this.changed();
  }

  private trafficSinceLastRound(): { bytesSent: number; bytesReceived: number } {
    const now = this.options.transport.trafficTotals();
    const delta = { bytesSent: now.bytesSent - this.lastTraffic.bytesSent, bytesReceived: now.bytesReceived - this.lastTraffic.bytesReceived };
    this.lastTraffic = now;
    return delta;
  }

  private requireTrainer(): LocalTrainer {
    const t = this.options.trainer();
    if (!t) throw new Error('this tab has no local data to train on yet');
    return t;
  }

  private requireConfig(): SessionConfig {
    if (!this.sessionConfig) throw new Error('the session configuration is not known yet');
    return this.sessionConfig;
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    this.options.onLog?.(level, text);
  }

  private changed(): void {
    this.options.onChange?.();
  }
}
