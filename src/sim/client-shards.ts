/**
 * The simulator's clients as index lists into ONE shared dataset: per client, the positions of its local training
 * samples and of its held-out evaluation subset E_k. Memory is O(total samples) for the whole population, whatever
 * the number of clients; a client's samples are copied out only while it works (materializeShard).
 */
import type { Dataset } from '../fl/data/dataset';
import { labelHistogram, subsetDataset } from '../fl/data/dataset';
import type { Partition } from '../fl/data/partition';
import { splitTrainEvalIndicesCapped } from '../fl/data/split';
import { poisonTrainingData, type Attack } from './attacks';

export interface ClientShard {
  /** 0-based client index. */
  index: number;
  /** Ascending positions in the shared dataset of the client's training samples. */
  train: Int32Array;
  /** Ascending positions of its evaluation subset E_k (never trained on). */
  eval: Int32Array;
  /** Label counts of the training samples (what the client announces in its hello). */
  labelHistogram: number[];
  /** An attacker's attacks: the data-poisoning ones (label-flip) change its training samples as they are copied out. */
  poison?: readonly Attack[];
}

export interface ShardOptions {
  /** Share of each client's samples held out as E_k. */
  evalFraction: number;
  /** At most this many samples per E_k. */
  evalMax: number;
  /** The simulation seed; client k splits with seed * 31 + k, as the simulator always did. */
  seed: number;
}

/** Client seed of the train/eval split (kept from the first simulator, so old runs reproduce). */
export function shardSeed(seed: number, clientIndex: number): number {
  return seed * 31 + clientIndex;
}

export function buildClientShards(data: Dataset, partition: Partition, opts: ShardOptions): ClientShard[] {
  return partition.clients.map((indices, k) => {
    const split = splitTrainEvalIndicesCapped(indices, data.labels, opts.evalFraction, shardSeed(opts.seed, k), opts.evalMax);
    return { index: k, train: split.train, eval: split.eval, labelHistogram: labelHistogram(subsetLabels(data.labels, split.train), data.numClasses) };
  });
}

function subsetLabels(labels: Int32Array, idx: Int32Array): Int32Array {
  const out = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = labels[idx[i]];
  return out;
}

/**
 * The shard cut down to the training samples of its most frequent class (the lowest such class on a tie), with the
 * histogram it then declares; its held-out subset stays (it is only scored on). An empty shard is returned as is.
 */
export function keepMostFrequentClass(shard: ClientShard, labels: Int32Array): ClientShard {
  const counts = shard.labelHistogram;
  const top = counts.reduce((best, n, c) => (n > counts[best] ? c : best), 0);
  if (!(counts[top] > 0)) return shard;
  const train = shard.train.filter((i) => labels[i] === top);
  return { ...shard, train, labelHistogram: counts.map((n, c) => (c === top ? train.length : 0)) };
}

export interface MaterializedShard<T extends Dataset = Dataset> {
  train: T;
  eval: T;
}

/** Copies a client's samples out of the shared dataset (for the duration of one job), poisoned if it attacks. */
export function materializeShard<T extends Dataset>(data: T, shard: Pick<ClientShard, 'train' | 'eval' | 'poison'>): MaterializedShard<T> {
  return { train: poisonTrainingData(subsetDataset(data, shard.train), shard.poison), eval: subsetDataset(data, shard.eval) };
}
