/**
 * Node only: how TURN clients reach the relay: UDP on each served address (so the server knows which address a
 * client reached, and relays from it), TCP on all of them with STUN/ChannelData framing. Hands each message to the
 * relay; closes TCP streams that do not speak TURN, idle ones without an allocation, and any beyond the cap.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { MAGIC_COOKIE, StunParseError, isChannelData, tcpFrameLength, type TransportAddress } from './stun-message';

/** One client's 5-tuple as the relay sees it: how to answer it, and which server address it reached. */
export interface ClientLink {
  key: string;
  transport: 'udp' | 'tcp';
  remote: TransportAddress;
  /** The server address the client reached: the relayed address is on it. */
  localAddress: string;
  send(data: Buffer): void;
}

export interface TransportLimits {
  maxTcpConnections: number;
  tcpIdleMs: number;
  maxTcpQueuedBytes: number;
}

export interface TransportHandlers {
  /** One STUN message or one ChannelData message (without TCP padding). */
  onMessage(link: ClientLink, message: Buffer): void;
  /** The link of an existing allocation, reused for its UDP client's next datagrams. */
  knownLink(key: string): ClientLink | undefined;
  hasAllocation(key: string): boolean;
  hasChannel(key: string, channel: number): boolean;
  /** A TCP client's connection closed: its allocation goes with it. */
  onClosed(link: ClientLink): void;
  onRejected(): void;
  onDropped(): void;
}

export interface TurnTransports {
  port: number;
  tcpConnections(): number;
  close(): Promise<void>;
}

export function ipv4Addresses(interfaces = os.networkInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) for (const e of list ?? []) if (e.family === 'IPv4' && !out.includes(e.address)) out.push(e.address);
  return out;
}

const unmapped = (address: string) => address.replace(/^::ffff:/i, '');

/**
 * Whether the front of a TCP stream can still be TURN, judged from its first bytes so that a stranger's bytes
 * (an HTTP request, a TLS hello) close the connection at once instead of waiting for a 64 KB "frame" to fill:
 * ChannelData only on a channel the connection's allocation has bound, STUN only with the magic cookie.
 */
function plausibleStreamStart(buf: Buffer, hasChannel: (channel: number) => boolean): boolean {
  if (buf.length < 4) return true;
  if (isChannelData(buf)) return hasChannel(buf.readUInt16BE(0));
  return buf.length < 8 || buf.readUInt32BE(4) === MAGIC_COOKIE;
}

export async function listenTurn(port: number, addresses: readonly string[], limits: TransportLimits, log: (line: string) => void, handlers: TransportHandlers): Promise<TurnTransports> {
  const { tcp, udp, port: bound } = await bind(port, addresses);
  const tcpSockets = new Set<net.Socket>();

  for (const [localAddress, socket] of udp) {
    socket.on('message', (buf, rinfo) => {
      const key = `udp:${localAddress}:${rinfo.address}:${rinfo.port}`;
      const link: ClientLink = handlers.knownLink(key) ?? {
        key,
        transport: 'udp',
        remote: { family: 4, address: rinfo.address, port: rinfo.port },
        localAddress,
        send: (data) => socket.send(data, rinfo.port, rinfo.address),
      };
      handlers.onMessage(link, buf);
    });
    socket.on('error', (error) => log(`turn udp ${localAddress}: ${error.message}`));
  }

  let serial = 0;
  tcp.on('connection', (socket) => {
    if (tcpSockets.size >= limits.maxTcpConnections || !socket.remoteAddress || !socket.localAddress) {
      socket.destroy();
      return;
    }
    tcpSockets.add(socket);
    const link: ClientLink = {
      key: `tcp:${++serial}`,
      transport: 'tcp',
      remote: { family: 4, address: unmapped(socket.remoteAddress), port: socket.remotePort ?? 0 },
      localAddress: unmapped(socket.localAddress),
      send: (data) => {
        if (socket.writableLength > limits.maxTcpQueuedBytes) handlers.onDropped();
        else socket.write(data);
      },
    };
    let pending: Buffer = Buffer.alloc(0);
    socket.setTimeout(limits.tcpIdleMs, () => {
      if (!handlers.hasAllocation(link.key)) socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        for (;;) {
          if (!plausibleStreamStart(pending, (channel) => handlers.hasChannel(link.key, channel))) throw new StunParseError('stream is not TURN');
          const frame = tcpFrameLength(pending);
          if (frame === undefined || frame > pending.length) break;
          const message = pending.subarray(0, frame);
          pending = pending.subarray(frame);
          // ChannelData over TCP is padded; the message itself is header + declared length.
          handlers.onMessage(link, isChannelData(message) ? message.subarray(0, 4 + message.readUInt16BE(2)) : message);
        }
      } catch (error) {
        if (!(error instanceof StunParseError)) throw error;
        handlers.onRejected();
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      tcpSockets.delete(socket);
      handlers.onClosed(link);
    });
  });

  return {
    port: bound,
    tcpConnections: () => tcpSockets.size,
    close: async () => {
      for (const socket of tcpSockets) socket.destroy();
      await Promise.all([new Promise<void>((resolve) => tcp.close(() => resolve())), ...[...udp.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())))]);
    },
  };
}

/** TCP on all interfaces and UDP on each address, on one port number (a free one when `port` is 0). */
async function bind(port: number, addresses: readonly string[]): Promise<{ tcp: net.Server; udp: Map<string, dgram.Socket>; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const tcp = net.createServer();
    const udp = new Map<string, dgram.Socket>();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '0.0.0.0', () => resolve());
      });
      const chosen = (tcp.address() as net.AddressInfo).port;
      for (const address of addresses) {
        const socket = dgram.createSocket('udp4');
        udp.set(address, socket);
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(chosen, address, () => resolve());
        });
      }
      return { tcp, udp, port: chosen };
    } catch (error) {
      tcp.close();
      for (const socket of udp.values()) socket.close();
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (port !== 0 || !inUse || attempt >= 5) throw new Error(`TURN relay cannot listen on port ${port}: ${(error as Error).message}`);
    }
  }
}
