/**
 * Node only: sits between the signalling sockets and PeerJS's message handling. A message for a registered id goes
 * on to PeerJS as before; a message for an id nobody holds is held here instead of in PeerJS's unbounded queue
 * (bounded by AbsentPeerQueue), delivered when the id registers, or answered "EXPIRE" to its sender when it expires.
 * Every such message counts as an id probe of the sending address, since its answer says whether the id exists.
 */
import { AbsentPeerQueue, type QueueLimits, type QueueRefusal } from './signalling-queue';

/** What the relay uses of a PeerJS server-side client. */
export interface RelayClient {
  getId(): string;
  getSocket(): RelaySocket | null;
}

export interface RelaySocket {
  send(data: string): void;
}

export interface RelayOptions {
  limits: QueueLimits;
  now: () => number;
  /** Whether `address` may learn whether `id` is registered (counts it against the address's probe limit). */
  probe: (address: string, id: string) => boolean;
}

export interface RelayStats {
  queued: { destinations: number; messages: number; bytes: number };
  delivered: number;
  expired: number;
  /** Messages for absent ids refused, by reason; `malformed`: not a JSON object, or a relayed type without a string dst. */
  dropped: Record<QueueRefusal | 'probes' | 'malformed', number>;
}

/** The types PeerJS relays and queues for an absent destination. */
const RELAYED_TYPES = new Set(['OFFER', 'ANSWER', 'CANDIDATE']);

export class SignallingRelay {
  private readonly queue: AbsentPeerQueue;
  private readonly clients = new Map<string, RelayClient>();
  private readonly bySocket = new WeakMap<RelaySocket, RelayClient>();
  private delivered = 0;
  private expired = 0;
  private readonly dropped: RelayStats['dropped'] = { probes: 0, destination: 0, sender: 0, total: 0, malformed: 0 };

  constructor(private readonly options: RelayOptions) {
    this.queue = new AbsentPeerQueue(options.limits);
  }

  /** PeerJS registered (or re-attached) `client`: what was held for its id is delivered now. */
  registered(client: RelayClient): void {
    const socket = client.getSocket();
    this.clients.set(client.getId(), client);
    if (socket) this.bySocket.set(socket, client);
    for (const message of this.queue.take(client.getId())) {
      socket?.send(message.data);
      this.delivered++;
    }
  }

  /** PeerJS removed `client` (its socket closed or timed out). */
  gone(client: RelayClient): void {
    if (this.clients.get(client.getId()) === client) this.clients.delete(client.getId());
  }

  /**
   * Whether PeerJS may handle `data`, a message from `socket` (of `address`); false when the relay held it for an
   * absent id or refused it.
   */
  passes(socket: RelaySocket, address: string, data: string): boolean {
    const client = this.bySocket.get(socket);
    if (!client) return true; // not a registered socket: PeerJS does not listen to it either
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      this.dropped.malformed++;
      return false;
    }
    if (typeof message !== 'object' || message === null) {
      this.dropped.malformed++;
      return false;
    }
    const { type, dst, payload } = message as { type?: unknown; dst?: unknown; payload?: unknown };
    // PeerJS drops a client that sends LEAVE without a destination: it is no longer registered.
    if (type === 'LEAVE' && !dst) this.gone(client);
    if (typeof type !== 'string' || !RELAYED_TYPES.has(type)) return true;
    if (typeof dst !== 'string' || dst === '') {
      this.dropped.malformed++;
      return false;
    }
    if (this.clients.has(dst)) return true;
    if (!this.options.probe(address, dst)) {
      this.dropped.probes++;
      return false;
    }
    const src = client.getId();
    const refusal = this.queue.add(dst, { src, sender: address, data: JSON.stringify({ type, src, dst, payload }) }, this.options.now());
    if (refusal) this.dropped[refusal]++;
    return false;
  }

  /** Drops what has waited too long for its destination and tells each sender still registered ("EXPIRE"). */
  expire(): void {
    for (const { src, dst } of this.queue.expire(this.options.now())) {
      this.clients.get(src)?.getSocket()?.send(JSON.stringify({ type: 'EXPIRE', src: dst, dst: src }));
      this.expired++;
    }
  }

  stats(): RelayStats {
    return { queued: this.queue.size, delivered: this.delivered, expired: this.expired, dropped: { ...this.dropped } };
  }
}
