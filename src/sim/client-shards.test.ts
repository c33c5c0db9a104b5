import { describe, expect, it } from 'vitest';
import type { TabularDataset } from '../fl/data/dataset';
import { partitionIndices } from '../fl/data/partition';
import { splitTrainEval } from '../fl/data/split';
import { subsetDataset } from '../fl/data/dataset';
import { buildClientShards, materializeShard, shardSeed } from './client-shards';

function dataset(n: number, numClasses: number): TabularDataset {
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7919) % numClasses);
  return { kind: 'tabular', rows: Float32Array.from({ length: n }, (_, i) => i), features: 1, labels, numClasses };
}

describe('client shards: index lists into one shared dataset', () => {
  const data = dataset(900, 5);
  const partition = partitionIndices(data.labels, 5, 7, { kind: 'dirichlet', alpha: 0.5 }, 3);
  const opts = { evalFraction: 0.2, evalMax: 15, seed: 3 };
  const shards = buildClientShards(data, partition, opts);

  it('hold the same samples as splitting a copy of each client data (the first simulator)', () => {
    partition.clients.forEach((indices, k) => {
      const old = splitTrainEval(subsetDataset(data, indices), opts.evalFraction, shardSeed(opts.seed, k), opts.evalMax);
      const now = materializeShard(data, shards[k]);
      expect(Array.from(now.train.rows)).toEqual(Array.from(old.train.rows));
      expect(Array.from(now.eval.rows)).toEqual(Array.from(old.eval.rows));
      expect(shards[k].labelHistogram.reduce((a, b) => a + b, 0)).toBe(old.train.labels.length);
    });
  });

  it('cover every sample exactly once and cap E_k', () => {
    const seen = new Set<number>();
    for (const s of shards) {
      expect(s.eval.length).toBeLessThanOrEqual(15);
      for (const i of [...s.train, ...s.eval]) {
        expect(seen.has(i)).toBe(false);
        seen.add(i);
      }
    }
    expect(seen.size).toBe(900);
  });
});
