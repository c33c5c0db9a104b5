import { describe, expect, it } from 'vitest';
import { joinLink } from '../session/session-code';
import { buildJoinUrl, parseJoinInput, parseRoute, routeHash, type Route } from './routes';

describe('parseRoute', () => {
  it('maps the four pages', () => {
    expect(parseRoute('')).toEqual({ page: 'landing' });
    expect(parseRoute('#/')).toEqual({ page: 'landing' });
    expect(parseRoute('#/host')).toEqual({ page: 'host' });
    expect(parseRoute('#/session')).toEqual({ page: 'session' });
    expect(parseRoute('#/join/K7PQ2M?s=00ff')).toEqual({ page: 'join', code: 'K7PQ2M', secret: '00ff', aggregatorId: null });
  });

  it('reads the aggregator id of a join link', () => {
    expect(parseRoute('#/join/K7PQ2M?s=00ff&a=peer-42')).toEqual({ page: 'join', code: 'K7PQ2M', secret: '00ff', aggregatorId: 'peer-42' });
  });

  it('keeps a join link without a secret recognisable so the page can say what is missing', () => {
    expect(parseRoute('#/join/K7PQ2M')).toEqual({ page: 'join', code: 'K7PQ2M', secret: null, aggregatorId: null });
    expect(parseRoute('#/join/K7PQ2M?s=has space')).toMatchObject({ page: 'join', secret: null });
  });

  it('sends anything else to not-found', () => {
    expect(parseRoute('#/nope')).toEqual({ page: 'not-found', path: '/nope' });
    expect(parseRoute('#/join')).toEqual({ page: 'not-found', path: '/join' });
    expect(parseRoute('#/join/a/b')).toEqual({ page: 'not-found', path: '/join/a/b' });
    expect(parseRoute('#/join/%E0%A4%A')).toEqual({ page: 'not-found', path: '/join/%E0%A4%A' });
  });

  it('round-trips every route through routeHash', () => {
    const routes: Route[] = [
      { page: 'landing' },
      { page: 'host' },
      { page: 'session' },
      { page: 'join', code: 'ABCDEF', secret: 'f00', aggregatorId: null },
      { page: 'join', code: 'ABCDEF', secret: 'f00', aggregatorId: 'p1' },
    ];
    for (const r of routes) expect(parseRoute(routeHash(r))).toEqual(r);
  });
});

describe('join links', () => {
  it('parses the links the session controller makes', () => {
    const plain = new URL(joinLink('http://10.0.0.5:5173', 'ABCDEF', 'f00')).hash;
    expect(parseRoute(plain)).toEqual({ page: 'join', code: 'ABCDEF', secret: 'f00', aggregatorId: null });
    const withAggregator = new URL(joinLink('http://x/', 'ABCDEF', 'f00', 'p123')).hash;
    expect(parseRoute(withAggregator)).toEqual({ page: 'join', code: 'ABCDEF', secret: 'f00', aggregatorId: 'p123' });
  });

  it('builds a link on the given app base', () => {
    expect(buildJoinUrl('https://10.0.0.2:5173/', 'ABCDEF', 'f00')).toBe('https://10.0.0.2:5173/#/join/ABCDEF?s=f00');
  });
});

describe('parseJoinInput', () => {
  it('accepts a whole pasted link, ignoring the secret field', () => {
    expect(parseJoinInput('  https://192.168.1.4:5173/#/join/ABCDEF?s=f00&a=p9 ', 'ignored')).toEqual({ ok: true, code: 'ABCDEF', secret: 'f00', aggregatorId: 'p9' });
    expect(parseJoinInput('#/join/ABCDEF?s=f00')).toEqual({ ok: true, code: 'ABCDEF', secret: 'f00', aggregatorId: null });
  });

  it('takes the secret from the field when a link lacks it', () => {
    expect(parseJoinInput('http://h/#/join/ABCDEF', 'beef')).toEqual({ ok: true, code: 'ABCDEF', secret: 'beef', aggregatorId: null });
    const missing = parseJoinInput('http://h/#/join/ABCDEF');
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toMatch(/no secret/);
  });

  it('normalises a typed code and passphrase (lower case, spaces, dash) and needs the passphrase', () => {
    expect(parseJoinInput('abc-def', ' k7qm4-rxtab ')).toEqual({ ok: true, code: 'ABCDEF', secret: 'K7QM4RXTAB', aggregatorId: null });
    expect(parseJoinInput('abc-def', ' beef ')).toEqual({ ok: true, code: 'ABCDEF', secret: 'beef', aggregatorId: null });
    const noSecret = parseJoinInput('ABCDEF', '');
    expect(noSecret.ok).toBe(false);
    if (!noSecret.ok) expect(noSecret.error).toMatch(/passphrase/);
  });

  it('rejects what cannot be a code or a join link, saying why', () => {
    const tooShort = parseJoinInput('ABC', 'beef');
    expect(tooShort).toEqual({ ok: false, error: expect.stringMatching(/"ABC" is not a session code/) });
    expect(parseJoinInput('https://example.com/#/host')).toEqual({ ok: false, error: expect.stringMatching(/not a fedtab join link/) });
    expect(parseJoinInput('   ')).toEqual({ ok: false, error: expect.stringMatching(/Enter the join link/) });
    expect(parseJoinInput('ABCDEF', 'be ef')).toEqual({ ok: false, error: expect.stringMatching(/secret may only contain/) });
  });
});
