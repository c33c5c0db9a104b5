import { describe, expect, it } from 'vitest';
import { throttle } from './progress';
import { WORKER_CONFIG } from './config';

describe('throttle', () => {
  it('lets at most maxPerSecond events through in any second, the first one at once', () => {
    let now = 0;
    const out: number[] = [];
    const emit = throttle((t: number) => out.push(t), WORKER_CONFIG.progressMaxPerSecond, () => now);
    // One event per millisecond for 3 seconds (a fast backend's batches).
    for (now = 0; now < 3000; now++) emit(now);
    expect(out[0]).toBe(0);
    for (let i = 0; i < out.length; i++) {
      const inWindow = out.filter((t) => t >= out[i] && t < out[i] + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(WORKER_CONFIG.progressMaxPerSecond);
    }
    expect(out.length).toBe(60);
  });

  it('passes every event when they are slower than the limit', () => {
    let now = 0;
    const out: number[] = [];
    const emit = throttle((t: number) => out.push(t), 20, () => now);
    for (now = 0; now < 1000; now += 100) emit(now);
    expect(out).toHaveLength(10);
  });
});
