/**
 * Paths shared by the app's server (signalling + URL list) and the browser transport.
 * Browser-safe: no Node imports.
 */
export const SIGNALLING_ENDPOINT = {
  /** Where ExpressPeerServer is mounted; its WebSocket lives at `${path}/peerjs`. */
  path: '/peerjs',
  /** PeerJS API key. Not a secret: the server only serves this app. */
  key: 'peerjs',
} as const;

/** GET returns {@link ServerUrls}: the addresses other devices should open to join. */
export const SERVER_URLS_ENDPOINT = '/fedtab/urls';

export interface ServerUrls {
  /** URLs on the machine's non-loopback interfaces (what another device should open). Empty if bound to loopback. */
  urls: string[];
  /** URLs that only work on the serving machine itself. */
  local: string[];
}

export function isServerUrls(value: unknown): value is ServerUrls {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const isStringList = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  return isStringList(v.urls) && isStringList(v.local);
}

/** Asks the serving machine for its URLs (see {@link SERVER_URLS_ENDPOINT}). */
export async function fetchServerUrls(origin = ''): Promise<ServerUrls> {
  const response = await fetch(`${origin}${SERVER_URLS_ENDPOINT}`);
  if (!response.ok) throw new Error(`${SERVER_URLS_ENDPOINT} answered HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (!isServerUrls(body)) throw new Error(`${SERVER_URLS_ENDPOINT} returned an unexpected body: ${JSON.stringify(body)}`);
  return body;
}

/**
 * POST {@link IceConfigRequest} returns {@link IceConfigResponse}: the ICE servers a tab of a live session uses,
 * with TURN credentials minted for it that expire.
 */
export const ICE_CONFIG_ENDPOINT = '/fedtab/ice';

export interface IceConfigRequest {
  /** This tab's signalling id and the token of its open signalling socket. */
  peer: string;
  token: string;
  /** The session's id (its host's signalling id): must be registered right now. */
  session: string;
}

export interface IceConfigResponse {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
  /** Unix milliseconds when the credentials expire; null when there are none (no relay). */
  expiresAt: number | null;
}

export function isIceConfigResponse(value: unknown): value is IceConfigResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const isServer = (s: unknown) => {
    if (typeof s !== 'object' || s === null) return false;
    const o = s as Record<string, unknown>;
    return (
      Array.isArray(o.urls) &&
      o.urls.every((u) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u)) &&
      (o.username === undefined || typeof o.username === 'string') &&
      (o.credential === undefined || typeof o.credential === 'string')
    );
  };
  return Array.isArray(v.iceServers) && v.iceServers.length <= 8 && v.iceServers.every(isServer) && (v.expiresAt === null || typeof v.expiresAt === 'number');
}
