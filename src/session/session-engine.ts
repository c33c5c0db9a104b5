import { RoundEngine, type EngineConfig, type EngineHooks, type EngineStart } from '../fl/engine';
import type { ModelSpec } from '../fl/models';
import type { SessionConfig } from '../fl/protocol';
import type { Transport } from '../fl/transport';
import type { WeightSet } from '../fl/weights';

/** Held-out data of the aggregating tab: plain-CE losses and accuracies of weight sets. */
export type ValidationEvaluator = (spec: ModelSpec, weightSets: WeightSet[]) => Promise<{ losses: number[]; accuracies: number[] }>;

export type EngineFactory = (transport: Transport, config: EngineConfig, start: EngineStart, hooks: EngineHooks) => RoundEngine;

export const defaultEngineFactory: EngineFactory = (transport, config, start, hooks) => new RoundEngine(transport, config, start, hooks);

export function engineConfigOf(config: SessionConfig): EngineConfig {
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
    evaluateOnValidation: async (ws) => (await validation(spec, ws)).losses,
  };
}
