import { EventQueue } from './event-queue';

/**
 * What time it is, for the round loop's logic (deadlines, when an assignment was sent, when an update arrived):
 * the wall clock in a tab, a simulated clock in the simulator. Durations reported for information (how long an
 * aggregation took on this machine) are measured with performance.now() instead.
 */
export interface Clock {
  /** Milliseconds on this clock. */
  now(): number;
  /** Calls `fn` once, `ms` from now on this clock (never for an infinite `ms`); returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** Date.now and setTimeout, looked up at each call (so fake timers in tests apply). */
export const wallClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    if (!Number.isFinite(ms)) return () => {};
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * A clock that moves only when told: its timers wait in a queue ordered by time (ties in the order they were set),
 * and fireNext() advances to the earliest one and runs it. Deterministic by construction.
 */
export class SimulatedClock implements Clock {
  private readonly queue = new EventQueue<{ fn: () => void; cancelled: boolean }>();
  private time = 0;

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    if (!Number.isFinite(ms)) return () => {};
    const timer = { fn, cancelled: false };
    this.queue.push(this.time + Math.max(0, ms), timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Time of the earliest timer still set, or undefined. */
  nextTime(): number | undefined {
    this.dropCancelled();
    return this.queue.peekTime();
  }

  /** Advances to the earliest timer at or before `until` and runs it; false (time unchanged) when there is none. */
  fireNext(until = Infinity): boolean {
    this.dropCancelled();
    const at = this.queue.peekTime();
    if (at === undefined || at > until) return false;
    const { time, item } = this.queue.pop()!;
    this.time = time;
    item.fn();
    return true;
  }

  private dropCancelled(): void {
    while (this.queue.peek()?.item.cancelled) this.queue.pop();
  }
}
