import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message, UpdateMessage } from '../fl/protocol';
import type { WireCodec } from '../fl/transport';
import { PeerTransport, type TransportError } from './peer-transport';
import { DEFAULT_ADMISSION, resolvePeerTransportConfig, type PeerTimings } from './peer-transport-config';
import { createJsonWireCodec } from './testing/json-wire-codec';
import { FakeConnection, FakePeerNetwork } from './testing/fake-peer-network';

const FRAME_LIMIT = 256 * 1024;
const timings: PeerTimings = { signallingTimeoutMs: 1000, connectTimeoutMs: 500, heartbeatIntervalMs: 100, peerSilenceTimeoutMs: 1000 };
const config = resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings });
/**
 * For the tests of large messages on real timers: no timeout can fire while a busy machine spends seconds encoding
 * megabytes (the short timings above are for the tests that run on fake timers).
 */
const patientConfig = resolvePeerTransportConfig({
  signalling: { host: 'test.invalid', port: 1 },
  timings: { signallingTimeoutMs: 60_000, connectTimeoutMs: 60_000, heartbeatIntervalMs: 10_000, peerSilenceTimeoutMs: 60_000 },
  admission: { ...DEFAULT_ADMISSION, admissionTimeoutMs: 60_000 },
});

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/**
 * Flushes until `done()` holds, at most `max` times: large sends are spread over tasks (PacedSender) and the fake
 * network delivers in later tasks, so how many flushes a delivery takes depends on how the event loop interleaves its
 * timers and immediates, which a busy machine changes. Counting flushes, not time, keeps the test independent of speed.
 */
async function flushUntil(done: () => boolean, max = 500): Promise<void> {
  for (let i = 0; i < max && !done(); i++) await flush();
}

function update(floats: number): UpdateMessage {
  const values = new Float32Array(floats);
  for (let i = 0; i < floats; i++) values[i] = Math.fround(Math.sin(i) * 1000);
  return {
    type: 'update',
    v: 1,
    assignment: 3,
    delta: [{ name: 'dense/kernel', shape: [floats], values }],
    numSamples: 120,
    metrics: { trainLoss: 0.5, evalLoss: 0.6, evalAccuracy: 0.8, trainMs: 10, samplesPerSecond: 100 },
  };
}

const bye = (reason: string): Message => ({ type: 'bye', v: 1, reason });

function setup(codec: WireCodec = createJsonWireCodec(FRAME_LIMIT), transportConfig = config) {
  const network = new FakePeerNetwork();
  const make = (id: string) => {
    const peer = network.createPeer(id);
    const transport = new PeerTransport(peer, codec, transportConfig);
    const received: Array<{ from: string; message: Message }> = [];
    const left: string[] = [];
    const joined: string[] = [];
    const errors: TransportError[] = [];
    transport.onMessage((from, message) => received.push({ from, message }));
    transport.onPeerLeft((peerId) => left.push(peerId));
    transport.onPeerJoined((peerId) => joined.push(peerId));
    transport.onError((error) => errors.push(error));
    return { peer, transport, received, left, joined, errors };
  };
  return { network, make };
}

describe('PeerTransport (over an in-memory peerjs stand-in)', () => {
  const transports: PeerTransport[] = [];
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
    vi.useRealTimers();
  });
  const track = <T extends { transport: PeerTransport }>(x: T) => {
    transports.push(x.transport);
    return x;
  };

  it('delivers messages both ways, splitting a 600+ KB message into frames no larger than the limit', async () => {
    const { make } = setup(undefined, patientConfig);
    const host = track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    await flushUntil(() => host.transport.connectedPeers().length === 1 && client.transport.connectedPeers().length === 1);
    expect(host.joined).toEqual(['client']);
    expect(client.joined).toEqual(['host']);
    host.transport.admit('client');
    client.transport.admit('host');

    const big = update(60_000); // ~700 KB of JSON
    client.transport.send('host', big);
    host.transport.send('client', bye('round over'));
    await flushUntil(() => host.received.length >= 1 && client.received.length >= 1);

    expect(host.received).toHaveLength(1);
    expect(host.received[0].from).toBe('client');
    const got = host.received[0].message as UpdateMessage;
    expect(got.type).toBe('update');
    expect(got.delta[0].values).toEqual(big.delta[0].values);
    expect(client.received).toEqual([{ from: 'host', message: bye('round over') }]);

    const framesSent = (client.peer.outgoing[0] as FakeConnection).sent.filter((d) => typeof d !== 'string') as Uint8Array[];
    expect(framesSent.length).toBeGreaterThanOrEqual(3);
    for (const frame of framesSent) expect(frame.byteLength).toBeLessThanOrEqual(FRAME_LIMIT);

    const sent = client.transport.trafficWith('host');
    const seen = host.transport.trafficWith('client');
    expect(sent.bytesSent).toBeGreaterThan(600_000);
    expect(seen.bytesReceived).toBe(sent.bytesSent);
    expect(sent).toMatchObject({ messagesSent: 1, messagesReceived: 1, messagesDropped: 0 });
    expect(seen).toMatchObject({ messagesSent: 1, messagesReceived: 1 });
    expect(client.transport.trafficTotals()).toEqual({ bytesSent: sent.bytesSent, bytesReceived: sent.bytesReceived });
  });

  it('lists connected peers on the accepting side and on the connecting side', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const a = track(make('a'));
    const b = track(make('b'));
    await Promise.all([a.transport.connect('host'), b.transport.connect('host')]);
    await b.transport.connect('a'); // client-to-client link, as for aggregator handover
    await flush();
    host.transport.admit('a');
    host.transport.admit('b');
    a.transport.admit('host');
    b.transport.admit('host');
    expect(host.transport.connectedPeers().sort()).toEqual(['a', 'b']);
    expect(a.transport.connectedPeers().sort()).toEqual(['b', 'host']);
    host.transport.broadcast(bye('all'));
    await flush();
    expect(a.received.map((r) => r.from)).toEqual(['host']);
    expect(b.received.map((r) => r.from)).toEqual(['host']);
  });

  it('encodes a message sent to several peers once, and each peer gets all of it', async () => {
    const codec = createJsonWireCodec(FRAME_LIMIT);
    const encode = vi.spyOn(codec, 'encode');
    const { make } = setup(codec, patientConfig);
    const host = track(make('host'));
    const a = track(make('a'));
    const b = track(make('b'));
    await Promise.all([a.transport.connect('host'), b.transport.connect('host')]);
    // Both links open on both sides before anything is sent (a frame for a link that is not open yet is dropped).
    await flushUntil(() => host.transport.connectedPeers().length === 2 && a.transport.connectedPeers().length === 1 && b.transport.connectedPeers().length === 1);
    for (const id of ['a', 'b']) host.transport.admit(id);
    a.transport.admit('host');
    b.transport.admit('host');
    encode.mockClear();
    const message = update(200_000); // several frames
    host.transport.send('a', message);
    host.transport.send('b', message);
    host.transport.send('a', update(10)); // another object: encoded on its own
    // Large sends are spread over tasks (PacedSender): wait for all three to arrive.
    await flushUntil(() => a.received.length + b.received.length >= 3);
    expect(encode).toHaveBeenCalledTimes(2);
    for (const peer of [a, b]) expect((peer.received[0].message as UpdateMessage).delta[0].values).toEqual(message.delta[0].values);
    expect(a.received).toHaveLength(2);
  });

  it('reports a peer that closes its side once through onPeerLeft, and then drops sends to it without throwing', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    await flush();
    client.transport.close();
    await flush();
    expect(host.left).toEqual(['client']);
    expect(host.transport.connectedPeers()).toEqual([]);
    expect(() => host.transport.send('client', bye('late'))).not.toThrow();
    expect(() => host.transport.send('never-seen', bye('x'))).not.toThrow();
    expect(host.transport.trafficWith('client').messagesDropped).toBe(1);
    expect(host.transport.trafficWith('never-seen').messagesDropped).toBe(1);
    expect(client.left).toEqual([]); // no events after one's own close()
  });

  it('drops a link whose send throws, reports the peer as left, and does not throw to the caller', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    await flush();
    (client.peer.outgoing[0] as FakeConnection).failSends = new Error('channel died');
    expect(() => client.transport.send('host', bye('x'))).not.toThrow();
    expect(client.left).toEqual(['host']);
    expect(client.errors.map((e) => e.message)).toContain('sending to host failed: channel died');
  });

  it('detects a peer that falls silent (no heartbeat) and keeps one that only sends heartbeats', async () => {
    vi.useFakeTimers();
    const { make } = setup();
    const host = track(make('host'));
    const talker = track(make('talker'));
    const ghost = track(make('ghost'));
    const connected = Promise.all([talker.transport.connect('host'), ghost.transport.connect('host')]);
    await vi.advanceTimersByTimeAsync(0);
    await connected;
    // The ghost's page freezes: its timers stop, so it sends nothing any more.
    vi.spyOn(ghost.transport as unknown as { heartbeat(): void }, 'heartbeat').mockImplementation(() => {});
    await vi.advanceTimersByTimeAsync(timings.peerSilenceTimeoutMs - 200);
    expect(host.left).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(host.left).toEqual(['ghost']);
    expect(host.transport.connectedPeers()).toEqual(['talker']);
    await vi.advanceTimersByTimeAsync(5 * timings.peerSilenceTimeoutMs);
    expect(host.transport.connectedPeers()).toEqual(['talker']);
    expect(host.errors.some((e) => e.kind === 'connection' && e.peerId === 'ghost' && /sent nothing/.test(e.message))).toBe(true);
  });

  it('rejects connect() to a peer the signalling server does not know, naming it', async () => {
    const { make } = setup();
    const client = track(make('client'));
    await expect(client.transport.connect('nobody')).rejects.toThrow('peer nobody is not known to the signalling server');
    expect(client.transport.connectedPeers()).toEqual([]);
  });

  it('rejects connect() when the connection does not open in time, and closes it', async () => {
    vi.useFakeTimers();
    const { network, make } = setup();
    network.autoOpen = false;
    const host = track(make('host'));
    const client = track(make('client'));
    const attempt = client.transport.connect('host');
    const outcome = attempt.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await vi.advanceTimersByTimeAsync(timings.connectTimeoutMs + 1);
    expect(await outcome).toBe(`connection with host did not open within ${timings.connectTimeoutMs} ms`);
    expect(host.joined).toEqual([]);
    expect(client.transport.isConnected('host')).toBe(false);
  });

  it('returns the same pending promise for repeated connect() calls and resolves at once when connected', async () => {
    const { make } = setup();
    track(make('host'));
    const client = track(make('client'));
    const first = client.transport.connect('host');
    expect(client.transport.connect('host')).toBe(first);
    await first;
    expect(client.peer.outgoing).toHaveLength(1);
    await client.transport.connect('host');
    expect(client.peer.outgoing).toHaveLength(1);
    await expect(client.transport.connect('client')).rejects.toThrow('cannot connect to itself');
  });

  it('keeps a peer joined while either of two simultaneous connections is open', async () => {
    const { make } = setup();
    const a = track(make('a'));
    const b = track(make('b'));
    await Promise.all([a.transport.connect('b'), b.transport.connect('a')]);
    await flush();
    expect(a.joined).toEqual(['b']);
    expect(b.joined).toEqual(['a']);
    (a.peer.outgoing[0] as FakeConnection).close(); // one of the two links goes
    await flush();
    expect(a.left).toEqual([]);
    expect(b.left).toEqual([]);
    b.transport.send('a', bye('still here'));
    await flush();
    expect(a.received.map((r) => r.message)).toEqual([bye('still here')]);
    (b.peer.outgoing[0] as FakeConnection).close();
    await flush();
    expect(a.left).toEqual(['b']);
    expect(b.left).toEqual(['a']);
  });

  it('reports undecodable frames and non-binary data through onError without throwing', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    await flush();
    host.transport.admit('client');
    const hostEnd = (client.peer.outgoing[0] as FakeConnection).remote!;
    expect(() => hostEnd.inject({ not: 'bytes' })).not.toThrow();
    expect(() => hostEnd.inject(new Uint8Array([0, 123, 125, 125]).buffer)).not.toThrow(); // "}}" is not JSON
    // One report per peer per interval, not one per message: the next one says how many were left out.
    expect(host.errors.map((e) => [e.kind, e.message])).toEqual([['decode', 'ignored a object DataChannel message from client']]);
    const later = Date.now() + DEFAULT_ADMISSION.rejectionReportIntervalMs;
    vi.useFakeTimers({ toFake: ['Date'], now: later });
    try {
      hostEnd.inject({ not: 'bytes' });
    } finally {
      vi.useRealTimers();
    }
    expect(host.errors.map((e) => e.message)).toEqual(['ignored a object DataChannel message from client', 'ignored a object DataChannel message from client (and 1 more like it since the previous report)']);
    expect(host.received).toEqual([]);
    client.transport.send('host', bye('fine')); // the link still works
    await flush();
    expect(host.received.map((r) => r.message)).toEqual([bye('fine')]);
  });

  it('keeps calling the other handlers when one throws, and reports it', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    host.transport.onMessage(() => {
      throw new Error('handler bug');
    });
    await client.transport.connect('host');
    client.transport.send('host', bye('x'));
    await flush();
    expect(host.received).toHaveLength(1);
    expect(host.errors).toEqual([{ kind: 'handler', message: 'a transport event handler threw: handler bug' }]);
  });

  it('refuses incoming connections that do not use raw serialization', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const foreign = new FakeConnection('stranger', 'binary');
    const close = vi.spyOn(foreign, 'close');
    host.peer.deliverIncoming(foreign);
    expect(close).toHaveBeenCalled();
    expect(host.transport.connectedPeers()).toEqual([]);
    expect(host.errors[0]).toMatchObject({ kind: 'connection', peerId: 'stranger' });
  });

  it('throws a clear error when the codec makes a frame larger than a DataChannel message may be', async () => {
    const oversized: WireCodec = { encode: () => [new Uint8Array(FRAME_LIMIT + 1)], createDecoder: createJsonWireCodec().createDecoder };
    const { make } = setup(oversized);
    track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    expect(() => client.transport.send('host', bye('x'))).toThrow(`made a ${FRAME_LIMIT + 1}-byte frame for a 'bye' message`);
  });

  it('reports a lost signalling server and says no new connection can be made', async () => {
    const { make } = setup();
    const client = track(make('client'));
    expect(client.transport.canConnect).toBe(true);
    client.peer.emitDisconnected();
    expect(client.transport.canConnect).toBe(false);
    expect(client.errors[0].kind).toBe('signalling');
    await expect(client.transport.connect('host')).rejects.toThrow('the signalling server is gone');
    expect(client.peer.outgoing).toHaveLength(0);
  });

  it('can connect again once the signalling server takes the id back', async () => {
    const { make } = setup();
    track(make('host'));
    const client = track(make('client'));
    client.peer.emitDisconnected();
    expect(client.transport.canConnect).toBe(false);
    client.peer.emitReconnected();
    expect(client.transport.canConnect).toBe(true);
    await client.transport.connect('host');
    expect(client.peer.outgoing).toHaveLength(1);
  });

  it('close() leaves the signalling server and closes links without firing events', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    await client.transport.connect('host');
    host.transport.close();
    expect(host.peer.destroyed).toBe(true);
    expect(host.left).toEqual([]);
    await flush();
    expect(client.left).toEqual(['host']);
    await expect(host.transport.connect('client')).rejects.toThrow('is closed');
  });
});

describe('PeerTransport config', () => {
  beforeEach(() => vi.unstubAllGlobals());

  it('derives the signalling server from the page location', () => {
    vi.stubGlobal('location', { protocol: 'https:', hostname: '192.168.1.20', port: '5173' });
    expect(resolvePeerTransportConfig().signalling).toEqual({ host: '192.168.1.20', port: 5173, path: '/peerjs', secure: true, key: 'peerjs' });
    vi.stubGlobal('location', { protocol: 'http:', hostname: 'fedtab.lan', port: '' });
    expect(resolvePeerTransportConfig().signalling).toMatchObject({ host: 'fedtab.lan', port: 80, secure: false });
    vi.unstubAllGlobals();
  });

  it('uses no ICE servers by default and accepts STUN/TURN URLs as text', () => {
    const base = { signalling: { host: 'h', port: 1 } };
    expect(resolvePeerTransportConfig(base).iceServers).toEqual([]);
    expect(resolvePeerTransportConfig({ ...base, iceServers: 'stun:10.0.0.2:3478, turn:u:p@10.0.0.3' }).iceServers).toEqual([
      { urls: 'stun:10.0.0.2:3478' },
      { urls: 'turn:10.0.0.3', username: 'u', credential: 'p' },
    ]);
  });

  it('rejects bad settings with an error naming them', () => {
    const base = { signalling: { host: 'h', port: 1 } };
    expect(() => resolvePeerTransportConfig({ signalling: { port: 1 } })).toThrow('signalling.host is required');
    expect(() => resolvePeerTransportConfig({ signalling: { host: 'h', port: 70000 } })).toThrow('signalling.port');
    expect(() => resolvePeerTransportConfig({ ...base, timings: { connectTimeoutMs: -1 } })).toThrow('timings.connectTimeoutMs');
    expect(() => resolvePeerTransportConfig({ ...base, timings: { heartbeatIntervalMs: 5000, peerSilenceTimeoutMs: 4000 } })).toThrow(
      'heartbeatIntervalMs (5000) must be below timings.peerSilenceTimeoutMs (4000)',
    );
    expect(() => resolvePeerTransportConfig({ ...base, maxFrameBytes: 300_000 })).toThrow('maxFrameBytes');
    expect(() => resolvePeerTransportConfig({ ...base, admission: { maxPreAdmissionBytes: 300_000 } })).toThrow('admission.maxPreAdmissionBytes');
    expect(() => resolvePeerTransportConfig({ ...base, admission: { messageLimitBytes: 2 ** 30 } })).toThrow('admission.messageLimitBytes');
    expect(() => resolvePeerTransportConfig({ ...base, admission: { maxPendingConnections: 0 } })).toThrow('admission.maxPendingConnections');
    expect(resolvePeerTransportConfig(base).admission).toMatchObject({ maxPreAdmissionBytes: 4096, messageLimitBytes: 8 * 1024 * 1024 });
  });
});
