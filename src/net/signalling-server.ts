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

export interface SignallingOptions {
  /** Where errors of the signalling server are reported (default: console.warn). */
  log?: (line: string) => void;
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
export function attachSignalling(httpServer: AppHttpServer, options: SignallingOptions = {}): SignallingMount {
  const log = options.log ?? ((line: string) => console.warn(line));
  let webSocketServer: WebSocketServer | undefined;
  let webSocketPath = '';

  // The server argument is only handed to createWebSocketServer, which ignores it (noServer).
  const peerApp = ExpressPeerServer(httpServer as http.Server, {
    path: '/',
    key: SIGNALLING_ENDPOINT.key,
    allow_discovery: false,
    createWebSocketServer: (wsOptions) => {
      webSocketPath = wsOptions.path ?? '';
      webSocketServer = new WebSocketServer({ noServer: true });
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

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathnameOf(req.url) !== webSocketPath) return; // leave it to others (Vite's HMR socket)
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
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
    close() {
      httpServer.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
