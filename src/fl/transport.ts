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

/**
 * Turns messages into wire frames and back. The WebRTC transport sends each frame as one DataChannel
 * message (at most 256 KB, the DataChannel message limit); a decoder is kept per peer and reassembles frames.
 */
export interface WireCodec {
  /** Encodes one message into one or more frames, each at most maxFrameBytes long. */
  encode(message: Message): Uint8Array[];
  /** A stateful per-peer decoder. */
  createDecoder(options?: WireDecoderOptions): WireDecoder;
}

export interface WireDecoderOptions {
  /**
   * Largest reassembled message this decoder accepts, in bytes (capped at the codec's own limit). It also bounds
   * what the decoder buffers: a message declaring more is refused at its first frame.
   */
  maxMessageBytes?: number;
  /** Most objects (maps, arrays, strings, binaries) in one message this decoder accepts (capped at the codec's own limit). */
  maxObjects?: number;
}

/** What a decoder makes of received bytes: whole messages, and reasons for what it discarded. */
export interface Decoded {
  messages: Message[];
  errors: string[];
}

export interface WireDecoder {
  /**
   * Feeds one received frame. Returns the messages completed by it (usually zero or one).
   * Never throws: bad input is reported through `errors` and discarded.
   */
  push(frame: Uint8Array): Decoded;
  /**
   * Changes maxMessageBytes, and maxObjects when given (see WireDecoderOptions); buffered incomplete messages beyond
   * the new size are dropped.
   */
  setMaxMessageBytes?(bytes: number, maxObjects?: number): void;
}
