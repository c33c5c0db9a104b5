/**
 * The one round loop's shared half. A Coordinator owns, for both synchronous rounds (RoundEngine) and buffered
 * asynchronous steps (AsyncEngine), and for the app as for the simulator:
 * - the client registry (hellos, admission, leaving);
 * - assignments: the model version and the strategy's plan each client was sent, with a number of its own;
 * - the trust boundary for updates, and the buffer they wait in (fl/async's AsyncAggregation, staleness included:
 *   in synchronous rounds every update is fresh, so its weight is 1);
 * - aggregation (robust screening + the strategy + its server optimizer, through aggregateRound or the aggregate
 *   hook), the outcome checked before anything changes;
 * - measurement (the loss decomposition, the test-set evaluation), whose failures are warnings;
 * - the atomic commit of model, version and strategy state.
 * A scheduler decides when: which clients to assign, how long to wait, how many updates make a step, and whether to
 * measure before or after the commit. A Clock decides what time it is.
 */
import { FL_TIMING, type FlTiming } from '../config';
import { checkHello, type AdmitHello, type ClientInfo } from '../hello';
import { exactDecomposition, proxyDecomposition, type LossDecomposition } from '../decomposition';
import type { ModelSpec } from '../models';
import type { DecompositionMode, EvalResultMessage, HelloMessage, Message, ProgressMessage, RoundResultMessage, TrainConfig, UpdateMessage } from '../protocol';
import { PROTOCOL_VERSION } from '../protocol';
import { isFraction } from '../progress-report';
import { classBalance, type ClassBalance } from '../collapse';
import { strategyRuntime, type StrategyRuntime } from '../strategies/runtime';
import { createAggregator } from '../strategies/aggregators';
import type { Extras, RoundPlan, ServerState, StrategyConfig } from '../strategies/types';
import { robustSettings, screeningVerdicts, type RobustMode, type RobustSettings, type ScreeningVerdict } from '../robust';
import { aggregateRound, outcomeProblem, stateProblem, type AggregationJob, type AggregationOutcome } from '../aggregate-round';
import { AsyncAggregation, type AsyncAggregationConfig, type PendingStep, type StepContribution } from '../async/async-aggregation';
import type { BufferedUpdate } from '../async/buffer';
import type { Transport } from '../transport';
import type { TensorLayout, WeightSet } from '../weights';
import { addScaledWeights, assertFinite, assertSameLayout, layoutOf } from '../weights';
import type { ScoredModel } from '../scored-model';
import { wasValidated } from '../codec/validate';
import { isFor, routeOf } from '../routing';
import { assertNever } from '../exhaustive';
import type { Clock } from './clock';
import { PrivateContributions } from './private-contributions';
import type { PrivacySettings } from '../private-aggregation';
import type { UnmaskJob } from '../secagg/secagg-server';
import type { ContributionSpecWire, SecAggMessage } from '../protocol';

export interface CoordinatorConfig {
  model: ModelSpec;
  strategy: StrategyConfig;
  train: Omit<TrainConfig, 'seed'>;
  seed: number;
  /** How the buffer weighs and drops stale updates (synchronous rounds: every update is fresh, its weight 1). */
  buffer: AsyncAggregationConfig;
  /** Defence against hostile updates applied before the strategy aggregates (src/fl/robust); default 'clip'. */
  robust?: RobustMode | Partial<RobustSettings>;
  timing?: Partial<FlTiming>;
  /**
   * Private aggregation: clients clip (and noise) their own updates, and with secure aggregation this coordinator
   * learns only their sum. Needs a strategy whose aggregate is a weighted sum and robust 'off' (privacyProblem).
   */
  privacy?: PrivacySettings;
}

/** What a private step's aggregation covered: the clients asked, and those whose contributions are in it. */
export interface StepPrivacy {
  secure: boolean;
  selected: number;
  survivors: number;
}

/** What the aggregator's test-set evaluation of a global model returns. */
export interface GlobalEvaluation {
  loss: number;
  accuracy: number;
  /** Accuracy per class (null: no test sample of that class). With predictionCounts, enables the collapse check. */
  perClassAccuracy?: (number | null)[];
  /** How many test samples the model assigned to each class. */
  predictionCounts?: number[];
}

/** The test-set result of a round, with the class balance when the hook reported per-class numbers. */
export interface RoundEvaluation {
  accuracy: number;
  loss: number;
  classes: ClassBalance | null;
}

export interface CoordinatorHooks {
  /** Test-set evaluation of the new global model (held by the aggregator), if any. */
  evaluateGlobal?: (weights: WeightSet) => Promise<GlobalEvaluation>;
  /** Proxy mode: plain-CE losses of the given models on the aggregator's validation set V (local models as base + delta). */
  evaluateOnValidation?: (models: ScoredModel[]) => Promise<number[]>;
  /** Admission check for a hello (e.g. the join secret); return a reason to refuse. */
  admit?: AdmitHello;
  /**
   * Runs a step's aggregation elsewhere, e.g. `aggregateRound(job)` in a Web Worker, off the main thread. The job and
   * the outcome are plain data (see ../aggregate-round: the job's arrays must be copied, not transferred). Without it
   * the coordinator runs aggregateRound in-process. The outcome is checked (outcomeProblem) before anything is
   * committed; a hook that rejects or returns an unusable outcome fails the step, model unchanged.
   */
  aggregate?: (job: AggregationJob) => Promise<AggregationOutcome>;
  /**
   * Takes the masks off a secure round's sum elsewhere, e.g. `unmaskSum(job)` in the aggregation worker (rebuilding
   * secrets and regenerating masks is the costly part of the aggregator's side). Without it, in-process.
   */
  unmask?: (job: UnmaskJob) => Promise<Uint32Array>;
}

/** What the coordinator observed, for the scheduler to pass on in its own events. */
export type CoordinatorEvent =
  | { kind: 'client-joined'; client: ClientInfo }
  | { kind: 'client-left'; clientId: string }
  | { kind: 'rejected'; from: string; reason: string }
  /** An update refused at the trust boundary (wrong assignment, layout or values, a duplicate). */
  | { kind: 'update-refused'; from: string; reason: string }
  | { kind: 'assigned'; clientId: string; version: number; assignment: number }
  | { kind: 'update-received'; from: string; assignment: number; baseVersion: number; staleness: number }
  | { kind: 'update-dropped'; from: string; staleness: number }
  /** A client's newer update replaced its older one, still waiting: one place per client in a step. */
  | { kind: 'update-superseded'; from: string }
  | { kind: 'client-progress'; clientId: string; assignment: number; baseVersion: number; fraction: number }
  | { kind: 'warning'; reason: string };

/** One open piece of work: what a client was sent and is expected to answer. */
export interface Assignment {
  /** Unique and increasing per coordinator: the round-start's `assignment`, echoed by the update and progress. */
  assignment: number;
  /** The global model version sent (its round-start's `version`). */
  version: number;
  base: WeightSet;
  /** When it was sent, on the coordinator's clock. */
  sentAt: number;
  /** What the strategy sent beside the weights (a reference to its state's tensors). */
  extras?: Extras;
  /** Private sessions: how the client was asked to build its contribution. */
  privacy?: ContributionSpecWire;
  /** How many clients this assignment asked (a private round's noise is sized for them). */
  asked: number;
}

/** One update as it went into an aggregation step. */
export interface StepUpdate {
  clientId: string;
  /** Unique per update: client id and assignment number. */
  key: string;
  /** The model version it trained from, and that model (base + delta is the client's local model). */
  baseVersion: number;
  base: WeightSet;
  /** The client's delta, or (when screening clipped or shrank it) what went in, before any staleness scaling. */
  delta: WeightSet;
  /** Its sample count after the robust caps. */
  numSamples: number;
  staleness: number;
  /** The factor the staleness weighting scaled its delta by. */
  weight: number;
  metrics: UpdateMessage['metrics'];
}

/** A step aggregated but not yet committed. */
export interface AggregatedStep {
  /** The version it becomes once committed. */
  version: number;
  previousGlobal: WeightSet;
  global: WeightSet;
  state: ServerState | null;
  updates: StepUpdate[];
  /** Taken from the buffer but past the maximum staleness. */
  dropped: StepContribution[];
  screening: ScreeningVerdict[];
  aggregateMs: number;
  /** Private sessions: whom the step's sum covers (null: not private). */
  privacy: StepPrivacy | null;
  /** @internal */
  pending: PendingStep & { keyOf: Map<string, string> };
  /** @internal */
  refused: ReadonlyArray<{ clientId: string; reason: string }>;
}

export type StepAttempt = { ok: true; step: AggregatedStep } | { ok: false; reason: string; dropped: StepContribution[] };

export interface Measured {
  decomposition: LossDecomposition | null;
  warnings: string[];
}

/** Where a coordinator starts: the global model, and for a handover its version and the strategy's state. */
export interface CoordinatorStart {
  weights: WeightSet;
  version?: number;
  serverState?: ServerState | null;
}

interface EvalWaiter {
  version: number;
  requestId: string;
  expected: Set<string>;
  received: Map<string, EvalResultMessage>;
}

interface Condition {
  done: () => boolean;
  resolve: (met: boolean) => void;
  cancel: () => void;
}

export class Coordinator {
  private readonly clients = new Map<string, ClientInfo>();
  private readonly assignments = new Map<string, Assignment>();
  private readonly ledger: AsyncAggregation;
  private readonly runtime: StrategyRuntime;
  private readonly robustConfig: RobustSettings;
  readonly layout: TensorLayout[];
  readonly timing: FlTiming;
  private state: ServerState | null = null;
  private lastAssignment = 0;
  /** The latest assignment and its message (extend() sends it again). */
  private latest: { record: Assignment; message: Message } | null = null;
  /** The assignment each client answered last (to tell a duplicate from a stale update). */
  private readonly answered = new Map<string, number>();
  /** Clients whose latest update was refused, or that reported they cannot train: no step waits for them. */
  private readonly notContributing = new Set<string>();
  private evalWaiter: EvalWaiter | null = null;
  private conditions: Condition[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private disposed = false;
  /** Private sessions: the recipe of each round's contributions and the running secure round (null: not private). */
  private readonly private: PrivateContributions | null;

  constructor(
    private readonly transport: Transport,
    private readonly config: CoordinatorConfig,
    start: CoordinatorStart,
    private readonly hooks: CoordinatorHooks,
    readonly clock: Clock,
    private readonly emit: (event: CoordinatorEvent) => void,
  ) {
    assertFinite(start.weights, 'initial weights');
    this.layout = layoutOf(start.weights);
    this.runtime = strategyRuntime(config.strategy);
    this.robustConfig = robustSettings(config.robust);
    this.timing = { ...FL_TIMING, ...config.timing };
    this.private = config.privacy
      ? new PrivateContributions(config.privacy, {
          strategy: config.strategy,
          robust: this.robustConfig.mode,
          seed: config.seed,
          clock,
          stepMs: this.timing.secureStepMs,
          send: (to, m) => {
            try {
              this.transport.send(to, m);
            } catch (e) {
              this.emit({ kind: 'warning', reason: `could not send a secure-aggregation step to ${to}: ${errorText(e)}` });
            }
          },
          declaredSamples: (id) => this.clients.get(id)?.numSamples,
          leftOut: (assignment, id, reason) => {
            if (this.assignments.get(id)?.assignment === assignment) this.assignments.delete(id);
            this.emit({ kind: 'update-refused', from: id, reason });
          },
          changed: () => this.changed(),
        })
      : null;
    const adopted = this.runtime.adopt(start.serverState);
    const problem = adopted ? stateProblem(adopted, this.layout) : null;
    if (problem) this.emit({ kind: 'warning', reason: `ignored the handed-over strategy state: ${problem}` });
    else this.state = adopted;
    // The ledger's own aggregator is never used here (aggregation goes through aggregateRound): it only holds the
    // committed model, its version and the buffer.
    this.ledger = new AsyncAggregation(createAggregator(config.strategy), config.buffer, start.weights, start.version ?? 0);
    this.unsubscribe.push(
      transport.onMessage((from, message) => this.handle(from, message)),
      transport.onPeerLeft((peer) => this.removeClient(peer)),
    );
  }

  get version(): number {
    return this.ledger.version;
  }

  get global(): WeightSet {
    return this.ledger.global;
  }

  get serverState(): ServerState | null {
    return this.state;
  }

  get description(): string {
    return this.runtime.description;
  }

  get connectedClients(): ClientInfo[] {
    return [...this.clients.values()];
  }

  /** Updates waiting in the buffer (with secure aggregation: masked inputs received). */
  get waiting(): number {
    return this.private?.secureRoundRuns ? this.private.maskedCount : this.ledger.waiting;
  }

  /**
   * True once as many updates wait as the buffer's size, or one from every client with data when fewer clients than
   * that are connected (a client holds one place in the buffer).
   */
  get bufferFull(): boolean {
    // (Clients whose latest update was refused are not waited for: one that only sends refused updates must not hold
    // every step until its deadline.)
    if (this.ledger.ready) return true;
    const contributors = this.trainable().filter((c) => !this.notContributing.has(c.id)).length;
    return this.ledger.waiting > 0 && this.ledger.waiting >= contributors;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  client(id: string): ClientInfo | undefined {
    return this.clients.get(id);
  }

  assignmentOf(id: string): Assignment | undefined {
    return this.assignments.get(id);
  }

  /** Clients with data to train on (a hello with 0 samples joins without training yet), by id. */
  trainable(): Array<{ id: string; numSamples: number }> {
    return [...this.clients.values()].filter((c) => c.numSamples > 0).map((c) => ({ id: c.id, numSamples: c.numSamples })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.private?.discard();
    this.unsubscribe.forEach((u) => u());
    for (const c of this.conditions.splice(0)) {
      c.cancel();
      c.resolve(false);
    }
  }

  /**
   * Resolves true once `done()` holds (checked now and after every change: an update, a client joining, leaving or
   * giving up, an evaluation result), or false after `ms` on the clock or when the coordinator is disposed.
   */
  waitUntil(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    if (this.disposed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const condition: Condition = { done, resolve, cancel: () => {} };
      condition.cancel = this.clock.after(ms, () => {
        this.conditions = this.conditions.filter((c) => c !== condition);
        resolve(done());
      });
      this.conditions.push(condition);
    });
  }

  private changed(): void {
    for (const c of this.conditions.slice()) {
      if (!c.done()) continue;
      this.conditions = this.conditions.filter((x) => x !== c);
      c.cancel();
      c.resolve(true);
    }
  }

  private reject(from: string, reason: string): void {
    this.emit({ kind: 'rejected', from, reason });
  }

  private handle(from: string, message: Message): void {
    // The routing table says which messages are the aggregator's; one meant for a client is a peer's mistake.
    if (!isFor(message, 'engine')) {
      if (routeOf(message.type).direction !== 'aggregator->client') return; // a session-level message: not the coordinator's
      return this.reject(from, `unexpected message "${message.type}" for the aggregator`);
    }
    switch (message.type) {
      case 'hello':
        return this.addClient(from, message);
      case 'update':
        return this.acceptUpdate(from, message);
      case 'secagg':
        return this.acceptSecAgg(from, message);
      case 'progress':
        return this.acceptProgress(from, message);
      case 'eval-result':
        return this.acceptEvalResult(from, message);
      case 'bye':
        return this.removeClient(from);
      case 'error':
        return this.clientCannotContinue(from, message.reason);
      default:
        return assertNever(message, 'message for the aggregator');
    }
  }

  private addClient(from: string, hello: HelloMessage): void {
    const verdict = checkHello(from, hello, this.hooks.admit, this.clients.get(from));
    if (!verdict.ok) {
      if (verdict.reply) this.transport.send(from, { type: 'error', v: PROTOCOL_VERSION, reason: verdict.reply });
      return this.reject(from, verdict.reason);
    }
    this.clients.set(from, verdict.client);
    this.emit({ kind: 'client-joined', client: verdict.client });
    this.changed();
  }

  private removeClient(id: string): void {
    if (!this.clients.delete(id)) return;
    this.notContributing.delete(id);
    this.private?.clientLeft(id);
    this.answered.delete(id);
    // Its update, should it still come, is refused; what it already sent stays buffered.
    this.assignments.delete(id);
    this.evalWaiter?.expected.delete(id);
    this.emit({ kind: 'client-left', clientId: id });
    this.changed();
  }

  /**
   * A client reported that it cannot do what it was asked (e.g. its data does not fit the session's model): its
   * assignment (and a pending evaluation) is closed at once, instead of holding the step until its deadline. It stays
   * connected and is asked again by the next assignment (its data may have changed by then).
   */
  private clientCannotContinue(from: string, reason: string): void {
    this.reject(from, `client reported: ${reason}`);
    this.notContributing.add(from);
    this.assignments.delete(from);
    this.evalWaiter?.expected.delete(from);
    this.changed();
  }

  /**
   * The strategy's plan for a step: which of `candidates` train, what goes beside the weights, training overrides,
   * whether the decomposition is measured. Throws when the strategy fails or asks something impossible.
   */
  plan(round: number, candidates: Array<{ id: string; numSamples: number }>, fraction: number, minClients: number): RoundPlan {
    const plan = this.runtime.planRound({ round, candidates, fraction, minClients, seed: this.config.seed, global: this.global, state: this.state });
    const allowed = new Set(candidates.map((c) => c.id));
    if (new Set(plan.selected).size !== plan.selected.length) throw new Error('a client is selected twice');
    for (const id of plan.selected) if (!allowed.has(id)) throw new Error(`selected client ${id} is not a candidate`);
    for (const [name, extra] of Object.entries(plan.extras ?? {})) assertSameLayout(this.layout, extra, `round-start extra ${name}`);
    return plan;
  }

  /**
   * Sends `ids` the current global model under one new assignment number, with the plan's extras and training
   * overrides (one message object for all, so a transport can encode it once). A send that throws closes that
   * client's assignment with a warning. Returns the assignment number.
   */
  assign(ids: readonly string[], plan: Pick<RoundPlan, 'extras' | 'train'>): number {
    const assignment = ++this.lastAssignment;
    const version = this.version;
    const base = this.global;
    const train: TrainConfig = { ...this.config.train, ...plan.train, seed: (this.config.seed * 1_000_003 + assignment) >>> 0 };
    const privacy = this.private?.recipe(ids);
    const message: Message = { type: 'round-start', v: PROTOCOL_VERSION, version, assignment, model: this.config.model, strategy: this.config.strategy, train, weights: base, ...(plan.extras ? { extras: plan.extras } : {}), ...(privacy ? { privacy } : {}) };
    const record: Assignment = { assignment, version, base, sentAt: this.clock.now(), asked: ids.length, ...(plan.extras ? { extras: plan.extras } : {}), ...(privacy ? { privacy } : {}) };
    this.latest = { record, message };
    if (privacy?.secure) this.private!.openSecureRound(assignment, ids, base);
    for (const id of ids) this.send(id, record, message);
    this.changed();
    return assignment;
  }

  /**
   * Sends one more client the latest assignment as it was sent (same number, model and plan): a client that joined,
   * or came back under a new id, while a synchronous round still waits. False when that is not the latest one.
   */
  extend(assignment: number, id: string): boolean {
    // A secure round's participants are fixed when it starts: its keys step does not wait for late joiners.
    if (this.private?.secureRoundRuns) return false;
    if (this.latest?.record.assignment !== assignment || this.assignments.has(id) || this.answered.get(id) === assignment) return false;
    const sent = this.send(id, this.latest.record, this.latest.message);
    this.changed();
    return sent;
  }

  private send(id: string, record: Assignment, message: Message): boolean {
    this.assignments.set(id, record);
    try {
      this.transport.send(id, message);
      this.emit({ kind: 'assigned', clientId: id, version: record.version, assignment: record.assignment });
      return true;
    } catch (e) {
      this.assignments.delete(id);
      this.emit({ kind: 'warning', reason: `could not send round-start to ${id}: ${errorText(e)}` });
      return false;
    }
  }

  /** Clients whose assignment `assignment` is still open. */
  openFor(assignment: number): string[] {
    return [...this.assignments].filter(([, a]) => a.assignment === assignment).map(([id]) => id);
  }

  /** Closes every open assignment numbered `assignment` (their updates, should they come, are refused as stale). */
  close(assignment: number): void {
    for (const [id, a] of this.assignments) if (a.assignment === assignment) this.assignments.delete(id);
  }

  /** Drops the updates waiting in the buffer (a synchronous round that failed: its updates are not carried over). */
  discardWaiting(): void {
    this.private?.discard();
    this.ledger.takeStep(this.ledger.waiting);
  }

  /** A client's secure-aggregation step, for the running secure round only; a masked input answers its assignment. */
  private acceptSecAgg(from: string, msg: SecAggMessage): void {
    const refuse = (reason: string) => this.emit({ kind: 'update-refused', from, reason });
    if (!this.private) return refuse(`secure-aggregation step "${msg.step}" in a session that is not private`);
    const out = this.private.accept(from, msg);
    if ('refused' in out) return refuse(out.refused);
    if (out.accepted !== 'masked') return;
    const a = this.assignments.get(from);
    if (a?.assignment === msg.assignment) {
      this.assignments.delete(from);
      this.answered.set(from, a.assignment);
      this.emit({ kind: 'update-received', from, assignment: a.assignment, baseVersion: a.version, staleness: 0 });
    }
    this.changed();
  }

  /**
   * Ends the running secure round: rebuilds the sum of the survivors' contributions and puts its weighted mean in
   * the buffer as each survivor's update (all the aggregator learns: who took part, and the mean). The strategy's
   * step on identical updates is its step on that mean.
   */
  private async unmaskSecureRound(): Promise<string | null> {
    const record = this.latest?.record;
    if (!record?.privacy) {
      this.private!.discard();
      return 'secure aggregation failed: its assignment is no longer the latest';
    }
    const round = await this.private!.unmask(record.assignment, record.privacy, record.base, (done, ms) => this.waitUntil(done, ms), this.hooks.unmask);
    if (!round.ok) return round.reason;
    for (const clientId of round.survivors) {
      this.ledger.submit(
        {
          clientId,
          key: `${clientId}#${record.assignment}`,
          baseVersion: record.version,
          base: record.base,
          delta: round.mean.delta,
          numSamples: 1,
          ...(this.private!.updateExtras.length ? { extras: round.mean.extras } : {}),
          ...(record.extras ? { sentExtras: record.extras } : {}),
          metrics: round.metrics.get(clientId)!,
          startedAt: record.sentAt,
          arrivedAt: Math.max(this.clock.now(), record.sentAt),
        },
        true,
      );
    }
    return null;
  }

  /**
   * The trust boundary for updates. Only here are the model layout and the sender's open assignment known, so the
   * delta and its extras are checked against them; their values are scanned for NaN/Infinity exactly once: by
   * validateMessage when the message came through the wire codec (which must refuse non-finite tensors anyway), else
   * here. Everything downstream trusts accepted updates and re-checks only what it computes itself.
   */
  private acceptUpdate(from: string, msg: UpdateMessage): void {
    const refuse = (reason: string) => this.emit({ kind: 'update-refused', from, reason });
    const a = this.assignments.get(from);
    if (!a || msg.assignment !== a.assignment) {
      if (msg.assignment === this.answered.get(from)) return refuse(`duplicate update for assignment ${msg.assignment}`);
      if (msg.assignment <= this.lastAssignment) return refuse(`stale update for assignment ${msg.assignment} (${a ? `assignment ${a.assignment} is open` : 'none is open'})`);
      return refuse(`update for assignment ${msg.assignment}, which was never sent to this client`);
    }
    this.assignments.delete(from);
    this.answered.set(from, a.assignment);
    const staleness = this.version - a.version;
    try {
      const scanned = wasValidated(msg);
      assertSameLayout(this.layout, msg.delta, `update from ${from}`);
      if (!scanned) assertFinite(msg.delta, `update from ${from}`);
      for (const [name, extra] of Object.entries(msg.extras ?? {})) {
        assertSameLayout(this.layout, extra, `update from ${from}: ${name}`);
        if (!scanned) assertFinite(extra, `update from ${from}: ${name}`);
      }
      if (!(Number.isInteger(msg.numSamples) && msg.numSamples > 0)) throw new Error(`update from ${from}: invalid sample count ${msg.numSamples}`);
      if (a.privacy && this.private) {
        const problem = this.private.updateProblem(msg, a.privacy);
        if (problem) throw new Error(`update from ${from}: ${problem}`);
      }
      const update: BufferedUpdate = {
        clientId: from,
        key: `${from}#${a.assignment}`,
        baseVersion: a.version,
        base: a.base,
        delta: msg.delta,
        numSamples: msg.numSamples,
        ...(msg.extras ? { extras: msg.extras } : {}),
        ...(a.extras ? { sentExtras: a.extras } : {}),
        metrics: msg.metrics,
        startedAt: a.sentAt,
        arrivedAt: Math.max(this.clock.now(), a.sentAt),
      };
      const outcome = this.ledger.submit(update, true);
      if (outcome === 'buffered' || outcome === 'superseded') this.notContributing.delete(from);
      if (outcome === 'too-stale') this.emit({ kind: 'update-dropped', from, staleness });
      else if (outcome === 'duplicate') refuse('duplicate update');
      else {
        if (outcome === 'superseded') this.emit({ kind: 'update-superseded', from });
        this.emit({ kind: 'update-received', from, assignment: a.assignment, baseVersion: a.version, staleness });
      }
    } catch (e) {
      this.notContributing.add(from);
      refuse(errorText(e));
    }
    this.changed();
  }

  /** For the dashboard only: one that is not about the sender's open assignment, or holds an impossible fraction, is dropped without a word. */
  private acceptProgress(from: string, msg: ProgressMessage): void {
    const a = this.assignments.get(from);
    if (a?.assignment !== msg.assignment || !isFraction(msg.fraction)) return;
    this.emit({ kind: 'client-progress', clientId: from, assignment: a.assignment, baseVersion: a.version, fraction: msg.fraction });
  }

  private acceptEvalResult(from: string, msg: EvalResultMessage): void {
    const w = this.evalWaiter;
    if (!w || msg.requestId !== w.requestId || msg.round !== w.version) return this.reject(from, `stale evaluation result for round ${msg.round}`);
    if (!w.expected.has(from)) return this.reject(from, w.received.has(from) ? 'duplicate evaluation result' : 'evaluation result from a client not asked');
    w.expected.delete(from);
    if (msg.losses.every((l) => Number.isFinite(l) && l >= 0)) w.received.set(from, msg);
    else this.reject(from, 'evaluation result with non-finite or negative losses');
    this.changed();
  }

  /**
   * Takes `count` waiting updates (all by default) out of the buffer, weighs them by staleness and aggregates them
   * (robust screening, the strategy, its server optimizer), in-process or through the aggregate hook. Nothing is
   * committed: commit() does that. Updates the screening left out are reported as rejected.
   */
  async aggregate(options: { count?: number; population: number; order: 'arrival' | 'client' }): Promise<StepAttempt> {
    const started = performance.now();
    const asked = this.latest?.record.asked ?? 0;
    const secure = this.private?.secureRoundRuns === true;
    if (secure) {
      const failure = await this.unmaskSecureRound();
      if (failure) {
        this.ledger.takeStep(this.ledger.waiting);
        return { ok: false, reason: failure, dropped: [] };
      }
    }
    // The deltas stay as sent: screening judges them so, and the staleness weights apply after it (job.weights).
    const taken = this.ledger.takeStep(options.count ?? this.ledger.waiting, options.population, false);
    for (const d of taken?.dropped ?? []) this.emit({ kind: 'update-dropped', from: d.clientId, staleness: d.staleness });
    if (!taken) return { ok: false, reason: 'no update waits', dropped: [] };
    if (!taken.pending) return { ok: false, reason: 'every update taken was past the maximum staleness', dropped: taken.dropped };
    const pending = asClients(options.order === 'client' ? byClient(taken.pending) : taken.pending);
    const declaredSamples: Record<string, number> = {};
    const declaredLabels: Record<string, number[]> = {};
    for (const [key, id] of pending.clientOf) {
      const client = this.clients.get(id);
      // A client that left since has no declaration: its claim is capped by the rest.
      if (client === undefined) continue;
      declaredSamples[key] = client.numSamples;
      declaredLabels[key] = client.labelHistogram;
    }
    const job: AggregationJob = {
      strategy: this.config.strategy,
      round: pending.version + 1,
      population: pending.population ?? pending.updates.length,
      global: pending.previousGlobal,
      state: this.state,
      updates: pending.updates,
      declaredSamples,
      declaredLabels,
      robust: this.robustConfig,
      ...(pending.used.some((u) => u.weight !== 1) ? { weights: Object.fromEntries(pending.updates.map((u, i) => [u.clientId, pending.used[i].weight])) } : {}),
      valuesScanned: pending.valuesScanned,
    };
    let outcome: AggregationOutcome;
    try {
      outcome = await (this.hooks.aggregate ? this.hooks.aggregate(job) : Promise.resolve(aggregateRound(job)));
    } catch (e) {
      return { ok: false, reason: `aggregation failed: ${errorText(e)}`, dropped: taken.dropped };
    }
    const problem = outcomeProblem(outcome, job, this.layout);
    if (problem) return { ok: false, reason: `aggregation failed: ${problem}`, dropped: taken.dropped };
    const idOf = (key: string) => pending.clientOf.get(key) ?? key;
    for (const d of outcome.dropped) this.reject(idOf(d.clientId), `update dropped by the robust aggregation: ${d.reason}`);
    if (!outcome.ok) return { ok: false, reason: `aggregation failed: ${outcome.reason}`, dropped: taken.dropped };
    const rows = new Map(pending.kept.map((u, i) => [pending.updates[i].clientId, { kept: u, used: pending.used[i] }]));
    const updates: StepUpdate[] = outcome.accepted.map((a) => {
      const { kept, used } = rows.get(a.clientId)!;
      // What screening changed (clipped or shrunk, before any weighting), else the delta as sent.
      const delta = a.delta ?? kept.delta;
      return { clientId: kept.clientId, key: kept.key, baseVersion: kept.baseVersion, base: kept.base!, delta, numSamples: a.numSamples, staleness: used.staleness, weight: used.weight, metrics: kept.metrics! };
    });
    return {
      ok: true,
      step: {
        version: pending.version + 1,
        previousGlobal: pending.previousGlobal,
        global: outcome.global,
        state: outcome.state,
        updates,
        dropped: taken.dropped,
        screening: screeningVerdicts(outcome).map((v) => ({ ...v, clientId: idOf(v.clientId) })),
        aggregateMs: performance.now() - started,
        privacy: this.private ? { secure, selected: Math.max(asked, updates.length), survivors: updates.length } : null,
        pending,
        refused: outcome.dropped.map((d) => ({ clientId: pending.keyOf.get(d.clientId) ?? d.clientId, reason: d.reason })),
      },
    };
  }

  /** Commits an aggregated step: model, version and strategy state change together. Throws (nothing changed) if another step was committed since. */
  commit(step: AggregatedStep): void {
    this.ledger.finishStep(step.pending, step.global, step.refused);
    this.state = step.state;
    this.changed();
  }

  /**
   * The loss decomposition of a step: 'exact' asks the participants still connected to cross-evaluate (every
   * update must share one base model), 'proxy' uses the aggregator's validation set. A failure is a warning.
   */
  async measureDecomposition(step: AggregatedStep, mode: DecompositionMode): Promise<Measured> {
    // A private step's aggregator holds no local model (only the mean, or clipped and noised updates).
    if (step.privacy) return { decomposition: null, warnings: [] };
    const warnings: string[] = [];
    let decomposition: LossDecomposition | null = null;
    try {
      if (mode === 'exact' && step.updates.every((u) => u.baseVersion === step.version - 1)) decomposition = await this.exact(step);
      else if (mode !== 'off') decomposition = await this.proxy(step);
    } catch (e) {
      warnings.push(`measuring the loss decomposition failed: ${errorText(e)}`);
    }
    return { decomposition, warnings };
  }

  private async proxy(step: AggregatedStep): Promise<LossDecomposition | null> {
    if (!this.hooks.evaluateOnValidation) return null;
    const n = step.updates.length;
    // Local models as the global model each trained from plus its update: built where they are scored.
    const losses = await this.hooks.evaluateOnValidation([...step.updates.map((u) => ({ base: u.base, delta: u.delta })), step.global]);
    return proxyDecomposition(step.updates.map((u) => u.metrics.evalLoss), losses.slice(0, n), losses[n], step.updates.map((u) => u.numSamples));
  }

  /** Exact mode: every participant evaluates all local models and the new global model on its own data. */
  private async exact(step: AggregatedStep): Promise<LossDecomposition | null> {
    const locals = step.updates.map((u) => addScaledWeights(u.base, u.delta));
    const ids = step.updates.map((u) => u.clientId);
    const requestId = `${step.version}-${Math.random().toString(36).slice(2, 10)}`;
    const waiter: EvalWaiter = { version: step.version, requestId, expected: new Set(ids.filter((id) => this.clients.has(id))), received: new Map() };
    this.evalWaiter = waiter;
    const request: Message = { type: 'eval-request', v: PROTOCOL_VERSION, round: step.version, requestId, model: this.config.model, models: [...locals, step.global] };
    for (const id of waiter.expected) this.transport.send(id, request);
    await this.waitUntil(() => waiter.expected.size === 0, this.timing.evalDeadlineMs);
    this.evalWaiter = null;
    // Clients that did not answer drop out of both the rows and the columns.
    const answered = ids.map((id, i) => ({ id, i })).filter(({ id }) => waiter.received.get(id)?.losses.length === locals.length + 1);
    if (answered.length === 0) return null;
    const C = answered.map(({ i }) => answered.map(({ id }) => waiter.received.get(id)!.losses[i]));
    const G = answered.map(({ id }) => waiter.received.get(id)!.losses[locals.length]);
    return exactDecomposition(C, G, answered.map(({ i }) => step.updates[i].numSamples));
  }

  /** The test-set evaluation with its class balance; null without a hook. Rejects when the hook does. */
  async evaluate(weights: WeightSet): Promise<RoundEvaluation | null> {
    if (!this.hooks.evaluateGlobal) return null;
    const r = await this.hooks.evaluateGlobal(weights);
    const classes = r.perClassAccuracy && r.predictionCounts ? classBalance(r.perClassAccuracy, r.predictionCounts) : null;
    return { accuracy: r.accuracy, loss: r.loss, classes };
  }

  /** Tells every connected client how a committed step went (best effort: a failing send is a warning). */
  announce(version: number, participants: number, result: RoundEvaluation | null, decomposition: LossDecomposition | null, privacy?: RoundResultMessage['privacy']): void {
    try {
      const message: Message = { type: 'round-result', v: PROTOCOL_VERSION, round: version, participants, accuracy: result?.accuracy ?? null, loss: result?.loss ?? null, decomposition, ...(privacy ? { privacy } : {}) };
      for (const id of this.clients.keys()) this.transport.send(id, message);
    } catch (e) {
      this.emit({ kind: 'warning', reason: `announcing round ${version} failed: ${errorText(e)}` });
    }
  }
}

export { stateProblem };

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The pending step with its updates in client-id order (a synchronous round's order, whatever the arrival order). */
function byClient(p: PendingStep): PendingStep {
  const order = p.kept.map((u, i) => i).sort((a, b) => (p.kept[a].clientId < p.kept[b].clientId ? -1 : p.kept[a].clientId > p.kept[b].clientId ? 1 : a - b));
  return { ...p, updates: order.map((i) => p.updates[i]), kept: order.map((i) => p.kept[i]), used: order.map((i) => p.used[i]) };
}

/**
 * The strategy and the screening see each update under its client's id when no client has two updates in the step
 * (always so in synchronous rounds), else under the update's unique key. keyOf maps what they see back to the key.
 */
function asClients(p: PendingStep): PendingStep & { keyOf: Map<string, string> } {
  const ids = p.kept.map((u) => u.clientId);
  if (new Set(ids).size !== ids.length) return { ...p, keyOf: new Map(p.kept.map((u) => [u.key, u.key])) };
  return {
    ...p,
    updates: p.updates.map((u, i) => ({ ...u, clientId: ids[i] })),
    clientOf: new Map(ids.map((id) => [id, id])),
    keyOf: new Map(p.kept.map((u) => [u.clientId, u.key])),
  };
}
