import { sha256Digest } from './sha256';

/** Session codes: short, readable aloud, no look-alike characters (0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const SESSION_CODE_LENGTH = 6;

export function randomSessionCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SESSION_CODE_LENGTH));
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** Normalises what a person typed ("abc-def", " ABCDEF ") into a code, or null if it cannot be one. */
export function normaliseSessionCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== SESSION_CODE_LENGTH) return null;
  return [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

/** Hex characters of the digest kept in a host's peer id (80 bits). */
export const HOST_ID_HEX_LENGTH = 20;

/**
 * The signalling id of the tab that hosts the session with this code and secret. It depends on the secret, so
 * someone who knows only the public code can neither find the host nor squat on its id.
 */
export async function hostPeerId(code: string, secret: string): Promise<string> {
  const digest = await sha256Digest(new TextEncoder().encode(`fedtab-host-id-v1|${code}|${secret}`));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  return `fedtab-${hex.slice(0, HOST_ID_HEX_LENGTH)}`;
}

export function randomSecret(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The link a client opens: the app's page with the code and the join secret in the hash (never sent to a server).
 * The aggregator's id is added only when it is not the host's own (`hostId`), i.e. after a handover.
 */
export function joinLink(origin: string, code: string, secret: string, aggregatorId?: string, hostId?: string): string {
  const base = origin.endsWith('/') ? origin : `${origin}/`;
  const params = new URLSearchParams({ s: secret });
  if (aggregatorId && aggregatorId !== hostId) params.set('a', aggregatorId);
  return `${base}#/join/${code}?${params}`;
}
