import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { splitIntoFrames } from '../fl/codec/frames';
import { createWireCodec } from '../fl/codec/wire-codec';
import { PROTOCOL_VERSION, type HelloMessage, type Message, type UpdateMessage } from '../fl/protocol';
import { REJECTION_REASONS } from './admission-guard';
import { PeerTransport, type TransportError } from './peer-transport';
import { DEFAULT_ADMISSION, resolvePeerTransportConfig, type AdmissionConfig } from './peer-transport-config';
import { FakeConnection, FakePeerNetwork } from './testing/fake-peer-network';
import { connectAndAdmit, FAKED_TIMERS, settle } from './testing/transport-time';

// Long silence timeout: the admission rules, not the heartbeat, must close what is closed here.
const timings = { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 };
const codec = createWireCodec('float32');

function update(floats: number): UpdateMessage {
  const values = new Float32Array(floats);
  for (let i = 0; i < floats; i++) values[i] = Math.fround(Math.sin(i));
  return {
    type: 'update',
    v: PROTOCOL_VERSION,
    assignment: 3,
    delta: [{ name: 'dense/kernel', shape: [floats], values }],
    numSamples: 120,
    metrics: { trainLoss: 0.5, evalLoss: 0.6, evalAccuracy: 0.8, trainMs: 10, samplesPerSecond: 100 },
  };
}

/** Message types in order, with each update's values as bytes (deep equality on large typed arrays is slow). */
function summary(messages: Message[]): string[] {
  return messages.map((m) =>
    m.type === 'update' ? `update ${Buffer.from(m.delta[0].values.buffer, m.delta[0].values.byteOffset, m.delta[0].values.byteLength).toString('base64')}` : JSON.stringify(m),
  );
}

const hello: HelloMessage = { type: 'hello', v: PROTOCOL_VERSION, clientName: 'tab', backend: 'cpu', numSamples: 10, labelHistogram: [5, 5] };

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Hostile pre-admission frames, one of each kind the transport must refuse. */
const HOSTILE: Record<string, Uint8Array> = {
  // A DataChannel message above the pre-admission size (a real frame could be 256 KB).
  oversized: randomBytes(DEFAULT_ADMISSION.maxPreAdmissionBytes + 1, 1),
  // A well-formed frame whose payload is a decoder bomb: nested array16 headers.
  undecodable: splitIntoFrames(new Uint8Array(3000).map((_, i) => [0xdc, 0xff, 0xff][i % 3]), 9)[0],
  // The first of several small frames of an allowed message: no reassembly before admission.
  fragmented: createWireCodec('float32', { maxFrameBytes: 64 }).encode(hello)[0],
  // A whole, valid message of a type not allowed before admission.
  'forbidden-type': codec.encode(update(16))[0],
};

function setup(admission: Partial<AdmissionConfig> = {}) {
  const network = new FakePeerNetwork();
  const config = resolvePeerTransportConfig({ signalling: { host: 'test.invalid', port: 1 }, timings, admission });
  const make = (id: string) => {
    const peer = network.createPeer(id);
    const transport = new PeerTransport(peer, codec, config);
    const received: Array<{ from: string; message: Message }> = [];
    const errors: TransportError[] = [];
    transport.onMessage((from, message) => received.push({ from, message }));
    transport.onError((error) => errors.push(error));
    return { peer, transport, received, errors };
  };
  return { network, make, config };
}

const totalRejections = (t: PeerTransport) => Object.values(t.rejections()).reduce((a, b) => a + b, 0);

describe('PeerTransport admission', () => {
  const transports: PeerTransport[] = [];
  const track = <T extends { transport: PeerTransport }>(x: T) => {
    transports.push(x.transport);
    return x;
  };
  beforeEach(() => {
    vi.useFakeTimers(FAKED_TIMERS);
  });
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** A client connected to the host, both admitted both ways (what the session does after the handshake). */
  async function admittedPair(make: ReturnType<typeof setup>['make']) {
    const host = track(make('host'));
    const client = track(make('client'));
    await connectAndAdmit(host, client);
    return { host, client };
  }

  for (const [reason, frame] of Object.entries(HOSTILE)) {
    it(`closes an unadmitted connection that sends a ${reason} frame, counts it, and delivers nothing`, async () => {
      const { make } = setup();
      const host = track(make('host'));
      const conn = host.peer.acceptFrom('stranger');
      const close = vi.spyOn(conn, 'close');
      conn.inject(frame.slice().buffer);
      expect(close).toHaveBeenCalled();
      expect(host.received).toEqual([]);
      expect(host.transport.rejections()).toMatchObject({ [reason]: 1 });
      expect(totalRejections(host.transport)).toBe(1);
      expect(host.transport.connectedPeers()).toEqual([]);
      expect(host.errors).toHaveLength(1); // the first rejection of a kind is reported once
      expect(host.errors[0]).toMatchObject({ kind: 'connection', peerId: 'stranger' });
    });
  }

  it('closes an unadmitted connection that sends text other than the heartbeat', () => {
    const { make } = setup();
    const host = track(make('host'));
    const conn = host.peer.acceptFrom('stranger');
    conn.inject('hb');
    expect(host.transport.connectedPeers()).toEqual(['stranger']);
    conn.inject('{"type":"update"}');
    expect(host.transport.connectedPeers()).toEqual([]);
    expect(host.transport.rejections()['not-binary']).toBe(1);
  });

  it('delivers allowed small messages before admission, both ways, and holds back the rest until admit', async () => {
    const { make } = setup();
    const host = track(make('host'));
    const client = track(make('client'));
    const connected = client.transport.connect('host');
    await settle();
    await connected;
    client.transport.send('host', hello);
    host.transport.send('client', update(4)); // not for an unadmitted peer: dropped, counted
    host.transport.broadcast(update(4)); // default recipients: admitted peers only
    await settle();
    expect(host.received).toEqual([{ from: 'client', message: hello }]);
    expect(client.received).toEqual([]);
    expect(host.transport.trafficWith('client').messagesDropped).toBe(1);
    expect(host.transport.isAdmitted('client')).toBe(false);
    expect(host.transport.admittedPeers()).toEqual([]);

    host.transport.admit('client');
    client.transport.admit('host');
    expect(host.transport.admittedPeers()).toEqual(['client']);
    const big = update(100_000); // 400 KB: two frames, far above the pre-admission size
    client.transport.send('host', big);
    host.transport.broadcast(update(4));
    await settle();
    expect(summary(host.received.map((r) => r.message))).toEqual(summary([hello, big]));
    expect(client.received.map((r) => r.message.type)).toEqual(['update']);
    expect(totalRejections(host.transport)).toBe(0);
    expect(host.errors).toEqual([]);
  });

  it('closes a connection whose peer is not admitted in time; admission stops the clock', async () => {
    const { make } = setup({ admissionTimeoutMs: 10_000 });
    const host = track(make('host'));
    const slow = host.peer.acceptFrom('slow');
    const quick = host.peer.acceptFrom('quick');
    await vi.advanceTimersByTimeAsync(5_000);
    host.transport.admit('quick');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(host.transport.connectedPeers().sort()).toEqual(['quick', 'slow']);
    await vi.advanceTimersByTimeAsync(1);
    expect(slow.open).toBe(false);
    expect(host.transport.connectedPeers()).toEqual(['quick']);
    expect(host.transport.rejections()['admission-timeout']).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(quick.open).toBe(true);
    expect(host.transport.rejections()['admission-timeout']).toBe(1);
  });

  it('counts unadmitted connections that fail or close before opening, reporting them at most once per interval', async () => {
    const { make } = setup({ maxNewConnectionsPerSecond: 1000 });
    const host = track(make('host'));
    for (let i = 0; i < 20; i++) host.peer.acceptFrom(`f${i}`).failWith('ice failed');
    for (let i = 0; i < 20; i++) {
      const conn = host.peer.acceptFrom(`c${i}`, false);
      conn.open = true; // opened and closed before the transport saw 'open'
      conn.close();
    }
    expect(host.transport.rejections()['lost-before-admission']).toBe(40);
    expect(host.errors).toHaveLength(1);
    expect(host.errors[0].message).toMatch(/lost-before-admission.*f0 failed: ice failed/);
  });

  it('admission ends when the peer leaves: a new connection with its id starts unadmitted', async () => {
    const { make } = setup();
    const host = track(make('host'));
    host.peer.acceptFrom('p');
    host.transport.admit('p');
    host.transport.disconnect('p');
    expect(host.transport.isAdmitted('p')).toBe(false);
    const again = host.peer.acceptFrom('p');
    again.inject(codec.encode(update(4))[0].slice().buffer);
    expect(host.transport.rejections()['forbidden-type']).toBe(1);
    host.transport.admit('nobody'); // no connection: nothing to admit
    expect(host.transport.isAdmitted('nobody')).toBe(false);
  });

  it('caps pending connections (the oldest gives way) and new connections per second; admitted peers are not held back', async () => {
    const { make } = setup({ maxPendingConnections: 4, maxNewConnectionsPerSecond: 3 });
    const host = track(make('host'));
    for (let i = 0; i < 3; i++) host.peer.acceptFrom(`a${i}`);
    host.peer.acceptFrom('a3'); // the fourth within one second
    expect(host.transport.rejections()['rate-limit']).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    host.peer.acceptFrom('b0');
    host.peer.acceptFrom('b1'); // four pending held the cap: the oldest, a0, gives way
    expect(host.transport.rejections()['pending-limit']).toBe(1);
    expect(host.transport.connectedPeers().sort()).toEqual(['a1', 'a2', 'b0', 'b1']);
    host.transport.admit('a1');
    host.peer.acceptFrom('a1'); // a second connection of an admitted peer takes no pending slot
    host.peer.acceptFrom('a1'); // but a third one is too many
    expect(host.transport.rejections()['too-many-links']).toBe(1);
    expect(totalRejections(host.transport)).toBe(3);
  });

  it('a real joiner gets in while a flood keeps every pending slot taken: the oldest unproven connection gives way', async () => {
    const { make } = setup({ maxPendingConnections: 4, maxNewConnectionsPerSecond: 8 });
    const host = track(make('host'));
    let n = 0;
    const flood = () => host.peer.acceptFrom(`squat-${n++}`);
    for (let i = 0; i < 4; i++) flood();
    await vi.advanceTimersByTimeAsync(1000);
    for (let joiner = 0; joiner < 5; joiner++) {
      host.peer.acceptFrom(`student-${joiner}`);
      expect(host.transport.connectedPeers()).toContain(`student-${joiner}`);
      // It proves itself (the join handshake) before the flood, held to its rate, can push it out.
      flood();
      host.transport.admit(`student-${joiner}`);
      for (let i = 0; i < 6; i++) flood();
      await vi.advanceTimersByTimeAsync(1000);
    }
    const peers = host.transport.connectedPeers();
    expect(Array.from({ length: 5 }, (_, i) => `student-${i}`).every((s) => peers.includes(s))).toBe(true);
    // The flood holds no more than the pending slots.
    expect(peers.filter((p) => p.startsWith('squat-')).length).toBeLessThanOrEqual(4);
  });

  it('bounds an admitted peer by its message limit, which setMessageLimit changes', async () => {
    const { make } = setup();
    const { host, client } = await admittedPair(make);
    const big = update(100_000);
    host.transport.setMessageLimit(100_000);
    expect(host.transport.messageLimitBytes).toBe(100_000);
    client.transport.send('host', big);
    await settle();
    expect(host.received).toEqual([]);
    expect(host.errors[0]).toMatchObject({ kind: 'decode', message: expect.stringMatching(/exceeds the 100000-byte message limit/) });
    host.transport.setMessageLimit(1_000_000);
    client.transport.send('host', big);
    await settle();
    expect(summary(host.received.map((r) => r.message))).toEqual(summary([big]));
    expect(() => host.transport.setMessageLimit(0)).toThrow(RangeError);
    expect(() => host.transport.setMessageLimit(65 * 1024 * 1024)).toThrow(RangeError);
  });

  it('closes an admitted link that sends more than twice its message limit without completing a message', async () => {
    const { make } = setup();
    const { host } = await admittedPair(make);
    host.transport.setMessageLimit(100_000);
    // Frames of a message the codec would refuse at once; a codec that ignores the limit would buffer them all.
    const frames = codec.encode(update(200_000));
    expect(frames.length).toBe(4);
    const link = (host.transport as unknown as { links: Map<string, Array<{ conn: FakeConnection; decoder: { setMaxMessageBytes(n: number): void } }>> }).links.get('client')![0];
    link.decoder.setMaxMessageBytes(10_000_000);
    link.conn.inject(frames[0].slice().buffer);
    expect(host.transport.connectedPeers()).toEqual(['client']);
    // 2 * limit + one frame of unfinished bytes is the most a link may hold.
    link.conn.inject(frames[1].slice().buffer);
    expect(host.transport.rejections()['message-limit']).toBe(1);
    expect(host.transport.connectedPeers()).toEqual([]);
  });
});

describe('PeerTransport under a flood of unadmitted connections', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const variants: Array<[string, Partial<AdmissionConfig>]> = [
    ['default limits', {}],
    ['no effective rate limit, so the pending cap holds', { maxNewConnectionsPerSecond: 10_000 }],
  ];
  for (const [label, admission] of variants) it(`keeps the admitted peer served and logging bounded: 10,000 hostile frames and 1,000 silent pending connections (${label})`, async () => {
    // How long the flood takes and how much memory it costs: npm run bench:hostile (docs/benchmarks/hostile.md).
    vi.useFakeTimers(FAKED_TIMERS);
    const consoleCalls = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
    const { make, config } = setup(admission);
    const host = make('host');
    const client = make('client');
    const connected = client.transport.connect('host');
    await settle();
    await connected;
    host.transport.admit('client');
    client.transport.admit('host');

    const hostile = Object.values(HOSTILE);
    let maxHeld = 0;
    let delivered = 0;
    // 1,000 silent connections at once: most are refused by the rate and pending limits, the rest time out.
    for (let i = 0; i < 1000; i++) host.peer.acceptFrom(`silent${i}`);
    // 2,000 connections, 20 per simulated second, each sending 5 hostile frames (10,000 frames in all).
    const attackers = 2000;
    for (let i = 0; i < attackers; i++) {
      const conn = host.peer.acceptFrom(`evil${i}`);
      for (let k = 0; k < 5; k++) conn.inject(hostile[(i + k) % hostile.length].slice().buffer);
      maxHeld = Math.max(maxHeld, host.transport.connectedPeers().length);
      if (i % 20 === 19) {
        client.transport.send('host', update(64));
        await vi.advanceTimersByTimeAsync(1000);
        delivered = host.received.filter((r) => r.from === 'client').length;
      }
    }
    const simulatedMs = (attackers / 20) * 1000;
    await vi.advanceTimersByTimeAsync(config.admission.admissionTimeoutMs);

    // The admitted peer got every message through, all along.
    expect(delivered).toBe(attackers / 20);
    expect(host.received.every((r) => r.from === 'client')).toBe(true);
    // Every hostile or silent connection was closed or refused, and counted once.
    expect(totalRejections(host.transport)).toBe(1000 + attackers);
    expect(host.transport.connectedPeers()).toEqual(['client']);
    expect(maxHeld).toBeLessThanOrEqual(config.admission.maxPendingConnections + 1);
    expect(Object.keys(host.transport.trafficByPeer())).toEqual(['client']);
    // Reports: at most one per kind of rejection and interval; nothing written to the console.
    const reasonsSeen = Object.values(host.transport.rejections()).filter((n) => n > 0).length;
    expect(reasonsSeen).toBeGreaterThanOrEqual(5);
    const intervals = 1 + Math.ceil((simulatedMs + config.admission.admissionTimeoutMs) / config.admission.rejectionReportIntervalMs);
    expect(host.errors.length).toBeLessThanOrEqual(REJECTION_REASONS.length * intervals);
    expect(host.errors.length).toBeLessThan(300);
    for (const spy of consoleCalls) expect(spy).not.toHaveBeenCalled();
    host.transport.close();
    client.transport.close();
  });
});
