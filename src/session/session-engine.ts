import type { ScoredModel } from '../fl/scored-model';
import { RoundEngine, type EngineHooks, type EngineStart } from '../fl/engine';
import type { AggregatorEngine, SessionEngineConfig } from './aggregator-engine';
import type { ModelSpec } from '../fl/models';
import type { SessionConfig } from '../fl/protocol';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';
import { AsyncRoundEngine } from './async-round-engine';

/** Held-out data of the aggregating tab: plain-CE losses and accuracies of weight sets. */
/** Scores models on the aggregating tab's held-out data (local models may come as base + delta: built where scored). */
export type ValidationEvaluator = (spec: ModelSpec, models: ScoredModel[]) => Promise<{ losses: number[]; accuracies: number[] }>;

export type { AggregatorEngine, SessionEngineConfig } from './aggregator-engine';

export type EngineFactory = (transport: Transport, config: SessionEngineConfig, start: EngineStart, hooks: EngineHooks) => AggregatorEngine;

/** Sync sessions get a RoundEngine, async ones (config.aggregation.mode 'async') an AsyncRoundEngine. */
export const defaultEngineFactory: EngineFactory = (transport, config, start, hooks) =>
  config.aggregation?.mode === 'async' ? new AsyncRoundEngine(transport, config, start, hooks) : new RoundEngine(transport, config, start, hooks);

export function engineConfigOf(config: SessionConfig): SessionEngineConfig {
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
    ...(config.aggregation ? { aggregation: config.aggregation } : {}),
    // Private sessions: clients clip their own updates (no screening), and the aggregator holds no local model to
    // measure a decomposition with.
    ...(config.privacy ? { privacy: config.privacy, robust: 'off' as const, decomposition: 'off' as const } : {}),
  };
}

/** The engine hooks that score models on the aggregating tab's held-out data. */
export function validationHooks(spec: ModelSpec, validation: ValidationEvaluator | undefined): Pick<EngineHooks, 'evaluateGlobal' | 'evaluateOnValidation'> {
  if (!validation) return {};
  return {
    evaluateGlobal: async (w) => {
      const r = await validation(spec, [w]);
      return { loss: r.losses[0], accuracy: r.accuracies[0] };
    },
    evaluateOnValidation: async (models) => (await validation(spec, models)).losses,
  };
}
