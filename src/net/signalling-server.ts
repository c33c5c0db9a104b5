/**
 * Node only: the PeerJS signalling server mounted on the app's own HTTP server (one port, no cloud).
 * Used by the Vite plugin (dev, preview) and by server/serve.ts (production).
 */
import type { ClientAddress } from './client-address';
import type http from 'node:http';
import type https from 'node:https';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ExpressPeerServer } from 'peer';
import { WebSocketServer, type WebSocket } from 'ws';
import { SIGNALLING_ENDPOINT } from './endpoints';
import { AddressBook, addressKey, type AddressLimits, type Refusal } from './signalling-addresses';
import type { QueueLimits } from './signalling-queue';
import { SignallingRelay, type RelayClient, type RelayStats } from './signalling-relay';
import { plainErrorHandler } from './plain-error-handler';

export { addressKey } from './signalling-addresses';

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

export type SignallingLimits = AddressLimits &
  QueueLimits & {
    /** Largest signalling message (SDP offers and ICE candidates are a few KB); larger closes the socket (1009). */
    maxPayloadBytes: number;
  };

export const SIGNALLING_LIMITS: Readonly<SignallingLimits> = {
  maxPayloadBytes: 64 * 1024,
  maxConnections: 5_000,
  maxConnectionsPerAddress: 32,
  maxRegistrationsPerWindow: 120,
  maxIdProbesPerWindow: 10,
  windowMs: 60_000,
  maxTrackedAddresses: 10_000,
  // A connection attempt is an offer and a few candidates of a few KB each: 30 tabs calling one reloading host fit.
  queuedPerDestination: 256,
  queuedBytesPerDestination: 512 * 1024,
  queuedPerSender: 256,
  queuedBytesPerSender: 1024 * 1024,
  queuedTotal: 4_096,
  queuedBytesTotal: 16 * 1024 * 1024,
  queueExpiryMs: 5_000,
};

export interface SignallingStats {
  openConnections: number;
  trackedAddresses: number;
  /** Upgrades refused, by reason. */
  refused: Record<Refusal | 'origin', number>;
  /** Sockets closed to give their place to an address holding fewer (the server was full). */
  evicted: number;
  /** Messages for ids nobody holds: held, delivered, answered "EXPIRE", refused. */
  relay: RelayStats;
}

export interface SignallingOptions {
  /** Where errors of the signalling server are reported (default: console.warn). */
  log?: (line: string) => void;
  limits?: Partial<SignallingLimits>;
  /** Clock for the rate windows and the queue's expiry (tests). */
  now?: () => number;
  /**
   * What becomes of an upgrade request for another path: left to other listeners (Vite's HMR socket), or refused
   * (404) where nothing else takes upgrades, so that no such socket stays open unread.
   */
  otherUpgrades?: 'leave' | 'refuse';
  /** The address a request counts against (default: the socket's peer; behind a reverse proxy see client-address.ts). */
  clientAddress?: ClientAddress;
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

/** The request's pathname; null for a URL that cannot be parsed (`//`, for one). */
function pathnameOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://placeholder').pathname;
  } catch {
    return null;
  }
}

/** PeerJS answers a taken id with exactly this message (relayed messages start with their own type). */
function isIdTakenAnswer(data: unknown): boolean {
  return typeof data === 'string' && data.startsWith('{"type":"ID-TAKEN"');
}

/** Closes `victim` (PeerJS drops its client on the WebSocket's close) and then runs `then`. */
function evict(victim: Duplex, webSocket: WebSocket | undefined, then: () => void): void {
  if (webSocket && webSocket.readyState !== webSocket.CLOSED) {
    webSocket.once('close', () => setImmediate(then));
    webSocket.terminate();
    return;
  }
  victim.destroy();
  setImmediate(then);
}

/**
 * Mounts ExpressPeerServer on `httpServer`. Two details matter:
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
  outerApp.use(plainErrorHandler((line) => log(`signalling: ${line}`)));
  if (!webSocketServer) throw new Error('signalling: ExpressPeerServer did not create its WebSocket server on mount');
  const wss = webSocketServer;

  const addresses = new AddressBook<Duplex>(limits, now);
  const relay = new SignallingRelay({ limits, now, probe: (address, id) => addresses.tryProbe(address, id) });
  peerApp.on('connection', (client: RelayClient) => relay.registered(client));
  peerApp.on('disconnect', (client: RelayClient) => relay.gone(client));
  const expiry = setInterval(() => relay.expire(), Math.min(1000, limits.queueExpiryMs));
  expiry.unref();

  const webSocketOf = new WeakMap<Duplex, WebSocket>();
  const refused: SignallingStats['refused'] = { origin: 0, perAddress: 0, registrations: 0, probes: 0, global: 0, addresses: 0 };
  let evicted = 0;

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = pathnameOf(req.url);
    if (pathname === null) return refuseUpgrade(socket, 400, 'Bad Request');
    if (pathname !== webSocketPath) {
      if (options.otherUpgrades === 'refuse') refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    const origin = req.headers.origin;
    // Browsers always send Origin on WebSocket upgrades: a page of another site may not use this server.
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      refused.origin++;
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const key = addressKey(options.clientAddress ? options.clientAddress(req) : req.socket.remoteAddress);
    const admission = addresses.admit(key, socket);
    if (!admission.admitted) {
      refused[admission.reason]++;
      const full = admission.reason === 'global' || admission.reason === 'addresses';
      refuseUpgrade(socket, full ? 503 : 429, full ? 'Service Unavailable' : 'Too Many Requests');
      return;
    }
    socket.once('close', () => addresses.release(key, socket));
    const accept = () => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        webSocketOf.set(socket, ws);
        // Count "ID-TAKEN" answers: an address that keeps asking for taken ids is probing for sessions.
        const send = ws.send.bind(ws) as (data: unknown, ...rest: unknown[]) => void;
        (ws as { send: unknown }).send = (data: unknown, ...rest: unknown[]) => {
          if (isIdTakenAnswer(data)) addresses.recordProbe(key);
          send(data, ...rest);
        };
        // Messages for ids nobody holds stop at the relay instead of PeerJS's unbounded queue.
        const emit = ws.emit.bind(ws) as (event: string | symbol, ...args: unknown[]) => boolean;
        (ws as { emit: unknown }).emit = (event: string | symbol, ...args: unknown[]) => {
          if (event === 'message' && !relay.passes(ws, key, String(args[0]))) return false;
          return emit(event, ...args);
        };
        wss.emit('connection', ws, req);
      });
    };
    if (admission.evicted === undefined) return accept();
    evicted++;
    evict(admission.evicted, webSocketOf.get(admission.evicted), accept);
  };
  httpServer.on('upgrade', onUpgrade);

  const prefix = SIGNALLING_ENDPOINT.path;
  const middleware: ConnectMiddleware = (req, res, next) => {
    const pathname = pathnameOf(req.url);
    if (pathname === null || (pathname !== prefix && !pathname.startsWith(`${prefix}/`))) return next();
    if (req.httpVersionMajor >= 2) return answerHttp2(pathname, req, res);
    outerApp(req as express.Request, res as express.Response, next);
  };

  return {
    middleware,
    webSocketPath,
    stats: () => ({
      openConnections: addresses.openConnections,
      trackedAddresses: addresses.trackedAddresses,
      refused: { ...refused },
      evicted,
      relay: relay.stats(),
    }),
    close() {
      clearInterval(expiry);
      httpServer.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
