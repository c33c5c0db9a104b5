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

/** Characters of the join passphrase: those of the codes, so it reads aloud and types on a phone without look-alikes. */
export const PASSPHRASE_LENGTH = 10;

/**
 * The join secret: a passphrase of 10 characters (about 49.5 bits) that the host shows beside the code, short
 * enough to type on a phone. Guessing it online goes through the signalling server's per-address probe limits;
 * offline guessing needs a handshake transcript, which a stranger cannot get (docs/security.md).
 */
export function randomSecret(): string {
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely (256 is not a multiple of the alphabet's size).
  const limit = 256 - (256 % ALPHABET.length);
  while (out.length < PASSPHRASE_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(PASSPHRASE_LENGTH * 2))) {
      if (b < limit && out.length < PASSPHRASE_LENGTH) out.push(ALPHABET[b % ALPHABET.length]);
    }
  }
  return out.join('');
}

/**
 * What a person typed as the passphrase ("k7qm4 rxtab", "K7QM4-RXTAB") in the canonical form the host uses, or the
 * input unchanged when it is not a passphrase (a longer secret from a link is used as it is).
 */
export function normaliseSecret(input: string): string {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  return compact.length === PASSPHRASE_LENGTH && [...compact].every((c) => ALPHABET.includes(c)) ? compact : input.trim();
}

/** The passphrase as shown beside the code: two groups of five. */
export function formatSecret(secret: string): string {
  return secret.length === PASSPHRASE_LENGTH ? `${secret.slice(0, 5)}-${secret.slice(5)}` : secret;
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
