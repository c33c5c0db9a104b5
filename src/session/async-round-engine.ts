/**
 * The session's view of an asynchronous aggregator: AsyncEngine (fl/async) behind the same small face the session
 * node uses of RoundEngine, so the session's loop, checkpoints, handover and dashboard records work unchanged.
 * Each aggregation step is reported as a round; its record also carries the staleness of each update it used.
 */
import { AsyncEngine, ROUNDS_PER_VERSION, type AsyncEngineEvent } from '../fl/async/async-engine';
import type { EngineEvent, EngineHooks, RoundEngine, RoundReport } from '../fl/engine';
import type { SessionConfig } from '../fl/protocol';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';

/** What the session node needs of its aggregator engine. */
export type AggregatorEngine = Pick<RoundEngine, 'currentRound' | 'globalWeights' | 'connectedClients' | 'dispose' | 'setDecompositionMode'> & {
  runRound(): Promise<(RoundReport & { staleness?: number[] }) | null>;
};

/**
 * The global model version a round-start carries: round - 1 in sync mode; in async mode assignments have round
 * numbers of their own, version * ROUNDS_PER_VERSION + a counter.
 */
export function modelVersionOfRoundStart(config: SessionConfig | null, round: number): number {
  return config?.aggregation?.mode === 'async' ? Math.floor(round / ROUNDS_PER_VERSION) : round - 1;
}

export class AsyncRoundEngine implements AggregatorEngine {
  private readonly engine: AsyncEngine;

  constructor(transport: Transport, config: SessionConfig, initialWeights: WeightSet, hooks: EngineHooks, startStep: number) {
    const aggregation = config.aggregation;
    if (aggregation?.mode !== 'async') throw new Error('AsyncRoundEngine needs a session in async mode');
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
        timing: { roundDeadlineMs: config.roundDeadlineMs },
      },
      initialWeights,
      { admit: hooks.admit, evaluateGlobal: hooks.evaluateGlobal, evaluateOnValidation: hooks.evaluateOnValidation, onEvent: (e) => forward(e, hooks.onEvent, () => this.engine.version) },
      startStep,
    );
  }

  get currentRound(): number {
    return this.engine.version;
  }

  get globalWeights(): WeightSet {
    return this.engine.globalWeights;
  }

  get connectedClients() {
    return this.engine.connectedClients;
  }

  dispose(): void {
    this.engine.dispose();
  }

  setDecompositionMode(mode: SessionConfig['decomposition']): void {
    this.engine.setDecompositionMode(mode);
  }

  async runRound(): Promise<(RoundReport & { staleness: number[] }) | null> {
    const r = await this.engine.nextStep();
    if (!r) return null;
    const test = r.accuracy !== null && r.loss !== null ? { accuracy: r.accuracy, loss: r.loss } : null;
    return {
      round: r.step,
      participants: r.used.map((u) => u.clientId),
      missing: [],
      accuracy: r.accuracy,
      loss: r.loss,
      decomposition: r.decomposition,
      clientTrainLoss: r.clientTrainLoss,
      slowestClientMs: r.slowestClientMs,
      trainMs: r.waitedMs,
      aggregateMs: r.aggregateMs,
      evalMs: r.evalMs,
      evaluation: Promise.resolve(test),
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
      return onEvent(e);
    case 'update-received':
      return onEvent({ kind: 'update-received', round: version() + 1, from: e.from });
    case 'update-dropped':
      return onEvent({ kind: 'rejected', from: e.from, reason: `update ${e.staleness} steps stale, past the maximum` });
    case 'step-failed':
      return onEvent({ kind: 'round-failed', round: e.step, reason: e.reason });
    default:
      return;
  }
}
