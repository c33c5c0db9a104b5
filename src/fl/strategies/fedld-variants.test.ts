import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import type { WeightSet } from '../weights';
import { FedLdAggregator } from './fedld-aggregator';
import { plainMeanUpdate } from './principal-gradient';
import type { ClientUpdate } from './types';

const d = 40;
function updates(counts: number[], seed: number): ClientUpdate[] {
  const rng = new Rng(seed);
  return counts.map((n, k) => ({
    clientId: `c${k}`,
    numSamples: n,
    delta: [{ name: 'w', shape: [d], values: Float32Array.from({ length: d }, () => rng.next() - 0.5 + (k === 0 ? 0.3 : 0)) }],
  }));
}
const zeros = (): WeightSet => [{ name: 'w', shape: [d], values: new Float32Array(d) }];
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** Two rounds, so the second takes the principal-gradient path (the first is the plain mean by spec). */
function secondRound(agg: FedLdAggregator, counts: number[]): Float32Array {
  const global = agg.aggregate(zeros(), updates(counts, 1));
  const next = agg.aggregate(global, updates(counts, 2));
  return Float32Array.from(next[0].values, (v, i) => v - global[0].values[i]);
}

describe('FedLD variants', () => {
  it('the default is the paper: uniform weighting, specified step', () => {
    const agg = new FedLdAggregator({ rho: 0.8 });
    expect([agg.weighting, agg.step]).toEqual(['uniform', 'spec']);
  });

  it('sample-count weighting equals uniform for equal counts and differs for imbalanced ones', () => {
    const equalU = secondRound(new FedLdAggregator({ rho: 0.8 }), [50, 50, 50, 50]);
    const equalS = secondRound(new FedLdAggregator({ rho: 0.8, weighting: 'samples' }), [50, 50, 50, 50]);
    equalS.forEach((v, i) => expect(v).toBeCloseTo(equalU[i], 6));
    const skewU = secondRound(new FedLdAggregator({ rho: 0.8 }), [1000, 10, 10, 10]);
    const skewS = secondRound(new FedLdAggregator({ rho: 0.8, weighting: 'samples' }), [1000, 10, 10, 10]);
    expect(Math.max(...skewS.map((v, i) => Math.abs(v - skewU[i])))).toBeGreaterThan(1e-3);
  });

  it('the first round with sample weighting is the sample-weighted mean', () => {
    const ups = updates([30, 10], 5);
    const out = new FedLdAggregator({ rho: 0.8, weighting: 'samples' }).aggregate(zeros(), ups);
    out[0].values.forEach((v, i) => expect(v).toBeCloseTo(0.75 * ups[0].delta[0].values[i] + 0.25 * ups[1].delta[0].values[i], 6));
  });

  it("the 'norm' step has the norm of the weighted mean update, in the principal direction", () => {
    const spec = secondRound(new FedLdAggregator({ rho: 0.8 }), [50, 50, 50, 50]);
    const scaled = secondRound(new FedLdAggregator({ rho: 0.8, step: 'norm' }), [50, 50, 50, 50]);
    const mean = plainMeanUpdate(updates([50, 50, 50, 50], 2).map((u) => u.delta[0].values));
    expect(norm(scaled)).toBeCloseTo(norm(mean), 5);
    const cos = scaled.reduce((s, v, i) => s + v * spec[i], 0) / (norm(scaled) * norm(spec));
    expect(cos).toBeCloseTo(1, 6);
    expect(norm(spec)).not.toBeCloseTo(norm(mean), 3);
  });
});
