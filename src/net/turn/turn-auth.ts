/**
 * Node only: the long-term credential check of TURN requests (RFC 5389 §10.2) with TURN REST API credentials, and
 * the nonces it hands out: stateless (a timestamp and its HMAC under a per-process key), valid for a while.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Attr, getAttribute, longTermKey, verifyIntegrity, type StunMessage } from './stun-message';
import { parseRestUsername, turnPassword } from './turn-credentials';

export class NonceIssuer {
  private readonly key = randomBytes(32);

  constructor(
    private readonly lifetimeS: number,
    private readonly now: () => number,
  ) {}

  private mac(stamp: string): string {
    return createHmac('sha256', this.key).update(stamp).digest('base64url').slice(0, 22);
  }

  issue(): string {
    const stamp = Math.floor(this.now() / 1000).toString(36);
    return `${stamp}.${this.mac(stamp)}`;
  }

  isValid(nonce: string): boolean {
    const [stamp, mac] = nonce.split('.');
    if (!stamp || !mac || mac !== this.mac(stamp)) return false;
    return this.now() / 1000 - parseInt(stamp, 36) < this.lifetimeS;
  }
}

export interface Authenticated {
  username: string;
  /** The long-term key: responses to this request carry MESSAGE-INTEGRITY under it. */
  key: Buffer;
}

/** A refusal: the error code, its reason, and whether it carries a fresh REALM and NONCE (a challenge). */
export interface AuthRefusal {
  code: 400 | 401 | 438;
  reason: string;
  challenge: boolean;
  /** Counted as a rejected request (a missing MESSAGE-INTEGRITY or a stale nonce is the ordinary handshake). */
  rejected: boolean;
}

export interface AuthContext {
  secret: string;
  realm: string;
  nonces: NonceIssuer;
  now: () => number;
  /** Whether this username may be used past its expiry (an allocation's own refreshes, up to its maximum age). */
  renewing: (username: string) => boolean;
}

export function authenticate(request: StunMessage, context: AuthContext): Authenticated | AuthRefusal {
  if (getAttribute(request, Attr.MessageIntegrity) === undefined) return { code: 401, reason: 'Unauthorized', challenge: true, rejected: false };
  const username = getAttribute(request, Attr.Username)?.toString('utf8');
  const realm = getAttribute(request, Attr.Realm)?.toString('utf8');
  const nonce = getAttribute(request, Attr.Nonce)?.toString('utf8');
  if (username === undefined || realm === undefined || nonce === undefined) {
    return { code: 400, reason: 'Bad Request: USERNAME, REALM and NONCE are required', challenge: false, rejected: true };
  }
  if (!context.nonces.isValid(nonce)) return { code: 438, reason: 'Stale Nonce', challenge: true, rejected: false };
  const parsed = parseRestUsername(username);
  const expired = 'error' in parsed || (parsed.expiresAt * 1000 < context.now() && !context.renewing(username));
  const key = longTermKey(username, context.realm, turnPassword(context.secret, username));
  if (expired || realm !== context.realm || !verifyIntegrity(request, key)) return { code: 401, reason: 'Unauthorized', challenge: true, rejected: true };
  return { username, key };
}
