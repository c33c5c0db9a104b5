import type { EngineEvent, EngineHooks } from '../fl/engine';
import { PROTOCOL_VERSION, type DecompositionMode, type Message, type RosterMessage, type RoundSummary, type SessionConfig } from '../fl/protocol';
import type { ServerState } from '../fl/strategies/types';
import type { LedgerState } from '../fl/dp/accountant';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';
import type { Membership } from './membership';
import { engineConfigOf, validationHooks, type AggregatorEngine, type EngineFactory, type ValidationEvaluator } from './session-engine';
import type { SessionTiming } from './session-timing';
import type { SessionTransport } from './session-transport';
import { engineTransport } from './term-transport';

/** What a successor resumes from (an EngineStart with every field known). */
export interface Checkpoint {
  weights: WeightSet;
  round: number;
  serverState: ServerState | null;
  /** A private session's privacy ledger after `round` (absent or null: none, or not known). */
  privacyLedger?: LedgerState | null;
}

export interface AggregatorRoleOptions {
  self: { id: string; name: string };
  term: number;
  /** The local loop's engine face: reaches remote clients and this tab's own client. */
  face: Transport;
  network: SessionTransport;
  membership: Membership;
  timing: SessionTiming;
  config: () => SessionConfig;
  createEngine: EngineFactory;
  validation?: ValidationEvaluator;
  /** Runs each round's aggregation elsewhere (the browser: a worker); absent: in-process. */
  aggregate?: EngineHooks['aggregate'];
  /** Takes the masks off a secure sum elsewhere (the browser: the aggregation worker); absent: in-process. */
  unmask?: EngineHooks['unmask'];
  setDecompositionMode: (mode: DecompositionMode) => void;
  /** The session's finished rounds, for the welcome of a late joiner. */
  history?: () => RoundSummary[];
  /** The session's state record, repeated to every member with each heartbeat. */
  sessionState?: () => Message | null;
  /** Engine events, after this role has handled them (for the log and the dashboard). */
  onEvent: (event: EngineEvent) => void;
  log: (level: 'info' | 'warn' | 'error', text: string) => void;
}

/**
 * What a tab does while it aggregates one term: runs the engine, welcomes clients, sends the roster (its heartbeat)
 * to every member and to peers yet to join this term, and keeps the next successors supplied with checkpoints.
 */
export class AggregatorRole {
  readonly engine: AggregatorEngine;
  private latest: Checkpoint;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly retry: ReturnType<typeof setInterval>;
  /** Peers told of this term until they join or say bye: a lost link may come back, and two sides must merge. */
  private readonly pending = new Set<string>();
  /** Pending peers whose link is down: reconnected every silence period, not every heartbeat. */
  private readonly unreachable = new Set<string>();
  /** Successors that hold the latest checkpoint. */
  private readonly checkpointHolders = new Set<string>();
  private disposed = false;
  /** The running round: the slots it asked to train, with the peer id that held each then, and who delivered. */
  private running: { round: number; asked: Map<number, string>; delivered: Set<string> } | null = null;

  constructor(
    private readonly o: AggregatorRoleOptions,
    from: Checkpoint,
  ) {
    const config = o.config();
    this.latest = from;
    this.engine = o.createEngine(engineTransport(o.face, o.term), engineConfigOf(config), from, {
      ...validationHooks(config.model, o.validation),
      ...(o.aggregate ? { aggregate: o.aggregate } : {}),
      ...(o.unmask ? { unmask: o.unmask } : {}),
      // A replaced engine may still finish a round: its events are no longer this tab's business.
      onEvent: (e) => !this.disposed && this.onEngineEvent(e),
    });
    o.membership.rebuild([], o.self);
    this.heartbeat = setInterval(() => this.broadcastRoster(), o.timing.heartbeatMs);
    this.retry = setInterval(() => this.reconnectPending(), o.timing.silenceMs);
  }

  get term(): number {
    return this.o.term;
  }

  get checkpoint(): Checkpoint {
    return this.latest;
  }

  /** Fewer than half of the session's members are connected: a later term elsewhere may legitimately replace this one. */
  get lostMajority(): boolean {
    const { connected, members } = this.reach;
    return 2 * connected <= members;
  }

  /** How many live members (see Membership.liveMemberCount) this tab reaches. */
  get reach(): { connected: number; members: number } {
    const connected = this.engine.connectedClients.map((c) => c.id);
    const members = this.o.membership.liveMemberCount(connected, { establishedMs: this.o.timing.memberEstablishedMs, recentMs: this.o.timing.memberRecentMs });
    return { connected: connected.length, members };
  }

  /** After a finished round: the new checkpoint, sent to the next successors. */
  roundDone(): Checkpoint {
    this.latest = { weights: this.engine.globalWeights, round: this.engine.currentRound, serverState: this.engine.serverState, privacyLedger: this.engine.privacyLedger ?? null };
    this.checkpointHolders.clear();
    this.sendCheckpoints();
    return this.latest;
  }

  /** Tells these peers about this term (with every heartbeat) until they join. */
  announceTo(ids: string[]): void {
    for (const id of ids) {
      if (id === this.o.self.id) continue;
      this.pending.add(id);
      this.unreachable.delete(id);
      this.o.network.connect(id).catch(() => this.unreachable.add(id));
    }
    this.broadcastRoster();
  }

  peerLeft(id: string): void {
    if (this.pending.has(id)) this.unreachable.add(id);
  }

  /** The peer said bye: it left the session, no need to tell it about this term. */
  peerGone(id: string): void {
    this.stopAnnouncing(id);
  }

  private stopAnnouncing(id: string): void {
    this.pending.delete(id);
    this.unreachable.delete(id);
  }

  private reconnectPending(): void {
    for (const id of this.unreachable) {
      this.o.network.connect(id).then(
        () => {
          this.unreachable.delete(id);
          this.broadcastRoster();
        },
        () => undefined,
      );
    }
  }

  /** Stepping down: tells this term's clients to follow `successor` in `term`. */
  redirectClientsTo(successor: string, term: number): void {
    const redirect: RosterMessage = { type: 'roster', v: PROTOCOL_VERSION, term, aggregatorId: successor, round: this.engine.currentRound, peers: [] };
    for (const c of this.engine.connectedClients) if (c.id !== this.o.self.id && c.id !== successor) this.o.network.send(c.id, redirect);
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.retry);
    this.engine.dispose();
  }

  /** The roster to every member and to pending peers; doubles as the heartbeat. */
  broadcastRoster(): void {
    if (this.disposed) return;
    const m = this.o.membership;
    m.rebuild(this.engine.connectedClients, this.o.self);
    const message: RosterMessage = { type: 'roster', v: PROTOCOL_VERSION, term: this.o.term, aggregatorId: this.o.self.id, round: this.engine.currentRound, peers: m.publicRoster };
    const targets = new Set([...m.roster.map((e) => e.id), ...[...this.pending].filter((id) => !this.unreachable.has(id))]);
    targets.delete(this.o.self.id);
    for (const id of targets) this.o.face.send(id, message);
    const state = this.o.sessionState?.();
    if (state) for (const e of m.roster) if (e.id !== this.o.self.id) this.o.face.send(e.id, state);
    this.sendCheckpoints();
  }

  private checkpointMessage(): Message {
    const { weights, round, serverState, privacyLedger } = this.latest;
    return { type: 'checkpoint', v: PROTOCOL_VERSION, term: this.o.term, round, weights, serverState, ...(privacyLedger ? { privacyLedger } : {}) };
  }

  /** The latest checkpoint to one peer (the host this tab hands control back to). */
  sendCheckpointTo(id: string): void {
    this.checkpointHolders.add(id);
    this.o.face.send(id, this.checkpointMessage());
  }

  /** The latest checkpoint to every member that lacks it: once the run ends or stops, every tab holds its last model. */
  shareLatestCheckpoint(): void {
    let message: Message | null = null;
    for (const e of this.o.membership.roster) {
      if (e.id === this.o.self.id || this.checkpointHolders.has(e.id)) continue;
      this.checkpointHolders.add(e.id);
      message ??= this.checkpointMessage();
      this.o.face.send(e.id, message);
    }
  }

  /** The latest checkpoint to those of the next successors that lack it. */
  private sendCheckpoints(): void {
    let message: Message | null = null; // one object for every successor, so the transport encodes it once
    for (const id of this.o.membership.successorsOf(this.o.self.id).slice(0, this.o.timing.checkpointReplicas)) {
      if (this.checkpointHolders.has(id)) continue;
      this.checkpointHolders.add(id);
      message ??= this.checkpointMessage();
      this.o.face.send(id, message);
    }
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.kind === 'round-started') this.running = { round: e.round, asked: new Map(e.selected.map((id) => [this.o.membership.slotFor(id), id])), delivered: new Set() };
    if (e.kind === 'update-received') this.running?.delivered.add(e.from);
    if (e.kind === 'round-finished' || e.kind === 'round-failed') this.running = null;
    if (e.kind === 'client-joined') {
      const slot = this.o.membership.slotFor(e.client.id);
      this.stopAnnouncing(e.client.id);
      if (e.client.id !== this.o.self.id) {
        this.o.face.send(e.client.id, { type: 'welcome', v: PROTOCOL_VERSION, term: this.o.term, slot, round: this.engine.currentRound, config: this.o.config(), ...(this.o.history ? { history: this.o.history() } : {}) });
      }
      this.capExactDecomposition();
      if (e.client.numSamples > 0) this.backInRunningRound(e.client.id);
    }
    if (e.kind === 'client-joined' || e.kind === 'client-left') this.broadcastRoster();
    this.o.onEvent(e);
  }

  /**
   * A member back under a new peer id with its data (a reloaded tab: its client key gave it its old id's slot) while a
   * round that asked its old id, and got nothing from it, still runs: the round asks it again instead of going on
   * without it.
   */
  private backInRunningRound(id: string): void {
    const r = this.running;
    if (!r || !this.engine.addToRunningRound) return;
    const before = r.asked.get(this.o.membership.slotFor(id));
    if (before === undefined || before === id || r.delivered.has(before)) return;
    if (this.engine.addToRunningRound(id)) this.o.log('info', `${id} is back in its place (a reload): it trains round ${r.round} after all`);
  }

  /** Exact decomposition moves every local model to every participant: only for small sessions. */
  capExactDecomposition(): void {
    const cap = this.o.timing.exactDecompositionMaxParticipants;
    if (this.o.config().decomposition !== 'exact' || this.engine.connectedClients.length <= cap) return;
    this.o.log('warn', `more than ${cap} participants: the decomposition switches from exact to proxy (local models no longer go to every peer)`);
    this.o.setDecompositionMode('proxy');
  }
}
