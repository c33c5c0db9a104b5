import { encode } from '@msgpack/msgpack';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { splitIntoFrames } from '../fl/codec/frames';
import { emptyMapBomb } from '../fl/codec/test-messages';
import { createWireCodec } from '../fl/codec/wire-codec';
import { PROTOCOL_VERSION, type HelloMessage, type Message, type UpdateMessage } from '../fl/protocol';
import { PeerTransport, type TransportError } from './peer-transport';
import { resolvePeerTransportConfig, type AdmissionConfig } from './peer-transport-config';
import { FakePeerNetwork, type FakeConnection } from './testing/fake-peer-network';
import { FAKED_TIMERS, settle } from './testing/transport-time';

const timings = { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 };
const codec = createWireCodec('float32');
const hello: HelloMessage = { type: 'hello', v: PROTOCOL_VERSION, clientName: 'mallory', backend: 'cpu', numSamples: 10, labelHistogram: [5, 5] };

function update(floats: number): UpdateMessage {
  return {
    type: 'update',
    v: PROTOCOL_VERSION,
    assignment: 1,
    delta: [{ name: 'dense/kernel', shape: [floats], values: new Float32Array(floats) }],
    numSamples: 10,
    metrics: { trainLoss: 0.5, evalLoss: 0.6, evalAccuracy: 0.8, trainMs: 10, samplesPerSecond: 100 },
  };
}

let nextId = 1;
/** Frames as the DataChannel delivers them: each one its own ArrayBuffer. */
const framed = (bytes: Uint8Array) => splitIntoFrames(bytes, nextId++).map((f) => f.slice().buffer);

/** What an admitted peer may send that the host refuses, one of each kind. */
const REFUSED: Record<string, () => unknown[]> = {
  // An update past the 100 KB limit the session set: 2 frames, refused at the first, reported once.
  oversized: () => codec.encode(update(100_000)).map((f) => f.slice().buffer),
  // 700 KB of empty maps: valid msgpack that the object count refuses before decoding.
  undecodable: () => framed(emptyMapBomb(700_000)),
  // Decodes, but is no protocol message.
  invalid: () => framed(encode({ type: 'update', v: PROTOCOL_VERSION, assignment: 'one' })),
  'not binary': () => ['{"type":"update"}'],
};

function setup(admission: Partial<AdmissionConfig> = {}) {
  const network = new FakePeerNetwork();
  const config = resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings, admission });
  const peer = network.createPeer('host');
  const transport = new PeerTransport(peer, codec, config);
  transport.setMessageLimit(100_000);
  const received: Message[] = [];
  const errors: TransportError[] = [];
  const left: string[] = [];
  transport.onMessage((_from, message) => received.push(message));
  transport.onError((error) => errors.push(error));
  transport.onPeerLeft((id) => left.push(id));
  /** An admitted peer that the test speaks for. */
  const admitted = (id: string): FakeConnection => {
    const conn = peer.acceptFrom(id);
    transport.admit(id);
    return conn;
  };
  return { transport, received, errors, left, admitted };
}

const send = (conn: FakeConnection, data: unknown[]) => data.forEach((d) => conn.inject(d));
const closures = (errors: TransportError[]) => errors.filter((e) => e.kind === 'connection');

describe('PeerTransport closes the link of an admitted peer whose messages keep being refused', () => {
  let transport: PeerTransport | undefined;
  beforeEach(() => {
    vi.useFakeTimers(FAKED_TIMERS);
  });
  afterEach(() => {
    transport?.close();
    vi.useRealTimers();
  });

  for (const [kind, make] of Object.entries(REFUSED)) {
    it(`after the third ${kind} message within 10 s, with one report naming the peer`, async () => {
      const host = setup();
      transport = host.transport;
      const mallory = host.admitted('mallory');
      send(mallory, make());
      send(mallory, make());
      await settle();
      expect(host.transport.connectedPeers()).toEqual(['mallory']);
      expect(host.errors.map((e) => e.kind)).toEqual(['decode']); // one throttled line per peer and interval
      send(mallory, make());
      await settle();
      expect(host.transport.connectedPeers()).toEqual([]);
      expect(host.left).toEqual(['mallory']);
      expect(closures(host.errors)).toEqual([
        { kind: 'connection', peerId: 'mallory', message: expect.stringMatching(/^closed the connection with mallory: 3 of its messages refused within 10 s \(latest: .+\)$/) },
      ]);
      expect(host.transport.rejections()['refused-messages']).toBe(1);
      expect(host.received).toEqual([]);
    });
  }

  it('counts the kinds together, and only within the window', async () => {
    const host = setup();
    transport = host.transport;
    const mallory = host.admitted('mallory');
    send(mallory, REFUSED.invalid());
    await vi.advanceTimersByTimeAsync(6_000);
    send(mallory, REFUSED.oversized());
    await vi.advanceTimersByTimeAsync(6_000); // the first one is now 12 s old
    send(mallory, REFUSED['not binary']());
    await settle();
    expect(host.transport.connectedPeers()).toEqual(['mallory']);
    send(mallory, REFUSED.undecodable());
    await settle();
    expect(host.transport.connectedPeers()).toEqual([]);
    expect(closures(host.errors)).toHaveLength(1);
  });

  it('keeps a peer whose messages are valid, and another peer when one is closed', async () => {
    const host = setup();
    transport = host.transport;
    const good = host.admitted('good');
    const mallory = host.admitted('mallory');
    for (let i = 0; i < 10; i++) {
      send(good, codec.encode(i % 2 ? hello : update(1_000)).map((f) => f.slice().buffer));
      await vi.advanceTimersByTimeAsync(100);
    }
    for (let i = 0; i < 3; i++) send(mallory, REFUSED.invalid());
    await settle();
    expect(host.transport.connectedPeers()).toEqual(['good']);
    expect(host.received.map((m) => m.type)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 'hello' : 'update')));
  });

  it("applies the session's object limit to admitted peers' messages, and the protocol's without one", async () => {
    const host = setup();
    transport = host.transport;
    const mallory = host.admitted('mallory');
    host.transport.setMessageLimit(100_000, 5_000);
    expect(host.transport.messageLimitObjects).toBe(5_000);
    send(mallory, framed(emptyMapBomb(6_000)));
    await settle();
    expect(host.errors.at(-1)?.message).toMatch(/msgpack holds more than 5000 objects/);
    host.transport.setMessageLimit(100_000);
    await vi.advanceTimersByTimeAsync(10_000); // the next report
    send(mallory, framed(emptyMapBomb(6_000)));
    await settle();
    expect(host.errors.at(-1)?.message).toMatch(/expected an object, got an array/); // decoded, then refused as no message
    expect(() => host.transport.setMessageLimit(100_000, 0)).toThrow(RangeError);
    expect(() => host.transport.setMessageLimit(100_000, 10_000_000)).toThrow(RangeError);
  });

  it('takes its threshold and window from the admission settings', async () => {
    expect(() => setup({ maxRefusedMessages: 0 })).toThrow('admission.maxRefusedMessages');
    expect(() => setup({ refusedMessagesWindowMs: 0 })).toThrow('admission.refusedMessagesWindowMs');
    const host = setup({ maxRefusedMessages: 1 });
    transport = host.transport;
    send(host.admitted('mallory'), REFUSED.invalid());
    await settle();
    expect(host.transport.connectedPeers()).toEqual([]);
  });
});
