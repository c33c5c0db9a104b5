/**
 * The fixed held-out evaluation split E_k of a client's local data. Deterministic (seeded) and
 * stratified by class, so E_k is the same every round and mirrors the local label mix.
 */
import type { Dataset } from '../fl/data/dataset';
import { subsetDataset } from '../fl/data/dataset';
import { Rng } from '../fl/rng';
import { DATA_CONFIG } from './config';

export interface TrainEvalIndices {
  /** Ascending positions into the input index list's source. */
  train: Int32Array;
  eval: Int32Array;
}

export interface LocalSplit<T extends Dataset = Dataset> {
  train: T;
  eval: T;
}

/** Seed of the eval split, derived from a data seed and a client slot. */
export function evalSplitSeed(seed: number, slot = 0): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca6b) ^ DATA_CONFIG.evalSplitSalt) >>> 0;
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

/** Splits a whole dataset into its train part and its fixed eval part. */
export function splitLocalDataset<T extends Dataset>(ds: T, evalFraction: number = DATA_CONFIG.evalFraction, seed = evalSplitSeed(0)): LocalSplit<T> {
  const all = Int32Array.from({ length: ds.labels.length }, (_, i) => i);
  const parts = splitTrainEvalIndices(all, ds.labels, evalFraction, seed);
  if (parts.train.length === 0) throw new RangeError(`only ${ds.labels.length} samples: nothing left to train on after the ${evalFraction * 100}% eval split`);
  return { train: subsetDataset(ds, parts.train), eval: subsetDataset(ds, parts.eval) };
}
