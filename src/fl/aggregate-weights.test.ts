import { describe, expect, it } from 'vitest';
import { aggregateRound, type AggregationJob } from './aggregate-round';
import { robustSettings } from './robust';
import type { WeightSet } from './weights';

const ws = (x: number): WeightSet => [{ name: 'fc1/kernel', shape: [2, 2], values: Float32Array.from([x, x, x, x]) }];

/** Four clients with the same update; `b` carries a server weight of 5 (a slow device under duration weighting). */
const job = (weights?: Record<string, number>): AggregationJob => ({
  strategy: { name: 'fedavg' },
  round: 1,
  population: 4,
  global: ws(0),
  state: null,
  updates: ['a', 'b', 'c', 'd'].map((clientId) => ({ clientId, delta: ws(1), numSamples: 10 })),
  declaredSamples: { a: 10, b: 10, c: 10, d: 10 },
  robust: robustSettings('clip'),
  valuesScanned: true,
  ...(weights ? { weights } : {}),
});

describe("the server's own weights (staleness, participation) apply after screening", () => {
  it('an update the server weighs 5x is not clipped as an outlier: it goes in with its whole weight', () => {
    const outcome = aggregateRound(job({ a: 1, b: 5, c: 1, d: 1 }));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.clipped).toEqual([]);
    expect(outcome.dropped).toEqual([]);
    // FedAvg over equal sample counts: (1 + 5 + 1 + 1) / 4.
    expect(Array.from(outcome.global[0].values)).toEqual([2, 2, 2, 2]);
    // What went in is reported as sent (the decomposition builds local models from it).
    expect(outcome.accepted.every((a) => a.delta === undefined)).toBe(true);
  });

  it('without weights the same updates give their plain mean', () => {
    const outcome = aggregateRound(job());
    expect(outcome.ok && Array.from(outcome.global[0].values)).toEqual([1, 1, 1, 1]);
  });
});
