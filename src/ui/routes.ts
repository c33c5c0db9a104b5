/**
 * Hash routes (no router library):
 *   #/            landing: host or join
 *   #/host        host settings form
 *   #/join/CODE?s=SECRET[&a=AGGREGATOR]   join link: asks for a display name, then joins
 *   #/session     dashboard
 */

import { normaliseSecret, normaliseSessionCode, SESSION_CODE_LENGTH } from '../session/session-code';

export type Route =
  | { page: 'landing' }
  | { page: 'host' }
  | { page: 'join'; code: string; secret: string | null; aggregatorId: string | null }
  | { page: 'session' }
  | { page: 'not-found'; path: string };

export type PageName = Route['page'];

/** Query keys of a join link: the join secret, and the aggregator's peer id when it is not the host's tab. */
export const SECRET_PARAM = 's';
export const AGGREGATOR_PARAM = 'a';

const TOKEN = /^[A-Za-z0-9_.~-]{1,200}$/;

/** Session codes and secrets: URL-safe tokens (letters, digits, _ . ~ -), at most 200 characters. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

function safeDecode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** Parses `location.hash` (with or without the leading '#'). */
export function parseRoute(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const queryAt = raw.indexOf('?');
  const pathPart = queryAt >= 0 ? raw.slice(0, queryAt) : raw;
  const query = new URLSearchParams(queryAt >= 0 ? raw.slice(queryAt + 1) : '');
  const segments = pathPart.split('/').filter((s) => s !== '');
  if (segments.length === 0) return { page: 'landing' };
  const [head, ...rest] = segments;
  if (head === 'host' && rest.length === 0) return { page: 'host' };
  if (head === 'session' && rest.length === 0) return { page: 'session' };
  if (head === 'join' && rest.length === 1) {
    const code = safeDecode(rest[0]);
    if (code !== null && isToken(code)) {
      const secret = query.get(SECRET_PARAM);
      const aggregatorId = query.get(AGGREGATOR_PARAM);
      return {
        page: 'join',
        code,
        secret: secret !== null && isToken(secret) ? secret : null,
        aggregatorId: aggregatorId !== null && isToken(aggregatorId) ? aggregatorId : null,
      };
    }
  }
  return { page: 'not-found', path: pathPart || '/' };
}

/** The hash (starting with '#') that parseRoute maps back to `route`. */
export function routeHash(route: Route): string {
  switch (route.page) {
    case 'landing':
      return '#/';
    case 'host':
      return '#/host';
    case 'session':
      return '#/session';
    case 'join': {
      const query = new URLSearchParams();
      if (route.secret !== null) query.set(SECRET_PARAM, route.secret);
      if (route.aggregatorId !== null) query.set(AGGREGATOR_PARAM, route.aggregatorId);
      const q = query.toString();
      return `#/join/${encodeURIComponent(route.code)}${q ? `?${q}` : ''}`;
    }
    case 'not-found':
      return `#${route.path}`;
  }
}

/** The join link for a session, on the app served at `appBase` (origin + path, e.g. `https://10.0.0.2:5173/`). */
export function buildJoinUrl(appBase: string, code: string, secret: string, aggregatorId: string | null = null): string {
  const url = new URL(appBase);
  url.hash = routeHash({ page: 'join', code, secret, aggregatorId });
  return url.toString();
}

export type JoinInput = { ok: true; code: string; secret: string; aggregatorId: string | null } | { ok: false; error: string };

/**
 * What a person typed into "Join with a code": either a whole join link (or just its '#/join/...' part), or a bare
 * session code together with the secret shown next to it on the host's screen.
 */
export function parseJoinInput(linkOrCode: string, secretField = ''): JoinInput {
  const text = linkOrCode.trim();
  const secretText = normaliseSecret(secretField);
  if (text === '') return { ok: false, error: 'Enter the join link or the session code.' };
  const hashAt = text.indexOf('#');
  if (hashAt >= 0 || text.includes('/')) {
    const route = parseRoute(hashAt >= 0 ? text.slice(hashAt) : '');
    if (route.page !== 'join') return { ok: false, error: 'That link is not a fedtab join link (it should contain "#/join/").' };
    const secret = route.secret ?? (secretText || null);
    if (secret === null) return { ok: false, error: `The link has no secret ("?${SECRET_PARAM}=..."); copy the whole link.` };
    if (!isToken(secret)) return { ok: false, error: 'The secret may only contain letters, digits, "_", ".", "~" and "-".' };
    return { ok: true, code: route.code, secret, aggregatorId: route.aggregatorId };
  }
  const code = normaliseSessionCode(text);
  if (code === null) return { ok: false, error: `"${text}" is not a session code: it has ${SESSION_CODE_LENGTH} letters and digits, like K7PQ2M.` };
  if (secretText === '') return { ok: false, error: 'Enter the passphrase shown beside the session code, or paste the whole join link.' };
  if (!isToken(secretText)) return { ok: false, error: 'The secret may only contain letters, digits, "_", ".", "~" and "-".' };
  return { ok: true, code, secret: secretText, aggregatorId: null };
}
