import type { Message } from './protocol';
import type { Transport } from './transport';

type MessageHandler = (from: string, message: Message) => void;
type LeaveHandler = (peerId: string) => void;

/** What happens to one message in flight; the default delivers it once, at once. */
export type DeliveryPlan = { drop: true } | { drop?: false; delayMs?: number; copies?: number; message?: Message };

export interface InMemoryNetworkOptions {
  /** Decides the fate of each message (fault injection in tests). */
  plan?: (from: string, to: string, message: Message) => DeliveryPlan;
  /** Sees every message that is sent (privacy tests, byte counting). */
  tap?: (from: string, to: string, message: Message) => void;
}

class Endpoint implements Transport {
  readonly messageHandlers = new Set<MessageHandler>();
  readonly leaveHandlers = new Set<LeaveHandler>();
  closed = false;

  constructor(
    readonly selfId: string,
    private readonly network: InMemoryNetwork,
  ) {}

  send(to: string, message: Message): void {
    if (!this.closed) this.network.deliver(this.selfId, to, message);
  }

  onMessage(handler: MessageHandler): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  onPeerLeft(handler: LeaveHandler): () => void {
    this.leaveHandlers.add(handler);
    return () => this.leaveHandlers.delete(handler);
  }
}

/**
 * Peers in one process. Messages are structured-cloned (no shared buffers, as over a real wire) and
 * delivered asynchronously; a plan function can drop, delay, duplicate or replace them.
 */
export class InMemoryNetwork {
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly options: InMemoryNetworkOptions = {}) {}

  endpoint(id: string): Transport {
    if (this.endpoints.has(id)) throw new Error(`in-memory network: peer id "${id}" is taken`);
    const ep = new Endpoint(id, this);
    this.endpoints.set(id, ep);
    return ep;
  }

  /** The peer vanishes: its messages stop, and every other peer is told. */
  disconnect(id: string): void {
    const ep = this.endpoints.get(id);
    if (!ep) return;
    ep.closed = true;
    this.endpoints.delete(id);
    for (const other of this.endpoints.values()) {
      setTimeout(() => other.leaveHandlers.forEach((h) => h(id)), 0);
    }
  }

  deliver(from: string, to: string, message: Message): void {
    this.options.tap?.(from, to, message);
    const plan = this.options.plan?.(from, to, message) ?? {};
    if (plan.drop) return;
    const payload = plan.message ?? message;
    const copies = plan.copies ?? 1;
    for (let c = 0; c < copies; c++) {
      const cloned = structuredClone(payload);
      setTimeout(() => {
        const target = this.endpoints.get(to);
        if (!target || target.closed || !this.endpoints.has(from)) return;
        target.messageHandlers.forEach((h) => h(from, cloned));
      }, plan.delayMs ?? 0);
    }
  }
}
