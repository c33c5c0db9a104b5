import { describe, expect, it } from 'vitest';
import { steadyThroughput } from './throughput';

describe('steadyThroughput', () => {
  it('times only the batches after the warm-up', () => {
    // Batch 1 took 2 s (shader warm-up), then 10 batches of 32 per 100 ms.
    const samples = [{ batches: 1, t: 2000 }, ...Array.from({ length: 10 }, (_, i) => ({ batches: 2 + i, t: 2100 + i * 100 }))];
    const r = steadyThroughput(samples, 32, 2, 0)!;
    expect(r.samplesPerSecond).toBeCloseTo(320, 6);
    expect(r.warmupMs).toBe(2100);
    expect(r.timedBatches).toBe(9);
  });

  it('is null until two samples lie past the warm-up', () => {
    expect(steadyThroughput([{ batches: 1, t: 5 }, { batches: 3, t: 9 }], 32, 3, 0)).toBeNull();
  });
});
