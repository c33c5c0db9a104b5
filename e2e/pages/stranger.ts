/**
 * A stranger who learned a host's peer id but not the session's join secret. It registers that id on the
 * signalling server, accepts every connection, records every byte it receives, and answers every auth-hello with
 * a forged auth-challenge (it cannot compute a real proof). Driven by e2e/squat.e2e.ts through window.stranger.
 */
import { Peer, type DataConnection } from 'peerjs';
import { createWireCodec } from '../../src/fl/codec';
import { PROTOCOL_VERSION } from '../../src/fl/protocol';
import { resolvePeerTransportConfig } from '../../src/net/peer-transport-config';

export interface StrangerRecord {
  from: string;
  bytes: number;
  /** The frame as (lossy) UTF-8 text, to search for the secret. */
  text: string;
  /** Message types the app's own decoder found in it. */
  types: string[];
}

const codec = createWireCodec('float32');
const records: StrangerRecord[] = [];
let peer: Peer | null = null;
let connections = 0;

const randomHex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

function onConnection(conn: DataConnection): void {
  connections++;
  const decoder = codec.createDecoder();
  conn.on('data', (data) => {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    if (!bytes) return; // heartbeats
    const { messages } = decoder.push(bytes.slice());
    records.push({ from: conn.peer, bytes: bytes.byteLength, text: new TextDecoder().decode(bytes), types: messages.map((m) => m.type) });
    if (messages.some((m) => m.type === 'auth-hello')) {
      for (const frame of codec.encode({ type: 'auth-challenge', v: PROTOCOL_VERSION, nonce: randomHex(16), proof: randomHex(32) })) conn.send(frame);
    }
  });
}

const stranger = {
  /** Registers `id`; resolves 'open', or the peerjs error type (e.g. 'unavailable-id'). */
  register(id: string): Promise<string> {
    const { signalling } = resolvePeerTransportConfig();
    return new Promise((resolve) => {
      const p = new Peer(id, { host: signalling.host, port: signalling.port, path: signalling.path, secure: signalling.secure, key: signalling.key, config: { iceServers: [] }, debug: 0 });
      p.once('open', () => {
        peer = p;
        p.on('connection', onConnection);
        resolve('open');
      });
      p.once('error', (e: Error & { type?: string }) => {
        p.destroy();
        resolve(e.type ?? e.message);
      });
    });
  },
  records: () => records,
  connections: () => connections,
  leave(): void {
    peer?.destroy();
    peer = null;
  },
};

(window as unknown as { stranger: typeof stranger }).stranger = stranger;
document.body.dataset.ready = 'true';
