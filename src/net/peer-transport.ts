/**
 * Transport over WebRTC DataConnections (peerjs, `serialization: 'raw'`, reliable + ordered).
 * Every DataChannel message is either one binary frame made by the WireCodec or the heartbeat string.
 * The same object serves the host (accepts connections) and clients (connect to the host and to other peers).
 * It never reconnects: a vanished peer is reported once through onPeerLeft and forgotten.
 */
import type { Message } from '../fl/protocol';
import type { Transport, WireCodec, WireDecoder } from '../fl/transport';
import type { PeerTransportConfig } from './peer-transport-config';

/** The part of a peerjs DataConnection the transport uses. */
export interface DataConnectionLike {
  readonly peer: string;
  readonly open: boolean;
  readonly serialization: string;
  send(data: Uint8Array | string): unknown;
  close(): void;
  on(event: 'open' | 'close', listener: () => void): unknown;
  on(event: 'data', listener: (data: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface PeerErrorLike extends Error {
  /** peerjs PeerErrorType, e.g. 'peer-unavailable', 'network'. */
  type?: string;
}

/** The part of a peerjs Peer the transport uses. */
export interface PeerLike {
  readonly id: string;
  connect(peerId: string, options: { serialization: 'raw'; reliable: true }): DataConnectionLike;
  on(event: 'connection', listener: (connection: DataConnectionLike) => void): unknown;
  on(event: 'error', listener: (error: PeerErrorLike) => void): unknown;
  on(event: 'disconnected', listener: () => void): unknown;
  destroy(): void;
}

export type TransportErrorKind = 'decode' | 'connection' | 'signalling' | 'handler';

export interface TransportError {
  kind: TransportErrorKind;
  peerId?: string;
  message: string;
}

/** Frames and messages exchanged with one peer over the transport's lifetime (kept after the peer left). */
export interface PeerTraffic {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** Messages not (fully) sent because the peer was not connected or its link closed mid-message. */
  messagesDropped: number;
}

/** Sent on idle links so the other side can tell a quiet peer from a vanished one. Never a codec frame (those are binary). */
const HEARTBEAT = 'hb';

type LinkState = 'pending' | 'open' | 'closed';

interface ConnectWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One DataConnection. Two peers may hold two (both connected at once); each has its own decoder. */
interface Link {
  readonly conn: DataConnectionLike;
  readonly peerId: string;
  readonly decoder: WireDecoder;
  readonly outgoing: boolean;
  state: LinkState;
  lastHeardAt: number;
  openTimer?: ReturnType<typeof setTimeout>;
  waiter?: ConnectWaiter;
}

class Listeners<Args extends unknown[]> {
  private readonly handlers = new Set<(...args: Args) => void>();

  add(handler: (...args: Args) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Calls every handler; a throwing handler is reported and does not stop the others. */
  emit(onThrow: (error: unknown) => void, ...args: Args): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(...args);
      } catch (error) {
        onThrow(error);
      }
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function emptyTraffic(): PeerTraffic {
  return { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, messagesDropped: 0 };
}

export class PeerTransport implements Transport {
  readonly selfId: string;
  private readonly links = new Map<string, Link[]>();
  private readonly pendingConnects = new Map<string, Promise<void>>();
  private readonly traffic = new Map<string, PeerTraffic>();
  private readonly messageListeners = new Listeners<[string, Message]>();
  private readonly joinedListeners = new Listeners<[string]>();
  private readonly leftListeners = new Listeners<[string]>();
  private readonly errorListeners = new Listeners<[TransportError]>();
  private readonly heartbeatTimer: ReturnType<typeof setInterval>;
  private closed = false;
  private signallingLost = false;

  constructor(
    private readonly peer: PeerLike,
    private readonly codec: WireCodec,
    private readonly config: PeerTransportConfig,
  ) {
    this.selfId = peer.id;
    peer.on('connection', (conn) => this.acceptIncoming(conn));
    peer.on('error', (error) => this.onPeerError(error));
    peer.on('disconnected', () => {
      if (this.closed) return;
      this.signallingLost = true;
      this.reportError({
        kind: 'signalling',
        message: 'lost the signalling server: open connections stay, new ones cannot be made',
      });
    });
    this.heartbeatTimer = setInterval(() => this.heartbeat(), config.timings.heartbeatIntervalMs);
  }

  /** False once the signalling server is gone (or the transport closed): no new connections possible. */
  get canConnect(): boolean {
    return !this.closed && !this.signallingLost;
  }

  /**
   * Opens a DataConnection to `peerId`. Resolves once it is open (at once if a connection exists);
   * rejects if the peer is unknown to the signalling server or the connection does not open in time.
   */
  connect(peerId: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`PeerTransport ${this.selfId} is closed`));
    if (peerId === this.selfId) return Promise.reject(new Error(`PeerTransport ${this.selfId}: cannot connect to itself`));
    if (this.isConnected(peerId)) return Promise.resolve();
    const pending = this.pendingConnects.get(peerId);
    if (pending) return pending;
    if (this.signallingLost) {
      return Promise.reject(new Error(`PeerTransport ${this.selfId}: cannot connect to ${peerId}, the signalling server is gone`));
    }
    const promise = new Promise<void>((resolve, reject) => {
      // peerjs returns undefined (and emits an error) when it cannot even start a connection.
      const conn: DataConnectionLike | undefined = this.peer.connect(peerId, { serialization: 'raw', reliable: true });
      if (!conn) reject(new Error(`PeerTransport ${this.selfId}: peerjs refused to start a connection to ${peerId}`));
      else this.addLink(conn, true, { resolve, reject });
    }).finally(() => this.pendingConnects.delete(peerId));
    this.pendingConnects.set(peerId, promise);
    return promise;
  }

  /** Sends one message. Dropped (and counted) when `to` is not connected; never throws for that. */
  send(to: string, message: Message): void {
    this.sendFrames(to, this.encode(message));
  }

  /** Sends one message to several peers (default: all connected), encoding it once. */
  broadcast(message: Message, to: Iterable<string> = this.connectedPeers()): void {
    const frames = this.encode(message);
    for (const peerId of to) this.sendFrames(peerId, frames);
  }

  onMessage(handler: (from: string, message: Message) => void): () => void {
    return this.messageListeners.add(handler);
  }

  /** Called once per peer when its first DataConnection opens (incoming or outgoing). */
  onPeerJoined(handler: (peerId: string) => void): () => void {
    return this.joinedListeners.add(handler);
  }

  /** Called once per peer when its last open DataConnection closes, fails or falls silent. */
  onPeerLeft(handler: (peerId: string) => void): () => void {
    return this.leftListeners.add(handler);
  }

  /** Problems that do not throw: undecodable frames, failed connections, lost signalling, throwing handlers. */
  onError(handler: (error: TransportError) => void): () => void {
    return this.errorListeners.add(handler);
  }

  isConnected(peerId: string): boolean {
    return this.openLink(peerId) !== undefined;
  }

  /** Peers with at least one open DataConnection. */
  connectedPeers(): string[] {
    return [...this.links.keys()].filter((peerId) => this.isConnected(peerId));
  }

  /** Traffic with one peer so far (zeros for a peer never seen). */
  trafficWith(peerId: string): PeerTraffic {
    return { ...(this.traffic.get(peerId) ?? emptyTraffic()) };
  }

  /** Traffic with every peer seen so far, including those that left. */
  trafficByPeer(): Record<string, PeerTraffic> {
    return Object.fromEntries([...this.traffic].map(([peerId, t]) => [peerId, { ...t }]));
  }

  /** Closes every connection to `peerId` (reported through onPeerLeft if it was connected). */
  disconnect(peerId: string): void {
    for (const link of [...(this.links.get(peerId) ?? [])]) this.dropLink(link, null);
  }

  /** Closes all connections and leaves the signalling server. No events fire afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    for (const links of [...this.links.values()]) {
      for (const link of [...links]) this.dropLink(link, null);
    }
    this.peer.destroy();
  }

  private encode(message: Message): Uint8Array[] {
    const frames = this.codec.encode(message);
    for (const frame of frames) {
      if (frame.byteLength === 0 || frame.byteLength > this.config.maxFrameBytes) {
        throw new Error(
          `PeerTransport: the WireCodec made a ${frame.byteLength}-byte frame for a '${message.type}' message; ` +
            `frames must hold 1-${this.config.maxFrameBytes} bytes`,
        );
      }
    }
    return frames;
  }

  private sendFrames(to: string, frames: readonly Uint8Array[]): void {
    const traffic = this.trafficOf(to);
    const link = this.openLink(to);
    if (!link) {
      traffic.messagesDropped++;
      return;
    }
    for (const frame of frames) {
      if (link.state !== 'open' || !link.conn.open) {
        traffic.messagesDropped++;
        return;
      }
      try {
        link.conn.send(frame);
      } catch (error) {
        traffic.messagesDropped++;
        this.dropLink(link, `sending to ${to} failed: ${errorText(error)}`);
        return;
      }
      traffic.bytesSent += frame.byteLength;
    }
    traffic.messagesSent++;
  }

  private acceptIncoming(conn: DataConnectionLike): void {
    if (this.closed) {
      conn.close();
      return;
    }
    if (conn.serialization !== 'raw') {
      this.reportError({
        kind: 'connection',
        peerId: conn.peer,
        message: `refused a connection from ${conn.peer} with serialization '${conn.serialization}' (expected 'raw')`,
      });
      conn.close();
      return;
    }
    this.addLink(conn, false);
  }

  private addLink(conn: DataConnectionLike, outgoing: boolean, waiter?: ConnectWaiter): void {
    const peerId = conn.peer;
    const link: Link = { conn, peerId, decoder: this.codec.createDecoder(), outgoing, state: 'pending', lastHeardAt: Date.now(), waiter };
    const links = this.links.get(peerId) ?? [];
    links.push(link);
    this.links.set(peerId, links);
    const timeoutMs = this.config.timings.connectTimeoutMs;
    link.openTimer = setTimeout(() => this.dropLink(link, `connection with ${peerId} did not open within ${timeoutMs} ms`), timeoutMs);
    conn.on('open', () => this.activate(link));
    conn.on('data', (data) => this.receive(link, data));
    conn.on('close', () => this.dropLink(link, link.state === 'pending' ? `connection with ${peerId} closed before opening` : null));
    conn.on('error', (error) => this.dropLink(link, `connection with ${peerId} failed: ${error.message}`));
    if (conn.open) this.activate(link);
  }

  private activate(link: Link): void {
    if (link.state !== 'pending') return;
    clearTimeout(link.openTimer);
    const wasConnected = this.isConnected(link.peerId);
    link.state = 'open';
    link.lastHeardAt = Date.now();
    this.trafficOf(link.peerId);
    // Any open link satisfies every connect() waiting for this peer.
    for (const other of this.links.get(link.peerId) ?? []) {
      other.waiter?.resolve();
      other.waiter = undefined;
    }
    if (!wasConnected) this.joinedListeners.emit((e) => this.reportHandlerError(e), link.peerId);
  }

  private receive(link: Link, data: unknown): void {
    if (link.state === 'closed') return;
    if (link.state === 'pending') this.activate(link);
    link.lastHeardAt = Date.now();
    if (data === HEARTBEAT) return;
    const frame = asBytes(data);
    if (!frame) {
      this.reportError({ kind: 'decode', peerId: link.peerId, message: `ignored a ${typeof data} DataChannel message from ${link.peerId}` });
      return;
    }
    const traffic = this.trafficOf(link.peerId);
    traffic.bytesReceived += frame.byteLength;
    const { messages, errors } = link.decoder.push(frame);
    for (const message of errors) this.reportError({ kind: 'decode', peerId: link.peerId, message });
    for (const message of messages) {
      traffic.messagesReceived++;
      this.messageListeners.emit((e) => this.reportHandlerError(e), link.peerId, message);
    }
  }

  /**
   * Closes a link. `reason` null means an orderly close (no error reported).
   * Reports onPeerLeft when this was the peer's last open link.
   */
  private dropLink(link: Link, reason: string | null): void {
    if (link.state === 'closed') return;
    const wasOpen = link.state === 'open';
    link.state = 'closed';
    clearTimeout(link.openTimer);
    const remaining = (this.links.get(link.peerId) ?? []).filter((l) => l !== link);
    if (remaining.length > 0) this.links.set(link.peerId, remaining);
    else this.links.delete(link.peerId);
    try {
      link.conn.close();
    } catch {
      // peerjs may throw when closing a half-built connection; the link is gone either way.
    }
    if (this.closed) {
      link.waiter?.reject(new Error(`PeerTransport ${this.selfId} was closed`));
      link.waiter = undefined;
      return;
    }
    const stillConnected = this.isConnected(link.peerId);
    if (link.waiter) {
      if (stillConnected) link.waiter.resolve();
      else link.waiter.reject(new Error(reason ?? `connection with ${link.peerId} was closed`));
      link.waiter = undefined;
    } else if (reason !== null) {
      this.reportError({ kind: 'connection', peerId: link.peerId, message: reason });
    }
    if (wasOpen && !stillConnected) this.leftListeners.emit((e) => this.reportHandlerError(e), link.peerId);
  }

  private heartbeat(): void {
    const now = Date.now();
    const silenceMs = this.config.timings.peerSilenceTimeoutMs;
    for (const links of [...this.links.values()]) {
      for (const link of [...links]) {
        if (link.state !== 'open') continue;
        if (now - link.lastHeardAt > silenceMs) {
          this.dropLink(link, `${link.peerId} sent nothing for ${now - link.lastHeardAt} ms (limit ${silenceMs} ms)`);
          continue;
        }
        try {
          if (link.conn.open) link.conn.send(HEARTBEAT);
        } catch (error) {
          this.dropLink(link, `heartbeat to ${link.peerId} failed: ${errorText(error)}`);
        }
      }
    }
  }

  private onPeerError(error: PeerErrorLike): void {
    if (this.closed) return;
    if (error.type === 'peer-unavailable') {
      // peerjs names the peer only in the text: "Could not connect to peer <id>".
      const target = [...this.pendingConnects.keys()].find((peerId) => error.message.endsWith(` ${peerId}`));
      const link = target ? this.links.get(target)?.find((l) => l.outgoing && l.state === 'pending') : undefined;
      if (link) {
        this.dropLink(link, `peer ${link.peerId} is not known to the signalling server`);
        return;
      }
    }
    this.reportError({ kind: 'signalling', message: `${error.type ?? 'error'}: ${error.message}` });
  }

  private openLink(peerId: string): Link | undefined {
    return this.links.get(peerId)?.find((link) => link.state === 'open');
  }

  private trafficOf(peerId: string): PeerTraffic {
    let traffic = this.traffic.get(peerId);
    if (!traffic) {
      traffic = emptyTraffic();
      this.traffic.set(peerId, traffic);
    }
    return traffic;
  }

  private reportHandlerError(error: unknown): void {
    this.reportError({ kind: 'handler', message: `a transport event handler threw: ${errorText(error)}` });
  }

  private reportError(error: TransportError): void {
    // An error handler that throws must not recurse into reportError.
    this.errorListeners.emit((e) => console.error('PeerTransport onError handler threw', e), error);
  }
}
