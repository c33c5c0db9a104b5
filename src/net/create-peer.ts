/** Browser only: makes a peerjs Peer on the app's signalling server and wraps it in a PeerTransport. */
import { Peer } from 'peerjs';
import type { WireCodec } from '../fl/transport';
import { PeerTransport } from './peer-transport';
import { resolvePeerTransportConfig, type PeerTransportConfig, type PeerTransportOptions } from './peer-transport-config';

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

export interface OpenPeerTransportOptions extends PeerTransportOptions {
  /** This peer's id; random when omitted. */
  id?: string;
  codec: WireCodec;
  /**
   * Close the transport when the page goes away (default true), so peers see the DataChannels close
   * at once instead of waiting for the heartbeat silence timeout.
   */
  closeOnPageHide?: boolean;
}

/** Registers with the signalling server (the page's own origin by default) and returns a ready transport. */
export async function openPeerTransport(options: OpenPeerTransportOptions): Promise<PeerTransport> {
  const config = resolvePeerTransportConfig(options);
  const peer = await createPeer(options.id, config);
  const transport = new PeerTransport(peer, options.codec, config);
  if ((options.closeOnPageHide ?? true) && typeof window !== 'undefined') {
    window.addEventListener('pagehide', () => transport.close(), { once: true });
  }
  return transport;
}
