/** Browser only: makes a peerjs Peer on the app's signalling server and wraps it in a PeerTransport. */
import { Peer } from 'peerjs';
import type { DecodeOffload } from '../fl/codec/wire-codec';
import type { WireCodec } from '../fl/transport';
import { PeerTransport } from './peer-transport';
import { resolvePeerTransportConfig, type PeerTransportConfig, type PeerTransportOptions } from './peer-transport-config';
import { keepRelayServers, type RelayStatus } from './relay-servers';
import { ConnectionWatch, type NetworkReport, type WatchedConnection } from './connection-watch';

/** What peerjs accepts as an id: alphanumeric at both ends, single '-', '_' or ' ' inside. */
const PEER_ID = /^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$/;

/** A random peer id. Uses getRandomValues, which (unlike randomUUID) also works on plain-http LAN pages. */
export function randomPeerId(prefix = 'p'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `${prefix}${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function assertValidPeerId(id: string): void {
  if (!PEER_ID.test(id)) {
    throw new Error(`peer id "${id}" is invalid: use letters and digits, with single '-', '_' or spaces between them`);
  }
}

/**
 * Registers a peer with the signalling server. Always sends an id (random if none is given), so the
 * server's HTTP id route is never needed. Rejects if the id is taken or the server cannot be reached in time.
 */
export function createPeer(id: string | undefined, config: PeerTransportConfig): Promise<Peer> {
  const peerId = id ?? randomPeerId();
  assertValidPeerId(peerId);
  const { signalling, iceServers, timings } = config;
  const where = `${signalling.secure ? 'wss' : 'ws'}://${signalling.host}:${signalling.port}${signalling.path}`;
  return new Promise<Peer>((resolve, reject) => {
    const peer = new Peer(peerId, {
      host: signalling.host,
      port: signalling.port,
      path: signalling.path,
      secure: signalling.secure,
      key: signalling.key,
      config: { iceServers },
      debug: 0,
    });
    const fail = (message: string) => {
      clearTimeout(timer);
      peer.destroy();
      reject(new Error(message));
    };
    const timer = setTimeout(
      () => fail(`signalling server ${where} did not accept peer ${peerId} within ${timings.signallingTimeoutMs} ms`),
      timings.signallingTimeoutMs,
    );
    peer.once('open', () => {
      clearTimeout(timer);
      peer.off('error', onError);
      resolve(peer);
    });
    const onError = (error: Error & { type?: string }) =>
      fail(error.type === 'unavailable-id' ? `peer id "${peerId}" is already taken on ${where}` : `signalling server ${where}: ${error.message}`);
    peer.once('error', onError);
  });
}

/** The part of a peerjs Peer that keepPeerId uses. */
export interface ReclaimablePeer {
  readonly id: string;
  readonly disconnected: boolean;
  readonly destroyed: boolean;
  on(event: 'disconnected' | 'open' | 'close', listener: () => void): unknown;
  off(event: 'disconnected' | 'open' | 'close', listener: () => void): unknown;
  reconnect(): void;
  disconnect(): void;
}

export interface KeepPeerIdOptions {
  /** Wait before the first reconnect; doubles after each failure up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A reconnect that neither opens nor fails within this time is abandoned and retried. */
  openTimeoutMs: number;
  /** 'lost' when the signalling socket dropped, 'retrying' before each attempt, 'reclaimed' when the id is back. */
  onState?: (state: 'lost' | 'retrying' | 'reclaimed', attempt: number) => void;
}

export const KEEP_PEER_ID_DEFAULTS: Readonly<KeepPeerIdOptions> = { initialDelayMs: 1_000, maxDelayMs: 30_000, openTimeoutMs: 10_000 };

/**
 * Keeps a peer's id registered: whenever its signalling socket drops, reconnects with the same id, with
 * exponential backoff, for as long as the peer lives. If someone else holds the id meanwhile (peerjs reports
 * the id as taken and disconnects again), it keeps retrying until the id is free again. Returns a stop function.
 */
export function keepPeerId(peer: ReclaimablePeer, options: Partial<KeepPeerIdOptions> = {}): () => void {
  const o = { ...KEEP_PEER_ID_DEFAULTS, ...options };
  let attempt = 0;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let openTimer: ReturnType<typeof setTimeout> | undefined;
  const clearTimers = () => {
    clearTimeout(retryTimer);
    clearTimeout(openTimer);
    retryTimer = openTimer = undefined;
  };
  const schedule = () => {
    if (stopped || peer.destroyed || retryTimer !== undefined) return;
    const delay = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** Math.min(attempt, 30));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (stopped || peer.destroyed || !peer.disconnected) return;
      attempt++;
      o.onState?.('retrying', attempt);
      openTimer = setTimeout(() => {
        openTimer = undefined;
        // Neither open nor a failure: give this attempt up (disconnect() emits 'disconnected', which retries).
        if (!peer.disconnected && !peer.destroyed) peer.disconnect();
      }, o.openTimeoutMs);
      try {
        peer.reconnect();
      } catch {
        clearTimers();
        schedule();
      }
    }, delay);
  };
  const onDisconnected = () => {
    if (stopped || peer.destroyed) return;
    clearTimeout(openTimer);
    openTimer = undefined;
    if (attempt === 0) o.onState?.('lost', 0);
    schedule();
  };
  const onOpen = () => {
    const hadLost = attempt > 0;
    clearTimers();
    if (hadLost) o.onState?.('reclaimed', attempt);
    attempt = 0;
  };
  const stop = () => {
    stopped = true;
    clearTimers();
    peer.off('disconnected', onDisconnected);
    peer.off('open', onOpen);
    peer.off('close', stop);
  };
  peer.on('disconnected', onDisconnected);
  peer.on('open', onOpen);
  peer.on('close', stop);
  return stop;
}

export interface OpenPeerTransportOptions extends PeerTransportOptions {
  /** This peer's id; random when omitted. */
  id?: string;
  /**
   * Reconnect with the same id whenever the signalling socket drops, retrying while someone else holds it
   * (the session host: its id is how others find it). Default false.
   */
  reclaimId?: boolean | Partial<KeepPeerIdOptions>;
  codec: WireCodec;
  /**
   * Close the transport when the page goes away (default true), so peers see the DataChannels close
   * at once instead of waiting for the heartbeat silence timeout.
   */
  closeOnPageHide?: boolean;
  /** Decodes peers' large messages off the main thread (the app: the page's decode worker); undefined: on the main thread. */
  decodeOffload: DecodeOffload | undefined;
  /**
   * The session this tab belongs to (its host's signalling id): the app server's relay (STUN/TURN with credentials
   * minted for this tab) is fetched for it and added to `iceServers`. Absent: only `iceServers`.
   */
  relaySession?: string;
}

/** A PeerTransport that can also say how its connections run (direct or relayed) and why one never opened. */
export type OpenedPeerTransport = PeerTransport & {
  networkReport(): Promise<NetworkReport>;
  whyUnconnected(peerId: string): string | undefined;
};

const NO_RELAY_ASKED: RelayStatus = { kind: 'unavailable', reason: 'no session to ask the relay for' };

/** Registers with the signalling server (the page's own origin by default) and returns a ready transport. */
export async function openPeerTransport(options: OpenPeerTransportOptions): Promise<OpenedPeerTransport> {
  const config = resolvePeerTransportConfig(options);
  const peer = await createPeer(options.id, config);
  const relay = options.relaySession ? await keepRelayServers(peer, options.relaySession, config.iceServers, (url, init) => fetch(url, init)) : null;
  const watch = new ConnectionWatch(() => relay?.status() ?? NO_RELAY_ASKED);
  peer.on('connection', (connection) => watch.track(connection as unknown as WatchedConnection));
  const connect = peer.connect.bind(peer);
  peer.connect = (peerId, connectOptions) => {
    const connection = connect(peerId, connectOptions);
    if (connection) watch.track(connection as unknown as WatchedConnection);
    return connection;
  };
  const transport = new PeerTransport(peer, options.codec, config, { offload: options.decodeOffload });
  if (options.reclaimId) keepPeerId(peer, options.reclaimId === true ? {} : options.reclaimId);
  if ((options.closeOnPageHide ?? true) && typeof window !== 'undefined') {
    window.addEventListener('pagehide', () => transport.close(), { once: true });
  }
  return Object.assign(transport, { networkReport: () => watch.report(), whyUnconnected: (peerId: string) => watch.explain(peerId) });
}
