/**
 * Steady-state training throughput from progress samples: batches completed between the end of a warm-up
 * and the last sample, over the time between them. Used by the browser benchmark for the worker and for
 * Node alike, so both sides are measured the same way on the same training loop.
 */

export interface ProgressSample {
  /** Batches completed since the round started (across epochs). */
  batches: number;
  /** Milliseconds, any fixed origin. */
  t: number;
}

export interface SteadyThroughput {
  samplesPerSecond: number;
  /** Time until the first batch after the warm-up completed. */
  warmupMs: number;
  timedBatches: number;
  timedMs: number;
}

/** Null until at least two samples lie past the warm-up. `startT` is when the round started. */
export function steadyThroughput(samples: ProgressSample[], batchSize: number, warmupBatches: number, startT: number): SteadyThroughput | null {
  const after = samples.filter((s) => s.batches >= warmupBatches);
  if (after.length < 2) return null;
  const first = after[0];
  const last = after[after.length - 1];
  const timedBatches = last.batches - first.batches;
  const timedMs = last.t - first.t;
  if (timedBatches <= 0 || timedMs <= 0) return null;
  return { samplesPerSecond: (timedBatches * batchSize * 1000) / timedMs, warmupMs: first.t - startT, timedBatches, timedMs };
}
