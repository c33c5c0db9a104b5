/**
 * Node only: time-limited TURN credentials in the form of the TURN REST API, which coturn's `use-auth-secret`
 * checks too: username = "<expiry unix seconds>:<label>", password = base64(HMAC-SHA1(shared secret, username)).
 * The shared secret stays on the server; a tab only ever gets a username and password that expire.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which the relay refuses them. */
  expiresAt: number;
}

/** A fresh random shared secret (base64url, 256 bits). */
export function newTurnSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

const LABEL = /^[A-Za-z0-9_-]{1,64}$/;

export function mintTurnCredentials(secret: string, label: string, ttlSeconds: number, nowMs = Date.now()): TurnCredentials {
  if (!LABEL.test(label)) throw new Error(`TURN credential label "${label}" must be 1-64 letters, digits, '-' or '_'`);
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${label}`;
  return { username, credential: turnPassword(secret, username), expiresAt };
}

/** The expiry a REST username carries, or an error naming what is wrong with it. */
export function parseRestUsername(username: string): { expiresAt: number } | { error: string } {
  const colon = username.indexOf(':');
  const expiry = colon > 0 ? username.slice(0, colon) : '';
  if (!/^\d{1,12}$/.test(expiry)) return { error: `username "${username.slice(0, 80)}" does not start with an expiry timestamp` };
  return { expiresAt: Number(expiry) };
}
