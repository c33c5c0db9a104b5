/**
 * Node only: the PeerJS signalling server mounted on the app's own HTTP server (one port, no cloud).
 * Used by the Vite plugin (dev, preview) and by server/serve.ts (production).
 */
import type http from 'node:http';
import type https from 'node:https';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ExpressPeerServer } from 'peer';
import { WebSocketServer } from 'ws';
import { SIGNALLING_ENDPOINT } from './endpoints';

export type AppHttpServer = http.Server | https.Server | http2.Http2SecureServer;

type NextFunction = (error?: unknown) => void;
export type ConnectMiddleware = (req: http.IncomingMessage, res: http.ServerResponse, next: NextFunction) => void;

export interface SignallingMount {
  /** Answers the PeerJS HTTP API under SIGNALLING_ENDPOINT.path and passes every other request on. */
  middleware: ConnectMiddleware;
  /** Pathname of the signalling WebSocket (`/peerjs/peerjs`). */
  webSocketPath: string;
  /** Stops accepting signalling sockets and closes the open ones. */
  close(): void;
}

export interface SignallingLimits {
  /** Largest signalling message (SDP offers and ICE candidates are a few KB); larger closes the socket (1009). */
  maxPayloadBytes: number;
  /** Open signalling sockets on the whole server (also PeerServer's concurrent_limit). */
  maxConnections: number;
  /** Open signalling sockets from one address (an IPv4 address or an IPv6 /64); hit long before the global cap. */
  maxConnectionsPerAddress: number;
  /** Registration attempts (socket upgrades) from one address per window. */
  maxRegistrationsPerWindow: number;
  /** Attempts answered "ID-TAKEN" (id probes) for one address per window; then its upgrades are refused. */
  maxIdProbesPerWindow: number;
  windowMs: number;
  /** Addresses tracked at once; beyond it, upgrades from new addresses are refused until some go idle. */
  maxTrackedAddresses: number;
}

export const SIGNALLING_LIMITS: Readonly<SignallingLimits> = {
  maxPayloadBytes: 64 * 1024,
  maxConnections: 5_000,
  maxConnectionsPerAddress: 32,
  maxRegistrationsPerWindow: 120,
  maxIdProbesPerWindow: 10,
  windowMs: 60_000,
  maxTrackedAddresses: 10_000,
};

export interface SignallingStats {
  openConnections: number;
  trackedAddresses: number;
  /** Upgrades refused, by reason. */
  refused: { origin: number; perAddress: number; registrations: number; probes: number; global: number; addresses: number };
}

export interface SignallingOptions {
  /** Where errors of the signalling server are reported (default: console.warn). */
  log?: (line: string) => void;
  limits?: Partial<SignallingLimits>;
  /** Clock for the rate windows (tests). */
  now?: () => number;
}

/** The rate-limit key of a remote address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1];
  if (!remote.includes(':')) return remote;
  const [head, tail = ''] = remote.split('%')[0].split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = remote.includes('::') && tail ? tail.split(':') : [];
  const groups = remote.includes('::') ? [...headParts, ...Array(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts] : headParts;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

interface AddressRecord {
  open: number;
  registrations: number[];
  probes: number[];
}

/** Timestamps within the window, oldest dropped; the array is pruned in place. */
function recent(times: number[], now: number, windowMs: number): number {
  while (times.length && now - times[0] >= windowMs) times.shift();
  return times.length;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

/** Whether a browser's Origin header names the host the request was sent to (same origin). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Express 4 swaps the request's prototype, which breaks HTTP/2 compat requests (Vite serves HTTPS over
 * HTTP/2) and crashes the server. The PeerJS client uses only one HTTP route, `/<key>/id`, and only when it
 * is given no id; that one is answered here, the rest get a clear refusal.
 */
function answerHttp2(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'GET' && pathname === `${SIGNALLING_ENDPOINT.path}/${SIGNALLING_ENDPOINT.key}/id`) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(randomUUID());
    return;
  }
  res.statusCode = 505;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${pathname}: the PeerJS HTTP API is served over HTTP/1.1 only`);
}

function pathnameOf(url: string | undefined): string {
  return new URL(url ?? '/', 'http://placeholder').pathname;
}

/**
 * Mounts ExpressPeerServer on `httpServer`. Two details matter (see stack-notes):
 * ExpressPeerServer initialises only on express's `mount` event, hence the small outer express app;
 * and its default WebSocket server answers 400 to every other upgrade (which kills Vite's HMR socket),
 * hence a `noServer` WebSocketServer that takes only its own path.
 */
export function attachSignalling(httpServer: AppHttpServer, options: SignallingOptions = {}): SignallingMount & { stats(): SignallingStats } {
  const log = options.log ?? ((line: string) => console.warn(line));
  const limits: SignallingLimits = { ...SIGNALLING_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  let webSocketServer: WebSocketServer | undefined;
  let webSocketPath = '';

  // The server argument is only handed to createWebSocketServer, which ignores it (noServer).
  const peerApp = ExpressPeerServer(httpServer as http.Server, {
    path: '/',
    key: SIGNALLING_ENDPOINT.key,
    allow_discovery: false,
    concurrent_limit: limits.maxConnections,
    // The app calls its own origin only: no CORS headers at all (PeerServer's default reflects any Origin).
    corsOptions: { origin: false },
    createWebSocketServer: (wsOptions) => {
      webSocketPath = wsOptions.path ?? '';
      webSocketServer = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
      return webSocketServer;
    },
  });
  // Without a listener, an 'error' emitted by the peer server would crash the process.
  peerApp.on('error', (error: Error) => log(`signalling: ${error.message}`));

  const outerApp = express();
  outerApp.disable('x-powered-by');
  outerApp.use(SIGNALLING_ENDPOINT.path, peerApp); // fires 'mount', which creates the WebSocket server
  if (!webSocketServer) throw new Error('signalling: ExpressPeerServer did not create its WebSocket server on mount');
  const wss = webSocketServer;

  const addresses = new Map<string, AddressRecord>();
  const refused: SignallingStats['refused'] = { origin: 0, perAddress: 0, registrations: 0, probes: 0, global: 0, addresses: 0 };
  let openConnections = 0;

  const sweep = (t: number) => {
    for (const [key, r] of addresses) {
      if (r.open === 0 && recent(r.registrations, t, limits.windowMs) === 0 && recent(r.probes, t, limits.windowMs) === 0) addresses.delete(key);
    }
  };

  /** Refuses the upgrade when a limit is hit; otherwise counts it and returns the address's record. */
  const admitUpgrade = (req: http.IncomingMessage, socket: Duplex): AddressRecord | null => {
    const origin = req.headers.origin;
    // Browsers always send Origin on WebSocket upgrades: a page of another site may not use this server.
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      refused.origin++;
      refuseUpgrade(socket, 403, 'Forbidden');
      return null;
    }
    const t = now();
    const key = addressKey(req.socket.remoteAddress);
    let record = addresses.get(key);
    if (!record) {
      if (addresses.size >= limits.maxTrackedAddresses) sweep(t);
      if (addresses.size >= limits.maxTrackedAddresses) {
        refused.addresses++;
        refuseUpgrade(socket, 503, 'Service Unavailable');
        return null;
      }
      record = { open: 0, registrations: [], probes: [] };
      addresses.set(key, record);
    }
    let reason: keyof typeof refused | null = null;
    if (record.open >= limits.maxConnectionsPerAddress) reason = 'perAddress';
    else if (recent(record.probes, t, limits.windowMs) >= limits.maxIdProbesPerWindow) reason = 'probes';
    else if (recent(record.registrations, t, limits.windowMs) >= limits.maxRegistrationsPerWindow) reason = 'registrations';
    else if (openConnections >= limits.maxConnections) reason = 'global';
    if (reason) {
      refused[reason]++;
      refuseUpgrade(socket, reason === 'global' ? 503 : 429, reason === 'global' ? 'Service Unavailable' : 'Too Many Requests');
      return null;
    }
    record.registrations.push(t);
    record.open++;
    openConnections++;
    const r = record;
    socket.once('close', () => {
      r.open--;
      openConnections--;
    });
    return record;
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathnameOf(req.url) !== webSocketPath) return; // leave it to others (Vite's HMR socket)
    const record = admitUpgrade(req, socket);
    if (!record) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Count "ID-TAKEN" answers: an address that keeps asking for taken ids is probing for sessions.
      const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
      (ws as { send: unknown }).send = (data: unknown, ...rest: unknown[]) => {
        if (typeof data === 'string' && data.includes('"ID-TAKEN"')) record.probes.push(now());
        send(data, ...rest);
      };
      wss.emit('connection', ws, req);
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const prefix = SIGNALLING_ENDPOINT.path;
  const middleware: ConnectMiddleware = (req, res, next) => {
    const pathname = pathnameOf(req.url);
    if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return next();
    if (req.httpVersionMajor >= 2) return answerHttp2(pathname, req, res);
    outerApp(req as express.Request, res as express.Response, next);
  };

  return {
    middleware,
    webSocketPath,
    stats: () => ({ openConnections, trackedAddresses: addresses.size, refused: { ...refused } }),
    close() {
      httpServer.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
