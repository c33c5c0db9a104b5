import type { Message } from './protocol';

/**
 * How the round engine and clients talk. Implementations: the in-memory one (Node tests, simulator)
 * and the WebRTC one (src/net). Delivery is asynchronous; a send to a vanished peer is dropped.
 */
export interface Transport {
  readonly selfId: string;
  send(to: string, message: Message): void;
  /** Registers a handler for incoming messages; returns an unsubscribe function. */
  onMessage(handler: (from: string, message: Message) => void): () => void;
  /** Registers a handler called when a peer disconnects; returns an unsubscribe function. */
  onPeerLeft(handler: (peerId: string) => void): () => void;
}
