import { describe, expect, it } from 'vitest';
import { grid, mean, parseNumberList, pickBest, spread, tailAccuracy, tailDecomposition } from './bench-stats';
import type { SimRound } from './simulation';

const round = (accuracy: number, local: number): SimRound => ({
  round: 0, accuracy, loss: 1, participants: 1, screening: [], bytes: 0, trainMs: 0, aggregateMs: 0, evalMs: 0, strategy: 'FedAvg', perClassAccuracy: [], predictedShare: 0, collapse: null,
  decomposition: { local, shift: 0.1, aggregation: -0.05, global: local + 0.05 },
});

describe('bench statistics', () => {
  it('mean and sample standard deviation', () => {
    expect(mean([1, 2, 3])).toBe(2);
    expect(spread([1, 2, 3])).toBeCloseTo(1, 12);
    expect(spread([5])).toBe(0);
    expect(mean([])).toBeNaN();
  });

  it('tail summaries use only the last n rounds', () => {
    const rounds = [round(0.1, 3), round(0.5, 2), round(0.7, 1)];
    expect(tailAccuracy(rounds, 2)).toBeCloseTo(0.6, 12);
    const d = tailDecomposition(rounds, 2);
    expect(d.local).toBe(1.5);
    expect(d.global).toBeCloseTo(1.55, 12);
    expect(d.shift).toBeCloseTo(0.1, 12);
  });

  it('grid enumerates every combination, first axis slowest', () => {
    expect(grid({ clientLr: [0.1, 0.2], serverLr: [1, 2] })).toEqual([
      { clientLr: 0.1, serverLr: 1 }, { clientLr: 0.1, serverLr: 2 }, { clientLr: 0.2, serverLr: 1 }, { clientLr: 0.2, serverLr: 2 },
    ]);
    expect(() => grid({ a: [] })).toThrow(/empty/);
  });

  it('pickBest takes the highest score, the first on ties', () => {
    expect(pickBest([1, 3, 3, 2], (x) => x)).toEqual({ best: 3, score: 3 });
    expect(pickBest(['a', 'b'], () => 0).best).toBe('a');
    expect(pickBest([1, 2], (x) => (x === 2 ? -Infinity : 0.5)).best).toBe(1);
  });

  it('parses number lists and refuses bad ones', () => {
    expect(parseNumberList('0.01, 0.05,0.1', 'x')).toEqual([0.01, 0.05, 0.1]);
    expect(() => parseNumberList('0.1,abc', '--client-lrs')).toThrow(/--client-lrs/);
    expect(() => parseNumberList('', 'x')).toThrow();
  });
});
