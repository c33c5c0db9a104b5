import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressReporter, trainingFraction } from './progress-report';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('trainingFraction', () => {
  it('counts the batches done over all local epochs, capped at 1', () => {
    expect(trainingFraction({ epoch: 0, batch: 5, batchesPerEpoch: 10 }, 2)).toBeCloseTo(0.25);
    expect(trainingFraction({ epoch: 1, batch: 10, batchesPerEpoch: 10 }, 2)).toBe(1);
    expect(trainingFraction({ epoch: 3, batch: 12, batchesPerEpoch: 10 }, 2)).toBe(1);
    expect(trainingFraction({ epoch: 0, batch: 1, batchesPerEpoch: 0 }, null)).toBe(1);
  });
});

describe('ProgressReporter', () => {
  it('sends the first report at once, then at most one per interval carrying the newest fraction', async () => {
    const sent: number[] = [];
    const r = new ProgressReporter((f) => sent.push(f), 1000);
    r.report(0.05);
    expect(sent).toEqual([0.05]);
    r.report(0.1);
    r.report(0.2);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toEqual([0.05]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([0.05, 0.2]);
    // A quiet interval: the next report goes out at once.
    await vi.advanceTimersByTimeAsync(5000);
    r.report(0.5);
    expect(sent).toEqual([0.05, 0.2, 0.5]);
  });

  it('sends whole percents, and an unchanged percentage not again', async () => {
    const sent: number[] = [];
    const r = new ProgressReporter((f) => sent.push(f), 100);
    r.report(0.291);
    await vi.advanceTimersByTimeAsync(100);
    r.report(0.2999);
    r.report(0.29);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([0.29]);
  });

  it('clamps to [0, 1] and ignores what is not a number', () => {
    const sent: number[] = [];
    const r = new ProgressReporter((f) => sent.push(f), 100);
    r.report(NaN);
    r.report(Infinity);
    expect(sent).toEqual([]);
    r.report(1.7);
    expect(sent).toEqual([1]);
  });

  it('stop() drops the pending report and ends reporting', async () => {
    const sent: number[] = [];
    const r = new ProgressReporter((f) => sent.push(f), 100);
    r.report(0.1);
    r.report(0.9);
    r.stop();
    await vi.advanceTimersByTimeAsync(1000);
    r.report(0.95);
    expect(sent).toEqual([0.1]);
  });
});
