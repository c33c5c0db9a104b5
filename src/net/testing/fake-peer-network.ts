/**
 * In-memory stand-in for peerjs (Peer + DataConnection) for Node unit tests of PeerTransport.
 * Delivery is asynchronous (microtasks) and binary data arrives as a copied ArrayBuffer, as in a browser
 * with `binaryType = 'arraybuffer'`. Opening is manual or automatic, so tests control timing.
 */
import type { DataConnectionLike, PeerErrorLike, PeerLike } from '../peer-transport';

type Listener = (...args: never[]) => void;

class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  protected fire(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: unknown[]) => void)(...args);
  }
}

export class FakeConnection extends Emitter implements DataConnectionLike {
  open = false;
  remote: FakeConnection | null = null;
  /** Everything passed to send(), in order. */
  readonly sent: Array<Uint8Array | string> = [];
  /** When set, send() throws this (simulates a channel that died under the caller). */
  failSends: Error | null = null;

  constructor(
    readonly peer: string,
    readonly serialization: string,
  ) {
    super();
  }

  send(data: Uint8Array | string): void {
    if (this.failSends) throw this.failSends;
    this.sent.push(data);
    const remote = this.remote;
    if (!this.open || !remote) return;
    const delivered = typeof data === 'string' ? data : data.slice().buffer;
    queueMicrotask(() => {
      if (remote.open) remote.fire('data', delivered);
    });
  }

  close(): void {
    const wasOpen = this.open;
    this.open = false;
    if (wasOpen) this.fire('close');
    const remote = this.remote;
    if (remote?.open) queueMicrotask(() => remote.close());
  }

  /** Marks this end open and fires 'open'. */
  markOpen(): void {
    if (this.open) return;
    this.open = true;
    this.fire('open');
  }

  /** Delivers raw data as if the remote end had sent it. */
  inject(data: unknown): void {
    this.fire('data', data);
  }

  failWith(message: string): void {
    this.fire('error', new Error(message));
  }
}

export class FakePeer extends Emitter implements PeerLike {
  destroyed = false;
  /** Outgoing connections made by this peer, in order. */
  readonly outgoing: FakeConnection[] = [];

  constructor(
    readonly id: string,
    private readonly network: FakePeerNetwork,
  ) {
    super();
  }

  connect(peerId: string, options: { serialization: 'raw'; reliable: true }): FakeConnection {
    const local = new FakeConnection(peerId, options.serialization);
    this.outgoing.push(local);
    this.network.route(this, local, peerId, options.serialization);
    return local;
  }

  destroy(): void {
    this.destroyed = true;
    this.network.remove(this.id);
  }

  emitError(type: string, message: string): void {
    const error: PeerErrorLike = Object.assign(new Error(message), { type });
    this.fire('error', error);
  }

  emitDisconnected(): void {
    this.fire('disconnected');
  }

  /** The signalling server accepted this peer's id again (peerjs fires 'open' after a successful reconnect()). */
  emitReconnected(): void {
    this.fire('open', this.id);
  }

  deliverIncoming(conn: FakeConnection): void {
    this.fire('connection', conn);
  }

  /**
   * A connection from `remoteId` that no transport drives: the test speaks for the remote side through
   * `inject` on the returned (local) end. Opened at once unless `open` is false.
   */
  acceptFrom(remoteId: string, open = true, serialization = 'raw'): FakeConnection {
    const conn = new FakeConnection(remoteId, serialization);
    this.deliverIncoming(conn);
    if (open) conn.markOpen();
    return conn;
  }
}

export class FakePeerNetwork {
  private readonly peers = new Map<string, FakePeer>();
  /** When false, connections stay pending until a test calls markOpen on both ends. */
  autoOpen = true;

  createPeer(id: string): FakePeer {
    const peer = new FakePeer(id, this);
    this.peers.set(id, peer);
    return peer;
  }

  remove(id: string): void {
    this.peers.delete(id);
  }

  route(from: FakePeer, local: FakeConnection, targetId: string, serialization: string): void {
    const target = this.peers.get(targetId);
    if (!target) {
      queueMicrotask(() => from.emitError('peer-unavailable', `Could not connect to peer ${targetId}`));
      return;
    }
    const remote = new FakeConnection(from.id, serialization);
    local.remote = remote;
    remote.remote = local;
    queueMicrotask(() => {
      target.deliverIncoming(remote);
      if (this.autoOpen) {
        remote.markOpen();
        local.markOpen();
      }
    });
  }
}
