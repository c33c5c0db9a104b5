import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepRelayServers, type FetchLike, type RelayPeer } from './relay-servers';

const TURN = { urls: ['turn:10.0.0.1:3478?transport=udp', 'turn:10.0.0.1:3478?transport=tcp'], username: '100:p1', credential: 'c1' };

function fakePeer(token: string | undefined = 'tok'): RelayPeer & { closeListeners: Array<() => void> } {
  const closeListeners: Array<() => void> = [];
  return { id: 'p1', options: { token, config: { iceServers: [] } }, on: (_e, l) => closeListeners.push(l), closeListeners };
}

function answering(...bodies: Array<{ status: number; body: unknown } | Error>): FetchLike & { calls: unknown[] } {
  const calls: unknown[] = [];
  const fn = (async (_url, init) => {
    calls.push(JSON.parse(init.body));
    const next = bodies.length > 1 ? bodies.shift()! : bodies[0];
    if (next instanceof Error) throw next;
    return { ok: next.status === 200, status: next.status, json: async () => next.body };
  }) as FetchLike & { calls: unknown[] };
  fn.calls = calls;
  return fn;
}

describe('keeping the relay servers of a session', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('adds the relay to the own servers, asks as this tab of the session, and fetches again before expiry', async () => {
    const peer = fakePeer();
    const fetchFn = answering({ status: 200, body: { iceServers: [TURN], expiresAt: 3_600_000 } });
    const keeper = await keepRelayServers(peer, 'host1', [{ urls: 'stun:own.lan' }], fetchFn);
    expect(fetchFn.calls).toEqual([{ peer: 'p1', token: 'tok', session: 'host1' }]);
    expect(peer.options.config!.iceServers).toEqual([{ urls: 'stun:own.lan' }, TURN]);
    expect(keeper.status()).toEqual({ kind: 'offered', urls: TURN.urls });
    await vi.advanceTimersByTimeAsync(2_699_000);
    expect(fetchFn.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000); // 75% of the hour
    expect(fetchFn.calls).toHaveLength(2);
    keeper.stop();
  });

  it('says why when the server refuses or does not answer, keeps LAN-only servers and retries', async () => {
    const peer = fakePeer();
    const fetchFn = answering({ status: 403, body: { error: 'no session is registered under "host1"' } }, { status: 200, body: { iceServers: [], expiresAt: null } });
    const keeper = await keepRelayServers(peer, 'host1', [], fetchFn);
    expect(keeper.status()).toEqual({ kind: 'unavailable', reason: '/fedtab/ice: no session is registered under "host1"' });
    expect(peer.options.config!.iceServers).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(keeper.status()).toEqual({ kind: 'none' });
    peer.closeListeners.forEach((l) => l());
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fetchFn.calls).toHaveLength(2);
  });

  it('gives the first fetch up after its timeout and refuses a body that is not an ICE config', async () => {
    const hanging: FetchLike = (_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    const pending = keepRelayServers(fakePeer(), 'host1', [], hanging);
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await pending).status()).toEqual({ kind: 'unavailable', reason: '/fedtab/ice did not answer within 5000 ms' });
    const bad = await keepRelayServers(fakePeer(), 'host1', [], answering({ status: 200, body: { iceServers: [{ urls: ['http://evil'] }], expiresAt: null } }));
    expect(bad.status()).toEqual({ kind: 'unavailable', reason: '/fedtab/ice returned an unexpected body' });
    bad.stop();
  });
});
