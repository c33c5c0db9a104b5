import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionControllerCore } from './session-controller';
import type { SessionSettings } from './types';
import type { HostSnapshotStore, TabSessionStore } from './resume-store';
import { settleFake, untilFake } from './testing/fake-time';
import { makeControllerWorld, makeSnapshotStore, makeTabStorage, TEST_SETTINGS } from './testing/controller-world';
import { hostPeerId } from './session-code';

const settings: SessionSettings = { ...TEST_SETTINGS, rounds: 4 };
const makeTab = makeTabStorage;

function makeWorld() {
  const world = makeControllerWorld();
  // Every tab here keeps its session across reloads.
  return { ...world, deps: (tabSession: TabSessionStore = makeTab(), snapshots?: HostSnapshotStore) => world.deps(tabSession, snapshots) };
}

const until = untilFake;

const settle = settleFake;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A host and ann and bob joined in that order (slots 1 and 2); the host's and ann's tabs keep their sessions. */
async function classroom() {
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
  await until(() => host.getState().peers.filter((p) => p.numSamples > 0).length === 3);
  return { world, host, hostTab, hostDeps, hostId, code: code!, secret, ann, annTab, annDeps, bob };
}

describe('a reload does not end a tab\'s part in the session', () => {
  it('the host tab resumes at the same round under the same id; a client tab rejoins with its slot and shard', async () => {
    const { world, host, hostTab, hostDeps, hostId, code, annTab, annDeps, bob } = await classroom();
    expect(annDeps.workers[0].calls).toContain('demo shard 1');

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
    expect(again.getState().error).toMatch(new RegExp(`^could not rejoin session ${code}: no open session has the code ${code}`));
    expect(again.resumable()).toEqual({ code, role: 'client', name: 'Ann' });
    expect(againDeps.transports.every((t) => !world.network.has(t.selfId))).toBe(true);
  });
});

describe('a successor tab that reloads: the tab that aggregates is the session\'s host now', () => {
  /**
   * The host, ann (slot 1) and `others`, each tab on a device of its own (its own snapshots). The host leaves on
   * purpose mid-run; ann, next in line, takes over in term 2, aggregates a round or more, and stops.
   */
  async function handedOver(others: string[]) {
    const world = makeWorld();
    const host = new SessionControllerCore(world.deps(makeTab(), makeSnapshotStore()));
    await settle(host.host({ ...settings, rounds: 12 }, 'Teacher'));
    const { code, joinUrl } = host.getState();
    const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
    const annTab = makeTab();
    const annSnapshots = makeSnapshotStore();
    const annDeps = world.deps(annTab, annSnapshots);
    const ann = new SessionControllerCore(annDeps);
    await settle(ann.join(code!, secret, 'Ann'));
    const tabs = [];
    for (const name of others) {
      const deps = world.deps(makeTab(), makeSnapshotStore());
      const tab = new SessionControllerCore(deps);
      await settle(tab.join(code!, secret, name));
      tabs.push({ tab, deps });
    }
    await until(() => host.getState().peers.filter((p) => p.numSamples > 0).length === 2 + others.length);
    void host.start();
    await until(() => host.getState().rounds.length >= 1);
    host.leave();
    await until(() => ann.getState().isAggregator);
    await until(() => ann.getState().log.some((l) => /^round \d+ done/.test(l.text)));
    ann.stop();
    await until(() => ann.getState().status === 'lobby');
    const hostId = await hostPeerId(code!, secret);
    return { world, code: code!, secret, hostId, ann, annTab, annSnapshots, annDeps, others: tabs };
  }

  const lobbyLogged = (c: SessionControllerCore) => c.getState().log.some((l) => l.text.includes("also answers the session's original link"));

  it('reloaded before the others notice, it resumes in its term under its id, and they go on with it: no election', async () => {
    const { world, code, hostId, ann, annTab, annSnapshots, annDeps, others } = await handedOver(['Bob', 'Cy']);
    const before = ann.getState();
    expect(annTab.load()).toMatchObject({ role: 'client', aggregating: true });
    expect(annSnapshots.map.get(code)).toMatchObject({ term: 2, peerId: before.selfId, checkpoint: { round: before.currentRound } });

    world.reload(annDeps);
    const againDeps = world.deps(annTab, annSnapshots);
    const again = new SessionControllerCore(againDeps);
    // Offered, as for a host; not rejoined as a client by itself.
    expect(again.resumable()).toEqual({ code, role: 'host', name: 'Ann' });
    expect(await again.rejoinAfterReload()).toBe(false);
    await settle(again.resume());
    expect(again.getState()).toMatchObject({ selfId: before.selfId, isAggregator: true, currentRound: before.currentRound, code, role: 'host' });
    expect(again.getState().rounds.map((r) => r.round)).toEqual(before.rounds.map((r) => r.round));
    expect(again.getState().log.some((l) => l.text === `session ${code} resumed after round ${before.currentRound} (term 2)`)).toBe(true);
    // Its own slot's data (slot 1), not the host's.
    expect(againDeps.workers[0].calls).toContain('demo shard 1');

    // bob and cy take it back as their aggregator in the same term; its lobby holds the host id again.
    await until(() => again.getState().peers.filter((p) => p.numSamples > 0).length === 3);
    await until(() => lobbyLogged(again) && world.network.has(hostId));
    const run = again.start();
    await until(() => again.getState().status === 'finished', 60_000);
    await settle(run);
    expect(again.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(again.getState().rounds.at(-1)?.participantCount).toBe(3);
    for (const { tab } of others) {
      expect(tab.getState()).toMatchObject({ isAggregator: false, aggregatorId: before.selfId });
      expect(tab.getState().log.some((l) => l.text.includes('asking') && l.text.includes('take over'))).toBe(false);
    }

    // Leaving on purpose forgets it, as the host's.
    again.leave();
    expect(again.resumable()).toBeNull();
    expect(annSnapshots.map.has(code)).toBe(false);
    others.forEach(({ tab }) => tab.leave());
  });

  it('reloaded after the next successor took over, it joins that one as a client, with its slot and shard', async () => {
    const { world, code, hostId, ann, annTab, annSnapshots, annDeps, others } = await handedOver(['Bob', 'Cy']);
    const [bob, cy] = others.map((o) => o.tab);
    const annId = ann.getState().selfId;
    world.reload(annDeps);
    // bob, next in line after ann, takes over in term 3 from the checkpoint ann replicated to him; his lobby holds the host id.
    await until(() => bob.getState().isAggregator);
    await until(() => lobbyLogged(bob));
    expect(cy.getState().aggregatorId).toBe(bob.getState().selfId);

    const againDeps = world.deps(annTab, annSnapshots);
    const again = new SessionControllerCore(againDeps);
    expect(again.resumable()).toEqual({ code, role: 'host', name: 'Ann' });
    await settle(again.resume());
    expect(again.getState()).toMatchObject({ selfId: annId, isAggregator: false, aggregatorId: bob.getState().selfId, role: 'client', status: expect.stringMatching(/lobby|running|finished/) });
    expect(again.getState().log.some((l) => l.text === `session ${code} went on without this tab: joining it as a client`)).toBe(true);
    expect(again.getState().log.some((l) => l.text === `joined session ${code} as slot 1`)).toBe(true);
    expect(againDeps.workers[0].calls).toContain('demo shard 1');
    // Its snapshot is stale now; a later reload rejoins as a client by itself.
    expect(annSnapshots.map.has(code)).toBe(false);
    expect(again.resumable()).toEqual({ code, role: 'client', name: 'Ann' });

    // ann had stopped the run: it stays stopped through the handovers until the aggregator resumes it.
    expect(bob.getState().phase).toBe('stopped');
    void bob.start();
    // One session: bob aggregates, every round once.
    await until(() => bob.getState().status === 'finished', 60_000);
    expect([again, cy].map((t) => t.getState().aggregatorId)).toEqual([bob.getState().selfId, bob.getState().selfId]);
    expect([again, bob, cy].filter((t) => t.getState().isAggregator)).toEqual([bob]);
    expect(bob.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(world.network.has(hostId)).toBe(true);
    [again, bob, cy].forEach((t) => t.leave());
  });

  it('resumed while a later term already runs elsewhere (its lobby not yet open), it steps down: a later term wins, no split', async () => {
    const { world, code, hostId, ann, annTab, annSnapshots, annDeps, others } = await handedOver(['Bob', 'Cy']);
    const [{ tab: bob, deps: bobDeps }, { tab: cy }] = others;
    const annId = ann.getState().selfId;
    // Someone holds the host id while bob takes over, so bob's lobby cannot open (it retries every few seconds).
    const lobbyTries: number[] = [];
    const open = bobDeps.openTransport;
    bobDeps.openTransport = (o) => {
      if (o.id === hostId) lobbyTries.push(Date.now());
      return open(o);
    };
    world.reload(annDeps);
    const squatter = world.network.endpoint(hostId);
    await until(() => bob.getState().isAggregator && lobbyTries.length > 0);
    world.network.disconnect(squatter.selfId);

    // ann's tab resumes now: the host id is free, so it reopens its session in term 2, under its id.
    const again = new SessionControllerCore(world.deps(annTab, annSnapshots));
    await settle(again.resume());
    expect(again.getState().log.some((l) => l.text.startsWith(`session ${code} resumed after round`))).toBe(true);
    // bob, in term 3, calls it back; it has no majority and bob is its successor: it steps down and follows him.
    await until(() => !again.getState().isAggregator && again.getState().aggregatorId === bob.getState().selfId);
    expect(again.getState().log.some((l) => l.text.includes('aggregates in a later term (3); this tab follows it'))).toBe(true);
    expect(again.getState().selfId).toBe(annId);
    // bob knows it by its id, so its slot (and its data, shard 1 as loaded when it resumed) stays its own.
    await until(() => bob.getState().peers.some((p) => p.id === annId && p.name === 'Ann' && p.numSamples > 0));
    // It no longer aggregates, so a reload rejoins as a client, and its snapshot is gone.
    expect(again.resumable()).toEqual({ code, role: 'client', name: 'Ann' });
    await until(() => !annSnapshots.map.has(code));
    // Its lobby went with it; bob's takes the host id on its next try.
    await until(() => lobbyLogged(bob), 15_000);

    // ann had stopped the run: it stays stopped through the handovers until the aggregator resumes it.
    expect(bob.getState().phase).toBe('stopped');
    void bob.start();
    await until(() => bob.getState().status === 'finished', 60_000);
    expect([again, bob, cy].filter((t) => t.getState().isAggregator)).toEqual([bob]);
    expect([again, cy].map((t) => t.getState().aggregatorId)).toEqual([bob.getState().selfId, bob.getState().selfId]);
    expect(bob.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    [again, bob, cy].forEach((t) => t.leave());
  });

  it('alone in the session when it reloads, it resumes it (model, round, term): newcomers join with the original code and the run goes on', async () => {
    const { world, code, secret, hostId, ann, annTab, annSnapshots, annDeps, others } = await handedOver(['Bob']);
    const before = ann.getState();
    others[0].tab.leave();
    await vi.advanceTimersByTimeAsync(1_000);
    world.reload(annDeps);
    // Nobody is left to carry the session on, however long the tab takes to come back.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(world.network.has(hostId)).toBe(false);

    const again = new SessionControllerCore(world.deps(annTab, annSnapshots));
    expect(again.resumable()).toEqual({ code, role: 'host', name: 'Ann' });
    await settle(again.resume());
    expect(again.getState()).toMatchObject({ selfId: before.selfId, isAggregator: true, currentRound: before.currentRound, status: 'lobby' });
    expect(again.getState().rounds.map((r) => r.round)).toEqual(before.rounds.map((r) => r.round));
    await until(() => lobbyLogged(again) && world.network.has(hostId));

    // A newcomer with the original code and secret reaches it through the host id.
    const dan = new SessionControllerCore(world.deps(makeTab(), makeSnapshotStore()));
    await settle(dan.join(code, secret, 'Dan'));
    expect(dan.getState().aggregatorId).toBe(before.selfId);
    await until(() => again.getState().peers.filter((p) => p.numSamples > 0).length === 2);
    const run = again.start();
    await until(() => again.getState().status === 'finished', 60_000);
    await settle(run);
    expect(again.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(again.getState().rounds.at(-1)?.participantCount).toBe(2);
    again.leave();
    dan.leave();
    expect(annSnapshots.map.has(code)).toBe(false);
  });

  it("does not resume another tab's snapshot (tabs of one browser share IndexedDB): it joins as a client", async () => {
    const { world, code, annTab, annSnapshots, annDeps, others } = await handedOver(['Bob']);
    world.reload(annDeps);
    const theirs = { ...annSnapshots.map.get(code)!, clientKey: 'another-tab' };
    annSnapshots.map.set(code, theirs);
    const again = new SessionControllerCore(world.deps(annTab, annSnapshots));
    await settle(again.resume().catch(() => undefined));
    expect(again.getState().isAggregator).toBe(false);
    expect(again.getState().log.some((l) => l.text.startsWith(`session ${code} resumed`))).toBe(false);
    expect(annSnapshots.map.get(code)).toBe(theirs);
    again.leave();
    others.forEach(({ tab }) => tab.leave());
  });
});
