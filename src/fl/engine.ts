import { FL_TIMING, type FlTiming } from './config';
import { checkHello, type AdmitHello, type ClientInfo } from './hello';
import type { LossDecomposition } from './decomposition';
import { exactDecomposition, proxyDecomposition } from './decomposition';
import type { ModelSpec } from './models';
import type { DecompositionMode, EvalResultMessage, HelloMessage, Message, ProgressMessage, TrainConfig, UpdateMessage } from './protocol';
import { isFraction } from './progress-report';
import { PROTOCOL_VERSION } from './protocol';
import { classBalance, type ClassBalance } from './collapse';
import { strategyRuntime, type StrategyRuntime } from './strategies/runtime';
import type { ClientUpdate, Extras, ServerState, StrategyConfig } from './strategies/types';
import { robustSettings, screeningVerdicts, type RobustMode, type RobustSettings, type ScreeningVerdict } from './robust';
import { aggregateRound, outcomeProblem, stateProblem, type AggregationJob, type AggregationOutcome } from './aggregate-round';
import type { Transport } from './transport';
import type { TensorLayout, WeightSet } from './weights';
import { addScaledWeights, assertFinite, assertSameLayout, layoutOf } from './weights';
import type { ScoredModel } from './scored-model';
import { wasValidated } from './codec/validate';

export interface EngineConfig {
  model: ModelSpec;
  strategy: StrategyConfig;
  train: Omit<TrainConfig, 'seed'>;
  /** A round needs at least this many updates to aggregate. */
  minClients: number;
  /** Share of the connected clients asked to train each round (at least minClients of them). */
  fraction: number;
  decomposition: DecompositionMode;
  /** Measure the decomposition every N rounds (exact mode costs K^2 + K evaluations). */
  decompositionEvery: number;
  seed: number;
  timing?: Partial<FlTiming>;
  /**
   * Evaluate the new global model on the aggregator's test data while the next round already runs (accuracy and
   * loss then arrive with the 'round-evaluated' event and the round-result message), instead of before it starts.
   */
  evaluateInBackground?: boolean;
  /** Defence against hostile updates applied before the strategy aggregates (src/fl/robust); default 'clip'. */
  robust?: RobustMode | Partial<RobustSettings>;
}

export type { ClientInfo } from './hello';

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

/** Where an engine starts: the global model, and for a handover the round reached and the strategy's state. */
export interface EngineStart {
  weights: WeightSet;
  round?: number;
  serverState?: ServerState | null;
}

export interface RoundReport {
  round: number;
  /** Which strategy variant ran (e.g. "FedLD (λ 0.1, ρ 0.8; paper-exact)"). */
  strategy: string;
  participants: string[];
  /** Selected clients whose update did not arrive in time or was rejected. */
  missing: string[];
  accuracy: number | null;
  loss: number | null;
  decomposition: LossDecomposition | null;
  /** Accuracy per class of the new global model, and whether it collapsed (null when not evaluated). */
  classes: ClassBalance | null;
  /** Mean of the clients' own metrics. */
  clientTrainLoss: number;
  /** Slowest participant's training time. */
  slowestClientMs: number;
  trainMs: number;
  aggregateMs: number;
  /** Time spent evaluating before the round could end: the decomposition, plus the test set unless in background. */
  evalMs: number;
  /** Settles with the test-set evaluation (immediately when it was not run in the background); null when it failed. */
  evaluation: Promise<RoundEvaluation | null>;
  /** What went wrong after aggregation (decomposition, evaluation); the round still counts. */
  warnings: string[];
  /** What the robust aggregation did to each update it changed or left out, with the reason (empty: nothing). */
  screening: ScreeningVerdict[];
}

export type EngineEvent =
  | { kind: 'client-joined'; client: ClientInfo }
  | { kind: 'client-left'; clientId: string }
  | { kind: 'rejected'; from: string; reason: string }
  | { kind: 'round-started'; round: number; selected: string[] }
  | { kind: 'update-received'; round: number; from: string }
  /** A client selected for the running round reported how far its training got (0..1). */
  | { kind: 'client-progress'; round: number; clientId: string; fraction: number }
  | { kind: 'round-finished'; report: RoundReport }
  | { kind: 'round-evaluated'; round: number; accuracy: number; loss: number; ms: number; classes: ClassBalance | null }
  | { kind: 'round-failed'; round: number; reason: string }
  /** Something after aggregation failed (or a collapse was seen); the round still counts. */
  | { kind: 'round-warning'; round: number; reason: string };

export interface EngineHooks {
  /** Test-set evaluation of the new global model (held by the aggregator), if any. */
  evaluateGlobal?: (weights: WeightSet) => Promise<GlobalEvaluation>;
  /** Proxy mode: plain-CE losses of the given models on the aggregator's validation set V (local models as base + delta). */
  evaluateOnValidation?: (models: ScoredModel[]) => Promise<number[]>;
  /** Admission check for a hello (e.g. the join secret); return a reason to refuse. */
  admit?: AdmitHello;
  /**
   * Runs a round's aggregation elsewhere, e.g. `aggregateRound(job)` in a Web Worker, off the main thread. The job and
   * the outcome are plain data (see ./aggregate-round: the job's arrays must be copied, not transferred). Without
   * it the engine runs aggregateRound in-process. The outcome is checked (outcomeProblem) before anything is
   * committed; a hook that rejects or returns an unusable outcome fails the round ('round-failed'), model unchanged.
   */
  aggregate?: (job: AggregationJob) => Promise<AggregationOutcome>;
  onEvent?: (event: EngineEvent) => void;
}

interface Waiter<T> {
  expected: Set<string>;
  received: Map<string, T>;
  resolve: () => void;
}

/**
 * The aggregator side of a session: selects clients, runs rounds over any Transport, validates what
 * comes back, aggregates with the strategy, measures the loss decomposition. Never waits past a deadline.
 */
export class RoundEngine {
  private readonly clients = new Map<string, ClientInfo>();
  private readonly strategy: StrategyRuntime;
  private readonly timing: FlTiming;
  private readonly layout: TensorLayout[];
  private global: WeightSet;
  private round = 0;
  private state: ServerState | null;
  private readonly robust: RobustSettings;
  private updateWaiter: (Waiter<UpdateMessage> & { round: number }) | null = null;
  /** The running round's round-start, while the round waits for updates (see addToRunningRound). */
  private runningStart: Message | null = null;
  private evalWaiter: (Waiter<EvalResultMessage> & { round: number; requestId: string }) | null = null;
  private clientWaiters: Array<() => void> = [];
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly transport: Transport,
    private config: EngineConfig,
    /** The global model, and when taking over from another aggregator, its round and the strategy's state. */
    start: EngineStart,
    private readonly hooks: EngineHooks = {},
  ) {
    if (config.minClients < 1) throw new Error('engine: minClients must be at least 1');
    if (!(config.fraction > 0 && config.fraction <= 1)) throw new Error('engine: fraction must be in (0, 1]');
    assertFinite(start.weights, 'initial weights');
    this.global = start.weights;
    this.layout = layoutOf(start.weights);
    this.round = start.round ?? 0;
    this.strategy = strategyRuntime(config.strategy);
    this.robust = robustSettings(config.robust);
    this.state = null;
    const state = this.strategy.adopt(start.serverState);
    const problem = state ? stateProblem(state, this.layout) : null;
    if (problem) this.emit({ kind: 'round-warning', round: this.round, reason: `ignored the handed-over strategy state: ${problem}` });
    else this.state = state;
    this.timing = { ...FL_TIMING, ...config.timing };
    this.unsubscribe.push(
      transport.onMessage((from, message) => this.handle(from, message)),
      transport.onPeerLeft((peer) => this.removeClient(peer)),
    );
  }

  /** Switches the decomposition mode from the next round on. */
  setDecompositionMode(mode: DecompositionMode): void {
    this.config = { ...this.config, decomposition: mode };
  }

  get currentRound(): number {
    return this.round;
  }

  get globalWeights(): WeightSet {
    return this.global;
  }

  /** The strategy's server state after the latest complete round (plain data, for checkpoints); null before any. */
  get serverState(): ServerState | null {
    return this.state;
  }

  get connectedClients(): ClientInfo[] {
    return [...this.clients.values()];
  }

  dispose(): void {
    this.unsubscribe.forEach((u) => u());
  }

  /** Resolves once at least `count` clients with data have joined; rejects after timeoutMs. */
  waitForClients(count: number, timeoutMs = this.timing.joinWaitMs): Promise<void> {
    if (this.trainableIds().length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.clientWaiters = this.clientWaiters.filter((w) => w !== check);
        reject(new Error(`engine: only ${this.trainableIds().length} of ${count} clients joined within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.trainableIds().length >= count) {
          clearTimeout(timer);
          this.clientWaiters = this.clientWaiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.clientWaiters.push(check);
    });
  }

  /** An observer that throws must not break a round half-way, so its errors stop here. */
  private emit(event: EngineEvent): void {
    try {
      this.hooks.onEvent?.(event);
    } catch {
      // The observer's own bug; the round goes on.
    }
  }

  private reject(from: string, reason: string): void {
    this.emit({ kind: 'rejected', from, reason });
  }

  private handle(from: string, message: Message): void {
    switch (message.type) {
      case 'hello':
        return this.addClient(from, message);
      case 'update':
        return this.acceptUpdate(from, message);
      case 'progress':
        return this.acceptProgress(from, message);
      case 'eval-result':
        return this.acceptEvalResult(from, message);
      case 'bye':
        return this.removeClient(from);
      case 'error':
        return this.clientCannotContinue(from, message.reason);
      case 'welcome':
      case 'roster':
      case 'checkpoint':
        return; // session-level messages, handled by the session layer
      default:
        return this.reject(from, `unexpected message "${message.type}" for the aggregator`);
    }
  }

  private addClient(from: string, hello: HelloMessage): void {
    const verdict = checkHello(from, hello, this.hooks.admit, this.clients.get(from));
    if (!verdict.ok) {
      if (verdict.reply) this.transport.send(from, { type: 'error', v: PROTOCOL_VERSION, reason: verdict.reply });
      return this.reject(from, verdict.reason);
    }
    const client = verdict.client;
    this.clients.set(from, client);
    this.emit({ kind: 'client-joined', client });
    this.clientWaiters.slice().forEach((w) => w());
  }

  private removeClient(id: string): void {
    if (!this.clients.delete(id)) return;
    this.emit({ kind: 'client-left', clientId: id });
    for (const waiter of [this.updateWaiter, this.evalWaiter]) {
      if (waiter && waiter.expected.delete(id) && waiter.expected.size === 0) waiter.resolve();
    }
  }

  /**
   * A client reported that it cannot do what it was asked (e.g. its data does not fit the session's model):
   * it is left out of the round (and of a pending evaluation) at once, instead of holding the round until its
   * deadline. It stays connected and is asked again next round (its data may have changed by then).
   */
  private clientCannotContinue(from: string, reason: string): void {
    this.reject(from, `client reported: ${reason}`);
    for (const waiter of [this.updateWaiter, this.evalWaiter]) {
      if (waiter && waiter.expected.delete(from) && waiter.expected.size === 0) waiter.resolve();
    }
  }

  /**
   * The trust boundary for updates. Only here is the current model layout known, so the delta and its extras are
   * checked against it; their values are scanned for NaN/Infinity exactly once: by validateMessage when the message
   * came through the wire codec (which must refuse non-finite tensors anyway), else here. Everything downstream
   * (strategies, aggregators, robust filters) trusts accepted updates and re-checks only what it computes itself
   * (the aggregated model, which finite inputs can still overflow: strategyRuntime checks it).
   */
  private acceptUpdate(from: string, msg: UpdateMessage): void {
    const w = this.updateWaiter;
    if (!w || msg.round !== w.round) return this.reject(from, `stale update for round ${msg.round} (current round ${w?.round ?? 'none'})`);
    if (w.received.has(from)) return this.reject(from, `duplicate update for round ${msg.round}`);
    if (!w.expected.has(from)) return this.reject(from, `update for round ${msg.round} from a client not selected for it`);
    try {
      // A message the wire codec decoded was scanned by validateMessage; one handed over in memory is scanned here.
      const scanned = wasValidated(msg);
      assertSameLayout(this.layout, msg.delta, `update from ${from}`);
      if (!scanned) assertFinite(msg.delta, `update from ${from}`);
      for (const [name, extra] of Object.entries(msg.extras ?? {})) {
        assertSameLayout(this.layout, extra, `update from ${from}: ${name}`);
        if (!scanned) assertFinite(extra, `update from ${from}: ${name}`);
      }
      if (!(Number.isInteger(msg.numSamples) && msg.numSamples > 0)) throw new Error(`update from ${from}: invalid sample count ${msg.numSamples}`);
    } catch (e) {
      w.expected.delete(from);
      this.reject(from, (e as Error).message);
      if (w.expected.size === 0) w.resolve();
      return;
    }
    w.expected.delete(from);
    w.received.set(from, msg);
    this.emit({ kind: 'update-received', round: msg.round, from });
    if (w.expected.size === 0) w.resolve();
  }

  /**
   * Shown on the dashboard only, so one that is not for the running round, comes from a client not (or no longer)
   * expected to train it, or holds an impossible fraction, is dropped without a word: no event, no log line.
   */
  private acceptProgress(from: string, msg: ProgressMessage): void {
    const w = this.updateWaiter;
    if (!w || msg.round !== w.round || !w.expected.has(from) || !isFraction(msg.fraction)) return;
    this.emit({ kind: 'client-progress', round: msg.round, clientId: from, fraction: msg.fraction });
  }

  private acceptEvalResult(from: string, msg: EvalResultMessage): void {
    const w = this.evalWaiter;
    if (!w || msg.requestId !== w.requestId || msg.round !== w.round) return this.reject(from, `stale evaluation result for round ${msg.round}`);
    if (!w.expected.has(from)) return this.reject(from, w.received.has(from) ? 'duplicate evaluation result' : 'evaluation result from a client not asked');
    w.expected.delete(from);
    if (msg.losses.every((l) => Number.isFinite(l) && l >= 0)) w.received.set(from, msg);
    else this.reject(from, 'evaluation result with non-finite or negative losses');
    if (w.expected.size === 0) w.resolve();
  }

  /** Waits for a waiter to complete or for the deadline, whichever is first. */
  private async awaitWaiter(w: { expected: Set<string>; resolve: () => void }, promise: Promise<void>, deadlineMs: number): Promise<void> {
    if (w.expected.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
  }

  /**
   * Asks a connected client with data that the running round did not ask (one that joined, or came back under a new
   * id, after the round started) to train it too, while the round still waits for updates; the round's deadline
   * stays. Who is asked is the caller's choice. Returns whether it was asked.
   */
  addToRunningRound(id: string): boolean {
    const w = this.updateWaiter;
    const start = this.runningStart;
    if (!w || !start || w.expected.size === 0 || w.expected.has(id) || w.received.has(id) || !((this.clients.get(id)?.numSamples ?? 0) > 0)) return false;
    try {
      this.transport.send(id, start);
    } catch {
      return false;
    }
    w.expected.add(id);
    return true;
  }

  /** Clients with data to train on (a hello with 0 samples joins the session without training yet). */
  private trainableIds(): string[] {
    return [...this.clients.values()].filter((c) => c.numSamples > 0).map((c) => c.id).sort();
  }

  /**
   * Runs one round. Resolves with the report, or with null when too few updates arrived or aggregation failed
   * (the round is then retried by the next call, with the global model unchanged). Atomic: the global model,
   * the round number and the strategy state change together, only once the round is complete; a failing
   * decomposition or evaluation is reported as a warning and the round still counts. Never rejects.
   */
  async runRound(): Promise<RoundReport | null> {
    const roundNumber = this.round + 1;
    const candidates = this.trainableIds().map((id) => ({ id, numSamples: this.clients.get(id)!.numSamples }));
    if (candidates.length < this.config.minClients) {
      const reason = `${candidates.length} clients with data connected, ${this.config.minClients} needed`;
      this.emit({ kind: 'round-failed', round: roundNumber, reason });
      return null;
    }
    const previousGlobal = this.global;
    const previousState = this.state;
    let plan;
    try {
      plan = this.strategy.planRound({ round: roundNumber, candidates, fraction: this.config.fraction, minClients: this.config.minClients, seed: this.config.seed, global: previousGlobal, state: previousState });
      checkPlan(plan.selected, candidates.map((c) => c.id), plan.extras, this.layout);
    } catch (e) {
      this.emit({ kind: 'round-failed', round: roundNumber, reason: `planning the round failed: ${errorText(e)}` });
      return null;
    }
    const selected = plan.selected;
    this.emit({ kind: 'round-started', round: roundNumber, selected });

    const trainStart = performance.now();
    let resolveUpdates!: () => void;
    const updatesDone = new Promise<void>((r) => (resolveUpdates = r));
    const waiter = { round: roundNumber, expected: new Set(selected), received: new Map<string, UpdateMessage>(), resolve: resolveUpdates };
    this.updateWaiter = waiter;
    const train: TrainConfig = { ...this.config.train, ...plan.train, seed: this.config.seed * 1_000_003 + roundNumber };
    // One message object for every selected client, so a transport can encode it once.
    const roundStart: Message = { type: 'round-start', v: PROTOCOL_VERSION, round: roundNumber, model: this.config.model, strategy: this.config.strategy, train, weights: previousGlobal, ...(plan.extras ? { extras: plan.extras } : {}) };
    this.runningStart = roundStart;
    for (const id of selected) {
      try {
        this.transport.send(id, roundStart);
      } catch (e) {
        waiter.expected.delete(id);
        this.emit({ kind: 'round-warning', round: roundNumber, reason: `could not send round-start to ${id}: ${errorText(e)}` });
      }
    }
    await this.awaitWaiter(waiter, updatesDone, this.timing.roundDeadlineMs);
    this.updateWaiter = null;
    this.runningStart = null;
    const trainMs = performance.now() - trainStart;

    // The accepted updates, final: the one place to filter them further (robust aggregation) before aggregating.
    let arrived = [...waiter.received.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    if (arrived.length < this.config.minClients) {
      const reason = `only ${arrived.length} of ${selected.length} updates arrived (${this.config.minClients} needed)`;
      this.emit({ kind: 'round-failed', round: roundNumber, reason });
      return null;
    }

    const aggStart = performance.now();
    const updates: ClientUpdate[] = arrived.map(([id, m]) => ({ clientId: id, delta: m.delta, numSamples: m.numSamples, ...(m.extras ? { extras: m.extras } : {}) }));
    // What each sender declared in its hello (a client that left since has none: its claim is capped by the rest).
    const declaredSamples: Record<string, number> = Object.fromEntries(arrived.flatMap(([id]) => (this.clients.has(id) ? [[id, this.clients.get(id)!.numSamples]] : [])));
    const declaredLabels: Record<string, number[]> = Object.fromEntries(arrived.flatMap(([id]) => (this.clients.has(id) ? [[id, this.clients.get(id)!.labelHistogram]] : [])));
    const job: AggregationJob = { strategy: this.config.strategy, round: roundNumber, population: candidates.length, global: previousGlobal, state: previousState, updates, declaredSamples, declaredLabels, robust: this.robust, valuesScanned: true };
    // Robust aggregation never throws: hostile updates are dropped with a reason, or the round fails uncommitted.
    let outcome: AggregationOutcome;
    try {
      outcome = await (this.hooks.aggregate ? this.hooks.aggregate(job) : Promise.resolve(aggregateRound(job)));
    } catch (e) {
      this.emit({ kind: 'round-failed', round: roundNumber, reason: `aggregation failed: ${errorText(e)}` });
      return null;
    }
    const problem = outcomeProblem(outcome, job, this.layout);
    if (problem) {
      this.emit({ kind: 'round-failed', round: roundNumber, reason: `aggregation failed: ${problem}` });
      return null;
    }
    outcome.dropped.forEach((d) => this.reject(d.clientId, `update dropped by the robust aggregation: ${d.reason}`));
    if (!outcome.ok) {
      this.emit({ kind: 'round-failed', round: roundNumber, reason: `aggregation failed: ${outcome.reason}` });
      return null;
    }
    const aggregated = { weights: outcome.global, state: outcome.state };
    arrived = outcome.accepted.map((a) => [a.clientId, { ...waiter.received.get(a.clientId)!, ...(a.delta ? { delta: a.delta } : {}), numSamples: a.numSamples }]);
    const newGlobal = aggregated.weights;
    const aggregateMs = performance.now() - aggStart;

    const warnings: string[] = [];
    const warn = (reason: string) => {
      warnings.push(reason);
      this.emit({ kind: 'round-warning', round: roundNumber, reason });
    };
    const evalStart = performance.now();
    let decomposition: LossDecomposition | null = null;
    try {
      const due = plan.measureDecomposition ?? roundNumber % Math.max(1, this.config.decompositionEvery) === 0;
      if (due) decomposition = await this.measureDecomposition(roundNumber, previousGlobal, newGlobal, arrived);
    } catch (e) {
      warn(`measuring the loss decomposition failed: ${errorText(e)}`);
    }
    const testStart = performance.now();
    const testing = this.evaluate(newGlobal);
    const background = this.config.evaluateInBackground === true;
    let test: RoundEvaluation | null = null;
    if (!background) {
      try {
        test = await testing;
      } catch (e) {
        warn(`evaluating the global model failed: ${errorText(e)}`);
      }
      if (test?.classes?.collapse) warn(test.classes.collapse);
    }
    const evalMs = performance.now() - evalStart;

    // The round is complete: commit model, round and strategy state together.
    this.global = newGlobal;
    this.round = roundNumber;
    this.state = aggregated.state;

    const clientTrainLoss = arrived.reduce((s, [, m]) => s + m.metrics.trainLoss, 0) / arrived.length;
    const report: RoundReport = {
      round: roundNumber,
      strategy: this.strategy.description,
      participants: arrived.map(([id]) => id),
      missing: selected.filter((id) => !arrived.some(([a]) => a === id)),
      accuracy: test?.accuracy ?? null,
      loss: test?.loss ?? null,
      decomposition,
      classes: test?.classes ?? null,
      clientTrainLoss,
      slowestClientMs: Math.max(...arrived.map(([, m]) => m.metrics.trainMs)),
      trainMs,
      aggregateMs,
      evalMs,
      evaluation: testing.catch(() => null),
      warnings,
      screening: screeningVerdicts(outcome),
    };
    const announce = (result: RoundEvaluation | null) => {
      try {
        const message: Message = { type: 'round-result', v: PROTOCOL_VERSION, round: roundNumber, participants: arrived.length, accuracy: result?.accuracy ?? null, loss: result?.loss ?? null, decomposition };
        for (const id of this.clients.keys()) this.transport.send(id, message);
      } catch (e) {
        this.emit({ kind: 'round-warning', round: roundNumber, reason: `announcing the round failed: ${errorText(e)}` });
      }
    };
    if (background) {
      testing.then(
        (result) => {
          if (result) {
            this.emit({ kind: 'round-evaluated', round: roundNumber, accuracy: result.accuracy, loss: result.loss, ms: performance.now() - testStart, classes: result.classes });
            if (result.classes?.collapse) this.emit({ kind: 'round-warning', round: roundNumber, reason: result.classes.collapse });
          }
          announce(result);
        },
        (e: unknown) => {
          this.emit({ kind: 'round-warning', round: roundNumber, reason: `evaluating the global model failed: ${errorText(e)}` });
          announce(null);
        },
      );
    } else {
      announce(test);
    }
    this.emit({ kind: 'round-finished', report });
    return report;
  }

  /** The test-set evaluation with its class balance; null without a hook. Rejects when the hook does. */
  private async evaluate(weights: WeightSet): Promise<RoundEvaluation | null> {
    if (!this.hooks.evaluateGlobal) return null;
    const r = await this.hooks.evaluateGlobal(weights);
    const classes = r.perClassAccuracy && r.predictionCounts ? classBalance(r.perClassAccuracy, r.predictionCounts) : null;
    return { accuracy: r.accuracy, loss: r.loss, classes };
  }

  private async measureDecomposition(roundNumber: number, previousGlobal: WeightSet, newGlobal: WeightSet, arrived: [string, UpdateMessage][]): Promise<LossDecomposition | null> {
    const mode = this.config.decomposition;
    if (mode === 'off') return null;
    const counts = arrived.map(([, m]) => m.numSamples);
    if (mode === 'proxy') {
      if (!this.hooks.evaluateOnValidation) return null;
      // Local models as the global model they trained from plus their update: built where they are scored.
      const losses = await this.hooks.evaluateOnValidation([...arrived.map(([, m]) => ({ base: previousGlobal, delta: m.delta })), newGlobal]);
      return proxyDecomposition(arrived.map(([, m]) => m.metrics.evalLoss), losses.slice(0, arrived.length), losses[arrived.length], counts);
    }
    const locals = arrived.map(([, m]) => addScaledWeights(previousGlobal, m.delta));
    // Exact mode: every participant evaluates all local models and the new global model on its own data.
    const ids = arrived.map(([id]) => id);
    const requestId = `${roundNumber}-${Math.random().toString(36).slice(2, 10)}`;
    let resolveEval!: () => void;
    const evalDone = new Promise<void>((r) => (resolveEval = r));
    const waiter = { round: roundNumber, requestId, expected: new Set(ids.filter((id) => this.clients.has(id))), received: new Map<string, EvalResultMessage>(), resolve: resolveEval };
    this.evalWaiter = waiter;
    const request: Message = { type: 'eval-request', v: PROTOCOL_VERSION, round: roundNumber, requestId, model: this.config.model, models: [...locals, newGlobal] };
    for (const id of waiter.expected) this.transport.send(id, request);
    await this.awaitWaiter(waiter, evalDone, this.timing.evalDeadlineMs);
    this.evalWaiter = null;
    // Clients that did not answer drop out of both the rows and the columns.
    const answered = ids.map((id, i) => ({ id, i })).filter(({ id }) => waiter.received.get(id)?.losses.length === locals.length + 1);
    if (answered.length === 0) return null;
    const C = answered.map(({ i }) => answered.map(({ id }) => waiter.received.get(id)!.losses[i]));
    const G = answered.map(({ id }) => waiter.received.get(id)!.losses[locals.length]);
    return exactDecomposition(C, G, answered.map(({ i }) => counts[i]));
  }
}

export { stateProblem };

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A strategy's round plan must ask only candidates, once each, and send extras shaped like the model. */
function checkPlan(selected: readonly string[], candidates: readonly string[], extras: Extras | undefined, layout: TensorLayout[]): void {
  const allowed = new Set(candidates);
  if (new Set(selected).size !== selected.length) throw new Error('a client is selected twice');
  for (const id of selected) if (!allowed.has(id)) throw new Error(`selected client ${id} is not a candidate`);
  for (const [name, extra] of Object.entries(extras ?? {})) assertSameLayout(layout, extra, `round-start extra ${name}`);
}
