/**
 * Node only: the relay this server offers to tabs: the embedded TURN relay (URLs on whatever host name the tab
 * reached the app by), a separate one such as coturn (fixed URLs, same shared secret), or none.
 */
import { mintTurnCredentials } from './turn/turn-credentials';
import type { IceConfigResponse } from './endpoints';

/** Which relay a server offers (server/app-config.ts reads it from the config file). */
export type RelaySetting =
  | { kind: 'embedded'; port: number }
  | { kind: 'external'; secret: string; urls: string[]; credentialTtlSeconds?: number }
  | { kind: 'none' };

export interface RelayOffer {
  secret: string;
  /** How long minted credentials stay valid. */
  ttlSeconds: number;
  /** The STUN/TURN URLs for a tab that reached the app under `host` (a host name or IP, IPv6 in brackets). */
  urls(host: string): string[];
}

/** Tabs fetch new credentials before these expire; allocations made with them live on (see the relay's limits). */
export const RELAY_CREDENTIAL_TTL_S = 3600;

export function embeddedRelayOffer(secret: string, port: number, ttlSeconds = RELAY_CREDENTIAL_TTL_S): RelayOffer {
  return {
    secret,
    ttlSeconds,
    urls: (host) => [`stun:${host}:${port}`, `turn:${host}:${port}?transport=udp`, `turn:${host}:${port}?transport=tcp`],
  };
}

export function fixedRelayOffer(secret: string, urls: readonly string[], ttlSeconds = RELAY_CREDENTIAL_TTL_S): RelayOffer {
  return { secret, ttlSeconds, urls: () => [...urls] };
}

/** A credential label from a peer id: the characters a TURN REST username keeps, at most 64. */
function labelOf(peerId: string): string {
  return peerId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'tab';
}

/** The ICE servers one tab gets: STUN without credentials, TURN with credentials minted for it. */
export function iceConfigFor(offer: RelayOffer | null, host: string, peerId: string, nowMs = Date.now()): IceConfigResponse {
  if (!offer) return { iceServers: [], expiresAt: null };
  const urls = offer.urls(host);
  const stun = urls.filter((u) => u.startsWith('stun'));
  const turn = urls.filter((u) => u.startsWith('turn'));
  const credentials = mintTurnCredentials(offer.secret, labelOf(peerId), offer.ttlSeconds, nowMs);
  return {
    iceServers: [
      ...(stun.length ? [{ urls: stun }] : []),
      ...(turn.length ? [{ urls: turn, username: credentials.username, credential: credentials.credential }] : []),
    ],
    expiresAt: credentials.expiresAt * 1000,
  };
}
