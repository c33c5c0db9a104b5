import type { Dataset } from './dataset';
import { datasetSize, subsetDataset } from './dataset';
import { Rng } from '../rng';

export interface TrainEvalSplit<T extends Dataset> {
  train: T;
  /** Fixed held-out subset E_k: never trained on, used for the loss decomposition and local accuracy. */
  eval: T;
}

/**
 * Deterministic split of one client's data into train and a held-out evaluation subset.
 * The eval share is `evalFraction` of the samples, at most `maxEval`, and at least one sample is kept for training.
 */
export function splitTrainEval<T extends Dataset>(ds: T, evalFraction: number, seed: number, maxEval = Infinity): TrainEvalSplit<T> {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new RangeError(`splitTrainEval: evalFraction must be in [0, 1), got ${evalFraction}`);
  const n = datasetSize(ds);
  const order = new Rng(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const evalCount = Math.min(Math.max(n - 1, 0), Math.floor(maxEval), Math.round(n * evalFraction));
  const evalIdx = order.slice(0, evalCount).sort();
  const trainIdx = order.slice(evalCount).sort();
  return { train: subsetDataset(ds, trainIdx), eval: subsetDataset(ds, evalIdx) };
}
