import { FlClient } from '../fl/client';
import { sessionMessageLimit } from '../fl/codec/session-limits';
import type { ClientInfo, EngineEvent, EngineHooks } from '../fl/engine';
import type { PrivateParty } from '../fl/private-party';
import type { LocalTrainer } from '../fl/local-trainer';
import { PROTOCOL_VERSION, WELCOME_HISTORY_MAX, type DecompositionMode, type Message, type RedirectMessage, type RosterEntry, type RosterMessage, type RoundSummary, type SessionConfig, type SessionStateMessage, type ReclaimMessage, type HandbackMessage } from '../fl/protocol';
import type { TrainProgress } from '../fl/train';
import type { WeightSet } from '../fl/weights';
import { AggregatorRole, type Checkpoint } from './aggregator-role';
import { deferredTrainer } from './deferred-trainer';
import { PendingWelcome, type Welcome } from './pending-welcome';
import { Election } from './election';
import { Membership } from './membership';
import { RoundTraffic } from './round-traffic';
import { defaultEngineFactory, type EngineFactory, type ValidationEvaluator } from './session-engine';
import { SESSION_TIMING, type SessionTiming } from './session-timing';
import { LocalLoop, type SessionTransport } from './session-transport';
import { forClient, gatedTransport } from './term-transport';
import { opensCommitment } from './host-key';
import { initialPhase, messageOfRecord, readinessOf, recordOfMessage, SessionRecordKeeper, supersedes, type SessionRecord } from './session-record';
import type { RoundView } from './types';
import { yieldToEventLoop } from '../fl/next-task';
import { assertNever } from '../fl/exhaustive';
import { isFor, termToCheck } from '../fl/routing';

export { SESSION_TIMING, type SessionTiming } from './session-timing';
export type { EngineFactory, ValidationEvaluator } from './session-engine';

/** A finished round as this tab knows it (a client learns less than the aggregator: no ids, no timings). */
export interface RoundRecord extends RoundView {
  aggregatorId: string;
}

export interface SessionNodeOptions {
  /** In the app an AuthenticatedTransport: only peers that proved they know the join secret reach the node. */
  transport: SessionTransport;
  name: string;
  /** This tab's per-session key, sent in its hellos: the aggregator gives it the same slot after a reload. */
  clientKey?: string;
  /**
   * When this tab begins aggregating (hosting, resuming, taking over) and after each round it aggregated: what it
   * resumes from after a reload (node.term and node.selfId say in which term and under which id).
   */
  onCheckpoint?: (checkpoint: Checkpoint, records: RoundRecord[], roster: RosterEntry[]) => void;
  /** The trainer on this tab's local data, or null while it has none. */
  trainer: () => LocalTrainer | null;
  /** This tab's side of private sessions (the browser: in the training worker); without one it cannot join them. */
  party?: PrivateParty;
  validation?: ValidationEvaluator;
  /** While this tab aggregates: runs each round's aggregation elsewhere (the browser: a worker); absent: in-process. */
  aggregate?: EngineHooks['aggregate'];
  /** While this tab aggregates a private session: takes the masks off a secure sum elsewhere (a worker); absent: in-process. */
  unmask?: EngineHooks['unmask'];
  timing?: Partial<SessionTiming>;
  /** How this tab builds its round engine when it aggregates (tests wrap it). */
  createEngine?: EngineFactory;
  onChange?: () => void;
  onLog?: (level: 'info' | 'warn' | 'error', text: string) => void;
  onProgress?: (round: number, progress: TrainProgress) => void;
  /** While this tab aggregates: a client training the running round reported how far it got (0..1; checked by the engine). */
  onPeerProgress?: (peerId: string, round: number, fraction: number) => void;
  onActivity?: (activity: 'training' | 'evaluating' | 'idle') => void;
}

/**
 * One tab's part in a session, whatever its role: client of an aggregator, or the aggregator (with its own local
 * client when it has data). Coordinates membership (who is in), the election (who aggregates in which term), the
 * round loop and checkpoints. Transport-agnostic: runs over WebRTC in the browser and in memory in Node tests.
 */
export class SessionNode {
  readonly selfId: string;
  private readonly timing: SessionTiming;
  private readonly loop: LocalLoop;
  private readonly client: FlClient;
  /** A hello went out without this tab's label histogram because the session's config was not known yet. */
  private labelsWithheld = false;
  private readonly membership = new Membership();
  private readonly election: Election;
  private readonly traffic: RoundTraffic;
  /** Set while this tab aggregates. */
  private aggregating: AggregatorRole | null = null;
  /** The session's state while this tab aggregates (it owns the record of its term). */
  private keeper: SessionRecordKeeper | null = null;
  /** The record of the aggregator this tab follows, as last received (or its own, kept after stepping down). */
  private followed: SessionRecord | null = null;
  private sessionConfig: SessionConfig | null = null;
  private mySlot: number | null = null;
  private joinTarget: string | null = null;
  /** Claims already logged as ignored (a claimant repeats its claim with every heartbeat). */
  private readonly ignoredClaims = new Set<string>();
  private latest: Checkpoint | null = null;
  private readonly records: RoundRecord[] = [];
  private readonly pendingEvaluations: Promise<void>[] = [];
  private running = false;
  /** The round loop while it runs (see start()). */
  private runLoop: Promise<void> = Promise.resolve();
  /** The link of the host's key this tab revealed to take control back; it becomes the commitment once control is back. */
  private reclaiming: string | null = null;
  /** Why rounds pause other than for readiness (this side of a split reaches no majority), or null. */
  private hold: string | null = null;
  /** This tab hands control to the host that reclaimed it, after the round in progress. */
  private handingBack = false;
  private started = false;
  private stopRequested = false;
  private welcome: PendingWelcome | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: SessionNodeOptions) {
    this.selfId = options.transport.selfId;
    this.timing = { ...SESSION_TIMING, ...options.timing };
    this.loop = new LocalLoop(options.transport);
    this.traffic = new RoundTraffic(() => options.transport.trafficTotals());
    this.election = new Election({
      selfId: this.selfId,
      timing: this.timing,
      // An aggregator judging a claim also considers peers it had lost: the link to a rightful successor may have flapped.
      successorOf: (id) => this.membership.successorOf(id, this.isAggregator ? 'known' : 'roster'),
      voters: (previous) => this.membership.successorsOf(previous).filter((id) => id !== this.selfId),
      countsInElectorate: (previous) => !this.membership.saidBye(previous),
      lostMajority: () => this.aggregating?.lostMajority ?? false,
      canAggregate: () => this.sessionConfig !== null && this.latest !== null,
      send: (to, m) => this.options.transport.connect(to).then(() => this.options.transport.send(to, m), () => undefined),
      onElected: (term, previous) => this.takeOver(term, previous),
      onSilent: (id) => this.reachAggregator(id),
      log: (level, text) => this.log(level, text),
    });
    this.client = new FlClient(gatedTransport(this.loop.clientFace, (from, m) => forClient(from, m, this.election)), '', deferredTrainer(options.trainer), {
      name: options.name,
      clientKey: options.clientKey,
      onProgress: (round, p) => options.onProgress?.(round, p),
      onRoundResult: (r) => {
        if (this.isAggregator) return; // the aggregator records its own report
        this.records.push({
          round: r.round, accuracy: r.accuracy, loss: r.loss, decomposition: r.decomposition ?? null, participants: [], participantCount: r.participants,
          missing: [], trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, ...this.traffic.take(r.round), aggregatorId: this.aggregatorId ?? '',
          ...(r.privacy ? { privacy: r.privacy } : {}),
        });
        this.changed();
      },
      onError: (reason) => this.log('error', reason),
      ...(options.party ? { party: options.party } : {}),
      // A private session's aggregator gets no label histogram: a hello sent before the session's config is known
      // carries none either, and the welcome (which brings the config) is followed by one with it where it may.
      shareLabels: () => {
        if (this.sessionConfig) return !this.sessionConfig.privacy;
        this.labelsWithheld = true;
        return false;
      },
    });
    this.unsubscribe.push(
      this.loop.clientFace.onMessage((from, m) => this.handleSessionMessage(from, m)),
      options.transport.onPeerLeft((peer) => this.onPeerLeft(peer)),
    );
  }

  // ---- read-only state -------------------------------------------------------------------------

  get aggregatorId(): string | null {
    return this.election.aggregatorId;
  }

  get term(): number {
    return this.election.term;
  }

  get isAggregator(): boolean {
    return this.aggregating !== null;
  }

  get config(): SessionConfig | null {
    return this.sessionConfig;
  }

  get slot(): number | null {
    return this.mySlot;
  }

  /** The roster: with label histograms on the aggregating tab, without them elsewhere. */
  get roster(): RosterEntry[] {
    return this.membership.roster;
  }

  get rounds(): RoundRecord[] {
    return this.records;
  }

  /** The newest global model this tab holds (its own aggregation, a checkpoint or a round-start), for export and prediction. */
  get globalModel(): { round: number; weights: WeightSet } | null {
    return this.latest ? { round: this.latest.round, weights: this.latest.weights } : null;
  }

  get currentRound(): number {
    return this.aggregating?.engine.currentRound ?? this.latest?.round ?? 0;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Where the session stands: this tab's own record while it aggregates, else its aggregator's (null before the first). */
  get sessionRecord(): SessionRecord | null {
    return this.keeper?.record ?? this.followed;
  }

  /** The aggregator has been silent past the deadline: a takeover may be under way. */
  get inHandover(): boolean {
    return this.election.aggregatorSilent;
  }

  /** Connected clients as the aggregator sees them (empty on a non-aggregating tab). */
  get clients(): ClientInfo[] {
    return this.aggregating?.engine.connectedClients ?? [];
  }

  // ---- aggregating ------------------------------------------------------------------------------

  /**
   * Starts a new session with this tab aggregating, at round 0, in term 1; or, with `resume`, the session this tab
   * aggregated before a reload (as its host, or as the successor that took over in a later term), from its last
   * checkpoint, in the same term, with its finished rounds. Its members still follow this id in that term, so they
   * take it back as their aggregator; an aggregator of a later term that replaced it meanwhile makes it step down
   * (see onRoster: this tab has lost its majority, and the later term's aggregator is its successor).
   */
  async host(config: SessionConfig, initialWeights: WeightSet, resume?: { checkpoint: Checkpoint; records: RoundRecord[]; roster: RosterEntry[]; term?: number }): Promise<void> {
    this.adoptConfig(config);
    this.mySlot = this.membership.slotFor(this.selfId);
    this.election.follow(this.selfId, resume?.term ?? 1);
    if (resume) {
      this.records.push(...resume.records.filter((r) => r.round <= resume.checkpoint.round));
      this.started = resume.checkpoint.round > 0;
      // The same slots as before, so the successors are the same; the members hear of this tab at once, before
      // their silence deadline makes them elect a successor.
      this.membership.adopt(resume.roster);
      this.mySlot = this.membership.slotFor(this.selfId);
    }
    const role = this.becomeAggregator(resume?.checkpoint ?? { weights: initialWeights, round: 0, serverState: null });
    if (resume) role.announceTo(resume.roster.map((e) => e.id));
    await this.announce();
  }

  private becomeAggregator(from: Checkpoint): AggregatorRole {
    // The members as known before this term's roster starts from this tab alone (the role rebuilds it as they join).
    const roster = this.membership.roster;
    const config = this.requireConfig();
    this.keeper = new SessionRecordKeeper(
      { term: this.election.term, aggregatorId: this.selfId, phase: initialPhase(from.round, config.rounds, this.started), round: from.round, totalRounds: config.rounds, ...readinessOf([], config.minClients) },
      () => this.publishRecord(),
    );
    const role = new AggregatorRole(
      {
        self: { id: this.selfId, name: this.options.name },
        term: this.election.term,
        face: this.loop.engineFace,
        network: this.options.transport,
        membership: this.membership,
        timing: this.timing,
        config: () => this.requireConfig(),
        createEngine: this.options.createEngine ?? defaultEngineFactory,
        validation: this.options.validation,
        aggregate: this.options.aggregate,
        unmask: this.options.unmask,
        setDecompositionMode: (mode) => this.setDecompositionMode(mode),
        history: () => this.history(),
        sessionState: () => (this.keeper ? messageOfRecord(this.keeper.record) : null),
        onEvent: (e) => this.onEngineEvent(e),
        log: (level, text) => this.log(level, text),
      },
      from,
    );
    this.aggregating = role;
    this.latest = from;
    this.client.join(this.selfId).catch((e) => this.log('error', `local client: ${String(e)}`));
    this.options.onCheckpoint?.(from, this.records, roster);
    this.changed();
    return role;
  }

  /** Stops aggregating because `successor` won a higher term; tells this tab's clients to follow it. */
  private stepDown(successor: string, term: number): void {
    this.aggregating?.redirectClientsTo(successor, term);
    this.stopAggregating();
    this.log('warn', `${this.membership.nameOf(successor)} aggregates in a later term (${term}); this tab follows it`);
  }

  /**
   * This tab aggregated rounds after `round` on its side of a split, and the later term that replaced it goes on from
   * `round`: those rounds are not part of the session's run. Reported, and dropped from this tab's record of the run.
   */
  private discardRoundsAfter(round: number, term: number, aggregatorId: string): void {
    const discarded = this.records.filter((r) => r.round > round && r.aggregatorId === this.selfId).map((r) => r.round);
    if (discarded.length === 0) return;
    const kept = this.records.filter((r) => !(r.round > round && r.aggregatorId === this.selfId));
    this.records.splice(0, this.records.length, ...kept);
    this.log('warn', `round${discarded.length === 1 ? '' : 's'} ${discarded.join(', ')} committed on this side of a split ${discarded.length === 1 ? 'is' : 'are'} discarded: ${this.membership.nameOf(aggregatorId)} goes on from round ${round} in term ${term}`);
    this.changed();
  }

  private stopAggregating(): void {
    this.aggregating?.dispose();
    this.aggregating = null;
    this.followed = this.keeper?.record ?? this.followed;
    this.keeper = null;
    this.hold = null;
  }

  /** This term's record to every member, at once (the heartbeat repeats it). */
  private publishRecord(): void {
    if (!this.keeper) return;
    const message = messageOfRecord(this.keeper.record);
    for (const e of this.membership.roster) if (e.id !== this.selfId) this.options.transport.send(e.id, message);
    this.changed();
  }

  private updateRecord(change: Parameters<SessionRecordKeeper['update']>[0]): void {
    const role = this.aggregating;
    if (!role || !this.keeper) return;
    this.keeper.update({ ...change, ...readinessOf(role.engine.connectedClients, this.requireConfig().minClients) }, this.hold);
  }

  /** Why this side of a split session must not commit rounds: it reaches no majority of the live members. */
  private minorityReason(role: AggregatorRole): string | null {
    if (!role.lostMajority) return null;
    const { connected, members } = role.reach;
    return `this tab reaches ${connected} of ${members} members, no majority`;
  }

  private onEngineEvent(e: EngineEvent): void {
    switch (e.kind) {
      case 'client-joined':
        if (e.client.id === this.selfId) this.mySlot = this.membership.slotFor(this.selfId);
        break;
      case 'client-left':
        this.log('warn', `${this.membership.nameOf(e.clientId)} left`);
        break;
      case 'rejected':
        this.log('warn', `rejected from ${this.membership.nameOf(e.from)}: ${e.reason}`);
        break;
      case 'round-failed':
        this.log('warn', `round ${e.round} not run: ${e.reason}`);
        break;
      case 'round-started':
        this.log('info', `round ${e.round} started with ${e.selected.length} clients`);
        this.updateRecord({ runningRound: e.round, inRound: e.selected });
        break;
      case 'client-progress':
        this.options.onPeerProgress?.(e.clientId, e.round, e.fraction);
        break;
      default:
        break;
    }
    this.updateRecord({});
    this.changed();
  }

  /** Aggregator: runs rounds until the configured number is reached, stop() is called, or this tab steps down. */
  async start(): Promise<void> {
    const role = this.aggregating;
    if (!role) throw new Error('only the aggregating tab can start rounds');
    if (this.running || this.handingBack) return;
    this.runLoop = this.runRounds(role);
    return this.runLoop;
  }

  private async runRounds(role: AggregatorRole): Promise<void> {
    this.running = true;
    this.started = true;
    this.stopRequested = false;
    this.updateRecord({ phase: 'running' });
    this.changed();
    try {
      const config = this.requireConfig();
      while (!this.stopRequested && !this.closed && this.aggregating === role && role.engine.currentRound < config.rounds && !role.engine.finished) {
        // Cut off from most of the session: rounds committed here would be discarded when the sides merge.
        this.hold = this.minorityReason(role);
        if (this.hold) {
          this.updateRecord({ phase: 'waiting', runningRound: null, inRound: [] });
          await new Promise((r) => setTimeout(r, this.timing.retryRoundMs));
          continue;
        }
        if (this.canRunRound(role)) this.updateRecord({ phase: this.stopRequested ? 'stopping' : 'running', runningRound: role.engine.currentRound + 1 });
        const report = await role.engine.runRound();
        if (this.aggregating !== role) break; // stepped down meanwhile: this round belongs to a stale term
        if (role.engine.finished) {
          this.log('info', `the session ends: ${role.engine.finished}`);
          break;
        }
        if (!report) {
          // Too few clients with data: the session waits for them (the record says why); else the round is retried.
          if (!this.canRunRound(role)) this.updateRecord({ phase: 'waiting', runningRound: null, inRound: [] });
          await new Promise((r) => setTimeout(r, this.timing.retryRoundMs));
          continue;
        }
        this.latest = role.roundDone();
        this.updateRecord({ round: role.engine.currentRound, runningRound: null, inRound: [] });
        const checkpoint = this.latest;
        const { evaluation, ...measured } = report;
        const record: RoundRecord = { ...measured, participantCount: report.participants.length, ...this.traffic.sinceLast(), aggregatorId: this.selfId };
        this.records.push(record);
        this.pendingEvaluations.push(
          evaluation.then((test) => {
            if (test) Object.assign(record, { accuracy: test.accuracy, loss: test.loss });
            this.changed();
          }, () => undefined),
        );
        this.options.onCheckpoint?.(checkpoint, this.records, this.membership.roster);
        this.log('info', `round ${report.round} done: ${report.participants.length} updates${report.accuracy !== null ? `, accuracy ${(100 * report.accuracy).toFixed(1)}%` : ''}`);
        this.changed();
        // The next round starts in a task of its own: ending one round and starting the next in the same task made
        // one long main-thread task of both on the aggregating tab. Not a timer: a hidden tab's run at most once a second.
        await yieldToEventLoop();
      }
      await Promise.all(this.pendingEvaluations);
    } finally {
      this.running = false;
      // A session whose privacy budget is spent says so for good: no round can run any more.
      this.hold = role.engine.finished ?? null;
      if (this.aggregating === role && !this.handingBack) {
        const round = role.engine.currentRound;
        const over = round >= this.requireConfig().rounds || Boolean(role.engine.finished);
        this.updateRecord({ phase: over ? 'finished' : 'stopped', round, runningRound: null, inRound: [] });
        // Every member gets the model of the last round, not only the one its last round started from.
        role.shareLatestCheckpoint();
      }
      this.changed();
    }
  }

  private canRunRound(role: AggregatorRole): boolean {
    const ready = readinessOf(role.engine.connectedClients, this.requireConfig().minClients);
    return ready.withData >= ready.needed;
  }

  /** Stops after the round in progress; every tab reads "stopping" at once, and "stopped" when it is done. */
  stop(): void {
    this.stopRequested = true;
    if (this.running) this.updateRecord({ phase: 'stopping' });
  }

  setDecompositionMode(mode: DecompositionMode): void {
    if (this.sessionConfig) this.adoptConfig({ ...this.sessionConfig, decomposition: mode });
    this.aggregating?.engine.setDecompositionMode(mode);
    // Exact decomposition only for sessions small enough: the message limit counts on it (see adoptConfig).
    this.aggregating?.capExactDecomposition();
    this.changed();
  }

  // ---- being a client ----------------------------------------------------------------------------

  /** Joins the session whose aggregator has this peer id; resolves with the welcome (slot and config). */
  async join(aggregatorId: string): Promise<Welcome> {
    this.joinTarget = aggregatorId;
    await this.options.transport.connect(aggregatorId);
    const welcome = (this.welcome = new PendingWelcome(this.timing.welcomeTimeoutMs));
    await this.client.join(aggregatorId);
    return welcome.promise;
  }

  /** (Re)sends this tab's hello, e.g. after its local data was loaded or changed. */
  async announce(): Promise<void> {
    const target = this.aggregatorId ?? this.joinTarget;
    if (target) await this.client.join(target);
  }

  private handleSessionMessage(from: string, m: Message): void {
    if (this.closed) return;
    if (from !== this.selfId) this.membership.markHeard(from);
    const term = termToCheck(m);
    if (term !== undefined && this.election.isStale(term)) return this.onStale(from);
    this.election.heard(from);
    if (!isFor(m, 'session')) return;
    switch (m.type) {
      case 'welcome':
        this.onWelcome(from, m.term, m.slot, m.config);
        if (m.history && from === this.aggregatorId) this.adoptHistory(m.history);
        return;
      case 'hello':
        if (from === this.selfId) return;
        if (this.isAggregator) {
          if (m.clientKey) this.membership.bindKey(from, m.clientKey);
        } else if (this.aggregatorId && this.aggregatorId !== this.selfId) {
          // This tab holds an id joiners use (the host's, say) but no longer aggregates: it sends them on.
          this.options.transport.send(from, { type: 'redirect', v: PROTOCOL_VERSION, term: this.term, aggregatorId: this.aggregatorId });
        }
        return;
      case 'redirect':
        return this.onRedirect(from, m);
      case 'roster':
        return this.onRoster(from, m);
      case 'checkpoint':
        if (!this.election.isCurrent(from, m.term)) return;
        if (m.round > 0) this.started = true;
        this.remember({ weights: m.weights, round: m.round, serverState: m.serverState, privacyLedger: m.privacyLedger ?? null });
        return;
      case 'round-start':
        if (this.election.isCurrent(from, m.term)) {
          this.started = true;
          const version = m.version;
          if (version > 0 && !this.records.some((r) => r.round === version)) this.traffic.close(version);
          const same = this.latest?.round === version;
          this.remember({ weights: m.weights, round: version, serverState: same ? this.latest!.serverState : null, privacyLedger: same ? (this.latest!.privacyLedger ?? null) : null });
          this.options.onActivity?.('training');
        }
        return;
      case 'eval-request':
        if (from === this.aggregatorId) this.options.onActivity?.('evaluating');
        return;
      case 'round-result':
        if (this.election.isCurrent(from, m.term)) this.options.onActivity?.('idle');
        return;
      case 'session-state':
        return this.onSessionState(from, m);
      case 'reclaim':
        return this.onReclaim(from, m);
      case 'handback':
        return this.onHandback(from, m);
      case 'vote-request':
        return this.election.onVoteRequest(from, m);
      case 'vote':
        return this.election.onVote(from, m);
      case 'bye':
        if (m.term !== undefined) return; // a bye with a term moves to another aggregator, not away
        this.membership.markGone(from);
        this.aggregating?.peerGone(from);
        return;
      case 'error':
        if (from !== this.aggregatorId && from !== this.joinTarget) return;
        if (this.welcome?.open) this.welcome.reject(new Error(`the session refused this tab: ${m.reason}`));
        else this.log('error', `aggregator: ${m.reason}`);
        return;
      default:
        return assertNever(m, 'session message');
    }
  }

  /** The record of this term's aggregator: kept when it is newer than the one this tab holds. */
  private onSessionState(from: string, m: SessionStateMessage): void {
    if (this.isAggregator || m.aggregatorId !== from || !this.election.isCurrent(from, m.term)) return;
    const record = recordOfMessage(m);
    if (!supersedes(record, this.followed)) return;
    this.followed = record;
    this.changed();
  }

  /** The host tab, back as a client (after a reload): asks this term's aggregator for control with the next link of its key. */
  reclaim(proof: string): void {
    const aggregator = this.aggregatorId;
    if (this.isAggregator || !aggregator || this.closed) return;
    this.reclaiming = proof;
    this.options.transport.send(aggregator, { type: 'reclaim', v: PROTOCOL_VERSION, term: this.term, proof });
  }

  private onReclaim(from: string, m: ReclaimMessage): void {
    const config = this.sessionConfig;
    if (!this.isAggregator || this.handingBack || from === this.selfId || m.term !== this.term || !config?.hostCommitment) return;
    if (!opensCommitment(m.proof, config.hostCommitment)) {
      this.log('warn', `${this.membership.nameOf(from)} asked for control of the session with a key that is not the host's: ignored`);
      return;
    }
    void this.handBack(from, m.proof);
  }

  /**
   * Hands control to the host tab that proved its key: after the round in progress (which counts), that tab aggregates
   * in the next term from this tab's checkpoint, and runs on if the session was running; this tab follows it.
   */
  private async handBack(host: string, proof: string): Promise<void> {
    const role = this.aggregating;
    if (!role) return;
    this.handingBack = true;
    // The revealed link is spent: the next reclaim needs the one before it.
    this.adoptConfig({ ...this.requireConfig(), hostCommitment: proof });
    const run = this.running && !this.stopRequested;
    this.log('info', `the host (${this.membership.nameOf(host)}) is back: handing control to it${this.running ? ' after the round in progress' : ''}`);
    this.stopRequested = true;
    await this.runLoop;
    this.handingBack = false;
    if (this.aggregating !== role || this.closed) return;
    const term = this.term + 1;
    role.sendCheckpointTo(host);
    this.options.transport.send(host, { type: 'handback', v: PROTOCOL_VERSION, term, run });
    this.stepDown(host, term);
    this.election.follow(host, term);
    this.rejoin(host);
    this.changed();
  }

  /** The aggregator handed control back to this tab (it reclaimed it with the host's key). */
  private onHandback(from: string, m: HandbackMessage): void {
    const config = this.sessionConfig;
    if (this.reclaiming === null || from !== this.aggregatorId || m.term <= this.term || !config || this.isAggregator) return;
    this.adoptConfig({ ...config, hostCommitment: this.reclaiming });
    this.reclaiming = null;
    this.election.follow(this.selfId, m.term);
    this.takeOver(m.term, from, m.run);
  }

  /** A message from an older term: ignored, but an aggregator of a later term tells the sender about itself. */
  private onStale(from: string): void {
    if (from !== this.selfId) this.aggregating?.announceTo([from]);
  }

  private onWelcome(from: string, term: number, slot: number, config: SessionConfig): void {
    const expected = from === this.joinTarget || this.election.isCurrent(from, term) || this.election.acceptsClaim(from, term);
    if (!expected) return;
    if (from !== this.aggregatorId || term !== this.term) this.election.follow(from, term);
    this.joinTarget = null;
    this.adoptConfig(config);
    this.mySlot = slot;
    if (this.labelsWithheld && !config.privacy) {
      this.labelsWithheld = false;
      void this.announce().catch(() => undefined);
    }
    this.welcome?.resolve({ slot, config });
    this.changed();
  }

  /** A lobby on the host's id sent this joining tab on to the aggregator that took over. */
  private onRedirect(from: string, m: RedirectMessage): void {
    if (!this.welcome?.open || from !== this.joinTarget || m.aggregatorId === from || m.aggregatorId === this.selfId) return;
    this.log('info', `the session moved to ${m.aggregatorId} (term ${m.term}); joining there`);
    this.joinTarget = m.aggregatorId;
    this.options.transport
      .connect(m.aggregatorId)
      .then(() => (this.joinTarget === m.aggregatorId && !this.closed ? this.client.join(m.aggregatorId) : undefined))
      .catch((e) => this.welcome?.reject(new Error(`could not reach the session's aggregator: ${String(e)}`)));
  }

  /** The finished rounds this tab has not seen (it joined late): metrics only. */
  private adoptHistory(history: RoundSummary[]): void {
    const known = new Set(this.records.map((r) => r.round));
    const missing = history.filter((h) => !known.has(h.round));
    if (missing.length === 0) return;
    this.records.push(
      ...missing.map((h) => ({
        ...h, participants: [], missing: [], trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, bytesSent: 0, bytesReceived: 0, aggregatorId: '',
      })),
    );
    this.records.sort((a, b) => a.round - b.round);
    this.changed();
  }

  /** The finished rounds as sent to a joining tab. */
  private history(): RoundSummary[] {
    return this.records.slice(-WELCOME_HISTORY_MAX).map((r) => ({ round: r.round, accuracy: r.accuracy, loss: r.loss, decomposition: r.decomposition ?? null, participantCount: r.participantCount }));
  }

  private onRoster(from: string, m: RosterMessage): void {
    if (from !== m.aggregatorId) {
      // The current aggregator stepped down in favour of m.aggregatorId.
      if (from === this.aggregatorId && m.term > this.term) {
        this.election.redirectTo(m.aggregatorId, m.term);
        this.joinTarget = m.aggregatorId;
        this.log('info', `${this.membership.nameOf(m.aggregatorId)} now aggregates (term ${m.term})`);
        this.rejoin(m.aggregatorId);
      }
      return;
    }
    if (this.election.isCurrent(from, m.term)) {
      this.membership.adopt(m.peers);
      // Dropped by the aggregator while our link was down: say hello again.
      if (!this.isAggregator && this.mySlot !== null && !this.membership.has(this.selfId)) void this.announce();
      this.changed();
      return;
    }
    if (!this.election.acceptsClaim(from, m.term)) {
      const claim = `${from}\n${m.term}`;
      if (!this.ignoredClaims.has(claim)) this.log('warn', `ignored ${this.membership.nameOf(from)} announcing itself as aggregator (term ${m.term}): not this session's successor`);
      this.ignoredClaims.add(claim);
      return;
    }
    const previous = this.aggregatorId;
    if (this.isAggregator) {
      this.stepDown(from, m.term);
      this.discardRoundsAfter(m.round, m.term, from);
    }
    // Tells the previous aggregator, should it still run, that one of its clients now follows a later term.
    else if (previous && previous !== from) this.options.transport.send(previous, { type: 'bye', v: PROTOCOL_VERSION, reason: `following term ${m.term}`, term: m.term });
    this.election.follow(from, m.term);
    this.membership.adopt(m.peers);
    this.log('info', `${this.membership.nameOf(from)} now aggregates (term ${m.term})`);
    this.rejoin(from);
    this.changed();
  }

  private rejoin(aggregatorId: string): void {
    const following = this.aggregatorId;
    this.options.transport
      .connect(aggregatorId)
      // The session may have moved on while connecting (this tab took over, or follows another term by now).
      .then(() => (this.aggregatorId === following && !this.isAggregator && !this.closed ? this.client.join(aggregatorId) : undefined))
      .catch((e) => this.log('warn', `could not reach the aggregator: ${String(e)}`));
  }

  /** The aggregator went silent: try to reach it again (a restored link re-admits this tab). */
  private reachAggregator(id: string): void {
    this.log('warn', `no word from the aggregator (${this.membership.nameOf(id)}) for ${this.timing.silenceMs / 1000} s`);
    this.rejoin(id);
  }

  private remember(c: Checkpoint): void {
    if (!this.latest || c.round > this.latest.round || (c.round === this.latest.round && (c.serverState || c.privacyLedger))) this.latest = c;
  }

  private onPeerLeft(peer: string): void {
    if (this.closed) return;
    this.membership.markLeft(peer);
    this.aggregating?.peerLeft(peer);
    if (peer === this.aggregatorId && !this.isAggregator) this.log('warn', `lost the link to the aggregator (${this.membership.nameOf(peer)}); waiting to see whether it is gone`);
    this.changed();
  }

  /** This tab won the election for `term`: it resumes from the latest checkpoint it holds and tells everyone. */
  private takeOver(term: number, previous: string, run = this.wasRunning()): void {
    if (this.closed) return;
    const config = this.sessionConfig;
    if (!config || !this.latest) {
      this.log('error', 'cannot take over: this tab never received the session configuration and a global model');
      return;
    }
    const others = this.membership.roster.map((e) => e.id).filter((id) => id !== this.selfId);
    this.recordRoundsMissedBefore(this.latest.round, previous);
    this.log('info', `this tab now aggregates (term ${term}), resuming after round ${this.latest.round}`);
    // Everyone, the previous aggregator included (its link may only have flapped), hears of this term until they join.
    this.becomeAggregator(this.latest).announceTo([...others, previous]);
    if (run) void this.start();
  }

  /**
   * Rounds up to the checkpoint this tab resumes from that it has no record of: the previous aggregator committed them
   * (the checkpoint says so) but went away before their results reached this tab. They count, without their metrics.
   */
  private recordRoundsMissedBefore(round: number, aggregatorId: string): void {
    const known = new Set(this.records.map((r) => r.round));
    const first = this.records.length > 0 ? Math.min(...known) : 1;
    let added = 0;
    for (let r = first; r <= round; r++) {
      if (known.has(r)) continue;
      this.records.push({ round: r, accuracy: null, loss: null, decomposition: null, participants: [], participantCount: 0, missing: [], trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, bytesSent: 0, bytesReceived: 0, aggregatorId });
      added++;
    }
    if (added === 0) return;
    this.records.sort((a, b) => a.round - b.round);
    this.log('warn', `${added} round${added === 1 ? '' : 's'} up to round ${round} committed by ${this.membership.nameOf(aggregatorId)} reached this tab without results: kept without metrics`);
  }

  /** Whether the session ran when its aggregator went silent: a successor runs on, but a stopped session stays stopped. */
  private wasRunning(): boolean {
    const phase = this.followed?.phase;
    return phase === undefined ? this.started : phase === 'running' || phase === 'waiting';
  }

  // ---- common -----------------------------------------------------------------------------------

  leave(): void {
    if (this.closed) return;
    // Not stop(): leaving ends this tab's part, not the run (a successor runs on).
    this.stopRequested = true;
    if (this.aggregatorId && !this.isAggregator) this.client.leave('left the session');
    // An aggregator that leaves on purpose says so: its peers then elect a successor without counting it, which lets
    // even a two-tab session hand over (a silent aggregator still counts, so a flapping link cannot split the session).
    if (this.isAggregator) {
      for (const id of this.membership.successorsOf(this.selfId, 'known')) this.options.transport.send(id, { type: 'bye', v: PROTOCOL_VERSION, reason: 'the aggregator left the session' });
    }
    this.closed = true;
    this.welcome?.reject(new Error('left the session before it answered'));
    this.election.dispose();
    this.stopAggregating();
    this.unsubscribe.forEach((u) => u());
    this.changed();
  }

  /**
   * The session's config, and the largest message this tab then accepts from its peers: sized for everything the
   * session may send, exact decomposition included (one local model per participant up to the cap, plus the global).
   */
  private adoptConfig(config: SessionConfig): void {
    this.sessionConfig = config;
    const limit = sessionMessageLimit(config, { evalModels: this.timing.exactDecompositionMaxParticipants + 1 });
    this.options.transport.setMessageLimit(limit.bytes, limit.objects);
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
