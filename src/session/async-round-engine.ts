/**
 * The session's view of an asynchronous aggregator: AsyncEngine (fl/async) behind the AggregatorEngine face of the
 * session's EngineFactory (session-engine.ts picks it when config.aggregation.mode is 'async'), so the session's
 * loop, checkpoints (with the strategy's server state), handover and dashboard records work unchanged.
 * Each aggregation step is reported as a round; its record also carries the staleness of each update it used.
 */
import { AsyncEngine, type AsyncEngineEvent } from '../fl/async/async-engine';
import type { EngineEvent, EngineHooks, EngineStart, RoundEvaluation, RoundReport } from '../fl/engine';
import { describeStrategyConfig } from '../fl/strategies/registry';
import type { ServerState } from '../fl/strategies/types';
import type { DecompositionMode } from '../fl/protocol';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';
import type { AggregatorEngine, SessionEngineConfig } from './aggregator-engine';

export type { AggregatorEngine } from './aggregator-engine';

export class AsyncRoundEngine implements AggregatorEngine {
  private readonly engine: AsyncEngine;
  private readonly strategy: string;

  constructor(transport: Transport, config: SessionEngineConfig, start: EngineStart, hooks: EngineHooks) {
    const aggregation = config.aggregation;
    if (aggregation?.mode !== 'async') throw new Error('AsyncRoundEngine needs a session in async mode');
    if (config.privacy) throw new Error('private aggregation runs in synchronous rounds: its secure sum and its noise are sized for one round of clients');
    this.strategy = describeStrategyConfig(config.strategy);
    this.engine = new AsyncEngine(
      transport,
      {
        model: config.model,
        strategy: config.strategy,
        train: config.train,
        async: { bufferSize: aggregation.bufferSize, staleness: aggregation.staleness, maxStaleness: aggregation.maxStaleness },
        decomposition: config.decomposition,
        decompositionEvery: config.decompositionEvery,
        seed: config.seed,
        ...(config.robust ? { robust: config.robust } : {}),
        timing: { roundDeadlineMs: config.timing?.roundDeadlineMs },
      },
      start.weights,
      { admit: hooks.admit, evaluateGlobal: hooks.evaluateGlobal, evaluateOnValidation: hooks.evaluateOnValidation, aggregate: hooks.aggregate, onEvent: (e) => forward(e, hooks.onEvent, () => this.engine.version) },
      start.round ?? 0,
      start.serverState ?? null,
    );
  }

  get currentRound(): number {
    return this.engine.version;
  }

  get globalWeights(): WeightSet {
    return this.engine.globalWeights;
  }

  /** The strategy's server state after the latest step: travels in checkpoints like RoundEngine's. */
  get serverState(): ServerState | null {
    return this.engine.serverState;
  }

  get connectedClients() {
    return this.engine.connectedClients;
  }

  dispose(): void {
    this.engine.dispose();
  }

  setDecompositionMode(mode: DecompositionMode): void {
    this.engine.setDecompositionMode(mode);
  }

  async runRound(): Promise<(RoundReport & { staleness: number[] }) | null> {
    const r = await this.engine.nextStep();
    if (!r) return null;
    // The step's test-set evaluation ran before it ended (not in the background).
    const test: RoundEvaluation | null = r.accuracy !== null && r.loss !== null ? { accuracy: r.accuracy, loss: r.loss, classes: null } : null;
    return {
      round: r.step,
      strategy: this.strategy,
      participants: r.used.map((u) => u.clientId),
      missing: [],
      accuracy: r.accuracy,
      loss: r.loss,
      decomposition: r.decomposition,
      classes: null,
      clientTrainLoss: r.clientTrainLoss,
      slowestClientMs: r.slowestClientMs,
      trainMs: r.waitedMs,
      aggregateMs: r.aggregateMs,
      evalMs: r.evalMs,
      evaluation: Promise.resolve(test),
      warnings: [],
      screening: r.screening,
      staleness: r.used.map((u) => u.staleness),
    };
  }
}

function forward(e: AsyncEngineEvent, onEvent: ((e: EngineEvent) => void) | undefined, version: () => number): void {
  if (!onEvent) return;
  switch (e.kind) {
    case 'client-joined':
    case 'client-left':
    case 'rejected':
    case 'client-progress':
      return onEvent(e);
    case 'update-received':
      return onEvent({ kind: 'update-received', round: version() + 1, from: e.from });
    case 'update-dropped':
      return onEvent({ kind: 'rejected', from: e.from, reason: `update ${e.staleness} steps stale, past the maximum` });
    case 'update-superseded':
      // The same tab's newer update took its place: the tab still counts, its status stays "uploaded".
      return;
    case 'step-failed':
      return onEvent({ kind: 'round-failed', round: e.step, reason: e.reason });
    case 'warning':
      return onEvent({ kind: 'round-warning', round: version(), reason: e.reason });
    default:
      return;
  }
}
