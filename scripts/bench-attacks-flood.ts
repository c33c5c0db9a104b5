/**
 * The flood of unadmitted connections of bench:attacks row 7, on its own so that bench:hostile runs it without the
 * session stack bench:attacks loads.
 */
import { createWireCodec } from '../src/fl/codec';
import { splitIntoFrames } from '../src/fl/codec/frames';
import { PROTOCOL_VERSION, type UpdateMessage } from '../src/fl/protocol';
import { PeerTransport, type TransportError } from '../src/net/peer-transport';
import { resolvePeerTransportConfig, type AdmissionConfig } from '../src/net/peer-transport-config';
import { FakePeerNetwork } from '../src/net/testing/fake-peer-network';
import { countConsoleLines, measure } from './bench-attacks-lib';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const PEER_TIMINGS = { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 };

export function peerTransportConfig(admission: Partial<AdmissionConfig> = {}) {
  return resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings: PEER_TIMINGS, admission });
}

/** An update of `floats` float32 values (sin(i)), as a client sends it. */
export function updateMessage(floats: number): UpdateMessage {
  const values = new Float32Array(floats);
  for (let i = 0; i < floats; i++) values[i] = Math.fround(Math.sin(i));
  return {
    type: 'update',
    v: PROTOCOL_VERSION,
    assignment: 1,
    delta: [{ name: 'dense/kernel', shape: [floats], values }],
    numSamples: 120,
    metrics: { trainLoss: 0.5, evalLoss: 0.6, evalAccuracy: 0.8, trainMs: 10, samplesPerSecond: 100 },
  };
}

/**
 * Row 7 of bench:attacks: `attackers` unadmitted connections flood a host's PeerTransport (fake peer network, real clock)
 * while one admitted client sends updates; then 1,000 silent connections wait out the admission timeout.
 * bench:hostile times the same flood against its target.
 */
export async function transportFlood(admission: Partial<AdmissionConfig>, attackers: number) {
  const codec = createWireCodec('float32');
  const network = new FakePeerNetwork();
  const config = peerTransportConfig(admission);
  const hostPeer = network.createPeer('host');
  const host = new PeerTransport(hostPeer, codec, config);
  const client = new PeerTransport(network.createPeer('client'), codec, config);
  const errors: TransportError[] = [];
  host.onError((e) => errors.push(e));
  const received: string[] = [];
  host.onMessage((from) => received.push(from));
  await client.connect('host');
  host.admit('client');
  client.admit('host');
  // What an attacker would send: 256 KB frames (the old transport buffered up to 128 MB per link from them),
  // a bomb small enough to pass the size check, the first 1 KB frame of a larger message, and a valid update
  // (a type it may not send before admission).
  const big = new Uint8Array(256 * 1024).fill(0xdc);
  const fragment = createWireCodec('float32', { maxFrameBytes: 1024 }).encode(updateMessage(2_000))[0];
  const hostile = [big, splitIntoFrames(new Uint8Array(3000).fill(0xdc), 9)[0], fragment, codec.encode(updateMessage(16))[0]];
  let maxHeld = 0;
  let sentBytes = 0;
  const { value: m, lines } = await countConsoleLines(() =>
    measure(async () => {
      for (let i = 0; i < attackers; i++) {
        const conn = hostPeer.acceptFrom(`evil${i}`);
        for (let k = 0; k < 8; k++) {
          const frame = hostile[(i + k) % hostile.length];
          sentBytes += frame.length;
          conn.inject(frame.slice().buffer);
        }
        maxHeld = Math.max(maxHeld, host.connectedPeers().length - 1);
        if (i % 100 === 99) {
          client.send('host', updateMessage(64));
          await sleep(0);
        }
      }
      await sleep(10);
    }),
  );
  const held = host.connectedPeers().filter((p) => p !== 'client').length;
  // Silent connections: opened, then nothing sent. Held until the pending cap, then closed by the admission timeout.
  const silent = 1000;
  for (let i = 0; i < silent; i++) hostPeer.acceptFrom(`silent${i}`);
  const silentHeld = host.connectedPeers().length - 1;
  await sleep(config.admission.admissionTimeoutMs + 500);
  const silentLeft = host.connectedPeers().length - 1;
  const rejections = Object.fromEntries(Object.entries(host.rejections()).filter(([, n]) => n > 0));
  const admittedDelivered = received.filter((f) => f === 'client').length;
  host.close();
  client.close();
  return { m, lines, maxHeld, held, silent, silentHeld, silentLeft, sentBytes, rejections, errors: errors.length, admittedDelivered, expected: Math.floor(attackers / 100) };
}
