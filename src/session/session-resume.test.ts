import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionControllerCore } from './session-controller';
import type { SessionSettings } from './types';
import type { TabSessionStore } from './resume-store';
import { untilFake } from './testing/fake-time';
import { makeControllerWorld, makeTabStorage, TEST_SETTINGS } from './testing/controller-world';

const settings: SessionSettings = { ...TEST_SETTINGS, rounds: 4 };
const makeTab = makeTabStorage;

function makeWorld() {
  const world = makeControllerWorld();
  // Every tab here keeps its session across reloads.
  return { ...world, deps: (tabSession: TabSessionStore = makeTab()) => world.deps(tabSession) };
}

const until = untilFake;

async function settle<T>(p: Promise<T>, maxMs = 30_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  await until(() => done, maxMs);
  return watched;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a reload does not end a tab\'s part in the session', () => {
  it('the host tab resumes at the same round under the same id; a client tab rejoins with its slot and shard', async () => {
    const world = makeWorld();
    const hostTab = makeTab();
    const hostDeps = world.deps(hostTab);
    const host = new SessionControllerCore(hostDeps);
    await settle(host.host(settings, 'Teacher'));
    const { code, joinUrl, selfId: hostId } = host.getState();
    const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
    const annTab = makeTab();
    const annDeps = world.deps(annTab);
    const ann = new SessionControllerCore(annDeps);
    await settle(ann.join(code!, secret, 'Ann'));
    const bob = new SessionControllerCore(world.deps());
    await settle(bob.join(code!, secret, 'Bob'));
    expect(annDeps.workers[0].calls).toContain('demo shard 1');
    await until(() => host.getState().peers.filter((p) => p.numSamples > 0).length === 3);

    // A round or two, then the host stops; its state after the last round is kept.
    const run = host.start();
    await until(() => host.getState().rounds.length === 1);
    host.stop();
    await settle(run);
    const stoppedAt = host.getState().currentRound;
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(4);
    expect(world.snapshots.get(code!)?.checkpoint.round).toBe(stoppedAt);

    // ann's tab reloads: same key, so slot 1 and shard 1 again (bob, slot 2, keeps his).
    world.reload(annDeps);
    await vi.advanceTimersByTimeAsync(100);
    const annAgainDeps = world.deps(annTab);
    const annAgain = new SessionControllerCore(annAgainDeps);
    expect(annAgain.resumable()).toEqual({ code, role: 'client', name: 'Ann' });
    await settle(annAgain.resume());
    expect(annAgainDeps.workers[0].calls).toContain('demo shard 1');
    expect(annAgain.getState().log.some((l) => l.text.includes('as slot 1'))).toBe(true);

    // The host's tab reloads: it resumes at the same round under the same id, and the run goes on to round 4.
    world.reload(hostDeps);
    await vi.advanceTimersByTimeAsync(100);
    const hostAgain = new SessionControllerCore(world.deps(hostTab));
    expect(hostAgain.resumable()).toEqual({ code, role: 'host', name: 'Teacher' });
    await settle(hostAgain.resume());
    expect(hostAgain.getState()).toMatchObject({ selfId: hostId, isAggregator: true, currentRound: stoppedAt, code, role: 'host' });
    expect(hostAgain.getState().rounds.map((r) => r.round)).toEqual(host.getState().rounds.map((r) => r.round));
    // The clients find it again under its id (after their silence deadline) and the run goes on from the next round.
    await until(() => hostAgain.getState().peers.filter((p) => p.numSamples > 0).length === 3, 60_000);
    const rest = hostAgain.start();
    await until(() => hostAgain.getState().status === 'finished', 60_000);
    await settle(rest);
    expect(hostAgain.getState().rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    expect(hostAgain.getState().rounds[3].participantCount).toBe(3);

    // Leaving on purpose leaves nothing to resume.
    hostAgain.leave();
    expect(hostAgain.resumable()).toBeNull();
    expect(world.snapshots.has(code!)).toBe(false);
    annAgain.leave();
    bob.leave();
  });
});

describe('a client tab that reloads rejoins by itself', () => {
  /** A host, and ann and bob joined in that order (slots 1 and 2); ann's tab storage is `annTab`. */
  async function classroom() {
    const world = makeWorld();
    const host = new SessionControllerCore(world.deps());
    await settle(host.host(settings, 'Teacher'));
    const { code, joinUrl } = host.getState();
    const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
    const annTab = makeTab();
    const annDeps = world.deps(annTab);
    const ann = new SessionControllerCore(annDeps);
    await settle(ann.join(code!, secret, 'Ann'));
    const bob = new SessionControllerCore(world.deps());
    await settle(bob.join(code!, secret, 'Bob'));
    await until(() => host.getState().peers.filter((p) => p.numSamples > 0).length === 3);
    return { world, host, code: code!, ann, annTab, annDeps, bob };
  }

  it('with the same slot and shard, saying so meanwhile, and without a click', async () => {
    const { world, host, code, annTab, annDeps, bob } = await classroom();
    const annId = annDeps.transports[0].selfId;
    world.reload(annDeps);
    await until(() => !host.getState().peers.some((p) => p.id === annId));

    const againDeps = world.deps(annTab);
    const again = new SessionControllerCore(againDeps);
    const rejoined = again.rejoinAfterReload();
    expect(again.getState().rejoining).toEqual({ code });
    expect(await settle(rejoined)).toBe(true);
    expect(again.getState()).toMatchObject({ status: 'lobby', role: 'client', code, rejoining: null, error: null });
    expect(againDeps.workers[0].calls).toContain('demo shard 1');
    expect(again.getState().log.some((l) => l.text.includes(`joined session ${code} as slot 1`))).toBe(true);
    // The aggregator gave the key its slot back (slot 1, shard 1 above); bob keeps his.
    await until(() => host.getState().peers.some((p) => p.id === again.getState().selfId && p.numSamples > 0));
    expect(host.getState().peers.map((p) => p.name).sort()).toEqual(['Ann', 'Bob', 'Teacher']);
    expect(bob.getState().localData?.description).toBe('demo shard 2');
    again.leave();
    bob.leave();
    host.leave();
  });

  it('only a client tab that was in a session: not a new tab, not the host, not after leaving on purpose', async () => {
    const { world, host, ann, annTab, bob } = await classroom();
    const fresh = new SessionControllerCore(world.deps());
    expect(await fresh.rejoinAfterReload()).toBe(false);
    expect(fresh.getState()).toMatchObject({ status: 'idle', rejoining: null });

    const hostTab = makeTab();
    hostTab.save({ code: 'ABCDEF', secret: 'SECRET', role: 'host', clientKey: 'k', name: 'Teacher' });
    const hostAgain = new SessionControllerCore(world.deps(hostTab));
    expect(await hostAgain.rejoinAfterReload()).toBe(false);
    expect(hostAgain.resumable()).toMatchObject({ role: 'host' });

    ann.leave();
    const annAgain = new SessionControllerCore(world.deps(annTab));
    expect(annAgain.resumable()).toBeNull();
    expect(await annAgain.rejoinAfterReload()).toBe(false);
    expect(annAgain.getState().status).toBe('idle');
    bob.leave();
    host.leave();
  });

  it('Cancel stops it at once or half-way: the tab stays out, without an error, and can still rejoin by hand', async () => {
    const { world, host, code, annTab, annDeps, bob } = await classroom();
    world.reload(annDeps);
    for (const when of ['at once', 'once connected'] as const) {
      const againDeps = world.deps(annTab);
      const again = new SessionControllerCore(againDeps);
      const rejoined = again.rejoinAfterReload();
      if (when === 'once connected') await until(() => againDeps.transports.length === 1);
      again.cancelRejoin();
      expect(again.getState()).toMatchObject({ status: 'idle', rejoining: null, error: null, code: null });
      expect(await settle(rejoined)).toBe(false);
      // Nothing comes back to life later (the welcome wait, the data loading).
      await vi.advanceTimersByTimeAsync(30_000);
      expect(again.getState()).toMatchObject({ status: 'idle', rejoining: null, error: null });
      expect(againDeps.transports.every((t) => !world.network.has(t.selfId))).toBe(true);
      expect(again.resumable()).toEqual({ code, role: 'client', name: 'Ann' });
      expect(again.getState().log.some((l) => l.text === `stopped rejoining session ${code}`)).toBe(true);
    }
    bob.leave();
    host.leave();
  });

  it('when the session is gone, it falls back to the offer, with the reason', async () => {
    const { world, host, code, annTab, annDeps, bob } = await classroom();
    world.reload(annDeps);
    bob.leave();
    host.leave();
    const againDeps = world.deps(annTab);
    const again = new SessionControllerCore(againDeps);
    expect(await settle(again.rejoinAfterReload())).toBe(false);
    expect(again.getState()).toMatchObject({ status: 'idle', rejoining: null, code: null });
    expect(again.getState().error).toMatch(new RegExp(`^could not rejoin session ${code}: .*not on the network`));
    expect(again.resumable()).toEqual({ code, role: 'client', name: 'Ann' });
    expect(againDeps.transports.every((t) => !world.network.has(t.selfId))).toBe(true);
  });
});
