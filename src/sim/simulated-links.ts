/**
 * What lets the app's round loop (RoundEngine, AsyncEngine over the Coordinator) run on simulated time: links whose
 * messages are delivered by a SimulatedClock, and a driver that advances that clock only once every piece of real
 * work (training, evaluation) has settled. Training runs for real and takes no simulated time; a message arrives
 * when the clock says so. So a run is deterministic under its seed, however fast the machine is.
 */
import type { SimulatedClock } from '../fl/coordinator/clock';
import type { LocalTrainer } from '../fl/local-trainer';
import { PROTOCOL_VERSION, type Message } from '../fl/protocol';
import type { Transport } from '../fl/transport';

/** Real asynchronous work the clock must wait for before it moves on. */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    const entry = work.finally(() => this.pending.delete(entry));
    this.pending.add(entry);
    return work;
  }

  /** Resolves once no tracked work is left and every continuation of it has run (a macrotask turn with none). */
  async settle(): Promise<void> {
    for (;;) {
      if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.size === 0) return;
    }
  }
}

/**
 * Links between the aggregator's endpoint and the simulated clients: a message is delivered after `delayMs` on the
 * clock (0 by default: at once, but after the current step of work, in the order sent). Messages are shared, not
 * copied: neither side mutates what it receives.
 */
export class SimulatedLinks {
  private readonly handlers = new Map<string, Set<(from: string, message: Message) => void>>();

  constructor(private readonly clock: SimulatedClock) {}

  endpoint(id: string): Transport {
    const handlers = new Set<(from: string, message: Message) => void>();
    this.handlers.set(id, handlers);
    return {
      selfId: id,
      send: (to, message) => this.deliver(id, to, message, 0),
      onMessage: (handler) => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      onPeerLeft: () => () => {},
    };
  }

  /** Delivers `message` from `from` to `to` after `delayMs` simulated milliseconds. */
  deliver(from: string, to: string, message: Message, delayMs: number): void {
    this.clock.after(delayMs, () => this.handlers.get(to)?.forEach((h) => h(from, message)));
  }
}

export type DriveOutcome<T> = { done: true; value: T } | { done: false; reason: 'no-events' | 'past-budget' };

/**
 * Runs `work` to completion on simulated time: settles real work, then fires the clock's next timer, until `work`
 * settles. Stops (without waiting forever) when no timer is left, or the next one lies past `budgetMs`.
 */
export async function drive<T>(work: Promise<T>, clock: SimulatedClock, pending: PendingWork, budgetMs = Infinity): Promise<DriveOutcome<T>> {
  let outcome: { value: T } | null = null;
  let failure: { error: unknown } | null = null;
  work.then(
    (value) => (outcome = { value }),
    (error: unknown) => (failure = { error }),
  );
  for (;;) {
    await pending.settle();
    if (failure) throw (failure as { error: unknown }).error;
    if (outcome) return { done: true, value: (outcome as { value: T }).value };
    const next = clock.nextTime();
    if (next === undefined) return { done: false, reason: 'no-events' };
    if (next > budgetMs) return { done: false, reason: 'past-budget' };
    clock.fireNext(budgetMs);
  }
}

/** Fires every timer due at the clock's current time (e.g. messages sent "now"), settling real work between them. */
export async function runDue(clock: SimulatedClock, pending: PendingWork): Promise<void> {
  await pending.settle();
  while (clock.fireNext(clock.now())) await pending.settle();
}

/**
 * A simulated client `id` on the links: answers each round-start with its trainer's update, `delayMs` later on the
 * clock (its device's time for the work). `skip` leaves work out that could not arrive in time (it is not computed).
 * The arrival is booked when the round-start comes, so ties keep the assignments' order whatever order the real
 * training ends in.
 */
export function simulatedClient(links: SimulatedLinks, clock: SimulatedClock, pending: PendingWork, id: string, trainer: LocalTrainer, delayMs: number, skip: () => boolean = () => false): void {
  links.endpoint(id).onMessage((from, m) => {
    if (m.type !== 'round-start' || skip()) return;
    let update: Message | null = null;
    pending.track(
      trainer.train({ round: m.version + 1, model: m.model, strategy: m.strategy, train: m.train, weights: m.weights, ...(m.extras ? { extras: m.extras } : {}) }).then((r) => {
        if (!r.cancelled) update = { type: 'update', v: PROTOCOL_VERSION, assignment: m.assignment, delta: r.delta, numSamples: r.numSamples, metrics: r.metrics, ...(r.extras ? { extras: r.extras } : {}) };
      }),
    );
    clock.after(delayMs, () => {
      if (update) links.deliver(id, from, update, 0);
    });
  });
}
