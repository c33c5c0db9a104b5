/**
 * The fixed held-out evaluation split E_k of a client's local data. Deterministic (seeded) and
 * stratified by class, so E_k is the same every round and mirrors the local label mix.
 */
import type { Dataset } from '../fl/data/dataset';
import { subsetDataset } from '../fl/data/dataset';
import { splitTrainEvalIndices, type LocalSplit } from '../fl/data/split';
import { DATA_CONFIG } from './config';

export type { LocalSplit, TrainEvalIndices } from '../fl/data/split';
export { splitTrainEvalIndices } from '../fl/data/split';

/** Seed of the eval split, derived from a data seed and a client slot. */
export function evalSplitSeed(seed: number, slot = 0): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(slot + 1, 0x85ebca6b) ^ DATA_CONFIG.evalSplitSalt) >>> 0;
}

/** Splits a whole dataset into its train part and its fixed eval part. */
export function splitLocalDataset<T extends Dataset>(ds: T, evalFraction: number = DATA_CONFIG.evalFraction, seed = evalSplitSeed(0)): LocalSplit<T> {
  const all = Int32Array.from({ length: ds.labels.length }, (_, i) => i);
  const parts = splitTrainEvalIndices(all, ds.labels, evalFraction, seed);
  if (parts.train.length === 0) throw new RangeError(`only ${ds.labels.length} samples: nothing left to train on after the ${evalFraction * 100}% eval split`);
  return { train: subsetDataset(ds, parts.train), eval: subsetDataset(ds, parts.eval) };
}
