import type { LocalMetrics } from '../protocol';
import type { ClientUpdate } from '../strategies/types';
import type { WeightSet } from '../weights';

/** One client update waiting in the asynchronous aggregator's buffer. */
export interface BufferedUpdate extends ClientUpdate {
  /** Unique per update (client id and the client's assignment number): the buffer refuses a key it has seen. */
  key: string;
  /** Global model version the client started from. */
  baseVersion: number;
  /** The global weights of that version (a reference, never copied): base + delta is the client's local model. */
  base?: WeightSet;
  metrics?: LocalMetrics;
  /** When the client received the model it trained (same clock as arrivedAt). */
  startedAt?: number;
  /** When it arrived (wall-clock or simulated seconds: whatever clock the caller runs on). */
  arrivedAt: number;
}

/**
 * First-in, first-out buffer of updates, at most one per client. Every key is accepted at most once over the buffer's
 * life, and an update leaves only through take(), or when a newer update of its client replaces it (it then goes to
 * the back of the queue). One client therefore holds at most one place in an aggregation step, however fast it
 * answers: a client that sends its updates without training cannot fill a step, nor move its median.
 */
export class UpdateBuffer {
  private readonly queue: BufferedUpdate[] = [];
  private readonly seen = new Set<string>();

  get size(): number {
    return this.queue.length;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  /**
   * Adds an update: false (and nothing changes) when its key was seen before; else the update of the same client it
   * replaced, or null.
   */
  add(update: BufferedUpdate): { superseded: BufferedUpdate | null } | false {
    if (this.seen.has(update.key)) return false;
    this.seen.add(update.key);
    const i = this.queue.findIndex((u) => u.clientId === update.clientId);
    const superseded = i >= 0 ? this.queue.splice(i, 1)[0] : null;
    this.queue.push(update);
    return { superseded };
  }

  /** Removes and returns the oldest `count` updates (fewer if fewer wait). */
  take(count: number): BufferedUpdate[] {
    return this.queue.splice(0, Math.max(0, count));
  }

  /** The waiting updates, oldest first, without removing them. */
  peek(): readonly BufferedUpdate[] {
    return this.queue;
  }
}
