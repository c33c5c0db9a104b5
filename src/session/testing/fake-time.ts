import { expect, vi } from 'vitest';

/** The real setTimeout, taken before any test fakes timers. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Runs fake time in 10 ms steps until `done` holds (at most maxMs of fake time). Between steps it also lets 1 ms of
 * real time pass: the join handshake's HMACs (WebCrypto) complete on real threads, and without that pause a loaded
 * machine could run the fake clock past the handshake's 10 s deadline before they finish.
 */
export async function untilFake(done: () => boolean, maxMs = 30_000): Promise<void> {
  for (let t = 0; t < maxMs && !done(); t += 10) {
    await vi.advanceTimersByTimeAsync(10);
    if (!done()) await new Promise((resolve) => realSetTimeout(resolve, 1));
  }
  expect(done()).toBe(true);
}

/** Runs fake time (as untilFake) until `p` settles, then gives its outcome. */
export async function settleFake<T>(p: Promise<T>, maxMs = 30_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  await untilFake(() => done, maxMs);
  return watched;
}
