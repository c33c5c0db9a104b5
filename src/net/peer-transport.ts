/**
 * Transport over WebRTC DataConnections (peerjs, `serialization: 'raw'`, reliable + ordered).
 * Every DataChannel message is either one binary frame made by the WireCodec or the heartbeat string.
 * The same object serves the host (accepts connections) and clients (connect to the host and to other peers).
 * It never reconnects: a vanished peer is reported once through onPeerLeft and forgotten.
 *
 * Admission: every peer starts unadmitted. Until the session calls admit(peerId) (once the peer proved it knows the
 * join secret), a connection may carry only single-frame messages of at most admission.maxPreAdmissionBytes whose
 * type the routing table allows before admission (src/fl/routing.ts), both ways; anything else it sends closes it. Unadmitted connections are
 * capped, rate-limited and time out. Closed connections are counted per reason (rejections()) and reported through
 * onError at most once per reason and interval. An admitted peer's messages are bounded by setMessageLimit.
 *
 * Decoding: an admitted peer's large messages may be decoded off this thread by a DecodeOffload (the browser's decode
 * worker); each link still delivers its messages in arrival order (see LinkInbox). Before admission, everything is
 * decoded at once.
 */
import type { Message } from '../fl/protocol';
import { WIRE_LIMITS } from '../fl/codec/limits';
import { allowedBeforeAdmission } from '../fl/routing';
import type { DecodeOffload } from '../fl/codec/wire-codec';
import type { Decoded, Transport, WireCodec, WireDecoder } from '../fl/transport';
import { RateLimiter, RejectionCounter, type RejectionCounts, type RejectionReason } from './admission-guard';
import { LinkInbox, MAX_PENDING_DECODES_PER_LINK } from './link-inbox';
import type { PeerTransportConfig } from './peer-transport-config';
import { PacedSender } from './paced-sender';
import { RefusalWindow } from './refusal-window';
import { ReportThrottle } from './report-throttle';

export type { RejectionCounts, RejectionReason } from './admission-guard';

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
  /** peerjs emits 'open' again after a successful reconnect() to the signalling server. */
  on(event: 'open', listener: (id: string) => void): unknown;
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

/** How admitted peers' messages are decoded; by default all at once, on the receiving thread. */
export interface PeerTransportDecoding {
  /** Decodes large messages elsewhere (the browser's decode worker). */
  offload?: DecodeOffload;
  /** Messages one link may have waiting for decoding; more close the link ('decode-backlog'). */
  maxPendingPerLink?: number;
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
  /** Decodes and delivers the admitted peer's frames, in order (the unadmitted ones go to the decoder directly). */
  readonly inbox: LinkInbox;
  readonly outgoing: boolean;
  /** When the link was taken on (the oldest unproven one gives way to a newcomer when every pending slot is taken). */
  readonly createdAt: number;
  state: LinkState;
  lastHeardAt: number;
  /** Bytes received since this link last completed (or failed) a message. */
  unfinishedBytes: number;
  openTimer?: ReturnType<typeof setTimeout>;
  /** Closes the link if its peer is not admitted in time; cleared on admission. */
  admissionTimer?: ReturnType<typeof setTimeout>;
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

/** A message at least this large that a task has just encoded is sent from a later task (see sendFrames). */
const SEND_LATER_FROM_BYTES = 64 * 1024;

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
  /** Peers admitted by the session; an admission ends when the peer's last connection closes. */
  private readonly admitted = new Set<string>();
  private readonly newConnections: RateLimiter;
  private readonly rejected: RejectionCounter;
  private messageLimit: number;
  /** Most objects in one message from an admitted peer; the codec's own bound until the session sets one. */
  private objectLimit: number | undefined;
  private readonly outbox: PacedSender;
  /** Malformed messages from admitted peers: one log line per peer per interval, with a count. */
  private readonly decodeReports: ReportThrottle;
  /** Refused messages of admitted peers: too many within the window close the link. */
  private readonly refusals: RefusalWindow;

  constructor(
    private readonly peer: PeerLike,
    private readonly codec: WireCodec,
    private readonly config: PeerTransportConfig,
    private readonly decoding: PeerTransportDecoding = {},
  ) {
    this.selfId = peer.id;
    this.newConnections = new RateLimiter(config.admission.maxNewConnectionsPerSecond);
    this.rejected = new RejectionCounter(config.admission.rejectionReportIntervalMs);
    this.messageLimit = config.admission.messageLimitBytes;
    this.outbox = new PacedSender((to, frames) => this.deliverFrames(to, frames), config.pacing);
    this.decodeReports = new ReportThrottle(config.admission.rejectionReportIntervalMs);
    this.refusals = new RefusalWindow(config.admission.maxRefusedMessages, config.admission.refusedMessagesWindowMs);
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
    peer.on('open', () => {
      this.signallingLost = false;
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

  /**
   * Sends one message. Dropped (and counted) when `to` is not connected, or not admitted and the message type is
   * not one allowed before admission; never throws for that.
   */
  send(to: string, message: Message): void {
    if (!this.mayReceive(to, message)) return;
    const { frames, fresh } = this.encode(message);
    this.sendFrames(to, frames, fresh);
  }

  /** Sends one message to several peers (default: all admitted and connected), encoding it once. */
  broadcast(message: Message, to: Iterable<string> = this.admittedPeers()): void {
    const recipients = [...to].filter((peerId) => this.mayReceive(peerId, message));
    if (recipients.length === 0) return;
    const { frames, fresh } = this.encode(message);
    for (const peerId of recipients) this.sendFrames(peerId, frames, fresh);
  }

  /**
   * Lifts the pre-admission limits for `peerId`'s connections: called by the session once the peer proved it
   * knows the join secret. Lasts while the peer stays connected; a peer without a connection is not admitted.
   */
  admit(peerId: string): void {
    if (this.closed || this.admitted.has(peerId)) return;
    const links = this.links.get(peerId) ?? [];
    if (links.length === 0) return;
    this.admitted.add(peerId);
    for (const link of links) {
      clearTimeout(link.admissionTimer);
      link.admissionTimer = undefined;
      link.unfinishedBytes = 0;
      link.decoder.setMaxMessageBytes?.(this.messageLimit, this.objectLimit);
    }
  }

  isAdmitted(peerId: string): boolean {
    return this.admitted.has(peerId);
  }

  /** Admitted peers with at least one open connection. */
  admittedPeers(): string[] {
    return this.connectedPeers().filter((peerId) => this.admitted.has(peerId));
  }

  /**
   * Largest message accepted from an admitted peer (bytes as the codec counts them), and optionally the most objects
   * (maps, arrays, strings, binaries) in one; the session sets both from its model. The size also bounds what each
   * admitted connection buffers while reassembling.
   */
  setMessageLimit(bytes: number, objects?: number): void {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > WIRE_LIMITS.maxMessageBytes) {
      throw new RangeError(`PeerTransport: message limit must be an integer in 1-${WIRE_LIMITS.maxMessageBytes}, got ${bytes}`);
    }
    if (objects !== undefined && (!Number.isInteger(objects) || objects < 1 || objects > WIRE_LIMITS.maxObjects)) {
      throw new RangeError(`PeerTransport: object limit must be an integer in 1-${WIRE_LIMITS.maxObjects}, got ${objects}`);
    }
    this.messageLimit = bytes;
    this.objectLimit = objects;
    for (const peerId of this.admitted) {
      for (const link of this.links.get(peerId) ?? []) link.decoder.setMaxMessageBytes?.(bytes, objects ?? WIRE_LIMITS.maxObjects);
    }
  }

  get messageLimitBytes(): number {
    return this.messageLimit;
  }

  /** The object limit setMessageLimit set, or undefined while the codec's own applies. */
  get messageLimitObjects(): number | undefined {
    return this.objectLimit;
  }

  /** Connections closed or refused by the admission and size guards, per reason, since the transport started. */
  rejections(): RejectionCounts {
    return this.rejected.snapshot();
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

  /** Bytes sent and received so far, all peers together (those that left included). */
  trafficTotals(): { bytesSent: number; bytesReceived: number } {
    let bytesSent = 0;
    let bytesReceived = 0;
    for (const t of this.traffic.values()) {
      bytesSent += t.bytesSent;
      bytesReceived += t.bytesReceived;
    }
    return { bytesSent, bytesReceived };
  }

  /** Traffic with every peer seen so far, including those that left. */
  trafficByPeer(): Record<string, PeerTraffic> {
    return Object.fromEntries([...this.traffic].map(([peerId, t]) => [peerId, { ...t }]));
  }

  /** Closes every connection to `peerId` and ends its admission (reported through onPeerLeft if it was connected). */
  disconnect(peerId: string): void {
    this.outbox.flush(peerId); // what was sent to it before (an error, a goodbye) still goes
    for (const link of [...(this.links.get(peerId) ?? [])]) this.dropLink(link, null);
  }

  /** Closes all connections and leaves the signalling server. No events fire afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    this.outbox.flush(); // a goodbye queued behind a model still goes out
    this.outbox.close();
    for (const links of [...this.links.values()]) {
      for (const link of [...links]) this.dropLink(link, null);
    }
    this.peer.destroy();
  }

  /**
   * Frames of messages already encoded, by message object: the same round-start, roster or checkpoint sent to each of
   * several peers is encoded once (messages are never changed after they are first sent).
   */
  private readonly encoded = new WeakMap<Message, Uint8Array[]>();

  /** The message's frames; `fresh` when this call encoded them (rather than finding them cached). */
  private encode(message: Message): { frames: Uint8Array[]; fresh: boolean } {
    const cached = this.encoded.get(message);
    if (cached) return { frames: cached, fresh: false };
    const frames = this.codec.encode(message);
    for (const frame of frames) {
      if (frame.byteLength === 0 || frame.byteLength > this.config.maxFrameBytes) {
        throw new Error(
          `PeerTransport: the WireCodec made a ${frame.byteLength}-byte frame for a '${message.type}' message; ` +
            `frames must hold 1-${this.config.maxFrameBytes} bytes`,
        );
      }
    }
    this.encoded.set(message, frames);
    return { frames, fresh: true };
  }

  /** False (and the message counted as dropped) when `to` is unadmitted and `message` is not for such peers. */
  private mayReceive(to: string, message: Message): boolean {
    if (this.admitted.has(to) || allowedBeforeAdmission(message.type)) return true;
    this.trafficOf(to).messagesDropped++;
    return false;
  }

  /**
   * In order per peer, spread over tasks (a broadcast of a model would otherwise be one long task). A large message
   * this task has just encoded goes from a later task: encoding and sending it in one task would add up.
   */
  private sendFrames(to: string, frames: readonly Uint8Array[], justEncoded = false): void {
    const later = justEncoded && frames.reduce((n, f) => n + f.byteLength, 0) >= SEND_LATER_FROM_BYTES;
    if (!this.outbox.send(to, frames, later)) this.trafficOf(to).messagesDropped++;
  }

  private deliverFrames(to: string, frames: readonly Uint8Array[]): void {
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
    const peerId = conn.peer;
    const admission = this.config.admission;
    if (conn.serialization !== 'raw') {
      this.refuse(conn, 'serialization', `refused a connection from ${peerId} with serialization '${conn.serialization}' (expected 'raw')`);
      return;
    }
    if ((this.links.get(peerId)?.length ?? 0) >= admission.maxLinksPerPeer) {
      this.refuse(conn, 'too-many-links', `refused another connection from ${peerId} (limit ${admission.maxLinksPerPeer} per peer)`);
      return;
    }
    if (!this.admitted.has(peerId)) {
      if (!this.newConnections.tryTake()) {
        this.refuse(conn, 'rate-limit', `refused ${peerId}: more than ${admission.maxNewConnectionsPerSecond} new connections per second`);
        return;
      }
      // Every pending slot taken: the oldest unproven connection gives way, so holding the slots cannot keep a real
      // joiner out (it proves itself within a handshake, long before the rate limit lets a flood refill them).
      if (this.pendingIncoming() >= admission.maxPendingConnections) {
        const oldest = this.oldestPendingIncoming();
        if (oldest) this.reject(oldest, 'pending-limit', `closed the connection of ${oldest.peerId}, the oldest of ${admission.maxPendingConnections} awaiting admission, for ${peerId}`);
      }
    }
    this.addLink(conn, false);
  }

  /** Incoming connections of peers not admitted yet. */
  private pendingIncoming(): number {
    let n = 0;
    for (const [peerId, links] of this.links) {
      if (this.admitted.has(peerId)) continue;
      for (const link of links) if (!link.outgoing) n++;
    }
    return n;
  }

  private oldestPendingIncoming(): Link | null {
    let oldest: Link | null = null;
    for (const [peerId, links] of this.links) {
      if (this.admitted.has(peerId)) continue;
      for (const link of links) if (!link.outgoing && (!oldest || link.createdAt < oldest.createdAt)) oldest = link;
    }
    return oldest;
  }

  /** Closes a connection never taken on, counted. */
  private refuse(conn: DataConnectionLike, reason: RejectionReason, detail: string): void {
    this.noteRejection(reason, conn.peer, detail);
    try {
      conn.close();
    } catch {
      // A half-built connection may throw on close; it is not kept either way.
    }
  }

  /** Closes a link that broke a rule, counted; reported only as the rejection counter allows. */
  private reject(link: Link, reason: RejectionReason, detail: string): void {
    this.noteRejection(reason, link.peerId, detail);
    this.dropLink(link, detail, false);
  }

  private noteRejection(reason: RejectionReason, peerId: string, detail: string): void {
    const line = this.rejected.note(reason, detail.length > 200 ? `${detail.slice(0, 200)}...` : detail);
    if (line) this.reportError({ kind: 'connection', peerId, message: line });
  }

  private addLink(conn: DataConnectionLike, outgoing: boolean, waiter?: ConnectWaiter): void {
    const peerId = conn.peer;
    const admitted = this.admitted.has(peerId);
    const limit = admitted ? this.messageLimit : this.config.admission.maxPreAdmissionBytes;
    const objects = admitted ? this.objectLimit : undefined;
    const decoder = this.codec.createDecoder({ maxMessageBytes: limit, maxObjects: objects });
    // Also for codecs that wrap another and do not pass the options on.
    decoder.setMaxMessageBytes?.(limit, objects);
    const inbox = new LinkInbox(
      decoder,
      (decoded) => this.deliver(link, decoded),
      this.decoding.offload,
      this.decoding.maxPendingPerLink ?? MAX_PENDING_DECODES_PER_LINK,
    );
    const link: Link = { conn, peerId, decoder, inbox, outgoing, createdAt: Date.now(), state: 'pending', lastHeardAt: Date.now(), unfinishedBytes: 0, waiter };
    const links = this.links.get(peerId) ?? [];
    links.push(link);
    this.links.set(peerId, links);
    const timeoutMs = this.config.timings.connectTimeoutMs;
    link.openTimer = setTimeout(() => this.dropLink(link, `connection with ${peerId} did not open within ${timeoutMs} ms`), timeoutMs);
    if (!admitted) {
      const admitMs = this.config.admission.admissionTimeoutMs;
      link.admissionTimer = setTimeout(
        () => this.reject(link, 'admission-timeout', `${peerId} was not admitted within ${admitMs} ms`),
        admitMs,
      );
    }
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
    const admitted = this.admitted.has(link.peerId);
    const frame = asBytes(data);
    if (!frame) {
      const what = `a ${typeof data} DataChannel message from ${link.peerId}`;
      if (!admitted) this.reject(link, 'not-binary', `${what} before admission`);
      else this.refused(link, `ignored ${what}`);
      return;
    }
    const traffic = this.trafficOf(link.peerId);
    traffic.bytesReceived += frame.byteLength;
    if (!admitted) {
      this.receiveBeforeAdmission(link, frame, traffic);
      return;
    }
    link.unfinishedBytes += frame.byteLength;
    // Delivers what is decoded at once; what the offload decodes follows later, in order.
    const pushed = link.inbox.push(frame);
    if (pushed.backlogFull) {
      this.reject(link, 'decode-backlog', `${link.peerId} has ${link.inbox.pendingMessages} messages waiting to be decoded`);
    } else if (pushed.completed) {
      link.unfinishedBytes = 0;
    } else if (link.unfinishedBytes > this.unfinishedAllowance()) {
      // A backstop for codecs that buffer without a limit: frames of one message never add up to this much.
      this.reject(link, 'message-limit', `${link.peerId} sent ${link.unfinishedBytes} bytes without completing a message`);
    }
  }

  /** Reports and hands on what an admitted peer's link decoded; nothing once the link is closed. */
  private deliver(link: Link, { messages, errors }: Decoded): void {
    if (link.state === 'closed') return;
    const traffic = this.trafficOf(link.peerId);
    for (const message of errors) if (this.refused(link, message)) return;
    for (const message of messages) {
      traffic.messagesReceived++;
      this.messageListeners.emit((e) => this.reportHandlerError(e), link.peerId, message);
    }
  }

  /**
   * One frame from a peer not admitted yet: at most maxPreAdmissionBytes, one whole message of an allowed type.
   * Anything else closes the link.
   */
  private receiveBeforeAdmission(link: Link, frame: Uint8Array, traffic: PeerTraffic): void {
    const { peerId } = link;
    const max = this.config.admission.maxPreAdmissionBytes;
    if (frame.byteLength > max) {
      this.reject(link, 'oversized', `${peerId} sent ${frame.byteLength} bytes before admission (limit ${max})`);
      return;
    }
    const { messages, errors } = link.decoder.push(frame);
    if (errors.length > 0) {
      this.reject(link, 'undecodable', `${peerId} before admission: ${errors[0]}`);
      return;
    }
    if (messages.length !== 1) {
      this.reject(link, 'fragmented', `${peerId} sent part of a longer message before admission`);
      return;
    }
    const [message] = messages;
    if (!allowedBeforeAdmission(message.type)) {
      this.reject(link, 'forbidden-type', `${peerId} sent '${String(message.type).slice(0, 40)}' before admission`);
      return;
    }
    traffic.messagesReceived++;
    this.messageListeners.emit((e) => this.reportHandlerError(e), peerId, message);
  }

  /**
   * A message of an admitted peer was refused (oversized, undecodable or invalid): reported (throttled), and counted;
   * too many within the window close the link, with one report naming the peer. Returns whether it closed the link.
   */
  private refused(link: Link, reason: string): boolean {
    this.reportDecodeError(link.peerId, reason);
    if (!this.refusals.note(link.peerId)) return false;
    const { maxRefusedMessages, refusedMessagesWindowMs } = this.config.admission;
    const detail = reason.length > 200 ? `${reason.slice(0, 200)}...` : reason;
    this.rejected.count('refused-messages');
    this.reportError({
      kind: 'connection',
      peerId: link.peerId,
      message: `closed the connection with ${link.peerId}: ${maxRefusedMessages} of its messages refused within ${refusedMessagesWindowMs / 1000} s (latest: ${detail})`,
    });
    this.dropLink(link, null);
    return true;
  }

  /** Bytes an admitted link may receive without completing a message: the limit plus generous frame overhead. */
  private unfinishedAllowance(): number {
    return 2 * this.messageLimit + this.config.maxFrameBytes;
  }

  /**
   * Closes a link. `reason` null means an orderly close (no error reported); `report` false keeps a reason
   * out of onError (rejections are reported by their counter) while still failing a waiting connect().
   * Reports onPeerLeft when this was the peer's last open link.
   */
  private dropLink(link: Link, reason: string | null, report = true): void {
    if (link.state === 'closed') return;
    const wasOpen = link.state === 'open';
    const wasAdmitted = this.admitted.has(link.peerId);
    link.state = 'closed';
    link.inbox.close();
    clearTimeout(link.openTimer);
    clearTimeout(link.admissionTimer);
    const remaining = (this.links.get(link.peerId) ?? []).filter((l) => l !== link);
    if (remaining.length > 0) this.links.set(link.peerId, remaining);
    else {
      this.links.delete(link.peerId);
      // Traffic of peers never admitted is not kept: a flood of made-up peer ids must not grow the table.
      if (!this.admitted.delete(link.peerId)) this.traffic.delete(link.peerId);
    }
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
    } else if (reason !== null && report) {
      // Strangers' connections coming and going must not become one report each.
      if (!wasAdmitted && !link.outgoing) this.noteRejection('lost-before-admission', link.peerId, reason);
      else this.reportError({ kind: 'connection', peerId: link.peerId, message: reason });
    }
    if (!stillConnected) {
      this.decodeReports.forget(link.peerId);
      this.refusals.forget(link.peerId);
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

  private reportDecodeError(peerId: string, text: string): void {
    const message = this.decodeReports.pass(peerId, text);
    if (message !== null) this.reportError({ kind: 'decode', peerId, message });
  }

  private reportError(error: TransportError): void {
    // An error handler that throws must not recurse into reportError.
    this.errorListeners.emit((e) => console.error('PeerTransport onError handler threw', e), error);
  }
}
