/**
 * The receiving side of one connection: feeds its frames to the link's decoder and hands the decoded messages on
 * in the order they arrived, also when some are decoded asynchronously by a DecodeOffload (a worker).
 *
 * Without an offload (or with a decoder that cannot split assembly from decoding) every frame is decoded at once,
 * exactly as WireDecoder.push does. With one, large messages are decoded by the offload, and every message behind
 * one still being decoded waits for it. The messages waiting are bounded per link; a peer exceeding the bound is
 * misbehaving and its link is closed by the transport.
 */
import { isAssemblingDecoder, type AssemblingWireDecoder, type DecodeOffload } from '../fl/codec/wire-codec';
import type { Decoded, WireDecoder } from '../fl/transport';

/**
 * Messages one link may have waiting for decoding or for one ahead of them. A burst of session messages (welcome,
 * round-start, checkpoint, roster) fits; anything beyond it is a peer queueing work faster than it can be decoded.
 */
export const MAX_PENDING_DECODES_PER_LINK = 8;

export interface InboxPush {
  /** The frame completed at least one message, or was rejected: the link has no unfinished message left. */
  completed: boolean;
  /** The frame completed a message while the most allowed were already waiting; nothing of it was delivered. */
  backlogFull: boolean;
}

export class LinkInbox {
  private readonly splitDecoder: AssemblingWireDecoder | undefined;
  /** Messages assembled and not yet delivered: being decoded by the offload, or behind one that is. */
  private waiting = 0;
  /** Settles once every message accepted so far has been delivered (or dropped on close). */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly decoder: WireDecoder,
    /** Called with each batch in arrival order; never after close(). */
    private readonly deliver: (decoded: Decoded) => void,
    private readonly offload?: DecodeOffload,
    private readonly maxPending = MAX_PENDING_DECODES_PER_LINK,
  ) {
    this.splitDecoder = offload && isAssemblingDecoder(decoder) ? decoder : undefined;
  }

  /** Messages accepted and not yet delivered. */
  get pendingMessages(): number {
    return this.waiting;
  }

  /** Settles once everything accepted so far has been delivered or dropped (for tests). */
  settled(): Promise<void> {
    return this.tail;
  }

  push(frame: Uint8Array): InboxPush {
    if (this.closed) return { completed: false, backlogFull: false };
    if (!this.splitDecoder || !this.offload) {
      const decoded = this.decoder.push(frame);
      const completed = decoded.messages.length > 0 || decoded.errors.length > 0;
      if (completed) this.deliver(decoded);
      return { completed, backlogFull: false };
    }
    const assembled = this.splitDecoder.assemble(frame);
    // Frame errors concern no message that could be delivered, so they need not wait for the ones pending.
    if (assembled.errors.length > 0) this.deliver({ messages: [], errors: assembled.errors });
    for (const bytes of assembled.messages) {
      if (this.closed) break;
      if (this.waiting >= this.maxPending) return { completed: true, backlogFull: true };
      this.accept(this.splitDecoder, this.offload, bytes);
    }
    return { completed: assembled.messages.length > 0 || assembled.errors.length > 0, backlogFull: false };
  }

  /** Drops whatever is still pending: nothing is delivered after this. */
  close(): void {
    this.closed = true;
  }

  private accept(decoder: AssemblingWireDecoder, offload: DecodeOffload, bytes: Uint8Array): void {
    const offloaded = bytes.length >= offload.minBytes;
    if (!offloaded && this.waiting === 0) {
      this.deliver(decoder.decodeAssembled(bytes));
      return;
    }
    // A small message behind a pending one is decoded now (cheap) and only its delivery waits.
    const decoded = offloaded ? decoder.decodeAssembledWith(offload, bytes) : decoder.decodeAssembled(bytes);
    this.waiting++;
    this.tail = this.tail
      .then(async () => {
        try {
          const result = await decoded;
          if (!this.closed) this.deliver(result);
        } finally {
          this.waiting--;
        }
      })
      // A throwing deliver must not stall the messages behind it.
      .catch((error) => console.error('LinkInbox: delivering decoded messages threw', error));
  }
}
