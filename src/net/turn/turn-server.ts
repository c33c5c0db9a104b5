/**
 * Node only: a small TURN relay (RFC 5766/8656) for classrooms whose network keeps devices from reaching each other.
 * Clients reach it over UDP or TCP; relayed addresses are UDP. It speaks what WebRTC uses: Allocate, Refresh,
 * CreatePermission, ChannelBind, Send/Data indications, ChannelData, and Binding (so it is a STUN server too).
 * Credentials are the time-limited TURN REST API kind (see turn-credentials.ts). Every allocation has a lifetime
 * and a bandwidth budget; allocations, allocations per user and TCP connections are capped.
 * Relayed WebRTC traffic stays DTLS-encrypted end to end: the relay only sees ciphertext.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  Attr,
  CHANNEL_MAX,
  CHANNEL_MIN,
  MessageClass,
  Method,
  StunParseError,
  StunWriter,
  decodeXorAddress,
  encodeChannelData,
  getAttribute,
  isChannelData,
  looksLikeStun,
  parseStun,
  type StunMessage,
  type TransportAddress,
} from './stun-message';
import { NonceIssuer, authenticate, type Authenticated } from './turn-auth';
import { TokenBucket } from './token-bucket';
import { isRelayablePeer } from './peer-address-policy';
import { ipv4Addresses, listenTurn, type ClientLink } from './turn-transports';


export interface TurnLimits {
  maxAllocations: number;
  /** Allocations one username (one tab's credentials) may hold: each WebRTC connection makes its own. */
  maxAllocationsPerUser: number;
  defaultLifetimeS: number;
  maxLifetimeS: number;
  /**
   * No allocation lives longer than this, refreshed or not. Within it, an allocation's own refreshes are accepted
   * after its credentials expired (tabs fetch new credentials for new connections; a running one keeps its relay).
   */
  maxAllocationAgeS: number;
  permissionLifetimeS: number;
  channelLifetimeS: number;
  /** Relayed bytes per second per allocation, both directions together; more is dropped. */
  bytesPerSecond: number;
  burstBytes: number;
  maxTcpConnections: number;
  /** A TCP connection that holds no allocation is closed after this much silence. */
  tcpIdleMs: number;
  /** Bytes queued for a slow TCP client beyond which relayed packets to it are dropped. */
  maxTcpQueuedBytes: number;
  nonceLifetimeS: number;
}

export const TURN_LIMITS: Readonly<TurnLimits> = {
  maxAllocations: 1000,
  maxAllocationsPerUser: 128,
  defaultLifetimeS: 600,
  maxLifetimeS: 3600,
  maxAllocationAgeS: 8 * 3600,
  permissionLifetimeS: 300,
  channelLifetimeS: 600,
  bytesPerSecond: 4 * 1024 * 1024,
  burstBytes: 8 * 1024 * 1024,
  maxTcpConnections: 2000,
  tcpIdleMs: 30_000,
  maxTcpQueuedBytes: 1024 * 1024,
  nonceLifetimeS: 3600,
};

export const TURN_REALM = 'fedtab';

export interface TurnServerOptions {
  /** The shared secret that TURN REST credentials are signed with. */
  secret: string;
  /** UDP and TCP port; 0 picks a free one (the same number for both). */
  port: number;
  /** IPv4 addresses to serve UDP on (and relay from); default: every IPv4 address of the machine. */
  addresses?: string[];
  realm?: string;
  limits?: Partial<TurnLimits>;
  now?: () => number;
  log?: (line: string) => void;
  /** Relay to 127.0.0.0/8 peers too: only for tests where every party is on one machine. */
  allowLoopbackPeers?: boolean;
}

export interface TurnStats {
  allocations: number;
  tcpConnections: number;
  /** Payload bytes relayed, both directions. */
  relayedBytes: number;
  /** Packets dropped: over an allocation's bandwidth, no permission, or a TCP client too slow. */
  droppedPackets: number;
  /** Messages that were not valid STUN/ChannelData, and requests refused for their credentials. */
  rejected: number;
}

export interface TurnServer {
  readonly port: number;
  readonly addresses: readonly string[];
  stats(): TurnStats;
  /** Drops expired allocations, permissions and channels (also runs on a timer). */
  sweep(): void;
  close(): Promise<void>;
}

interface Channel {
  peer: TransportAddress;
  expiresAt: number;
}

interface Allocation {
  link: ClientLink;
  username: string;
  key: Buffer;
  allocateTransaction: string;
  createdAt: number;
  response?: Buffer;
  relay?: dgram.Socket;
  relayed?: TransportAddress;
  expiresAt: number;
  permissions: Map<string, number>;
  channels: Map<number, Channel>;
  channelOfPeer: Map<string, number>;
  bucket: TokenBucket;
}


const peerKey = (a: { address: string; port: number }) => `${a.address}:${a.port}`;

export async function startTurnServer(options: TurnServerOptions): Promise<TurnServer> {
  const limits: TurnLimits = { ...TURN_LIMITS, ...options.limits };
  const realm = options.realm ?? TURN_REALM;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.warn(line));
  const addresses = options.addresses ?? ipv4Addresses();
  const nonces = new NonceIssuer(limits.nonceLifetimeS, now);
  const allocations = new Map<string, Allocation>();
  const perUser = new Map<string, number>();
  const counters = { relayedBytes: 0, droppedPackets: 0, rejected: 0 };
  const ownAddresses = new Set(addresses);
  // The listening port, once listenTurn has bound it (below; the handlers it calls are defined first).
  let port = 0;

  const reply = (link: ClientLink, request: StunMessage, build: (w: StunWriter) => void, key?: Buffer, cls: 2 | 3 = MessageClass.Success): Buffer => {
    const writer = new StunWriter(request.method, cls, request.transactionId);
    build(writer);
    const out = writer.build({ key, fingerprint: getAttribute(request, Attr.Fingerprint) !== undefined });
    link.send(out);
    return out;
  };
  const fail = (link: ClientLink, request: StunMessage, code: number, reason: string, key?: Buffer, challenge = false) =>
    reply(
      link,
      request,
      (w) => {
        w.addError(code, reason);
        if (challenge) w.addString(Attr.Realm, realm).addString(Attr.Nonce, nonces.issue());
      },
      key,
      MessageClass.Error,
    );

  const authenticated = (link: ClientLink, request: StunMessage): Authenticated | undefined => {
    const own = allocations.get(link.key);
    const result = authenticate(request, {
      secret: options.secret,
      realm,
      nonces,
      now,
      renewing: (username) => request.method !== Method.Allocate && own?.username === username && now() - own.createdAt < limits.maxAllocationAgeS * 1000,
    });
    if ('username' in result) return result;
    if (result.rejected) counters.rejected++;
    fail(link, request, result.code, result.reason, undefined, result.challenge);
    return undefined;
  };

  const dropAllocation = (allocation: Allocation) => {
    if (allocations.get(allocation.link.key) !== allocation) return;
    allocations.delete(allocation.link.key);
    const left = (perUser.get(allocation.username) ?? 1) - 1;
    if (left > 0) perUser.set(allocation.username, left);
    else perUser.delete(allocation.username);
    allocation.relay?.close();
  };

  const lifetimeOf = (request: StunMessage): number => {
    const value = getAttribute(request, Attr.Lifetime);
    const requested = value && value.length === 4 ? value.readUInt32BE(0) : limits.defaultLifetimeS;
    return Math.min(Math.max(requested, limits.defaultLifetimeS), limits.maxLifetimeS);
  };

  const toClient = (allocation: Allocation, from: TransportAddress, data: Buffer) => {
    const channel = allocation.channelOfPeer.get(peerKey(from));
    if (channel !== undefined) {
      allocation.link.send(encodeChannelData(channel, data, allocation.link.transport === 'tcp'));
      return;
    }
    const indication = new StunWriter(Method.Data, MessageClass.Indication, randomBytes(12));
    indication.addAddress(Attr.XorPeerAddress, from).add(Attr.Data, data);
    allocation.link.send(indication.build());
  };

  const relayable = (peer: TransportAddress) => peer.family === 4 && isRelayablePeer(peer.address, peer.port, port, ownAddresses, options.allowLoopbackPeers);

  const toPeer = (allocation: Allocation, peer: TransportAddress, data: Buffer) => {
    const t = now();
    const permitted = (allocation.permissions.get(peer.address) ?? 0) > t;
    if (!permitted || !relayable(peer) || !allocation.relay || !allocation.bucket.take(data.length)) {
      counters.droppedPackets++;
      return;
    }
    counters.relayedBytes += data.length;
    allocation.relay.send(data, peer.port, peer.address);
  };

  const allocate = (link: ClientLink, request: StunMessage, auth: Authenticated) => {
    const txId = request.transactionId.toString('hex');
    const existing = allocations.get(link.key);
    if (existing) {
      if (existing.allocateTransaction !== txId) return void fail(link, request, 437, 'Allocation Mismatch', auth.key);
      if (existing.response) link.send(existing.response); // a retransmission: the same answer again
      return;
    }
    const transport = getAttribute(request, Attr.RequestedTransport);
    if (!transport || transport.length !== 4) return void fail(link, request, 400, 'Bad Request: REQUESTED-TRANSPORT is required', auth.key);
    if (transport[0] !== 17) return void fail(link, request, 442, 'Unsupported Transport Protocol: only UDP is relayed', auth.key);
    if (net.isIPv4(link.localAddress) === false) return void fail(link, request, 440, 'Address Family not Supported', auth.key);
    if (allocations.size >= limits.maxAllocations || (perUser.get(auth.username) ?? 0) >= limits.maxAllocationsPerUser) {
      return void fail(link, request, 486, 'Allocation Quota Reached', auth.key);
    }
    const allocation: Allocation = {
      link,
      username: auth.username,
      key: auth.key,
      allocateTransaction: txId,
      createdAt: now(),
      expiresAt: now() + lifetimeOf(request) * 1000,
      permissions: new Map(),
      channels: new Map(),
      channelOfPeer: new Map(),
      bucket: new TokenBucket(limits.bytesPerSecond, limits.burstBytes, now),
    };
    allocations.set(link.key, allocation);
    perUser.set(auth.username, (perUser.get(auth.username) ?? 0) + 1);
    const relay = dgram.createSocket('udp4');
    allocation.relay = relay;
    relay.on('error', (error) => {
      log(`turn relay ${link.key}: ${error.message}`);
      dropAllocation(allocation);
    });
    relay.on('message', (data, rinfo) => {
      const from: TransportAddress = { family: 4, address: rinfo.address, port: rinfo.port };
      if ((allocation.permissions.get(rinfo.address) ?? 0) <= now() || !allocation.bucket.take(data.length)) {
        counters.droppedPackets++;
        return;
      }
      counters.relayedBytes += data.length;
      toClient(allocation, from, data);
    });
    relay.bind(0, link.localAddress, () => {
      if (allocations.get(link.key) !== allocation) return;
      const bound = relay.address();
      allocation.relayed = { family: 4, address: bound.address, port: bound.port };
      const lifetimeS = Math.round((allocation.expiresAt - now()) / 1000);
      allocation.response = reply(
        link,
        request,
        (w) => w.addAddress(Attr.XorRelayedAddress, allocation.relayed!).addUInt32(Attr.Lifetime, lifetimeS).addAddress(Attr.XorMappedAddress, link.remote),
        auth.key,
      );
    });
  };

  /** The caller's allocation, answering 437/441 when there is none or it belongs to other credentials. */
  const ownAllocation = (link: ClientLink, request: StunMessage, auth: Authenticated): Allocation | undefined => {
    const allocation = allocations.get(link.key);
    if (!allocation || !allocation.relayed) return void fail(link, request, 437, 'Allocation Mismatch', auth.key);
    if (allocation.username !== auth.username) return void fail(link, request, 441, 'Wrong Credentials', auth.key);
    return allocation;
  };

  const peerAddresses = (request: StunMessage): TransportAddress[] | string => {
    const values = request.attributes.filter((a) => a.type === Attr.XorPeerAddress);
    if (values.length === 0) return 'XOR-PEER-ADDRESS is required';
    try {
      return values.map((a) => decodeXorAddress(a.value, request.transactionId));
    } catch (error) {
      return (error as Error).message;
    }
  };

  const handleRequest = (link: ClientLink, request: StunMessage) => {
    if (request.method === Method.Binding) {
      reply(link, request, (w) => w.addAddress(Attr.XorMappedAddress, link.remote));
      return;
    }
    const known: number[] = [Method.Allocate, Method.Refresh, Method.CreatePermission, Method.ChannelBind];
    if (!known.includes(request.method)) return void fail(link, request, 400, `Bad Request: method 0x${request.method.toString(16)} is not served`);
    const auth = authenticated(link, request);
    if (!auth) return;
    if (request.method === Method.Allocate) return allocate(link, request, auth);
    const allocation = ownAllocation(link, request, auth);
    if (!allocation) return;
    const t = now();
    if (request.method === Method.Refresh) {
      const lifetime = getAttribute(request, Attr.Lifetime);
      if (lifetime && lifetime.length === 4 && lifetime.readUInt32BE(0) === 0) {
        dropAllocation(allocation);
        return void reply(link, request, (w) => w.addUInt32(Attr.Lifetime, 0), auth.key);
      }
      const seconds = lifetimeOf(request);
      allocation.expiresAt = t + seconds * 1000;
      return void reply(link, request, (w) => w.addUInt32(Attr.Lifetime, seconds), auth.key);
    }
    const peers = peerAddresses(request);
    if (typeof peers === 'string') return void fail(link, request, 400, `Bad Request: ${peers}`, auth.key);
    // Permissions are per IP address (RFC 5766 §9): the port is checked when data is sent.
    if (!peers.every((peer) => relayable({ ...peer, port: request.method === Method.CreatePermission ? 1 : peer.port }))) return void fail(link, request, 403, 'Forbidden: that peer address is not relayed', auth.key);
    if (request.method === Method.CreatePermission) {
      for (const peer of peers) allocation.permissions.set(peer.address, t + limits.permissionLifetimeS * 1000);
      return void reply(link, request, () => {}, auth.key);
    }
    // ChannelBind
    const value = getAttribute(request, Attr.ChannelNumber);
    const channel = value && value.length === 4 ? value.readUInt16BE(0) : -1;
    const peer = peers[0];
    if (channel < CHANNEL_MIN || channel > CHANNEL_MAX) return void fail(link, request, 400, 'Bad Request: channel number outside 0x4000-0x7FFF', auth.key);
    const boundPeer = allocation.channels.get(channel)?.peer;
    const boundChannel = allocation.channelOfPeer.get(peerKey(peer));
    if ((boundPeer && peerKey(boundPeer) !== peerKey(peer)) || (boundChannel !== undefined && boundChannel !== channel)) {
      return void fail(link, request, 400, 'Bad Request: channel or peer already bound differently', auth.key);
    }
    allocation.channels.set(channel, { peer, expiresAt: t + limits.channelLifetimeS * 1000 });
    allocation.channelOfPeer.set(peerKey(peer), channel);
    allocation.permissions.set(peer.address, t + limits.permissionLifetimeS * 1000);
    reply(link, request, () => {}, auth.key);
  };

  const handleSendIndication = (link: ClientLink, indication: StunMessage) => {
    const allocation = allocations.get(link.key);
    const data = getAttribute(indication, Attr.Data);
    const peers = peerAddresses(indication);
    if (!allocation || !data || typeof peers === 'string' || peers[0].family !== 4) {
      counters.droppedPackets++;
      return;
    }
    toPeer(allocation, peers[0], data);
  };

  const handleChannelData = (link: ClientLink, buf: Buffer) => {
    const allocation = allocations.get(link.key);
    const length = buf.readUInt16BE(2);
    const channel = allocation?.channels.get(buf.readUInt16BE(0));
    if (!allocation || !channel || channel.expiresAt <= now() || 4 + length > buf.length) {
      counters.droppedPackets++;
      return;
    }
    toPeer(allocation, channel.peer, buf.subarray(4, 4 + length));
  };

  /** One datagram or one framed TCP message from a client. */
  const handleClientMessage = (link: ClientLink, buf: Buffer) => {
    if (isChannelData(buf)) return handleChannelData(link, buf);
    if (!looksLikeStun(buf)) {
      counters.rejected++;
      return;
    }
    let message: StunMessage;
    try {
      message = parseStun(buf);
    } catch (error) {
      if (!(error instanceof StunParseError)) throw error;
      counters.rejected++;
      return;
    }
    if (message.cls === MessageClass.Request) handleRequest(link, message);
    else if (message.cls === MessageClass.Indication && message.method === Method.Send) handleSendIndication(link, message);
  };

  const transports = await listenTurn(options.port, addresses, limits, log, {
    onMessage: handleClientMessage,
    knownLink: (key) => allocations.get(key)?.link,
    hasAllocation: (key) => allocations.has(key),
    hasChannel: (key, channel) => allocations.get(key)?.channels.has(channel) ?? false,
    onClosed: (link) => {
      const allocation = allocations.get(link.key);
      if (allocation) dropAllocation(allocation);
    },
    onRejected: () => counters.rejected++,
    onDropped: () => counters.droppedPackets++,
  });
  port = transports.port;

  const sweep = () => {
    const t = now();
    for (const allocation of [...allocations.values()]) {
      if (allocation.expiresAt <= t || t - allocation.createdAt >= limits.maxAllocationAgeS * 1000) {
        dropAllocation(allocation);
        continue;
      }
      for (const [ip, expiry] of allocation.permissions) if (expiry <= t) allocation.permissions.delete(ip);
      for (const [number, channel] of allocation.channels) {
        if (channel.expiresAt > t) continue;
        allocation.channels.delete(number);
        allocation.channelOfPeer.delete(peerKey(channel.peer));
      }
    }
  };
  const sweeper = setInterval(sweep, 10_000);
  sweeper.unref();

  return {
    port: transports.port,
    addresses,
    sweep,
    stats: () => ({ allocations: allocations.size, tcpConnections: transports.tcpConnections(), ...counters }),
    close: async () => {
      clearInterval(sweeper);
      for (const allocation of [...allocations.values()]) dropAllocation(allocation);
      await transports.close();
    },
  };
}
