import { describe, expect, it } from 'vitest';
import { loadMnistNode } from '../fl/data/node-loaders';
import { DATA_CONFIG } from './config';
import type { DemoShardSpec } from './demo';
import { demoShard } from './demo';
import { parseDemoManifest } from './demo-format';

const pool = loadMnistNode('train', 2000);
const specs: DemoShardSpec[] = [
  { partition: { kind: 'iid' }, seed: 1, numClients: 5, slot: 0 },
  { partition: { kind: 'dirichlet', alpha: 0.3 }, seed: 7, numClients: 6, slot: 0 },
  { partition: { kind: 'shards', shardsPerClient: 2 }, seed: 2, numClients: 4, slot: 0 },
];

describe('demoShard', () => {
  it('is deterministic: the same spec gives the same samples', () => {
    const a = demoShard(pool, specs[1]);
    const b = demoShard(pool, specs[1]);
    expect(a.trainIndices).toEqual(b.trainIndices);
    expect(a.evalIndices).toEqual(b.evalIndices);
    expect(a.train.images).toEqual(b.train.images);
  });

  it.each(specs)('gives disjoint shards whose union is the whole pool ($partition.kind)', (spec) => {
    const seen = new Uint8Array(pool.labels.length);
    for (let slot = 0; slot < spec.numClients; slot++) {
      const s = demoShard(pool, { ...spec, slot });
      for (const i of [...s.trainIndices, ...s.evalIndices]) seen[i]++;
      // The shard's datasets hold exactly the pool samples it names.
      const per = 28 * 28;
      const k = s.trainIndices[0];
      expect(s.train.images.subarray(0, per)).toEqual(pool.images.subarray(k * per, (k + 1) * per));
      expect(Array.from(s.train.labels)).toEqual(Array.from(s.trainIndices, (i) => pool.labels[i]));
    }
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it('holds out a fixed, stratified ~20% eval split that never overlaps train', () => {
    const s = demoShard(pool, specs[0]);
    const shardSize = s.trainIndices.length + s.evalIndices.length;
    expect(s.evalIndices.length / shardSize).toBeCloseTo(DATA_CONFIG.evalFraction, 1);
    const train = new Set(s.trainIndices);
    expect([...s.evalIndices].some((i) => train.has(i))).toBe(false);
    // Stratified: every class of the shard with >= 3 samples appears in eval.
    const evalClasses = new Set(Array.from(s.eval.labels));
    s.histogram.forEach((count, c) => {
      if (count >= 3) expect(evalClasses.has(c)).toBe(true);
    });
    // Fixed: computing the shard again (next round, after a reload) gives the same eval split.
    expect(demoShard(pool, specs[0]).evalIndices).toEqual(s.evalIndices);
  });

  it('shows real label skew under a small Dirichlet alpha', () => {
    const hist = demoShard(pool, { ...specs[1], slot: 3 }).histogram;
    const total = hist.reduce((a, b) => a + b, 0);
    expect(Math.max(...hist) / total).toBeGreaterThan(0.3);
  });

  it('rejects a slot outside 0..numClients-1 with a clear error', () => {
    expect(() => demoShard(pool, { ...specs[0], slot: 5 })).toThrow(/invalid demo shard spec.*slot < numClients/);
  });
});

describe('prepared demo files', () => {
  it('reject a manifest of another format with a hint to rerun npm run data', () => {
    expect(() => parseDemoManifest('{"format":"other"}', 'm.json')).toThrow(/m\.json: not a fedtab demo manifest \(format is "other".*npm run data/);
    expect(() => parseDemoManifest('<!doctype html>', 'm.json')).toThrow(/m\.json: not valid JSON/);
  });
});
