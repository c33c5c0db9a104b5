import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceIssuer, authenticate, type AuthContext } from './turn-auth';
import { Attr, MessageClass, Method, StunWriter, longTermKey, parseStun } from './stun-message';
import { mintTurnCredentials } from './turn-credentials';

const SECRET = 'a-shared-secret';

function request(username: string, password: string, nonce: string, realm = 'fedtab') {
  const writer = new StunWriter(Method.Refresh, MessageClass.Request, randomBytes(12));
  writer.addString(Attr.Username, username).addString(Attr.Realm, realm).addString(Attr.Nonce, nonce);
  return parseStun(writer.build({ key: longTermKey(username, realm, password) }));
}

describe('TURN authentication', () => {
  let t = 1_700_000_000_000;
  const nonces = new NonceIssuer(60, () => t);
  const context = (renewing = false): AuthContext => ({ secret: SECRET, realm: 'fedtab', nonces, now: () => t, renewing: () => renewing });

  it('accepts REST credentials signed with the shared secret, and refuses a wrong realm or password', () => {
    const creds = mintTurnCredentials(SECRET, 'tab', 600, t);
    expect(authenticate(request(creds.username, creds.credential, nonces.issue()), context())).toMatchObject({ username: creds.username });
    expect(authenticate(request(creds.username, 'guess', nonces.issue()), context())).toMatchObject({ code: 401, rejected: true });
    expect(authenticate(request(creds.username, creds.credential, nonces.issue(), 'other'), context())).toMatchObject({ code: 401 });
    const forged = mintTurnCredentials('another-secret', 'tab', 600, t);
    expect(authenticate(request(forged.username, forged.credential, nonces.issue()), context())).toMatchObject({ code: 401 });
  });

  it('refuses expired credentials unless the allocation is renewing its own, and nonces that are stale or forged', () => {
    const creds = mintTurnCredentials(SECRET, 'tab', 10, t - 20_000);
    expect(authenticate(request(creds.username, creds.credential, nonces.issue()), context())).toMatchObject({ code: 401 });
    expect(authenticate(request(creds.username, creds.credential, nonces.issue()), context(true))).toMatchObject({ username: creds.username });
    const old = nonces.issue();
    t += 61_000;
    expect(authenticate(request(creds.username, creds.credential, old), context(true))).toMatchObject({ code: 438, challenge: true, rejected: false });
    expect(nonces.isValid(`${old.split('.')[0]}.forgedmacforgedmacforg`)).toBe(false);
    expect(nonces.isValid('garbage')).toBe(false);
  });

  it('challenges a request without MESSAGE-INTEGRITY and refuses one without USERNAME', () => {
    const bare = parseStun(new StunWriter(Method.Allocate, MessageClass.Request, randomBytes(12)).build());
    expect(authenticate(bare, context())).toEqual({ code: 401, reason: 'Unauthorized', challenge: true, rejected: false });
    const noUser = parseStun(new StunWriter(Method.Allocate, MessageClass.Request, randomBytes(12)).build({ key: Buffer.alloc(16) }));
    expect(authenticate(noUser, context())).toMatchObject({ code: 400, rejected: true });
  });
});
