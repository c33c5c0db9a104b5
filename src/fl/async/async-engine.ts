import type { DecompositionMode, TrainConfig } from '../protocol';
import type { LossDecomposition } from '../decomposition';
import type { ModelSpec } from '../models';
import type { ClientInfo } from '../hello';
import type { RobustMode, RobustSettings, ScreeningVerdict } from '../robust';
import type { ServerState, StrategyConfig } from '../strategies/types';
import type { FlTiming } from '../config';
import type { Transport } from '../transport';
import type { WeightSet } from '../weights';
import type { AsyncAggregationConfig, StepContribution } from './async-aggregation';
import { wallClock, type Clock } from '../coordinator/clock';
import { assertNever } from '../exhaustive';
import { Coordinator, errorText, type CoordinatorEvent, type CoordinatorHooks } from '../coordinator/coordinator';

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
  /** Evaluate the new global model on the test set every N steps (default 1: every step). */
  evaluateEvery?: number;
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
  /** A client reported how far its training on its open assignment got, 0..1 (`round`: the version it trains from + 1). */
  | { kind: 'client-progress'; clientId: string; round: number; fraction: number }
  | { kind: 'update-dropped'; from: string; staleness: number }
  /** A client's newer update replaced its older one, still waiting (one place per client in a step). */
  | { kind: 'update-superseded'; from: string }
  | { kind: 'step-finished'; report: AsyncStepReport }
  | { kind: 'step-failed'; step: number; reason: string }
  /** Something went wrong that stops no step (e.g. a handed-over strategy state that does not fit). */
  | { kind: 'warning'; reason: string };

export type AsyncEngineHooks = CoordinatorHooks & { onEvent?: (event: AsyncEngineEvent) => void };

/**
 * Buffered asynchronous aggregation: the coordinator's scheduler for a step at a time. Every client with data always
 * has one assignment: the newest global model when it joined or when its last update arrived, so a client trains
 * again as soon as it has sent an update. nextStep() aggregates once M updates wait (or, past the
 * deadline, what waits), weighing each by its staleness, commits, then measures. Everything else (registry, trust
 * boundary, aggregation, measurement, commit) is the Coordinator's, shared with synchronous rounds and the simulator.
 */
export class AsyncEngine {
  private readonly coordinator: Coordinator;
  private readonly contributed = new Map<string, number>();
  private running = false;
  private disposed = false;

  constructor(
    transport: Transport,
    private config: AsyncEngineConfig,
    initialWeights: WeightSet,
    private readonly hooks: AsyncEngineHooks = {},
    /** Resume from a later version (aggregator handover). */
    startVersion = 0,
    /** The strategy's server state handed over with the checkpoint (ignored when another strategy or model wrote it). */
    serverState: ServerState | null = null,
    clock: Clock = wallClock,
  ) {
    this.coordinator = new Coordinator(
      transport,
      { model: config.model, strategy: config.strategy, train: config.train, seed: config.seed, robust: config.robust, timing: config.timing, buffer: config.async },
      { weights: initialWeights, version: startVersion, serverState },
      hooks,
      clock,
      (e) => this.observe(e),
    );
  }

  get version(): number {
    return this.coordinator.version;
  }

  /** Switches the decomposition mode from the next step on ('exact' is measured as 'proxy' in async mode). */
  setDecompositionMode(mode: DecompositionMode): void {
    this.config = { ...this.config, decomposition: mode };
  }

  get globalWeights(): WeightSet {
    return this.coordinator.global;
  }

  /** The strategy's server state after the latest step (plain data, for checkpoints); null before any. */
  get serverState(): ServerState | null {
    return this.coordinator.serverState;
  }

  get connectedClients(): ClientInfo[] {
    return this.coordinator.connectedClients;
  }

  /** Updates used so far, per client id. */
  get contributions(): ReadonlyMap<string, number> {
    return this.contributed;
  }

  /** Updates waiting in the buffer. */
  get waiting(): number {
    return this.coordinator.waiting;
  }

  dispose(): void {
    this.disposed = true;
    this.running = false;
    this.coordinator.dispose();
  }

  /** Sends every client with data that has no assignment the newest model. nextStep() calls it too. */
  start(): void {
    if (this.disposed) return;
    this.running = true;
    for (const c of this.coordinator.trainable()) this.assignIfIdle(c.id);
  }

  private emit(event: AsyncEngineEvent): void {
    try {
      this.hooks.onEvent?.(event);
    } catch {
      // The observer's own bug; the session goes on.
    }
  }

  /** One client's next assignment: the strategy's plan for it alone (SCAFFOLD's c beside the weights), then the model. */
  private assignIfIdle(id: string): void {
    const c = this.coordinator;
    if (!this.running || c.assignmentOf(id) || !(c.client(id)?.numSamples ?? 0)) return;
    try {
      const plan = c.plan(c.version + 1, [{ id, numSamples: c.client(id)!.numSamples }], 1, 1);
      c.assign([id], plan);
    } catch (e) {
      this.emit({ kind: 'rejected', from: id, reason: `planning the assignment failed: ${errorText(e)}` });
    }
  }

  /** After an update (used, stale or refused) its client trains again at once, from the newest model. */
  private afterUpdate(id: string): void {
    this.assignIfIdle(id);
  }

  private observe(e: CoordinatorEvent): void {
    switch (e.kind) {
      case 'client-joined':
        this.emit(e);
        // A late joiner (or one coming back) starts at once from the newest model.
        return this.assignIfIdle(e.client.id);
      case 'client-left':
      case 'rejected':
        return this.emit(e);
      case 'update-refused':
        this.emit({ kind: 'rejected', from: e.from, reason: e.reason });
        return this.afterUpdate(e.from);
      case 'assigned':
        return this.emit({ kind: 'assigned', clientId: e.clientId, version: e.version });
      case 'update-received':
        this.emit({ kind: 'update-received', from: e.from, baseVersion: e.baseVersion, staleness: e.staleness });
        return this.afterUpdate(e.from);
      case 'update-dropped':
        this.emit({ kind: 'update-dropped', from: e.from, staleness: e.staleness });
        return this.afterUpdate(e.from);
      case 'update-superseded':
        // Its newer update, reported right after as received, takes its place.
        return this.emit({ kind: 'update-superseded', from: e.from });
      case 'client-progress':
        return this.emit({ kind: 'client-progress', clientId: e.clientId, round: e.baseVersion + 1, fraction: e.fraction });
      case 'warning':
        return this.emit({ kind: 'warning', reason: e.reason });
      default:
        return assertNever(e, 'coordinator event');
    }
  }

  /** A client whose assignment is older than the deadline while the model moved on is sent the newest model. */
  private reassignOverdue(): void {
    const c = this.coordinator;
    const now = c.clock.now();
    for (const { id } of c.trainable()) {
      const a = c.assignmentOf(id);
      if (a && now - a.sentAt > c.timing.roundDeadlineMs && a.version < c.version) {
        c.close(a.assignment);
        this.assignIfIdle(id);
      }
    }
  }

  /**
   * Waits for M updates (at most the round deadline), then applies one aggregation step. Resolves with its report,
   * or null when nothing usable arrived in time (the global model is then unchanged). Never rejects.
   */
  async nextStep(): Promise<AsyncStepReport | null> {
    const c = this.coordinator;
    const started = performance.now();
    this.start();
    this.reassignOverdue();
    await c.waitUntil(() => c.bufferFull, c.timing.roundDeadlineMs);
    const stepNumber = c.version + 1;
    if (this.disposed) return null;
    const fail = (reason: string) => {
      this.emit({ kind: 'step-failed', step: stepNumber, reason });
      this.start();
      return null;
    };
    if (c.waiting === 0) return fail(`no update arrived within ${c.timing.roundDeadlineMs} ms`);
    const waitedMs = performance.now() - started;
    const attempt = await c.aggregate({ count: this.config.async.bufferSize, population: c.trainable().length, order: 'arrival' });
    if (!attempt.ok) return fail(attempt.reason);
    const step = attempt.step;
    try {
      c.commit(step);
    } catch (e) {
      return fail(`aggregation failed: ${errorText(e)}`);
    }
    for (const u of step.updates) this.contributed.set(u.clientId, (this.contributed.get(u.clientId) ?? 0) + 1);
    // Anyone left without an assignment (e.g. after reporting that it could not train) is asked again.
    this.start();

    const evalStart = performance.now();
    const every = Math.max(1, this.config.decompositionEvery);
    const mode = this.config.decomposition === 'off' ? 'off' : 'proxy';
    const measured = step.version % every === 0 ? await c.measureDecomposition(step, mode) : { decomposition: null, warnings: [] };
    for (const reason of measured.warnings) this.emit({ kind: 'warning', reason: `step ${step.version}: ${reason}` });
    let test = null;
    try {
      if (step.version % Math.max(1, this.config.evaluateEvery ?? 1) === 0) test = await c.evaluate(step.global);
    } catch (e) {
      this.emit({ kind: 'warning', reason: `step ${step.version}: evaluating the global model failed: ${errorText(e)}` });
    }
    const used: StepContribution[] = step.updates.map((u) => ({ clientId: u.clientId, key: u.key, baseVersion: u.baseVersion, staleness: u.staleness, weight: u.weight, numSamples: u.numSamples }));
    const report: AsyncStepReport = {
      step: step.version,
      used,
      dropped: step.dropped,
      accuracy: test?.accuracy ?? null,
      loss: test?.loss ?? null,
      decomposition: measured.decomposition,
      clientTrainLoss: step.updates.reduce((s, u) => s + u.metrics.trainLoss, 0) / step.updates.length,
      slowestClientMs: Math.max(...step.updates.map((u) => u.metrics.trainMs)),
      waitedMs,
      aggregateMs: step.aggregateMs,
      evalMs: performance.now() - evalStart,
      screening: step.screening,
    };
    c.announce(step.version, used.length, test, measured.decomposition);
    this.emit({ kind: 'step-finished', report });
    return report;
  }
}
