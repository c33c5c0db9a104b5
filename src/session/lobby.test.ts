import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import type { Message } from '../fl/protocol';
import { AuthenticatedTransport } from './authenticated-transport';
import { LobbyKeeper, type LobbyTransport } from './lobby';
import { SessionNode } from './session-node';
import { fakeTrainer, TINY_CONFIG, TINY_TIMING, tinyWeights } from './testing/tiny-session';

const SECRET = 'join-secret-of-the-session';
/** The session's well-known host id (hostPeerId(code, secret) in the app). */
const HOST = 'fedtab-host';

const config = TINY_CONFIG;
const timing = TINY_TIMING;
const weights = tinyWeights;

/** Every tab behind the join handshake, as in the app (pure-JS HMAC: WebCrypto would resolve outside the fake clock); each tab that may aggregate keeps a lobby on HOST. */
function makeSession() {
  const sent: Array<{ from: string; to: string; message: Message }> = [];
  const network = new InMemoryNetwork({ tap: (from, to, message) => sent.push({ from, to, message }) });
  const trainCalls: Record<string, number[]> = {};
  const logs: string[] = [];
  const keepers = new Map<string, LobbyKeeper>();
  const openLobby = async (): Promise<LobbyTransport> => {
    if (network.has(HOST)) throw new Error(`peer id ${HOST} is taken`);
    const auth = new AuthenticatedTransport(network.endpoint(HOST), { secret: SECRET, useWebCrypto: false });
    const closeAuth = auth.close.bind(auth);
    return Object.assign(auth, {
      close: () => {
        closeAuth();
        network.disconnect(HOST);
      },
    });
  };
  const add = (id: string, clientKey?: string): SessionNode => {
    const node: SessionNode = new SessionNode({
      transport: new AuthenticatedTransport(network.endpoint(id), { secret: SECRET, useWebCrypto: false }),
      name: id,
      clientKey,
      trainer: () => fakeTrainer((trainCalls[id] ??= [])),
      timing,
      onChange: () => keepers.get(id)?.update(),
      onLog: (level, text) => logs.push(`${id} ${level}: ${text}`),
    });
    keepers.set(
      id,
      new LobbyKeeper({
        open: openLobby,
        target: () => (node.isAggregator && node.selfId !== HOST ? { aggregatorId: node.selfId, term: node.term } : null),
        retryMs: 1_000,
      }),
    );
    return node;
  };
  return { network, sent, trainCalls, logs, keepers, add };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the session outlives its host tab', () => {
  it('after a handover the original host id redirects a newcomer (and the former host) to the new aggregator; the newcomer gets the history and trains', async () => {
    const { network, sent, trainCalls, keepers, add } = makeSession();
    const host = add(HOST);
    const ann = add('ann');
    const bob = add('bob');
    await host.host(config, weights(0));
    for (const n of [ann, bob]) {
      const joined = n.join(HOST);
      await vi.advanceTimersByTimeAsync(50);
      await joined;
    }
    void host.start();
    await vi.advanceTimersByTimeAsync(1_500);
    const doneByHost = host.rounds.length;
    expect(doneByHost).toBeGreaterThanOrEqual(2);

    // The host tab closes; ann, next in line, takes over and (the host id being free now) opens the lobby.
    host.leave();
    network.disconnect(HOST);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ann.isAggregator).toBe(true);
    expect(bob.aggregatorId).toBe('ann');
    expect(keepers.get('ann')!.isOpen).toBe(true);
    expect(network.has(HOST)).toBe(true);

    // A latecomer opens the original link: it reaches the lobby, proves the secret, is redirected, and joins ann.
    const dan = add('dan');
    const joined = dan.join(HOST);
    await vi.advanceTimersByTimeAsync(100);
    const welcome = await joined;
    expect(dan.aggregatorId).toBe('ann');
    expect(welcome.config.rounds).toBe(config.rounds);
    expect(sent.some((s) => s.from === HOST && s.to === 'dan' && s.message.type === 'redirect')).toBe(true);
    // Nothing but the handshake went to dan from the lobby before the redirect.
    const beforeRedirect = sent.filter((s) => s.from === HOST && s.to === 'dan').map((s) => s.message.type);
    expect(beforeRedirect.slice(0, beforeRedirect.indexOf('redirect'))).toEqual(['auth-challenge']);
    // The history: dan's rounds start at round 1, as ann's do.
    expect(dan.rounds.map((r) => r.round)).toEqual(ann.rounds.map((r) => r.round));
    expect(dan.rounds[0].round).toBe(1);

    // The former host's tab opens the original link again: it joins as a client.
    const former = add('former-host');
    const rejoined = former.join(HOST);
    await vi.advanceTimersByTimeAsync(100);
    await rejoined;
    expect(former.isAggregator).toBe(false);
    expect(former.aggregatorId).toBe('ann');

    await vi.advanceTimersByTimeAsync(5_000);
    expect(trainCalls.dan.length).toBeGreaterThan(0);
    expect(trainCalls['former-host'].length).toBeGreaterThan(0);
    expect(ann.clients.map((c) => c.id).sort()).toEqual(['ann', 'bob', 'dan', 'former-host']);
    for (const n of [ann, bob, dan, former]) n.leave();
    keepers.forEach((k) => k.close());
  });

  it('a stranger without the secret reaching the lobby gets no redirect', async () => {
    const { network, sent, keepers, add } = makeSession();
    const ann = add('ann');
    // ann aggregates under her own id (as after a takeover): her keeper opens the lobby on HOST.
    await ann.host(config, weights(0));
    await vi.advanceTimersByTimeAsync(10);
    expect(keepers.get('ann')!.isOpen).toBe(true);
    const stranger = network.endpoint('stranger');
    await stranger.connect(HOST);
    stranger.send(HOST, { type: 'hello', v: 1, clientName: 'x', backend: 'cpu', numSamples: 0, labelHistogram: [] });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent.filter((s) => s.to === 'stranger').map((s) => s.message.type)).not.toContain('redirect');
    ann.leave();
    keepers.forEach((k) => k.close());
  });

  it('keeps retrying while the host id is taken, and releases it when this tab stops aggregating', async () => {
    const { network, keepers, add } = makeSession();
    const squatter = network.endpoint(HOST);
    const ann = add('ann');
    await ann.host(config, weights(0));
    await vi.advanceTimersByTimeAsync(2_500);
    expect(keepers.get('ann')!.isOpen).toBe(false);
    network.disconnect(squatter.selfId);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keepers.get('ann')!.isOpen).toBe(true);
    ann.leave();
    keepers.get('ann')!.update();
    expect(keepers.get('ann')!.isOpen).toBe(false);
    expect(network.has(HOST)).toBe(false);
  });

  it('a tab that holds the host id but follows another aggregator sends joiners on (a resumed host that stepped down)', async () => {
    const { sent, keepers, add } = makeSession();
    const ann = add('ann');
    // The former host tab holds its id again (so ann's lobby cannot) and follows ann.
    const former = add(HOST);
    await ann.host(config, weights(0));
    const rejoined = former.join('ann');
    await vi.advanceTimersByTimeAsync(50);
    await rejoined;
    const dan = add('dan');
    const joined = dan.join(HOST);
    await vi.advanceTimersByTimeAsync(100);
    await joined;
    expect(dan.aggregatorId).toBe('ann');
    expect(sent.some((s) => s.from === HOST && s.to === 'dan' && s.message.type === 'redirect')).toBe(true);
    expect(ann.clients.map((c) => c.id).sort()).toEqual(['ann', 'dan', HOST]);
    expect(keepers.get('ann')!.isOpen).toBe(false);
    for (const n of [ann, former, dan]) n.leave();
    keepers.forEach((k) => k.close());
  });

  it('a tab that comes back with its client key gets its slot again, under a new peer id', async () => {
    const { network, add } = makeSession();
    const host = add(HOST);
    const nodes = [add('ann', 'key-ann'), add('bob', 'key-bob'), add('cy', 'key-cy')];
    await host.host(config, weights(0));
    for (const n of nodes) {
      const joined = n.join(HOST);
      await vi.advanceTimersByTimeAsync(50);
      await joined;
    }
    const bobSlot = nodes[1].slot;
    expect(bobSlot).toBe(2);
    // bob's tab reloads (its peer vanishes) and comes back under a new id with the same key.
    network.disconnect('bob');
    await vi.advanceTimersByTimeAsync(100);
    const bob2 = add('bob-reloaded', 'key-bob');
    const welcome = bob2.join(HOST);
    await vi.advanceTimersByTimeAsync(50);
    expect((await welcome).slot).toBe(bobSlot);
    // cy leaves on purpose and comes back: same slot too; a new key gets a new one.
    nodes[2].leave();
    await vi.advanceTimersByTimeAsync(100);
    network.disconnect('cy');
    const cy2 = add('cy-again', 'key-cy');
    const dan = add('dan', 'key-dan');
    const [w1, w2] = [cy2.join(HOST), dan.join(HOST)];
    await vi.advanceTimersByTimeAsync(50);
    expect((await w1).slot).toBe(3);
    expect((await w2).slot).toBe(4);
    await vi.advanceTimersByTimeAsync(300);
    expect(host.roster.map((e) => [e.id, e.slot])).toEqual([
      [HOST, 0],
      ['ann', 1],
      ['bob-reloaded', 2],
      ['cy-again', 3],
      ['dan', 4],
    ]);
    for (const n of [host, nodes[0], bob2, cy2, dan]) n.leave();
  });
});
