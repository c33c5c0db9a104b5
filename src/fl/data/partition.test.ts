import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { describePartition, isPartitionSpec, partitionIndices, type Partition, type PartitionSpec } from './partition';

const NUM_CLASSES = 10;
const PER_CLASS = 600;
const N = NUM_CLASSES * PER_CLASS;
/** 6000 balanced labels in a shuffled order, so no partitioner can rely on label order. */
const LABELS = new Rng(123).shuffle(Int32Array.from({ length: N }, (_, i) => i % NUM_CLASSES));

function expectExactCover(p: Partition, labels: ArrayLike<number>, numClasses: number): void {
  const seen = new Uint8Array(labels.length);
  let total = 0;
  p.clients.forEach((idx, k) => {
    total += idx.length;
    const hist = new Array<number>(numClasses).fill(0);
    for (const i of idx) {
      expect(seen[i]).toBe(0);
      seen[i] = 1;
      hist[labels[i]]++;
    }
    expect(p.histograms[k]).toEqual(hist);
  });
  expect(total).toBe(labels.length);
  expect(seen.every((s) => s === 1)).toBe(true);
}

const SPECS: PartitionSpec[] = [
  { kind: 'iid' },
  { kind: 'dirichlet', alpha: 0.1 },
  { kind: 'dirichlet', alpha: 100 },
  { kind: 'shards' },
  { kind: 'shards', shardsPerClient: 3 },
];

describe('partitionIndices', () => {
  it.each(SPECS)('assigns every index exactly once and reports true histograms (%o)', (spec) => {
    const p = partitionIndices(LABELS, NUM_CLASSES, 10, spec, 7);
    expect(p.clients).toHaveLength(10);
    expectExactCover(p, LABELS, NUM_CLASSES);
  });

  it.each(SPECS)('is deterministic under a seed and changes with the seed (%o)', (spec) => {
    const a = partitionIndices(LABELS, NUM_CLASSES, 10, spec, 1);
    const b = partitionIndices(LABELS, NUM_CLASSES, 10, spec, 1);
    const c = partitionIndices(LABELS, NUM_CLASSES, 10, spec, 2);
    expect(a).toEqual(b);
    expect(a.clients).not.toEqual(c.clients);
  });

  it('iid: near-equal sizes and label distributions close to the global one', () => {
    const p = partitionIndices(LABELS, NUM_CLASSES, 10, { kind: 'iid' }, 3);
    const s = describePartition(p.histograms);
    expect(s.maxClientSize - s.minClientSize).toBeLessThanOrEqual(1);
    expect(s.meanLabelTv).toBeLessThan(0.08);
    expect(s.meanClassesPerClient).toBe(10);
  });

  it('dirichlet alpha 0.1 is strongly skewed, alpha 100 is near IID', () => {
    const skewed = describePartition(partitionIndices(LABELS, NUM_CLASSES, 10, { kind: 'dirichlet', alpha: 0.1 }, 5).histograms);
    const flat = describePartition(partitionIndices(LABELS, NUM_CLASSES, 10, { kind: 'dirichlet', alpha: 100 }, 5).histograms);
    expect(skewed.meanLabelTv).toBeGreaterThan(0.5);
    expect(skewed.meanClassesPerClient).toBeLessThan(8);
    expect(flat.meanLabelTv).toBeLessThan(0.08);
    expect(flat.meanClassesPerClient).toBe(10);
  });

  it('dirichlet gives every client at least minPerClient samples', () => {
    for (let seed = 0; seed < 5; seed++) {
      const p = partitionIndices(LABELS, NUM_CLASSES, 20, { kind: 'dirichlet', alpha: 0.1, minPerClient: 50 }, seed);
      expect(Math.min(...p.clients.map((c) => c.length))).toBeGreaterThanOrEqual(50);
    }
  });

  it('dirichlet caps the default minimum when the dataset is small', () => {
    const labels = Int32Array.from({ length: 30 }, (_, i) => i % 3);
    // Default minimum 10 per client would need all 30 samples in exactly 10/10/10; the cap relaxes it.
    const p = partitionIndices(labels, 3, 3, { kind: 'dirichlet', alpha: 1 }, 0);
    expectExactCover(p, labels, 3);
    expect(Math.min(...p.clients.map((c) => c.length))).toBeGreaterThanOrEqual(1);
  });

  it('dirichlet fails with a clear error when the minimum is unreachable', () => {
    const labels = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    expect(() => partitionIndices(labels, 2, 10, { kind: 'dirichlet', alpha: 0.01, minPerClient: 2 }, 0)).toThrow(
      /could not give each of 10 clients at least 2 of 20 samples in \d+ tries/,
    );
    expect(() => partitionIndices(labels, 2, 10, { kind: 'dirichlet', alpha: 1, minPerClient: 3 }, 0)).toThrow(
      /minPerClient 3 x 10 clients exceeds the 20 samples/,
    );
  });

  it('shards: label-sorted shards give each client at most shardsPerClient classes when shards align with classes', () => {
    const p = partitionIndices(LABELS, NUM_CLASSES, 10, { kind: 'shards', shardsPerClient: 2 }, 9);
    const s = describePartition(p.histograms);
    expect(s.minClientSize).toBe(N / 10);
    expect(s.maxClientSize).toBe(N / 10);
    for (const h of p.histograms) {
      expect(h.filter((c) => c > 0).length).toBeLessThanOrEqual(2);
    }
    expect(s.meanLabelTv).toBeGreaterThan(0.7);
  });

  it('shards: uneven sizes differ by at most one shard-size step', () => {
    const labels = Int32Array.from({ length: 101 }, (_, i) => i % 4);
    const p = partitionIndices(labels, 4, 5, { kind: 'shards', shardsPerClient: 2 }, 0);
    expectExactCover(p, labels, 4);
    const sizes = p.clients.map((c) => c.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(2);
  });

  it('allows exactly one sample per client', () => {
    const p = partitionIndices([0, 1, 0], 2, 3, { kind: 'iid' }, 0);
    expect(p.clients.map((c) => c.length)).toEqual([1, 1, 1]);
  });

  it('rejects bad client counts, alpha, shard counts and labels', () => {
    expect(() => partitionIndices(LABELS, 10, 0, { kind: 'iid' }, 0)).toThrow(/numClients must be a positive integer/);
    expect(() => partitionIndices(LABELS, 10, 2.5, { kind: 'iid' }, 0)).toThrow(/numClients/);
    expect(() => partitionIndices([0, 1], 2, 3, { kind: 'iid' }, 0)).toThrow(/more clients than samples/);
    expect(() => partitionIndices(LABELS, 10, 4, { kind: 'dirichlet', alpha: 0 }, 0)).toThrow(/alpha must be a positive/);
    expect(() => partitionIndices(LABELS, 10, 4, { kind: 'dirichlet', alpha: -1 }, 0)).toThrow(/alpha/);
    expect(() => partitionIndices([0, 1, 0], 2, 2, { kind: 'shards', shardsPerClient: 2 }, 0)).toThrow(
      /4 shards .* exceed the 3 samples/,
    );
    expect(() => partitionIndices([0, 1, 0], 2, 1, { kind: 'shards', shardsPerClient: 0 }, 0)).toThrow(/shardsPerClient/);
    expect(() => partitionIndices([0, 2], 2, 1, { kind: 'iid' }, 0)).toThrow(/label 2 at index 1/);
  });
});

describe('describePartition', () => {
  it('computes sizes and the mean total-variation distance to the global label distribution', () => {
    const disjoint = describePartition([
      [10, 0],
      [0, 30],
    ]);
    // Global is [0.25, 0.75]: client 0 is at TV 0.75, client 1 at 0.25.
    expect(disjoint.meanLabelTv).toBeCloseTo(0.5, 12);
    expect(disjoint.maxLabelTv).toBeCloseTo(0.75, 12);
    expect(disjoint).toMatchObject({ numClients: 2, totalSamples: 40, minClientSize: 10, maxClientSize: 30, meanClassesPerClient: 1 });
    expect(describePartition([[5, 5], [3, 3]]).meanLabelTv).toBe(0);
  });

  it('ignores empty clients in the skew statistic', () => {
    const s = describePartition([[4, 4], [0, 0]]);
    expect(s.meanLabelTv).toBe(0);
    expect(s.minClientSize).toBe(0);
  });
});

describe('isPartitionSpec', () => {
  it('accepts the three kinds and rejects anything else', () => {
    expect(isPartitionSpec({ kind: 'iid' })).toBe(true);
    expect(isPartitionSpec({ kind: 'dirichlet', alpha: 0.5 })).toBe(true);
    expect(isPartitionSpec({ kind: 'shards', shardsPerClient: 2 })).toBe(true);
    expect(isPartitionSpec({ kind: 'dirichlet' })).toBe(false);
    expect(isPartitionSpec({ kind: 'pathological' })).toBe(false);
    expect(isPartitionSpec(null)).toBe(false);
  });
});

describe('size-skewed partition', () => {
  const spec: PartitionSpec = { kind: 'sizeskew', alpha: 0.5, sigma: 1 };

  it('covers every sample once, deterministically, with unequal client sizes and skewed labels', () => {
    const p = partitionIndices(LABELS, NUM_CLASSES, 20, spec, 4);
    expectExactCover(p, LABELS, NUM_CLASSES);
    expect(partitionIndices(LABELS, NUM_CLASSES, 20, spec, 4)).toEqual(p);
    const s = describePartition(p.histograms);
    expect(s.maxClientSize / s.minClientSize).toBeGreaterThan(5);
    expect(s.minClientSize).toBeGreaterThanOrEqual(10);
    expect(s.meanLabelTv).toBeGreaterThan(0.2);
  });

  it('spreads sizes more than plain Dirichlet at the same alpha, and sigma 0 keeps them near even', () => {
    const ratio = (q: PartitionSpec) => {
      const s = describePartition(partitionIndices(LABELS, NUM_CLASSES, 20, q, 4).histograms);
      return s.maxClientSize / s.minClientSize;
    };
    expect(ratio({ kind: 'sizeskew', alpha: 100, sigma: 1.5 })).toBeGreaterThan(5 * ratio({ kind: 'dirichlet', alpha: 100 }));
    expect(ratio({ kind: 'sizeskew', alpha: 100, sigma: 0 })).toBeLessThan(1.5);
    expect(isPartitionSpec(spec)).toBe(true);
    expect(isPartitionSpec({ kind: 'sizeskew' })).toBe(false);
    expect(() => partitionIndices(LABELS, NUM_CLASSES, 20, { kind: 'sizeskew', alpha: 1, sigma: -1 }, 1)).toThrow(/sigma/);
  });
});
