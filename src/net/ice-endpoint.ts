/**
 * Node only: answers POST ICE_CONFIG_ENDPOINT. A tab proves it is a live tab of this server's signalling (its id and
 * the token of its open socket) and names a session id that is registered right now; it then gets the relay's URLs
 * and TURN credentials minted for it, which expire. Nothing else gets credentials, and the shared secret never
 * leaves the server.
 */
import type http from 'node:http';
import { ICE_CONFIG_ENDPOINT, type IceConfigRequest } from './endpoints';
import { iceConfigFor, type RelayOffer } from './relay-offer';
import type { SignallingPresence } from './signalling-presence';

/** A request body is three ids of at most 128 characters: anything larger is refused unread. */
const MAX_BODY_BYTES = 1024;
const ID = /^[A-Za-z0-9 _-]{1,128}$/;

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

function parseRequest(text: string): IceConfigRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  for (const field of ['peer', 'token', 'session'] as const) {
    if (typeof v[field] !== 'string' || !ID.test(v[field] as string)) return `"${field}" must be 1-128 letters, digits, '-', '_' or spaces`;
  }
  return { peer: v.peer as string, token: v.token as string, session: v.session as string };
}

/** The host name the tab used to reach this server (what the relay's URLs must name too). */
export function requestHost(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    const url = new URL(`http://${hostHeader}`);
    return url.hostname && url.username === '' && url.pathname === '/' ? url.hostname : null;
  } catch {
    return null;
  }
}

export function iceConfigMiddleware(offer: RelayOffer | null, presence: SignallingPresence, now: () => number = Date.now) {
  return (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void): void => {
    if (new URL(req.url ?? '/', 'http://placeholder').pathname !== ICE_CONFIG_ENDPOINT) return next();
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return answer(res, 405, { error: `${ICE_CONFIG_ENDPOINT} takes POST only` });
    }
    void readBody(req).then((text) => {
      if (text === null) return answer(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` });
      const request = parseRequest(text);
      if (typeof request === 'string') return answer(res, 400, { error: request });
      const host = requestHost(req.headers.host);
      if (!host) return answer(res, 400, { error: 'the request has no usable Host header' });
      if (!presence.isLive(request.peer, request.token)) {
        return answer(res, 403, { error: `no open signalling socket holds id "${request.peer}" with that token` });
      }
      if (!presence.isRegistered(request.session)) return answer(res, 403, { error: `no session is registered under "${request.session}"` });
      answer(res, 200, iceConfigFor(offer, host, request.peer, now()));
    });
  };
}
