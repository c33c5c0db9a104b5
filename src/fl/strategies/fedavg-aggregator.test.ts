import { describe, expect, it } from 'vitest';
import { FedAvgAggregator } from './fedavg-aggregator';
import type { WeightSet } from '../weights';

const w = (values: number[]): WeightSet => [{ name: 'fc/kernel', shape: [values.length], values: Float32Array.from(values) }];

describe('FedAvg aggregation', () => {
  it('weights each update by its sample count', () => {
    const global = w([1, 1]);
    const next = new FedAvgAggregator().aggregate(global, [
      { clientId: 'a', delta: w([1, 0]), numSamples: 300 },
      { clientId: 'b', delta: w([-1, 4]), numSamples: 100 },
    ]);
    // 0.75 * [1, 0] + 0.25 * [-1, 4] = [0.5, 1]
    expect(Array.from(next[0].values)).toEqual([1.5, 2]);
  });

  it('differs from the unweighted mean when sample counts differ', () => {
    const updates = [
      { clientId: 'a', delta: w([2]), numSamples: 900 },
      { clientId: 'b', delta: w([0]), numSamples: 100 },
    ];
    const next = new FedAvgAggregator().aggregate(w([0]), updates);
    expect(next[0].values[0]).toBeCloseTo(1.8, 6);
    expect(next[0].values[0]).not.toBeCloseTo(1, 3);
  });

  // Layout and finiteness of the updates are the round engine's (see engine-trust.test.ts).
  it('rejects empty rounds and sample counts that are not positive', () => {
    const agg = new FedAvgAggregator();
    expect(() => agg.aggregate(w([0]), [])).toThrow(/no client updates/);
    expect(() => agg.aggregate(w([0]), [{ clientId: 'x', delta: w([1]), numSamples: 0 }])).toThrow(/samples/);
  });
});
