/**
 * Spreads large sends over tasks. Handing a DataChannel a model message costs the sending tab's main thread about
 * as long as copying it into the channel (tens of ms for a 100-200 KB round-start to six peers on a slow machine),
 * and a broadcast did all of that in one task: a long task on the aggregating tab. Here each task sends at most
 * `bytesPerTask` (a message larger than that goes alone), and whatever is over waits for the next task, in order per
 * peer: a message queued for a peer holds back every later message to that peer. Small messages on an idle sender
 * go at once, in the caller's task.
 *
 * Bounded: a peer's queue holds at most `maxQueuedBytesPerPeer`; a message that would exceed it is refused (the
 * caller counts it as dropped), as one that finds the link gone when its turn comes.
 */
import { nextTask } from '../fl/next-task';

export interface PacedSenderOptions {
  /** Bytes sent in one task before the rest waits for the next (one message larger than this goes alone). */
  bytesPerTask: number;
  /** Bytes waiting for one peer at most. */
  maxQueuedBytesPerPeer: number;
}

export const DEFAULT_PACING: Readonly<PacedSenderOptions> = Object.freeze({
  bytesPerTask: 160 * 1024,
  maxQueuedBytesPerPeer: 256 * 1024 * 1024,
});

interface Queued {
  frames: readonly Uint8Array[];
  bytes: number;
}

export type Deliver = (to: string, frames: readonly Uint8Array[]) => void;

export class PacedSender {
  private readonly queues = new Map<string, { items: Queued[]; bytes: number }>();
  private spentThisTask = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly deliver: Deliver,
    private readonly options: PacedSenderOptions = DEFAULT_PACING,
    private readonly schedule: (fn: () => void) => void = nextTask,
  ) {}

  /**
   * Sends now or queues; false when the peer's queue is full (the message is not sent). `later`: queue it even if the
   * budget allows, e.g. right after this task encoded a large message (encoding and sending it would add up).
   */
  send(to: string, frames: readonly Uint8Array[], later = false): boolean {
    if (this.closed) return false;
    const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
    const queue = this.queues.get(to);
    if (!queue && !later && this.fits(bytes)) {
      this.spend(bytes);
      this.deliver(to, frames);
      return true;
    }
    const q = queue ?? { items: [], bytes: 0 };
    if (q.bytes + bytes > this.options.maxQueuedBytesPerPeer) return false;
    q.items.push({ frames, bytes });
    q.bytes += bytes;
    this.queues.set(to, q);
    this.wake();
    return true;
  }

  /** Bytes waiting for `to`. */
  queuedBytes(to: string): number {
    return this.queues.get(to)?.bytes ?? 0;
  }

  /**
   * Sends at once, in order, everything waiting (for `to` only, if given): before a connection or the transport
   * closes, so that a goodbye queued behind a model still goes out.
   */
  flush(to?: string): void {
    if (this.closed) return;
    for (const [peer, q] of [...this.queues]) {
      if (to !== undefined && peer !== to) continue;
      this.queues.delete(peer);
      for (const item of q.items) this.deliver(peer, item.frames);
    }
  }

  /** Drops what waits for `to` (its link is gone); returns how many messages were dropped. */
  forget(to: string): number {
    const q = this.queues.get(to);
    this.queues.delete(to);
    return q?.items.length ?? 0;
  }

  close(): void {
    this.closed = true;
    this.queues.clear();
  }

  private fits(bytes: number): boolean {
    return this.spentThisTask === 0 || this.spentThisTask + bytes <= this.options.bytesPerTask;
  }

  private spend(bytes: number): void {
    this.spentThisTask += bytes;
    this.wake(); // the budget renews in the next task
  }

  private wake(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.schedule(() => this.pump());
  }

  /** A new task: a fresh budget, spent on the queues in turn (one message per peer per turn). */
  private pump(): void {
    this.scheduled = false;
    this.spentThisTask = 0;
    if (this.closed) return;
    let progressed = true;
    while (this.queues.size > 0 && progressed) {
      progressed = false;
      for (const [to, q] of [...this.queues]) {
        const head = q.items[0];
        if (!this.fits(head.bytes)) continue;
        q.items.shift();
        q.bytes -= head.bytes;
        if (q.items.length === 0) this.queues.delete(to);
        this.spentThisTask += head.bytes;
        progressed = true;
        this.deliver(to, head.frames);
      }
    }
    if (this.queues.size > 0 || this.spentThisTask > 0) this.wake();
  }
}
