import { describe, expect, it } from 'vitest';
import type { RoundView } from '../session/types';
import { accuracyColumns, decompositionColumns, decompositionCoverage, hasValues, orderedRounds } from './chart-series';

function round(n: number, patch: Partial<RoundView> = {}): RoundView {
  return {
    round: n,
    accuracy: 0.5 + n / 100,
    loss: 1 / n,
    decomposition: { local: 0.4, shift: 0.3, aggregation: -0.1, global: 0.6 },
    participants: ['a', 'b'],
    participantCount: 2,
    missing: [],
    trainMs: 10,
    aggregateMs: 1,
    evalMs: 2,
    slowestClientMs: 10,
    bytesSent: 100,
    bytesReceived: 200,
    ...patch,
  };
}

describe('decompositionColumns', () => {
  it('gives one column per term, aligned on the round numbers', () => {
    const cols = decompositionColumns([round(1), round(2, { decomposition: { local: 0.3, shift: 0.2, aggregation: 0.05, global: 0.55 } })]);
    expect(cols).toEqual([
      [1, 2],
      [0.4, 0.3],
      [0.3, 0.2],
      [-0.1, 0.05],
      [0.6, 0.55],
    ]);
  });

  it('turns rounds without a measurement into gaps (null), not zeros', () => {
    const cols = decompositionColumns([round(1), round(2, { decomposition: null }), round(3)]);
    expect(cols[0]).toEqual([1, 2, 3]);
    for (const series of cols.slice(1)) expect(series[1]).toBeNull();
    expect(cols[4]).toEqual([0.6, null, 0.6]);
  });

  it('treats non-finite values as not measured', () => {
    const cols = decompositionColumns([round(1, { decomposition: { local: NaN, shift: Infinity, aggregation: -0.1, global: 0.6 } })]);
    expect(cols.map((c) => c[0])).toEqual([1, null, null, -0.1, 0.6]);
  });

  it('sorts rounds and keeps the latest report of a repeated round', () => {
    const rs = orderedRounds([round(3), round(1), round(2), round(1, { loss: 9 })]);
    expect(rs.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(rs[0].loss).toBe(9);
  });
});

describe('accuracyColumns', () => {
  it('gives accuracy in percent and test loss, with gaps where the aggregator had no test data', () => {
    const cols = accuracyColumns([round(1, { accuracy: 0.572, loss: 1.55 }), round(2, { accuracy: null, loss: null })]);
    expect(cols[0]).toEqual([1, 2]);
    expect(cols[1][0]).toBeCloseTo(57.2, 10);
    expect(cols[1][1]).toBeNull();
    expect(cols[2]).toEqual([1.55, null]);
  });
});

describe('hasValues and coverage', () => {
  it('knows when there is nothing to draw', () => {
    expect(hasValues(decompositionColumns([]))).toBe(false);
    expect(hasValues(decompositionColumns([round(1, { decomposition: null })]))).toBe(false);
    expect(hasValues(accuracyColumns([round(1, { accuracy: null, loss: null })]))).toBe(false);
    expect(hasValues(accuracyColumns([round(1, { accuracy: null })]))).toBe(true);
  });

  it('counts measured rounds', () => {
    expect(decompositionCoverage([round(1), round(2, { decomposition: null }), round(3)])).toEqual({ measured: 2, total: 3 });
  });
});
