import { decode as decodeMsgpack, encode as encodeMsgpack } from '@msgpack/msgpack';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { splitIntoFrames } from '../fl/codec/frames';
import type { WireLimits } from '../fl/codec/limits';
import { encodeMessage, tryDecodeMessage, type DecodeResult } from '../fl/codec/message-codec';
import { MLP_50K_SHAPES, randomWeights } from '../fl/codec/test-messages';
import { createWireCodec, type DecodeOffload } from '../fl/codec/wire-codec';
import { PROTOCOL_VERSION, type HelloMessage, type Message, type UpdateMessage } from '../fl/protocol';
import { MAX_PENDING_DECODES_PER_LINK } from './link-inbox';
import { PeerTransport, type TransportError } from './peer-transport';
import { resolvePeerTransportConfig } from './peer-transport-config';
import { FakeConnection, FakePeerNetwork } from './testing/fake-peer-network';
import { connectAndAdmit, FAKED_TIMERS, settle } from './testing/transport-time';

const timings = { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 };
const config = resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings });
const codec = createWireCodec('float16');
const MIN_BYTES = 32 * 1024;

/** A 50k-parameter update: about 100 KB in float16, so the offload decodes it. */
const bigUpdate = (round: number): UpdateMessage => ({
  type: 'update',
  v: PROTOCOL_VERSION,
  assignment: round,
  delta: randomWeights(MLP_50K_SHAPES, round),
  numSamples: 120,
  metrics: { trainLoss: 0.5, evalLoss: 0.6, evalAccuracy: 0.8, trainMs: 10, samplesPerSecond: 100 },
});
const bye = (reason: string): Message => ({ type: 'bye', v: PROTOCOL_VERSION, reason });
const hello: HelloMessage = { type: 'hello', v: PROTOCOL_VERSION, clientName: 'tab', backend: 'cpu', numSamples: 10, labelHistogram: [5, 5] };

/** An offload whose decodes finish only when the test says so (in any order). */
class ControlledOffload implements DecodeOffload {
  readonly calls: Array<{ bytes: Uint8Array; limits: WireLimits; settle(result: DecodeResult | Error): void }> = [];

  constructor(readonly minBytes = MIN_BYTES) {}

  decode(bytes: Uint8Array, limits: WireLimits): Promise<DecodeResult> {
    return new Promise((resolve, reject) => {
      this.calls.push({ bytes, limits, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  }

  /** Finishes call `i` as the decode worker would: tryDecodeMessage under the limits it was given. */
  finish(i: number): void {
    const call = this.calls[i];
    call.settle(tryDecodeMessage(call.bytes, call.limits));
  }
}

const describeMessages = (messages: Message[]) => messages.map((m) => (m.type === 'update' ? `update ${m.assignment}` : m.type));

function setup(offload: DecodeOffload) {
  const network = new FakePeerNetwork();
  const make = (id: string, withOffload: boolean) => {
    const peer = network.createPeer(id);
    const transport = new PeerTransport(peer, codec, config, withOffload ? { offload } : {});
    const received: Message[] = [];
    const errors: TransportError[] = [];
    const left: string[] = [];
    transport.onMessage((_, message) => received.push(message));
    transport.onError((error) => errors.push(error));
    transport.onPeerLeft((peerId) => left.push(peerId));
    return { peer, transport, received, errors, left };
  };
  return { make };
}

/** The host's end of its connection with `peerId`, to inject hand-made frames. */
function hostConnection(host: PeerTransport, peerId: string): FakeConnection {
  const links = (host as unknown as { links: Map<string, Array<{ conn: FakeConnection }>> }).links;
  return links.get(peerId)![0].conn;
}

describe('PeerTransport with a decode offload', () => {
  const transports: PeerTransport[] = [];
  let offload: ControlledOffload;

  beforeEach(() => {
    vi.useFakeTimers(FAKED_TIMERS);
    offload = new ControlledOffload();
  });
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
    vi.useRealTimers();
  });

  /** A client connected to a host that decodes through `offload`, both admitted. */
  async function admittedPair() {
    const { make } = setup(offload);
    const host = make('host', true);
    const client = make('client', false);
    transports.push(host.transport, client.transport);
    await connectAndAdmit(host, client);
    return { host, client };
  }

  it('delivers a small message at once, without the offload', async () => {
    const { host, client } = await admittedPair();
    client.transport.send('host', bye('small'));
    await settle();
    expect(host.received).toEqual([bye('small')]);
    expect(offload.calls).toHaveLength(0);
  });

  it('keeps one peer in order: a small message after a large one waits for it', async () => {
    const { host, client } = await admittedPair();
    client.transport.send('host', bigUpdate(1));
    client.transport.send('host', bye('after the update'));
    client.transport.send('host', bigUpdate(2));
    await settle();
    expect(host.received).toEqual([]);
    expect(offload.calls).toHaveLength(2);
    expect(offload.calls[0].bytes.length).toBeGreaterThanOrEqual(MIN_BYTES);

    // The second large message finishing first changes nothing: the first holds everything behind it.
    offload.finish(1);
    await settle();
    expect(host.received).toEqual([]);
    offload.finish(0);
    await settle();
    expect(describeMessages(host.received)).toEqual(['update 1', 'bye', 'update 2']);
    expect(host.errors).toEqual([]);
    expect(host.transport.trafficWith('client').messagesReceived).toBe(3);

    // The queue drained: a small message goes straight through again.
    client.transport.send('host', bye('later'));
    await settle();
    expect(host.received.at(-1)).toEqual(bye('later'));
  });

  it('reports a message the offload rejects exactly as one rejected here, and goes on', async () => {
    const { host, client } = await admittedPair();
    // A well-framed large update with a field validation refuses.
    const raw = decodeMsgpack(encodeMessage(bigUpdate(3), 'float16')) as Record<string, unknown>;
    const frames = splitIntoFrames(encodeMsgpack({ ...raw, assignment: -1 }), 7);
    const rejectedHere = codec.createDecoder().push(frames[0]);
    expect(rejectedHere.errors).toEqual([expect.stringMatching(/^message rejected: update\.assignment/)]);

    for (const frame of frames) hostConnection(host.transport, 'client').inject(frame.slice().buffer);
    client.transport.send('host', bye('next'));
    await settle();
    offload.finish(0);
    await settle();
    expect(host.errors).toEqual([{ kind: 'decode', peerId: 'client', message: rejectedHere.errors[0] }]);
    expect(host.received).toEqual([bye('next')]);
    expect(host.transport.connectedPeers()).toEqual(['client']);
  });

  it('reports a failed offload (a dead worker) as a decode error of that message', async () => {
    const { host, client } = await admittedPair();
    client.transport.send('host', bigUpdate(4));
    client.transport.send('host', bye('next'));
    await settle();
    offload.calls[0].settle(new Error('the decode worker failed'));
    await settle();
    expect(host.errors).toEqual([{ kind: 'decode', peerId: 'client', message: 'message rejected: decoding failed: the decode worker failed' }]);
    expect(host.received).toEqual([bye('next')]);
  });

  it('delivers nothing of a link closed while its messages are being decoded', async () => {
    const { host, client } = await admittedPair();
    client.transport.send('host', bigUpdate(5));
    client.transport.send('host', bye('behind'));
    await settle();
    host.transport.disconnect('client');
    expect(host.left).toEqual(['client']);
    offload.finish(0);
    await settle();
    expect(host.received).toEqual([]);
    expect(host.errors).toEqual([]);
  });

  it(`closes a link with more than ${MAX_PENDING_DECODES_PER_LINK} messages waiting to be decoded`, async () => {
    const { host, client } = await admittedPair();
    client.transport.send('host', bigUpdate(6));
    for (let i = 1; i < MAX_PENDING_DECODES_PER_LINK; i++) client.transport.send('host', bye(`waiting ${i}`));
    await settle();
    expect(host.transport.connectedPeers()).toEqual(['client']);
    expect(host.transport.rejections()['decode-backlog']).toBe(0);

    client.transport.send('host', bye('one too many'));
    await settle();
    expect(host.transport.rejections()['decode-backlog']).toBe(1);
    expect(host.transport.connectedPeers()).toEqual([]);
    offload.finish(0);
    await settle();
    expect(host.received).toEqual([]);
  });

  it('never offloads before admission, whatever the offload takes', async () => {
    offload = new ControlledOffload(1);
    const { make } = setup(offload);
    const host = make('host', true);
    transports.push(host.transport);
    const conn = host.peer.acceptFrom('stranger');
    conn.inject(codec.encode(hello)[0].slice().buffer);
    expect(host.received).toEqual([hello]);
    expect(offload.calls).toHaveLength(0);
  });
});
