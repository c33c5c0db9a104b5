import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import type { LocalTrainer } from '../local-trainer';
import type { PrivateParty } from '../private-party';

/** The real setTimeout, taken before any test fakes timers. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Runs fake time in 10 ms steps until `done` holds (at most maxMs of fake time). Between steps it also lets 1 ms of
 * real time pass: the join handshake's HMACs (WebCrypto) complete on real threads, and without that pause a loaded
 * machine could run the fake clock past the handshake's 10 s deadline before they finish.
 *
 * With `busy` (see RealWork), the fake clock stands still while it holds: real computation (TensorFlow.js training
 * beside the session's timers) then takes no fake time, however slow or loaded the machine, and no timer's outcome
 * depends on its speed. Only the test's timeout bounds such work, should it hang.
 */
export async function untilFake(done: () => boolean, maxMs = 30_000, busy?: () => boolean): Promise<void> {
  for (let t = 0; t < maxMs && !done(); ) {
    if (busy?.()) {
      await new Promise((resolve) => realSetTimeout(resolve, 1));
      continue;
    }
    await vi.advanceTimersByTimeAsync(10);
    t += 10;
    if (!done()) await new Promise((resolve) => realSetTimeout(resolve, 1));
  }
  expect(done()).toBe(true);
}

/** Runs fake time (as untilFake) until `p` settles, then gives its outcome. */
export async function settleFake<T>(p: Promise<T>, maxMs = 30_000, busy?: () => boolean): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  // Its rejection is the caller's, once this returns: not an unhandled one while the clock runs meanwhile.
  watched.catch(() => undefined);
  await untilFake(() => done, maxMs, busy);
  return watched;
}

/**
 * Real work in flight (training, evaluation), for untilFake's `busy`. Fake only the timers (not setImmediate, which
 * TensorFlow.js training yields with): vi.useFakeTimers({ toFake: REAL_WORK_FAKES }).
 */
export class RealWork {
  private inFlight = 0;

  readonly busy = (): boolean => this.inFlight > 0;

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }

  /** `trainer`, its training and evaluation counted as real work. */
  trainer(trainer: LocalTrainer): LocalTrainer {
    return {
      train: (req, hooks) => this.run(() => trainer.train(req, hooks)),
      evaluate: (spec, ws) => this.run(() => trainer.evaluate(spec, ws)),
      info: () => trainer.info(),
    };
  }

  /** `party`, its steps counted as real work (WebCrypto runs outside fake time). */
  party(party: PrivateParty): PrivateParty {
    return {
      contribute: (u, s) => this.run(() => party.contribute(u, s)),
      advertise: (a, l) => this.run(() => party.advertise(a, l)),
      share: (s) => this.run(() => party.share(s)),
      receive: (a, s) => this.run(() => party.receive(a, s)),
      mask: (a, u, s) => this.run(() => party.mask(a, u, s)),
      reveal: (r) => this.run(() => party.reveal(r)),
    };
  }
}

/** What tests with real work fake: the timers and the clock, not setImmediate (see RealWork). */
export const REAL_WORK_FAKES: NonNullable<Parameters<typeof vi.useFakeTimers>[0]>['toFake'] = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'];

/**
 * The hooks of a test file whose tabs train with TensorFlow.js on simulated time: the CPU backend, and before each
 * test the fake clock of REAL_WORK_FAKES (which stands still while a tab trains, with RealWork).
 */
export function useSimulatedTimeWithTraining(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: REAL_WORK_FAKES });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
