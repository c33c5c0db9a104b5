import type { Dataset } from './dataset';
import { datasetSize, subsetDataset } from './dataset';
import { Rng } from '../rng';

export interface TrainEvalIndices {
  /** Ascending positions into the input index list's source. */
  train: Int32Array;
  eval: Int32Array;
}

export interface LocalSplit<T extends Dataset = Dataset> {
  train: T;
  eval: T;
}

/**
 * Splits `indices` (values of `labels` positions) into train and eval: per class, round(count * evalFraction)
 * samples go to eval, chosen by a seeded shuffle. Both outputs hold values of `indices`, ascending.
 */
export function splitTrainEvalIndices(
  indices: ArrayLike<number>,
  labels: ArrayLike<number>,
  evalFraction: number,
  seed: number,
): TrainEvalIndices {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new RangeError(`evalFraction must be in [0, 1), got ${evalFraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i];
    const y = labels[idx];
    let list = byClass.get(y);
    if (!list) byClass.set(y, (list = []));
    list.push(idx);
  }
  const rng = new Rng(seed);
  const train: number[] = [];
  const evalIdx: number[] = [];
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(y)!.sort((a, b) => a - b);
    rng.shuffle(list);
    const k = Math.round(list.length * evalFraction);
    evalIdx.push(...list.slice(0, k));
    train.push(...list.slice(k));
  }
  return { train: Int32Array.from(train).sort(), eval: Int32Array.from(evalIdx).sort() };
}

/**
 * As splitTrainEvalIndices, with E_k capped at `maxEval` samples (the surplus goes back to training) and at least one
 * sample kept for training. Works on index lists into a shared dataset, so a simulator can keep every client's split
 * as two index lists instead of two copies of the samples. Both outputs hold values of `indices`, ascending.
 */
export function splitTrainEvalIndicesCapped(
  indices: ArrayLike<number>,
  labels: ArrayLike<number>,
  evalFraction: number,
  seed: number,
  maxEval = Infinity,
): TrainEvalIndices {
  const n = indices.length;
  const parts = splitTrainEvalIndices(indices, labels, evalFraction, seed);
  let evalIdx = parts.eval;
  let trainIdx = parts.train;
  const cap = Math.min(Math.floor(maxEval), Math.max(n - 1, 0));
  if (evalIdx.length > cap) {
    const order = new Rng(seed ^ 0x5bd1e995).shuffle(Int32Array.from(evalIdx));
    evalIdx = order.slice(0, cap).sort();
    trainIdx = Int32Array.from([...trainIdx, ...order.slice(cap)]).sort();
  }
  return { train: trainIdx, eval: evalIdx };
}

/**
 * Deterministic, class-stratified split of one client's data into train and a fixed held-out evaluation subset
 * E_k (never trained on; used for the loss decomposition and local accuracy). E_k holds about `evalFraction` of
 * the samples, at most `maxEval` (the surplus goes back to training), and at least one sample stays for training.
 */
export function splitTrainEval<T extends Dataset>(ds: T, evalFraction: number, seed: number, maxEval = Infinity): LocalSplit<T> {
  const n = datasetSize(ds);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const parts = splitTrainEvalIndicesCapped(all, ds.labels, evalFraction, seed, maxEval);
  return { train: subsetDataset(ds, parts.train), eval: subsetDataset(ds, parts.eval) };
}
