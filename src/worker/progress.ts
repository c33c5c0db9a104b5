/** Rate limit for progress events crossing to the main thread. */

/**
 * Wraps `emit` so it fires at most `maxPerSecond` times per second: the first call passes, later ones only
 * once 1000 / maxPerSecond ms have gone by since the last one that passed. `now` is injectable for tests.
 */
export function throttle<T>(emit: (value: T) => void, maxPerSecond: number, now: () => number = () => performance.now()): (value: T) => void {
  if (!(maxPerSecond > 0)) throw new RangeError(`maxPerSecond must be positive, got ${maxPerSecond}`);
  const gapMs = 1000 / maxPerSecond;
  let last = -Infinity;
  return (value: T) => {
    const t = now();
    if (t - last < gapMs) return;
    last = t;
    emit(value);
  };
}
