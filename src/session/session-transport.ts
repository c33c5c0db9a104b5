import type { Message } from '../fl/protocol';
import type { Transport } from '../fl/transport';

/** A transport that can also open connections to peers (WebRTC) and report its traffic. */
export interface SessionTransport extends Transport {
  connect(peerId: string): Promise<void>;
  /** Bytes sent and received so far, all peers together. */
  trafficTotals(): { bytesSent: number; bytesReceived: number };
  /** The peer proved it belongs to the session (AuthenticatedTransport calls this); the transport may trust it more. */
  admit(peerId: string): void;
  /** Closes every connection with the peer (reported through onPeerLeft if it was connected). */
  disconnect(peerId: string): void;
  /**
   * Largest message accepted from an admitted peer, and the most objects (maps, arrays, strings, binaries) in one:
   * the session sets both from its config (sessionMessageLimit).
   */
  setMessageLimit(bytes: number, objects?: number): void;
}

type Handler = (from: string, message: Message) => void;

/**
 * Lets the aggregating tab be a client of itself. Both faces share the node's peer id: the engine face sends
 * to its own id to reach the local client, and the client face sends to its own id to reach the engine.
 * Everything else goes through the network transport. Local messages are cloned and delivered asynchronously,
 * like network ones.
 */
export class LocalLoop {
  private readonly toEngine = new Set<Handler>();
  private readonly toClient = new Set<Handler>();
  readonly engineFace: Transport;
  readonly clientFace: Transport;

  constructor(private readonly network: SessionTransport) {
    const self = network.selfId;
    const deliver = (targets: Set<Handler>, message: Message) => {
      const copy = structuredClone(message);
      setTimeout(() => targets.forEach((h) => h(self, copy)), 0);
    };
    this.engineFace = {
      selfId: self,
      send: (to, m) => (to === self ? deliver(this.toClient, m) : network.send(to, m)),
      onMessage: (h) => {
        this.toEngine.add(h);
        const off = network.onMessage(h);
        return () => {
          this.toEngine.delete(h);
          off();
        };
      },
      onPeerLeft: (h) => network.onPeerLeft(h),
    };
    this.clientFace = {
      selfId: self,
      send: (to, m) => (to === self ? deliver(this.toEngine, m) : network.send(to, m)),
      onMessage: (h) => {
        this.toClient.add(h);
        const off = network.onMessage(h);
        return () => {
          this.toClient.delete(h);
          off();
        };
      },
      onPeerLeft: (h) => network.onPeerLeft(h),
    };
  }
}
