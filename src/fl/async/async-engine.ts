import { FL_TIMING, type FlTiming } from '../config';
import { checkHello } from '../hello';
import { robustSettings, screeningVerdicts, type RobustMode, type RobustSettings, type ScreeningVerdict } from '../robust';
import { proxyDecomposition, type LossDecomposition } from '../decomposition';
import { stateProblem, type ClientInfo, type EngineHooks } from '../engine';
import type { ModelSpec } from '../models';
import type { DecompositionMode, HelloMessage, Message, ProgressMessage, TrainConfig, UpdateMessage } from '../protocol';
import { isFraction } from '../progress-report';
import { PROTOCOL_VERSION } from '../protocol';
import { createAggregator, type StrategyAggregator } from '../strategies/aggregators';
import { strategyRuntime, type StrategyRuntime } from '../strategies/runtime';
import type { Extras, ServerState, StrategyConfig } from '../strategies/types';
import type { Transport } from '../transport';
import type { WeightSet } from '../weights';
import { assertFinite, assertSameLayout, layoutOf, type TensorLayout } from '../weights';
import { AsyncAggregation, type AsyncAggregationConfig, type PendingStep, type StepContribution, type StepResult } from './async-aggregation';
import { aggregateRound, outcomeProblem, type AggregationJob, type AggregationOutcome } from '../aggregate-round';

/** Assignment round numbers for model version v lie in [v * ROUNDS_PER_VERSION, (v + 1) * ROUNDS_PER_VERSION). */
export const ROUNDS_PER_VERSION = 1_000_000;

export interface AsyncEngineConfig {
  model: ModelSpec;
  strategy: StrategyConfig;
  train: Omit<TrainConfig, 'seed'>;
  async: AsyncAggregationConfig;
  /**
   * Anything but 'off' measures the decomposition per step in proxy mode, on the aggregator's validation set: the exact
   * estimator needs every participant to cross-evaluate, and in async mode the clients are busy training.
   */
  decomposition: DecompositionMode;
  decompositionEvery: number;
  seed: number;
  /**
   * roundDeadlineMs: a step aggregates what waits (at least one update) once this long has passed without M updates,
   * and a client whose assignment is older than this is sent the newest model again (its old work is then refused).
   */
  timing?: Partial<FlTiming>;
  /** The defence against hostile updates, applied to every step's buffer (default 'clip', as in sync rounds). */
  robust?: RobustMode | Partial<RobustSettings>;
}

export interface AsyncStepReport {
  /** The new global model version. */
  step: number;
  /** The updates used, each with its staleness and weight. */
  used: StepContribution[];
  /** Updates dropped at this step for being too stale. */
  dropped: StepContribution[];
  accuracy: number | null;
  loss: number | null;
  decomposition: LossDecomposition | null;
  /** Mean of the used updates' own training losses. */
  clientTrainLoss: number;
  /** Longest training time among the used updates, as the clients reported it. */
  slowestClientMs: number;
  /** Time from the call to the step (waiting for updates). */
  waitedMs: number;
  aggregateMs: number;
  evalMs: number;
  /** What the robust aggregation did to each update it changed or left out, with the reason (by client id). */
  screening: ScreeningVerdict[];
}

export type AsyncEngineEvent =
  | { kind: 'client-joined'; client: ClientInfo }
  | { kind: 'client-left'; clientId: string }
  | { kind: 'rejected'; from: string; reason: string }
  | { kind: 'assigned'; clientId: string; version: number }
  | { kind: 'update-received'; from: string; baseVersion: number; staleness: number }
  /** A client reported how far its training on its open assignment (`round`) got, 0..1. */
  | { kind: 'client-progress'; clientId: string; round: number; fraction: number }
  | { kind: 'update-dropped'; from: string; staleness: number }
  | { kind: 'step-finished'; report: AsyncStepReport }
  | { kind: 'step-failed'; step: number; reason: string }
  /** Something went wrong that stops no step (e.g. a handed-over strategy state that does not fit). */
  | { kind: 'warning'; reason: string };

export type AsyncEngineHooks = Omit<EngineHooks, 'onEvent'> & { onEvent?: (event: AsyncEngineEvent) => void };

interface Assignment {
  /** Unique per assignment, increasing: the round number of the round-start, echoed by the update. */
  round: number;
  version: number;
  base: WeightSet;
  seq: number;
  sentAt: number;
  /** What the strategy sent beside the weights (a reference to its state's tensors, shared by one version's assignments). */
  extras?: Extras;
}

/**
 * The aggregator side of an asynchronous session. Every client with data always has one assignment: the newest
 * global model when it joined or when its last update arrived, so a client trains again as soon as it has sent an
 * update. Arriving updates go into the buffer of fl/async's AsyncAggregation; nextStep() applies one aggregation
 * step once M wait (or, past the deadline, with what waits). Clients are the ordinary FlClient: an assignment is a
 * round-start with a round number of its own (so a duplicated or old update cannot pass for a new one); the engine
 * remembers which model version each assignment carried, which gives the update's staleness.
 */
export class AsyncEngine {
  private readonly clients = new Map<string, ClientInfo>();
  private readonly assignments = new Map<string, Assignment>();
  private readonly sequence = new Map<string, number>();
  private readonly contributed = new Map<string, number>();
  private readonly core: AsyncAggregation;
  /** The strategy's server half with its state (FedLD's history, SCAFFOLD's c, server-optimizer moments). */
  private readonly aggregator: StrategyAggregator;
  private readonly runtime: StrategyRuntime;
  private readonly robust: RobustSettings;
  private readonly layout: TensorLayout[];
  private readonly timing: FlTiming;
  private readonly unsubscribe: Array<() => void> = [];
  private running = false;
  private wake: (() => void) | null = null;
  private disposed = false;
  private lastRound: number;

  constructor(
    private readonly transport: Transport,
    private config: AsyncEngineConfig,
    initialWeights: WeightSet,
    private readonly hooks: AsyncEngineHooks = {},
    /** Resume from a later version (aggregator handover). */
    startVersion = 0,
    /** The strategy's server state handed over with the checkpoint (ignored when another strategy or model wrote it). */
    serverState: ServerState | null = null,
  ) {
    this.lastRound = startVersion * ROUNDS_PER_VERSION;
    this.layout = layoutOf(initialWeights);
    this.runtime = strategyRuntime(config.strategy);
    const adopted = this.runtime.adopt(serverState);
    const problem = adopted ? stateProblem(adopted, this.layout) : null;
    if (problem) queueMicrotask(() => this.emit({ kind: 'warning', reason: `ignored the handed-over strategy state: ${problem}` }));
    this.aggregator = createAggregator(config.strategy, problem ? null : adopted);
    this.robust = robustSettings(config.robust);
    this.core = new AsyncAggregation(this.aggregator, config.async, initialWeights, startVersion, {
      settings: this.robust,
      strategy: config.strategy.name,
      declaredSamples: (id) => this.clients.get(id)?.numSamples,
    });
    this.timing = { ...FL_TIMING, ...config.timing };
    this.unsubscribe.push(
      transport.onMessage((from, message) => this.handle(from, message)),
      transport.onPeerLeft((peer) => this.removeClient(peer)),
    );
  }

  get version(): number {
    return this.core.version;
  }

  /** Switches the decomposition mode from the next step on ('exact' is measured as 'proxy' in async mode). */
  setDecompositionMode(mode: DecompositionMode): void {
    this.config = { ...this.config, decomposition: mode };
  }

  /** The newest assignment round number (for a successor to continue from). */
  get currentRound(): number {
    return this.lastRound;
  }

  get globalWeights(): WeightSet {
    return this.core.global;
  }

  /** The strategy's server state after the latest step (plain data, for checkpoints); null before any. */
  get serverState(): ServerState | null {
    return this.aggregator.state;
  }

  get connectedClients(): ClientInfo[] {
    return [...this.clients.values()];
  }

  /** Updates used so far, per client id. */
  get contributions(): ReadonlyMap<string, number> {
    return this.contributed;
  }

  /** Updates waiting in the buffer. */
  get waiting(): number {
    return this.core.waiting;
  }

  dispose(): void {
    this.disposed = true;
    this.running = false;
    this.unsubscribe.forEach((u) => u());
    this.wake?.();
  }

  /** Sends every client with data that has no assignment the newest model. nextStep() calls it too. */
  start(): void {
    if (this.disposed) return;
    this.running = true;
    for (const c of this.clients.values()) if (c.numSamples > 0 && !this.assignments.has(c.id)) this.assign(c.id);
  }

  private emit(event: AsyncEngineEvent): void {
    this.hooks.onEvent?.(event);
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
      case 'bye':
        return this.removeClient(from);
      case 'error':
        return this.reject(from, `client reported: ${message.reason}`);
      case 'eval-result':
        return this.reject(from, 'evaluation result in async mode (exact decomposition is not used)');
      case 'welcome':
      case 'roster':
      case 'checkpoint':
        return;
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
    // A late joiner (or one coming back) starts at once from the newest model.
    if (this.running && client.numSamples > 0 && !this.assignments.has(from)) this.assign(from);
  }

  private removeClient(id: string): void {
    if (!this.clients.delete(id)) return;
    this.assignments.delete(id); // its update, should it still come, is refused; what it already sent stays buffered
    this.emit({ kind: 'client-left', clientId: id });
  }

  private assign(id: string): void {
    const seq = this.sequence.get(id) ?? 0;
    this.sequence.set(id, seq + 1);
    // Rounds only go up, and a successor aggregator resuming at version v numbers from v * ROUNDS_PER_VERSION, above
    // what its predecessor sent for earlier versions (a client ignores a round-start older than the newest it saw).
    this.lastRound = Math.max(this.lastRound + 1, this.core.version * ROUNDS_PER_VERSION);
    const a: Assignment = { round: this.lastRound, version: this.core.version, base: this.core.global, seq, sentAt: Date.now() };
    this.assignments.set(id, a);
    // The strategy's plan for this one client: what it sends beside the weights (SCAFFOLD's c) and training overrides.
    let extras: Extras | undefined;
    let overrides: Partial<Omit<TrainConfig, 'seed'>> | undefined;
    try {
      const numSamples = this.clients.get(id)?.numSamples ?? 1;
      const plan = this.runtime.planRound({ round: a.round, candidates: [{ id, numSamples }], fraction: 1, minClients: 1, seed: this.config.seed, global: a.base, state: this.aggregator.state });
      for (const [name, extra] of Object.entries(plan.extras ?? {})) assertSameLayout(this.layout, extra, `round-start extra ${name}`);
      extras = plan.extras;
      if (extras) a.extras = extras;
      overrides = plan.train;
    } catch (e) {
      this.reject(id, `planning the assignment failed: ${(e as Error).message}`);
    }
    const train: TrainConfig = { ...this.config.train, ...overrides, seed: (this.config.seed * 1_000_003 + a.round) >>> 0 };
    this.transport.send(id, { type: 'round-start', v: PROTOCOL_VERSION, round: a.round, model: this.config.model, strategy: this.config.strategy, train, weights: a.base, ...(extras ? { extras } : {}) });
    this.emit({ kind: 'assigned', clientId: id, version: a.version });
  }

  private acceptUpdate(from: string, msg: UpdateMessage): void {
    const a = this.assignments.get(from);
    if (!a) return this.reject(from, `update for round ${msg.round} without an open assignment (duplicate, or not a client)`);
    if (msg.round !== a.round) return this.reject(from, `update for round ${msg.round}, but round ${a.round} is assigned (a duplicate or an old one)`);
    this.assignments.delete(from);
    const staleness = this.core.version - a.version;
    try {
      for (const [name, extra] of Object.entries(msg.extras ?? {})) {
        assertSameLayout(this.layout, extra, `update from ${from}: ${name}`);
        assertFinite(extra, `update from ${from}: ${name}`);
      }
      const outcome = this.core.submit({ clientId: from, key: `${from}#${a.round}`, baseVersion: a.version, base: a.base, delta: msg.delta, numSamples: msg.numSamples, ...(msg.extras ? { extras: msg.extras } : {}), ...(a.extras ? { sentExtras: a.extras } : {}), metrics: msg.metrics, startedAt: a.sentAt, arrivedAt: Math.max(Date.now(), a.sentAt) });
      if (outcome === 'too-stale') this.emit({ kind: 'update-dropped', from, staleness });
      else if (outcome === 'buffered') this.emit({ kind: 'update-received', from, baseVersion: a.version, staleness });
      else this.reject(from, 'duplicate update');
    } catch (e) {
      this.reject(from, (e as Error).message);
    }
    if (this.running && this.clients.has(from)) this.assign(from);
    if (this.core.ready) this.wake?.();
  }

  /** For the dashboard only: one that is not about the client's open assignment, or holds an impossible fraction, is dropped silently. */
  private acceptProgress(from: string, msg: ProgressMessage): void {
    if (this.assignments.get(from)?.round !== msg.round || !isFraction(msg.fraction)) return;
    this.emit({ kind: 'client-progress', clientId: from, round: msg.round, fraction: msg.fraction });
  }

  /** Clients with data (N in SCAFFOLD's |S|/N). */
  private trainableCount(): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.numSamples > 0) n++;
    return n;
  }

  private reassignOverdue(): void {
    const now = Date.now();
    for (const [id, a] of this.assignments) {
      if (now - a.sentAt > this.timing.roundDeadlineMs && a.version < this.core.version) this.assign(id);
    }
  }

  /**
   * Aggregates a step taken from the buffer, in-process or through hooks.aggregate (as RoundEngine does: the same
   * plain-data job, the outcome checked before it is committed), and commits it; null (with 'step-failed') when
   * that fails, the model and the strategy state unchanged.
   */
  private async aggregate(pending: PendingStep, stepNumber: number): Promise<{ step: StepResult; screening: ScreeningVerdict[] } | null> {
    const declaredSamples: Record<string, number> = {};
    const declaredLabels: Record<string, number[]> = {};
    for (const [key, id] of pending.clientOf) {
      const client = this.clients.get(id);
      if (client === undefined) continue;
      declaredSamples[key] = client.numSamples;
      declaredLabels[key] = client.labelHistogram;
    }
    const job: AggregationJob = {
      strategy: this.config.strategy,
      round: stepNumber,
      population: pending.population ?? pending.updates.length,
      global: pending.previousGlobal,
      state: this.aggregator.state,
      updates: pending.updates,
      declaredSamples,
      declaredLabels,
      robust: this.robust,
      valuesScanned: pending.valuesScanned,
    };
    const fail = (reason: string) => {
      this.emit({ kind: 'step-failed', step: stepNumber, reason: `aggregation failed: ${reason}` });
      return null;
    };
    let outcome: AggregationOutcome;
    try {
      outcome = await (this.hooks.aggregate ? this.hooks.aggregate(job) : Promise.resolve(aggregateRound(job)));
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
    const problem = outcomeProblem(outcome, job, this.layout);
    if (problem) return fail(problem);
    for (const d of outcome.dropped) this.emit({ kind: 'rejected', from: pending.clientOf.get(d.clientId) ?? d.clientId, reason: `update dropped by the robust aggregation: ${d.reason}` });
    if (!outcome.ok) return fail(outcome.reason);
    let step: StepResult;
    try {
      step = this.core.finishStep(pending, outcome.global, outcome.dropped);
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
    this.aggregator.commit(outcome.state);
    const screening = screeningVerdicts(outcome).map((v) => ({ ...v, clientId: pending.clientOf.get(v.clientId) ?? v.clientId }));
    return { step, screening };
  }

  /**
   * Waits for M updates (at most the round deadline), then applies one aggregation step. Resolves with its report,
   * or null when nothing usable arrived in time (the global model is then unchanged).
   */
  async nextStep(): Promise<AsyncStepReport | null> {
    const started = performance.now();
    this.start();
    this.reassignOverdue();
    if (!this.core.ready && !this.disposed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, this.timing.roundDeadlineMs);
      });
      clearTimeout(timer);
      this.wake = null;
    }
    const stepNumber = this.core.version + 1;
    if (this.disposed) return null;
    if (this.core.waiting === 0) {
      this.emit({ kind: 'step-failed', step: stepNumber, reason: `no update arrived within ${this.timing.roundDeadlineMs} ms` });
      return null;
    }
    const waitedMs = performance.now() - started;
    const aggStart = performance.now();
    const taken = this.core.takeStep(undefined, this.trainableCount());
    for (const d of taken?.dropped ?? []) this.emit({ kind: 'update-dropped', from: d.clientId, staleness: d.staleness });
    if (!taken?.pending) {
      this.emit({ kind: 'step-failed', step: stepNumber, reason: 'every update taken was past the maximum staleness' });
      return null;
    }
    const aggregated = await this.aggregate(taken.pending, stepNumber);
    if (!aggregated) return null;
    const { step, screening } = aggregated;
    const aggregateMs = performance.now() - aggStart;
    for (const u of step.used) this.contributed.set(u.clientId, (this.contributed.get(u.clientId) ?? 0) + 1);

    const evalStart = performance.now();
    let decomposition: LossDecomposition | null = null;
    const every = Math.max(1, this.config.decompositionEvery);
    if (this.config.decomposition !== 'off' && this.hooks.evaluateOnValidation && step.version % every === 0) {
      // Local models as the global model each trained from plus its update: built where they are scored.
      const n = step.updates.length;
      // The step is committed: a failure here (a hook that throws, a local model as sent that is not finite, such as
      // a max-float update the defence shrank before it went in) costs the decomposition, not the step.
      try {
        const losses = await this.hooks.evaluateOnValidation([...step.updates.map((u) => ({ base: u.base!, delta: u.delta })), step.global]);
        decomposition = proxyDecomposition(step.updates.map((u) => u.metrics!.evalLoss), losses.slice(0, n), losses[n], step.updates.map((u) => u.numSamples));
      } catch (e) {
        this.emit({ kind: 'warning', reason: `step ${step.version}: measuring the loss decomposition failed: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    const test = this.hooks.evaluateGlobal ? await this.hooks.evaluateGlobal(step.global) : null;
    const metrics = step.updates.map((u) => u.metrics!);
    const report: AsyncStepReport = {
      step: step.version,
      used: step.used,
      dropped: step.dropped,
      accuracy: test?.accuracy ?? null,
      loss: test?.loss ?? null,
      decomposition,
      clientTrainLoss: metrics.reduce((s, m) => s + m.trainLoss, 0) / metrics.length,
      slowestClientMs: Math.max(...metrics.map((m) => m.trainMs)),
      waitedMs,
      aggregateMs,
      evalMs: performance.now() - evalStart,
      screening,
    };
    for (const id of this.clients.keys()) {
      this.transport.send(id, { type: 'round-result', v: PROTOCOL_VERSION, round: step.version, participants: step.used.length, accuracy: report.accuracy, loss: report.loss, decomposition });
    }
    this.emit({ kind: 'step-finished', report });
    return report;
  }
}
