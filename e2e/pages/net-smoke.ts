/** Test page: one PeerTransport per tab, on the app's own signalling server, driven through window.netSmoke. */
import type { Message, UpdateMessage } from '../../src/fl/protocol';
import { openPeerTransport } from '../../src/net/create-peer';
import { fetchServerUrls } from '../../src/net/endpoints';
import type { PeerTransport, TransportError } from '../../src/net/peer-transport';
import { createJsonWireCodec } from '../../src/net/testing/json-wire-codec';
import { sharedDecodeOffload } from '../../src/worker/worker-decoder';
import { updateValue, weightedChecksum, type NetSmokeApi, type ReceivedSummary } from './net-smoke-api';

let transport: PeerTransport | null = null;
const received: ReceivedSummary[] = [];
const joined: string[] = [];
const left: string[] = [];
const errors: TransportError[] = [];

function requireTransport(): PeerTransport {
  if (!transport) throw new Error('netSmoke.start() was not called');
  return transport;
}

function summarise(from: string, message: Message): ReceivedSummary {
  if (message.type === 'update') {
    const values = message.delta[0]?.values ?? new Float32Array(0);
    return { from, type: message.type, values: values.length, checksum: weightedChecksum(values) };
  }
  if (message.type === 'bye') return { from, type: message.type, reason: message.reason };
  return { from, type: message.type };
}

const api: NetSmokeApi = {
  async start(id) {
    transport = await openPeerTransport({
      id,
      codec: createJsonWireCodec(),
      decodeOffload: sharedDecodeOffload(),
      // Short enough that a vanished tab is noticed within the test's patience either way.
      timings: { heartbeatIntervalMs: 500, peerSilenceTimeoutMs: 5_000 },
    });
    transport.onMessage((from, message) => received.push(summarise(from, message)));
    transport.onPeerJoined((peerId) => joined.push(peerId));
    transport.onPeerLeft((peerId) => left.push(peerId));
    transport.onError((error) => errors.push(error));
    return transport.selfId;
  },
  connect: (peerId) => requireTransport().connect(peerId),
  admit: (peerId) => requireTransport().admit(peerId),
  sendBye: (to, reason) => requireTransport().send(to, { type: 'bye', v: 1, reason }),
  sendUpdate(to, floats) {
    const values = new Float32Array(floats);
    for (let i = 0; i < floats; i++) values[i] = updateValue(i);
    const message: UpdateMessage = {
      type: 'update',
      v: 1,
      assignment: 1,
      delta: [{ name: 'dense/kernel', shape: [floats], values }],
      numSamples: 100,
      metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 1, samplesPerSecond: 1 },
    };
    requireTransport().send(to, message);
  },
  received: () => [...received],
  joined: () => [...joined],
  left: () => [...left],
  errors: () => [...errors],
  connectedPeers: () => requireTransport().connectedPeers(),
  traffic: (peerId) => requireTransport().trafficWith(peerId),
  rejections: () => requireTransport().rejections(),
  serverUrls: () => fetchServerUrls(),
};

(window as unknown as { netSmoke: NetSmokeApi }).netSmoke = api;
document.body.dataset.ready = 'true';
