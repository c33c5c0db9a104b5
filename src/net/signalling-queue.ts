/**
 * Node only, no sockets: signalling messages held for an id nobody has registered yet (an offer that arrives just
 * before its peer's socket does), bounded per destination, per sending address and in total, in count and bytes.
 * When a bound is hit the new message is refused, never an older one: the first message of a connection attempt
 * (the offer) is the one its later candidates are useless without.
 */

export interface QueueLimits {
  /** Messages and bytes held for one destination id. */
  queuedPerDestination: number;
  queuedBytesPerDestination: number;
  /** Messages and bytes held from one sending address (an IPv4 address or an IPv6 /64). */
  queuedPerSender: number;
  queuedBytesPerSender: number;
  /** Messages and bytes held on the whole server. */
  queuedTotal: number;
  queuedBytesTotal: number;
  /** A destination's messages expire this long after the first of them was queued (PeerJS's expire_timeout). */
  queueExpiryMs: number;
}

export type QueueRefusal = 'destination' | 'sender' | 'total';

export interface QueuedMessage {
  /** The sending peer's id (answered "EXPIRE" when the destination never came). */
  src: string;
  /** The sending address, whose share the message counts against. */
  sender: string;
  /** The message as it will be sent to the destination. */
  data: string;
}

interface Held {
  message: QueuedMessage;
  bytes: number;
}

interface Destination {
  firstAt: number;
  held: Held[];
  bytes: number;
}

interface Usage {
  messages: number;
  bytes: number;
}

export class AbsentPeerQueue {
  private readonly destinations = new Map<string, Destination>();
  private readonly senders = new Map<string, Usage>();
  private readonly total: Usage = { messages: 0, bytes: 0 };

  constructor(private readonly limits: QueueLimits) {}

  /** Holds `message` for `dst`, or says which bound refused it. */
  add(dst: string, message: QueuedMessage, now: number): QueueRefusal | null {
    const bytes = Buffer.byteLength(message.data);
    const destination = this.destinations.get(dst);
    const sender = this.senders.get(message.sender);
    if ((destination?.held.length ?? 0) + 1 > this.limits.queuedPerDestination || (destination?.bytes ?? 0) + bytes > this.limits.queuedBytesPerDestination) return 'destination';
    if ((sender?.messages ?? 0) + 1 > this.limits.queuedPerSender || (sender?.bytes ?? 0) + bytes > this.limits.queuedBytesPerSender) return 'sender';
    if (this.total.messages + 1 > this.limits.queuedTotal || this.total.bytes + bytes > this.limits.queuedBytesTotal) return 'total';
    const d = destination ?? { firstAt: now, held: [], bytes: 0 };
    if (!destination) this.destinations.set(dst, d);
    d.held.push({ message, bytes });
    d.bytes += bytes;
    const s = sender ?? { messages: 0, bytes: 0 };
    if (!sender) this.senders.set(message.sender, s);
    s.messages++;
    s.bytes += bytes;
    this.total.messages++;
    this.total.bytes += bytes;
    return null;
  }

  /** Removes and returns what is held for `dst`, oldest first (it has just registered). */
  take(dst: string): QueuedMessage[] {
    const destination = this.destinations.get(dst);
    if (!destination) return [];
    this.drop(dst, destination);
    return destination.held.map((h) => h.message);
  }

  /** Drops every destination whose first message is older than the expiry; returns the (src, dst) pairs to answer "EXPIRE", each once. */
  expire(now: number): Array<{ src: string; dst: string }> {
    const answers: Array<{ src: string; dst: string }> = [];
    for (const [dst, destination] of this.destinations) {
      if (now - destination.firstAt < this.limits.queueExpiryMs) continue;
      this.drop(dst, destination);
      for (const src of new Set(destination.held.map((h) => h.message.src))) answers.push({ src, dst });
    }
    return answers;
  }

  get size(): { destinations: number; messages: number; bytes: number } {
    return { destinations: this.destinations.size, messages: this.total.messages, bytes: this.total.bytes };
  }

  private drop(dst: string, destination: Destination): void {
    this.destinations.delete(dst);
    for (const { message, bytes } of destination.held) {
      const s = this.senders.get(message.sender);
      if (s) {
        s.messages--;
        s.bytes -= bytes;
        if (s.messages === 0) this.senders.delete(message.sender);
      }
    }
    this.total.messages -= destination.held.length;
    this.total.bytes -= destination.bytes;
  }
}
