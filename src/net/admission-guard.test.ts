import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, RejectionCounter } from './admission-guard';

describe('admission guard', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('RateLimiter allows a burst of perSecond, then refills at that rate', () => {
    const limiter = new RateLimiter(4);
    expect([1, 2, 3, 4, 5].map(() => limiter.tryTake())).toEqual([true, true, true, true, false]);
    vi.advanceTimersByTime(500);
    expect([1, 2, 3].map(() => limiter.tryTake())).toEqual([true, true, false]);
    vi.advanceTimersByTime(60_000);
    expect([1, 2, 3, 4, 5].map(() => limiter.tryTake())).toEqual([true, true, true, true, false]);
  });

  it('RejectionCounter counts every rejection but reports each reason at most once per interval, summing up', () => {
    const counter = new RejectionCounter(10_000);
    expect(counter.note('oversized', 'a sent 5000 bytes')).toBe('closed 1 connection (oversized, 1 in all); latest: a sent 5000 bytes');
    expect(counter.note('rate-limit', 'b refused')).toMatch(/^closed 1 connection \(rate-limit/);
    for (let i = 0; i < 999; i++) expect(counter.note('oversized', `x${i}`)).toBeNull();
    vi.advanceTimersByTime(10_000);
    expect(counter.note('oversized', 'last')).toBe('closed 1000 connections (oversized since 10000 ms ago, 1001 in all); latest: last');
    expect(counter.snapshot()).toMatchObject({ oversized: 1001, 'rate-limit': 1, fragmented: 0 });
  });
});
