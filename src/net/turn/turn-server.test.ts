import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../testing/eventually';
import { startTurnServer, type TurnLimits, type TurnServer } from './turn-server';
import { mintTurnCredentials } from './turn-credentials';
import {
  Attr,
  MessageClass,
  Method,
  StunWriter,
  decodeXorAddress,
  encodeChannelData,
  getAttribute,
  longTermKey,
  parseStun,
  tcpFrameLength,
  type StunMessage,
  type TransportAddress,
} from './stun-message';

const SECRET = 'test-secret';
const HOST = '127.0.0.1';

/** A minimal TURN client over UDP or TCP, as a browser's ICE agent speaks it. */
class TestClient {
  private readonly inbox: Buffer[] = [];
  private readonly waiters: Array<() => void> = [];
  private pending: Buffer = Buffer.alloc(0);
  realm = '';
  nonce = '';
  key: Buffer = Buffer.alloc(0);
  username = '';

  private constructor(
    private readonly transport: 'udp' | 'tcp',
    private readonly udp?: dgram.Socket,
    private readonly tcp?: net.Socket,
    private readonly port = 0,
  ) {}

  static async udp(port: number): Promise<TestClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
    const client = new TestClient('udp', socket, undefined, port);
    socket.on('message', (buf) => client.push(buf));
    return client;
  }

  static async tcp(port: number): Promise<TestClient> {
    const socket = net.connect(port, HOST);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const client = new TestClient('tcp', undefined, socket, port);
    socket.on('data', (chunk: Buffer) => {
      client.pending = Buffer.concat([client.pending, chunk]);
      for (;;) {
        const frame = tcpFrameLength(client.pending);
        if (frame === undefined || frame > client.pending.length) break;
        client.push(client.pending.subarray(0, frame));
        client.pending = client.pending.subarray(frame);
      }
    });
    return client;
  }

  get closed(): Promise<void> {
    return new Promise((resolve) => (this.tcp!.destroyed ? resolve() : this.tcp!.once('close', () => resolve())));
  }

  private push(buf: Buffer) {
    this.inbox.push(buf);
    this.waiters.shift()?.();
  }

  send(buf: Buffer) {
    if (this.transport === 'udp') this.udp!.send(buf, this.port, HOST);
    else this.tcp!.write(buf);
  }

  async next(timeoutMs = 2000): Promise<Buffer> {
    if (this.inbox.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message from the TURN server')), timeoutMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.inbox.shift()!;
  }

  async nothingWithin(ms: number): Promise<boolean> {
    return this.next(ms).then(
      () => false,
      () => true,
    );
  }

  async request(method: number, build: (w: StunWriter) => void = () => {}, auth = true): Promise<StunMessage> {
    const writer = new StunWriter(method, MessageClass.Request, randomBytes(12));
    build(writer);
    if (auth) writer.addString(Attr.Username, this.username).addString(Attr.Realm, this.realm).addString(Attr.Nonce, this.nonce);
    this.send(writer.build(auth ? { key: this.key, fingerprint: true } : {}));
    return parseStun(await this.next());
  }

  /** The 401 challenge, then an authenticated Allocate with the given credentials. */
  async allocate(username: string, password: string): Promise<StunMessage> {
    const challenge = await this.request(Method.Allocate, (w) => w.addUInt32(Attr.RequestedTransport, 17 << 24), false);
    expect(errorCode(challenge)).toBe(401);
    this.realm = getAttribute(challenge, Attr.Realm)!.toString();
    this.nonce = getAttribute(challenge, Attr.Nonce)!.toString();
    this.username = username;
    this.key = longTermKey(username, this.realm, password);
    return this.request(Method.Allocate, (w) => w.addUInt32(Attr.RequestedTransport, 17 << 24));
  }

  close() {
    this.udp?.close();
    this.tcp?.destroy();
  }
}

function errorCode(message: StunMessage): number | undefined {
  const value = getAttribute(message, Attr.ErrorCode);
  return value ? value[2] * 100 + value[3] : undefined;
}

function address(message: StunMessage, type: number): TransportAddress {
  return decodeXorAddress(getAttribute(message, type)!, message.transactionId);
}

async function peerSocket(): Promise<{ socket: dgram.Socket; address: TransportAddress; received: Promise<{ data: Buffer; from: dgram.RemoteInfo }> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
  const received = new Promise<{ data: Buffer; from: dgram.RemoteInfo }>((resolve) => socket.once('message', (data, from) => resolve({ data, from })));
  return { socket, address: { family: 4, address: HOST, port: socket.address().port }, received };
}

describe('TURN relay', () => {
  let server: TurnServer;
  const cleanup: Array<() => void> = [];
  let clock = Date.now();
  const start = (limits: Partial<TurnLimits> = {}) =>
    startTurnServer({ secret: SECRET, port: 0, addresses: [HOST], allowLoopbackPeers: true, limits, now: () => clock, log: () => {} }).then((s) => (server = s));
  const creds = (label = 'tab1', ttl = 600) => {
    const c = mintTurnCredentials(SECRET, label, ttl, clock);
    return [c.username, c.credential] as const;
  };

  afterEach(async () => {
    for (const f of cleanup.splice(0)) f();
    await server?.close();
    clock = Date.now();
  });

  it('answers STUN Binding with the address it saw, over UDP and TCP', async () => {
    await start();
    for (const client of [await TestClient.udp(server.port), await TestClient.tcp(server.port)]) {
      cleanup.push(() => client.close());
      const response = await client.request(Method.Binding, () => {}, false);
      expect(response.cls).toBe(MessageClass.Success);
      expect(address(response, Attr.XorMappedAddress).address).toBe(HOST);
    }
  });

  it('refuses Allocate without credentials, with a wrong password, and with expired credentials', async () => {
    await start();
    const client = await TestClient.udp(server.port);
    cleanup.push(() => client.close());
    const [username] = creds();
    expect(errorCode(await client.allocate(username, 'wrong'))).toBe(401);
    const [expiredUser, expiredPassword] = creds('tab1', -10);
    expect(errorCode(await client.allocate(expiredUser, expiredPassword))).toBe(401);
    expect(errorCode(await client.allocate('tab1', 'x'))).toBe(401); // no expiry in the username
    expect(server.stats()).toMatchObject({ allocations: 0, rejected: 3 });
  });

  it('relays through Send/Data indications and channels, over UDP', async () => {
    await start();
    const client = await TestClient.udp(server.port);
    const peer = await peerSocket();
    cleanup.push(() => client.close(), () => peer.socket.close());
    const allocated = await client.allocate(...creds());
    expect(allocated.cls).toBe(MessageClass.Success);
    const relayed = address(allocated, Attr.XorRelayedAddress);
    expect(relayed.address).toBe(HOST);
    expect(getAttribute(allocated, Attr.Lifetime)!.readUInt32BE(0)).toBe(600);

    // No permission yet: nothing goes out.
    const early = new StunWriter(Method.Send, MessageClass.Indication, randomBytes(12)).addAddress(Attr.XorPeerAddress, peer.address).add(Attr.Data, Buffer.from('early'));
    client.send(early.build());
    expect((await client.request(Method.CreatePermission, (w) => w.addAddress(Attr.XorPeerAddress, peer.address))).cls).toBe(MessageClass.Success);
    client.send(new StunWriter(Method.Send, MessageClass.Indication, randomBytes(12)).addAddress(Attr.XorPeerAddress, peer.address).add(Attr.Data, Buffer.from('hello')).build());
    const got = await peer.received;
    expect(got.data.toString()).toBe('hello');
    expect(got.from.port).toBe(relayed.port);

    peer.socket.send(Buffer.from('back'), relayed.port, HOST);
    const data = parseStun(await client.next());
    expect(data.method).toBe(Method.Data);
    expect(getAttribute(data, Attr.Data)!.toString()).toBe('back');

    const bound = await client.request(Method.ChannelBind, (w) => w.addUInt32(Attr.ChannelNumber, 0x4001 << 16).addAddress(Attr.XorPeerAddress, peer.address));
    expect(bound.cls).toBe(MessageClass.Success);
    const viaChannel = new Promise<Buffer>((resolve) => peer.socket.once('message', (d) => resolve(d)));
    client.send(encodeChannelData(0x4001, Buffer.from('chan'), false));
    expect((await viaChannel).toString()).toBe('chan');
    peer.socket.send(Buffer.from('chan-back'), relayed.port, HOST);
    const frame = await client.next();
    expect(frame.readUInt16BE(0)).toBe(0x4001);
    expect(frame.subarray(4, 4 + frame.readUInt16BE(2)).toString()).toBe('chan-back');
    expect(server.stats().relayedBytes).toBe('hello'.length + 'back'.length + 'chan'.length + 'chan-back'.length);
    expect(server.stats().droppedPackets).toBe(1);
  });

  it('relays ChannelData over TCP (padded frames) and ends the allocation with the connection', async () => {
    await start();
    const client = await TestClient.tcp(server.port);
    const peer = await peerSocket();
    cleanup.push(() => client.close(), () => peer.socket.close());
    const relayed = address(await client.allocate(...creds()), Attr.XorRelayedAddress);
    await client.request(Method.ChannelBind, (w) => w.addUInt32(Attr.ChannelNumber, 0x4000 << 16).addAddress(Attr.XorPeerAddress, peer.address));
    client.send(encodeChannelData(0x4000, Buffer.from('odd'), true)); // 3 bytes + 1 byte padding
    client.send(encodeChannelData(0x4000, Buffer.from('second'), true));
    const got = await peer.received;
    expect(got.data.toString()).toBe('odd');
    peer.socket.send(Buffer.from('x'), relayed.port, HOST);
    const frame = await client.next();
    expect(frame.length).toBe(8);
    expect(frame.subarray(4, 5).toString()).toBe('x');
    expect(server.stats()).toMatchObject({ allocations: 1, tcpConnections: 1 });
    client.close();
    await eventually(() => server.stats().tcpConnections === 0, 'the server to see the connection close');
    expect(server.stats()).toMatchObject({ allocations: 0, tcpConnections: 0 });
  });

  it('closes a TCP connection that sends bytes that are neither STUN nor ChannelData', async () => {
    await start();
    const client = await TestClient.tcp(server.port);
    client.send(Buffer.from('GET / HTTP/1.1\r\n\r\n')); // 'G' would start a ChannelData frame: no channel is bound
    await client.closed;
    const tls = await TestClient.tcp(server.port);
    tls.send(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])); // a TLS hello: no magic cookie
    await tls.closed;
    expect(server.stats()).toMatchObject({ rejected: 2, tcpConnections: 0 });
  });

  it('caps allocations in all and per user, and refuses loopback peers by default', async () => {
    await start({ maxAllocations: 2, maxAllocationsPerUser: 1 });
    const clients = await Promise.all([TestClient.udp(server.port), TestClient.udp(server.port), TestClient.udp(server.port)]);
    cleanup.push(() => clients.forEach((c) => c.close()));
    expect((await clients[0].allocate(...creds('a'))).cls).toBe(MessageClass.Success);
    expect(errorCode(await clients[1].allocate(...creds('a')))).toBe(486);
    expect((await clients[1].allocate(...creds('b'))).cls).toBe(MessageClass.Success);
    expect(errorCode(await clients[2].allocate(...creds('c')))).toBe(486);
    await server.close();

    server = await startTurnServer({ secret: SECRET, port: 0, addresses: [HOST], log: () => {} });
    const client = await TestClient.udp(server.port);
    cleanup.push(() => client.close());
    await client.allocate(...creds());
    const refused = await client.request(Method.CreatePermission, (w) => w.addAddress(Attr.XorPeerAddress, { family: 4, address: '127.0.0.1', port: 5173 }));
    expect(errorCode(refused)).toBe(403);
  });

  it('drops relayed data over the bandwidth budget', async () => {
    await start({ bytesPerSecond: 1000, burstBytes: 1000 });
    const client = await TestClient.udp(server.port);
    const peer = await peerSocket();
    cleanup.push(() => client.close(), () => peer.socket.close());
    await client.allocate(...creds());
    await client.request(Method.ChannelBind, (w) => w.addUInt32(Attr.ChannelNumber, 0x4000 << 16).addAddress(Attr.XorPeerAddress, peer.address));
    client.send(encodeChannelData(0x4000, Buffer.alloc(900), false));
    client.send(encodeChannelData(0x4000, Buffer.alloc(900), false)); // over the 1000-byte burst: dropped
    expect((await peer.received).data.length).toBe(900);
    await eventually(() => server.stats().droppedPackets === 1, 'the second packet to be dropped');
    expect(server.stats()).toMatchObject({ relayedBytes: 900, droppedPackets: 1 });
    clock += 1000; // a second later the budget is back
    client.send(encodeChannelData(0x4000, Buffer.alloc(900), false));
    await eventually(() => server.stats().relayedBytes + server.stats().droppedPackets > 900 + 1, 'the third packet to be relayed or dropped');
    expect(server.stats().relayedBytes).toBe(1800);
  });

  it('expires allocations at their lifetime; Refresh extends and Refresh 0 deletes', async () => {
    await start({ defaultLifetimeS: 60, maxLifetimeS: 120 });
    const client = await TestClient.udp(server.port);
    cleanup.push(() => client.close());
    const allocated = await client.allocate(...creds());
    expect(getAttribute(allocated, Attr.Lifetime)!.readUInt32BE(0)).toBe(60);
    const refreshed = await client.request(Method.Refresh, (w) => w.addUInt32(Attr.Lifetime, 10_000));
    expect(getAttribute(refreshed, Attr.Lifetime)!.readUInt32BE(0)).toBe(120);
    clock += 119_000;
    server.sweep();
    expect(server.stats().allocations).toBe(1);
    clock += 2_000;
    server.sweep();
    expect(server.stats().allocations).toBe(0);
    expect(errorCode(await client.request(Method.Refresh))).toBe(437);

    const again = await TestClient.udp(server.port);
    cleanup.push(() => again.close());
    await again.allocate(...creds());
    expect(getAttribute(await again.request(Method.Refresh, (w) => w.addUInt32(Attr.Lifetime, 0)), Attr.Lifetime)!.readUInt32BE(0)).toBe(0);
    expect(server.stats().allocations).toBe(0);
  });

  it('keeps refreshing an allocation after its credentials expired, up to its maximum age; a new Allocate needs fresh ones', async () => {
    await start({ maxAllocationAgeS: 7200, nonceLifetimeS: 86_400 });
    const client = await TestClient.udp(server.port);
    cleanup.push(() => client.close());
    await client.allocate(...creds('tab1', 60));
    const refresh = () => client.request(Method.Refresh, (w) => w.addUInt32(Attr.Lifetime, 3600));
    clock += 120_000; // the credentials expired a minute ago
    expect((await refresh()).cls).toBe(MessageClass.Success);
    const other = await TestClient.udp(server.port);
    cleanup.push(() => other.close());
    expect(errorCode(await other.allocate(client.username, mintTurnCredentials(SECRET, 'tab1', 60, clock - 120_000).credential))).toBe(401);
    clock += 3500_000;
    expect((await refresh()).cls).toBe(MessageClass.Success);
    clock += 3500_000; // 7120 s old
    expect((await refresh()).cls).toBe(MessageClass.Success);
    clock += 100_000; // past the maximum age, though refreshed
    server.sweep();
    expect(server.stats().allocations).toBe(0);
  });

  it('asks for a fresh nonce once the old one is stale', async () => {
    await start({ nonceLifetimeS: 60 });
    const client = await TestClient.udp(server.port);
    cleanup.push(() => client.close());
    await client.allocate(...creds('tab1', 3600));
    clock += 61_000;
    const stale = await client.request(Method.Refresh);
    expect(errorCode(stale)).toBe(438);
    client.nonce = getAttribute(stale, Attr.Nonce)!.toString();
    expect((await client.request(Method.Refresh)).cls).toBe(MessageClass.Success);
  });
});
