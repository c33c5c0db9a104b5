/**
 * A model to score on held-out data: whole, or as the global model a client trained from plus its update. The
 * proxy decomposition scores every client's local model; sending base + delta lets the side that scores them (the
 * aggregating tab's validation worker) build them, instead of the aggregating tab's main thread. Posted to a worker
 * as one message, a base shared by several entries is copied once.
 */
import { addScaledWeights, type WeightSet } from './weights';

export type ScoredModel = WeightSet | { base: WeightSet; delta: WeightSet };

/** The model's weights (base + delta built here). */
export function materialize(model: ScoredModel): WeightSet {
  return Array.isArray(model) ? model : addScaledWeights(model.base, model.delta);
}
