import type { Message } from './protocol';
import type { Transport, WireCodec, WireDecoder } from './transport';

type MessageHandler = (from: string, message: Message) => void;
type LeaveHandler = (peerId: string) => void;

/** What happens to one message in flight; the default delivers it once, at once. */
export interface DeliveryPlan {
  drop?: boolean;
  delayMs?: number;
  /** Deliver this many copies (duplicates). */
  copies?: number;
  /** Deliver this message instead. */
  message?: Message;
  /** With a codec: rewrite the frames on the wire (corrupt, truncate, reorder, inject). */
  frames?: (frames: Uint8Array[]) => Uint8Array[];
}

export interface InMemoryNetworkOptions {
  /** Decides the fate of each message (fault injection in tests). */
  plan?: (from: string, to: string, message: Message) => DeliveryPlan | undefined;
  /** Sees every message that is sent (privacy tests). */
  tap?: (from: string, to: string, message: Message) => void;
  /** Send real wire frames through this codec (one decoder per link), as the WebRTC transport does. */
  codec?: WireCodec;
  /** Called for frames the receiver's decoder rejected, and for messages the codec refused to encode. */
  onWireError?: (from: string, to: string, reason: string) => void;
  /**
   * Without a codec, hand every receiver the sender's message object itself instead of a structured clone. Only for
   * peers that never mutate what they receive (the simulator's engine and clients): an exact-decomposition request
   * carries K + 1 models to each of K clients, and cloning it per receiver costs K^2 model copies at once.
   */
  shareMessages?: boolean;
}

class Endpoint implements Transport {
  readonly messageHandlers = new Set<MessageHandler>();
  readonly leaveHandlers = new Set<LeaveHandler>();
  readonly decoders = new Map<string, WireDecoder>();
  /** Peers this endpoint's owner admitted (see SessionTransport.admit). */
  readonly admitted = new Set<string>();
  bytesSent = 0;
  bytesReceived = 0;
  closed = false;
  /** Largest message decoded from a peer (with a codec), once the owner set one (see SessionTransport.setMessageLimit). */
  messageLimitBytes: number | undefined;
  /** Most objects in one message decoded from a peer, once the owner set it. */
  messageLimitObjects: number | undefined;

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

  /**
   * Connections are implicit in memory; connecting to a peer that is not there fails like WebRTC would.
   * Connecting again after disconnect() restores the link.
   */
  async connect(peerId: string): Promise<void> {
    if (!this.network.has(peerId)) throw new Error(`peer ${peerId} is not on the network`);
    this.network.restoreLink(this.selfId, peerId);
  }

  admit(peerId: string): void {
    this.admitted.add(peerId);
  }

  /** Cuts the link with `peerId`: nothing passes either way until one side connects again; both sides are told. */
  disconnect(peerId: string): void {
    this.admitted.delete(peerId);
    this.network.cutLink(this.selfId, peerId);
  }

  setMessageLimit(bytes: number, objects?: number): void {
    this.messageLimitBytes = bytes;
    this.messageLimitObjects = objects;
    for (const decoder of this.decoders.values()) decoder.setMaxMessageBytes?.(bytes, objects);
  }

  trafficTotals(): { bytesSent: number; bytesReceived: number } {
    return { bytesSent: this.bytesSent, bytesReceived: this.bytesReceived };
  }
}

export type InMemoryEndpoint = Endpoint;

/**
 * Peers in one process. Messages are delivered asynchronously and never share buffers with the sender:
 * structured-cloned, or (with a codec) encoded into frames and decoded by a per-link decoder.
 * A plan function can drop, delay, duplicate, replace or (with a codec) corrupt them.
 */
export class InMemoryNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  /** Links cut by an endpoint's disconnect(peer), as "a\u0000b" with a < b. */
  private readonly cutLinks = new Set<string>();

  constructor(private readonly options: InMemoryNetworkOptions = {}) {}

  endpoint(id: string): InMemoryEndpoint {
    if (this.endpoints.has(id)) throw new Error(`in-memory network: peer id "${id}" is taken`);
    const ep = new Endpoint(id, this);
    this.endpoints.set(id, ep);
    return ep;
  }

  has(id: string): boolean {
    return this.endpoints.has(id);
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

  private static linkKey(a: string, b: string): string {
    return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
  }

  /** Whether messages between a and b are currently dropped because one of them disconnected the other. */
  isCut(a: string, b: string): boolean {
    return this.cutLinks.has(InMemoryNetwork.linkKey(a, b));
  }

  cutLink(a: string, b: string): void {
    const key = InMemoryNetwork.linkKey(a, b);
    if (this.cutLinks.has(key)) return;
    this.cutLinks.add(key);
    for (const [self, other] of [[a, b], [b, a]]) {
      const ep = this.endpoints.get(self);
      if (ep) setTimeout(() => ep.leaveHandlers.forEach((h) => h(other)), 0);
    }
  }

  restoreLink(a: string, b: string): void {
    this.cutLinks.delete(InMemoryNetwork.linkKey(a, b));
  }

  deliver(from: string, to: string, message: Message): void {
    if (this.isCut(from, to)) return;
    this.options.tap?.(from, to, message);
    const plan = this.options.plan?.(from, to, message) ?? {};
    if (plan.drop) return;
    const payload = plan.message ?? message;
    const copies = plan.copies ?? 1;
    const codec = this.options.codec;
    let frames: Uint8Array[] | null = null;
    if (codec) {
      try {
        frames = codec.encode(payload);
      } catch (e) {
        this.options.onWireError?.(from, to, `not sent: ${(e as Error).message}`);
        return;
      }
      if (plan.frames) frames = plan.frames(frames);
    }
    for (let c = 0; c < copies; c++) {
      const cloned = frames ? null : this.options.shareMessages ? payload : structuredClone(payload);
      setTimeout(() => {
        const target = this.endpoints.get(to);
        const sender = this.endpoints.get(from);
        if (!target || target.closed || !sender || this.isCut(from, to)) return;
        if (!frames) {
          target.messageHandlers.forEach((h) => h(from, cloned!));
          return;
        }
        let decoder = target.decoders.get(from);
        if (!decoder) target.decoders.set(from, (decoder = codec!.createDecoder({ maxMessageBytes: target.messageLimitBytes, maxObjects: target.messageLimitObjects })));
        for (const frame of frames) {
          sender.bytesSent += frame.byteLength;
          target.bytesReceived += frame.byteLength;
          const { messages, errors } = decoder.push(frame.slice());
          errors.forEach((reason) => this.options.onWireError?.(from, to, reason));
          messages.forEach((m) => target.messageHandlers.forEach((h) => h(from, m)));
        }
      }, plan.delayMs ?? 0);
    }
  }
}
