import { type FlTiming } from './config';
import type { LossDecomposition } from './decomposition';
import type { ModelSpec } from './models';
import type { DecompositionMode, TrainConfig } from './protocol';
import type { ClassBalance } from './collapse';
import type { ServerState, StrategyConfig } from './strategies/types';
import type { RobustMode, RobustSettings, ScreeningVerdict } from './robust';
import type { Transport } from './transport';
import type { WeightSet } from './weights';
import { wallClock, type Clock } from './coordinator/clock';
import { assertNever } from './exhaustive';
import { Coordinator, errorText, stateProblem, type CoordinatorEvent, type CoordinatorHooks, type RoundEvaluation } from './coordinator/coordinator';

import type { ClientInfo } from './hello';
import type { PrivacySettings } from './private-aggregation';
import { RdpAccountant, type LedgerState } from './dp/accountant';
import { carriedNoiseMultiplier } from './dp/clip-noise';

export type { ClientInfo } from './hello';
export type { GlobalEvaluation, RoundEvaluation } from './coordinator/coordinator';

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
  /** Private aggregation (client-side clipping and DP noise, optionally secure aggregation); see Coordinator. */
  privacy?: PrivacySettings;
}

/** One private round as the accountant charged it: its sampling rate and the noise multiplier its sum carried. */
export interface PrivacyCharge {
  samplingRate: number;
  noiseMultiplier: number;
}

/** What a private round spent, and whom its sum covers. */
export interface RoundPrivacy extends PrivacyCharge {
  secure: boolean;
  selected: number;
  survivors: number;
  /** Spent so far, towards whoever sees the global models (null: no DP noise). */
  epsilon: number | null;
  delta: number;
  budget: number | null;
}





/** Where an engine starts: the global model, and for a handover the round reached and the strategy's state. */
export interface EngineStart {
  weights: WeightSet;
  round?: number;
  serverState?: ServerState | null;
  /** A private session taken over: its privacy ledger so far (the successor's goes on from there). */
  privacyLedger?: LedgerState | null;
}

export interface RoundReport {
  round: number;
  /** Which strategy variant ran (e.g. "FedLD (λ 0.1, ρ 0.8; uniform weighting, mean-norm step)"). */
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
  /** A private session's round: its privacy cost and whom its sum covers (absent: not private). */
  privacy?: RoundPrivacy;
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

/** The coordinator's hooks (test set, validation set, admission, aggregation off the main thread) and the observer. */
export interface EngineHooks extends CoordinatorHooks {
  onEvent?: (event: EngineEvent) => void;
}

interface Waiter<T> {
  expected: Set<string>;
  received: Map<string, T>;
  resolve: () => void;
}

/**
 * Synchronous rounds: the coordinator's scheduler for a round at a time. Each round asks a share of the clients
 * with data (the strategy's plan), waits for their updates until all arrived or the deadline passed (never longer),
 * aggregates what came if it is at least the minimum, measures, and only then commits. Everything else (registry,
 * trust boundary, aggregation, measurement, commit) is the Coordinator's, shared with asynchronous sessions and the
 * simulator.
 */
export class RoundEngine {
  private readonly coordinator: Coordinator;
  private readonly startRound: number;
  /** The running round's assignment while it waits for updates (see addToRunningRound). */
  private running: number | null = null;
  /** Private sessions with DP noise: the RDP ledger of the rounds committed. */
  private readonly accountant: RdpAccountant | null;
  private done: string | null = null;

  constructor(
    transport: Transport,
    private config: EngineConfig,
    /** The global model, and when taking over from another aggregator, its round and the strategy's state. */
    start: EngineStart,
    private readonly hooks: EngineHooks = {},
    clock: Clock = wallClock,
  ) {
    this.startRound = start.round ?? 0;
    if (config.minClients < 1) throw new Error('engine: minClients must be at least 1');
    if (!(config.fraction > 0 && config.fraction <= 1)) throw new Error('engine: fraction must be in (0, 1]');
    const privacy = config.privacy;
    this.accountant = privacy && privacy.noiseMultiplier > 0 ? new RdpAccountant(privacy.delta) : null;
    if (this.accountant && start.privacyLedger) this.accountant.adopt(start.privacyLedger);
    this.coordinator = new Coordinator(
      transport,
      { model: config.model, strategy: config.strategy, train: config.train, seed: config.seed, robust: config.robust, timing: config.timing, buffer: SYNC_BUFFER, ...(privacy ? { privacy } : {}) },
      { weights: start.weights, version: start.round ?? 0, serverState: start.serverState ?? null },
      hooks,
      clock,
      (e) => this.forward(e),
    );
  }

  /** Switches the decomposition mode from the next round on. */
  setDecompositionMode(mode: DecompositionMode): void {
    this.config = { ...this.config, decomposition: mode };
  }

  get currentRound(): number {
    return this.coordinator.version;
  }

  get globalWeights(): WeightSet {
    return this.coordinator.global;
  }

  /** The strategy's server state after the latest complete round (plain data, for checkpoints); null before any. */
  get serverState(): ServerState | null {
    return this.coordinator.serverState;
  }

  get connectedClients() {
    return this.coordinator.connectedClients;
  }

  /** Why no round may run any more (the privacy budget is spent), or null. */
  get finished(): string | null {
    return this.done;
  }

  /** The privacy ledger after the latest committed round (null: no DP noise); checkpoints carry it. */
  get privacyLedger(): LedgerState | null {
    return this.accountant?.state ?? null;
  }

  /** Before a round that asks `selected` of `population`: why it must not run (it would pass the budget), or null. */
  private budgetStop(selected: number, population: number): string | null {
    const p = this.config.privacy;
    if (!p || p.budget === null || !this.accountant) return null;
    const next = this.accountant.preview(Math.min(1, selected / population), p.noiseMultiplier);
    if (next.epsilon <= p.budget) return null;
    return `the privacy budget (epsilon ${p.budget}, delta ${p.delta}) is spent: one more round would reach epsilon ${next.epsilon.toFixed(3)}`;
  }

  dispose(): void {
    this.coordinator.dispose();
  }

  /**
   * Asks a connected client with data that the running round did not ask (one that joined, or came back under a new
   * id, after the round started) to train it too, while the round still waits for updates; the round's deadline
   * stays. Who is asked is the caller's choice. Returns whether it was asked.
   */
  addToRunningRound(id: string): boolean {
    const c = this.coordinator;
    if (this.running === null || c.openFor(this.running).length === 0 || !((c.client(id)?.numSamples ?? 0) > 0)) return false;
    return c.extend(this.running, id);
  }

  /** Resolves once at least `count` clients with data have joined; rejects after timeoutMs. */
  async waitForClients(count: number, timeoutMs = this.coordinator.timing.joinWaitMs): Promise<void> {
    const met = await this.coordinator.waitUntil(() => this.coordinator.trainable().length >= count, timeoutMs);
    if (!met) throw new Error(`engine: only ${this.coordinator.trainable().length} of ${count} clients joined within ${timeoutMs} ms`);
  }

  /** An observer that throws must not break a round half-way, so its errors stop here. */
  private emit(event: EngineEvent): void {
    try {
      this.hooks.onEvent?.(event);
    } catch {
      // The observer's own bug; the round goes on.
    }
  }

  private forward(e: CoordinatorEvent): void {
    switch (e.kind) {
      case 'client-joined':
      case 'client-left':
      case 'rejected':
        return this.emit(e);
      case 'update-refused':
        return this.emit({ kind: 'rejected', from: e.from, reason: e.reason });
      case 'update-received':
        return this.emit({ kind: 'update-received', round: e.baseVersion + 1, from: e.from });
      case 'update-dropped':
        return this.emit({ kind: 'rejected', from: e.from, reason: `update ${e.staleness} rounds stale` });
      case 'client-progress':
        return this.emit({ kind: 'client-progress', round: e.baseVersion + 1, clientId: e.clientId, fraction: e.fraction });
      case 'warning':
        // (During construction, for a handed-over state that does not fit, there is no coordinator yet.)
        return this.emit({ kind: 'round-warning', round: this.coordinator ? this.coordinator.version : this.startRound, reason: e.reason });
      case 'assigned':
      case 'update-superseded': // (only in asynchronous steps: a round asks each client once)
        return;
      default:
        return assertNever(e, 'coordinator event');
    }
  }

  /**
   * Runs one round. Resolves with the report, or with null when too few updates arrived or aggregation failed
   * (the round is then retried by the next call, with the global model unchanged). Atomic: the global model,
   * the round number and the strategy state change together, only once the round is complete; a failing
   * decomposition or evaluation is reported as a warning and the round still counts. Never rejects.
   */
  async runRound(): Promise<RoundReport | null> {
    const c = this.coordinator;
    const roundNumber = c.version + 1;
    const fail = (reason: string) => {
      this.emit({ kind: 'round-failed', round: roundNumber, reason });
      return null;
    };
    const candidates = c.trainable();
    if (candidates.length < this.config.minClients) return fail(`${candidates.length} clients with data connected, ${this.config.minClients} needed`);
    let plan;
    try {
      plan = c.plan(roundNumber, candidates, this.config.fraction, this.config.minClients);
    } catch (e) {
      return fail(`planning the round failed: ${errorText(e)}`);
    }
    const selected = plan.selected;
    const spent = this.budgetStop(selected.length, candidates.length);
    if (spent) {
      this.done = spent;
      return fail(spent);
    }
    this.emit({ kind: 'round-started', round: roundNumber, selected });

    const trainStart = performance.now();
    const assignment = c.assign(selected, plan);
    this.running = assignment;
    await c.waitUntil(() => c.openFor(assignment).length === 0, c.timing.roundDeadlineMs);
    this.running = null;
    c.close(assignment);
    const trainMs = performance.now() - trainStart;
    if (c.isDisposed) return null;

    if (c.waiting < this.config.minClients) {
      const arrived = c.waiting;
      c.discardWaiting();
      return fail(`only ${arrived} of ${selected.length} updates arrived (${this.config.minClients} needed)`);
    }
    const attempt = await c.aggregate({ population: candidates.length, order: 'client' });
    if (!attempt.ok) return fail(attempt.reason);
    const step = attempt.step;

    const warnings: string[] = [];
    const warn = (reason: string) => {
      warnings.push(reason);
      this.emit({ kind: 'round-warning', round: roundNumber, reason });
    };
    const evalStart = performance.now();
    const due = plan.measureDecomposition ?? roundNumber % Math.max(1, this.config.decompositionEvery) === 0;
    const measured = due ? await c.measureDecomposition(step, this.config.decomposition) : { decomposition: null, warnings: [] };
    measured.warnings.forEach(warn);
    const testStart = performance.now();
    const testing = c.evaluate(step.global);
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
    try {
      c.commit(step);
    } catch (e) {
      return fail(`committing the round failed: ${errorText(e)}`);
    }
    const participants = step.updates.map((u) => u.clientId);
    let privacy: RoundPrivacy | undefined;
    if (step.privacy && this.config.privacy) {
      const p = this.config.privacy;
      const charged: PrivacyCharge = { samplingRate: Math.min(1, step.privacy.selected / candidates.length), noiseMultiplier: p.noiseMultiplier > 0 ? carriedNoiseMultiplier(p.noiseMultiplier, step.privacy.survivors, step.privacy.selected) : 0 };
      this.accountant?.record(charged.samplingRate, charged.noiseMultiplier);
      privacy = { ...charged, ...step.privacy, epsilon: this.accountant?.spent().epsilon ?? null, delta: p.delta, budget: p.budget };
    }
    const announced = privacy && { secure: privacy.secure, epsilon: privacy.epsilon, delta: privacy.delta, budget: privacy.budget, noiseMultiplier: privacy.noiseMultiplier, samplingRate: privacy.samplingRate, survivors: privacy.survivors };
    const report: RoundReport = {
      round: roundNumber,
      strategy: c.description,
      participants,
      missing: selected.filter((id) => !participants.includes(id)),
      accuracy: test?.accuracy ?? null,
      loss: test?.loss ?? null,
      decomposition: measured.decomposition,
      classes: test?.classes ?? null,
      clientTrainLoss: step.updates.reduce((s, u) => s + u.metrics.trainLoss, 0) / step.updates.length,
      slowestClientMs: Math.max(...step.updates.map((u) => u.metrics.trainMs)),
      trainMs,
      aggregateMs: step.aggregateMs,
      evalMs,
      evaluation: testing.catch(() => null),
      warnings,
      screening: step.screening,
      ...(privacy ? { privacy } : {}),
    };
    if (background) {
      testing.then(
        (result) => {
          if (result) {
            this.emit({ kind: 'round-evaluated', round: roundNumber, accuracy: result.accuracy, loss: result.loss, ms: performance.now() - testStart, classes: result.classes });
            if (result.classes?.collapse) this.emit({ kind: 'round-warning', round: roundNumber, reason: result.classes.collapse });
          }
          c.announce(roundNumber, participants.length, result, measured.decomposition, announced);
        },
        (e: unknown) => {
          this.emit({ kind: 'round-warning', round: roundNumber, reason: `evaluating the global model failed: ${errorText(e)}` });
          c.announce(roundNumber, participants.length, null, measured.decomposition, announced);
        },
      );
    } else {
      c.announce(roundNumber, participants.length, test, measured.decomposition, announced);
    }
    this.emit({ kind: 'round-finished', report });
    return report;
  }
}

/** Synchronous rounds through the coordinator's buffer: every update is fresh (staleness 0, weight 1), none dropped. */
const SYNC_BUFFER = { bufferSize: 1, staleness: { kind: 'constant' }, maxStaleness: null } as const;

export { stateProblem };
