/**
 * A student tab that reloads mid-round: back while the round that asked it still runs, it trains that round after
 * all; back later, the next round starts with it; and "Your updates went into N of M rounds" counts every round its
 * updates went into, under its old peer id or its new one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionControllerCore } from './session-controller';
import { settleFake, untilFake } from './testing/fake-time';
import { joinSession, makeControllerWorld, makeSnapshotStore, makeTabStorage, openSession, TEST_SETTINGS } from './testing/controller-world';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Host, Ann (who reloads) and Ben; each round's training takes trainMs (fake time), Ann's annTrainMs. */
async function classroom(trainMs: number, annTrainMs = trainMs) {
  const world = makeControllerWorld();
  const hostDeps = world.deps();
  const host = new SessionControllerCore(hostDeps);
  await openSession(host, { ...TEST_SETTINGS, rounds: 30, roundDeadlineMs: 10_000 });
  const annTab = makeTabStorage();
  const annDeps = world.deps(annTab, makeSnapshotStore());
  const { client: ann } = await joinSession(host, annDeps, 'Ann');
  const benDeps = world.deps();
  const { client: ben } = await joinSession(host, benDeps, 'Ben');
  for (const d of [hostDeps, benDeps]) d.workers[0].trainMs = trainMs;
  annDeps.workers[0].trainMs = annTrainMs;
  const run = host.start();
  await untilFake(() => (ann.getState().selfContributions ?? []).length >= 2);
  const round = host.getState().runningRound!;

  /** Ann's tab reloads now; the new page's worker takes loadMs to choose its backend and again to load its shard. */
  const reload = (loadMs: number) => {
    world.reload(annDeps);
    const deps = world.deps(annTab, makeSnapshotStore());
    const again = new SessionControllerCore(deps);
    const rejoined = again.rejoinAfterReload();
    deps.workers[0].loadMs = loadMs;
    return { again, deps, rejoined };
  };

  /**
   * Runs `more` rounds, stops, and checks Ann's count: every round whose participants name her, under either id.
   * Gives those rounds and all the rounds.
   */
  const finish = async (again: SessionControllerCore, more: number) => {
    const target = host.getState().rounds.length + more;
    await untilFake(() => host.getState().rounds.length >= target);
    host.stop();
    await untilFake(() => host.getState().phase === 'stopped');
    await settleFake(run);
    await untilFake(() => again.getState().rounds.length === host.getState().rounds.length);
    const annIds = new Set([ann.getState().selfId, again.getState().selfId]);
    const inRounds = host.getState().rounds.filter((r) => r.participants.some((p) => annIds.has(p))).map((r) => r.round);
    expect(again.getState().selfContributions).toEqual(inRounds);
    const all = host.getState().rounds.map((r) => r.round);
    for (const t of [again, ben, host]) t.leave();
    return { mine: inRounds, all };
  };
  return { host, ann, annDeps, round, reload, finish };
}

const roundOf = (host: SessionControllerCore, round: number) => host.getState().rounds.find((r) => r.round === round);

describe('a student who reloads mid-round', () => {
  it('back while the round that asked it still runs, it trains that round after all, and the next ones', async () => {
    const { host, annDeps, round, reload, finish } = await classroom(3_000);
    await untilFake(() => annDeps.workers[0].calls.includes(`train ${round}`));
    await vi.advanceTimersByTimeAsync(1_000);
    const { again, rejoined } = reload(300);
    expect(await settleFake(rejoined)).toBe(true);
    expect(host.getState().runningRound).toBe(round);
    await untilFake(() => roundOf(host, round + 1) !== undefined);
    expect(roundOf(host, round)!.participants).toContain(again.getState().selfId);
    expect(roundOf(host, round + 1)!.participants).toContain(again.getState().selfId);
    // Every round, from the first to the last, went on with an update of hers.
    const { mine, all } = await finish(again, 1);
    expect(mine).toEqual(all);
  });

  it('back too late for the round that asked it (its data took longer to load), the next round starts with it', async () => {
    const { host, annDeps, round, reload, finish } = await classroom(400);
    await untilFake(() => annDeps.workers[0].calls.includes(`train ${round}`));
    await vi.advanceTimersByTimeAsync(100);
    const { again, rejoined } = reload(700);
    expect(await settleFake(rejoined)).toBe(true);
    // Back with its data: the round running now went on without it (its old id left), the next one asks it.
    const running = host.getState().runningRound ?? host.getState().currentRound;
    expect(running).toBeGreaterThan(round);
    await untilFake(() => roundOf(host, running + 1) !== undefined);
    expect(roundOf(host, running + 1)!.participants).toContain(again.getState().selfId);
    const { mine } = await finish(again, 2);
    expect(mine).not.toContain(round);
  });

  it('an update it sent just before the reload counts when its round finishes after it', async () => {
    const { host, ann, annDeps, round, reload, finish } = await classroom(2_000, 200);
    await untilFake(() => annDeps.workers[0].calls.includes(`train ${round}`) && (ann.getState().peers.find((p) => p.isSelf)?.status === 'uploaded'));
    const { again, rejoined } = reload(0);
    expect(await settleFake(rejoined)).toBe(true);
    await untilFake(() => roundOf(host, round) !== undefined);
    expect(roundOf(host, round)!.participants).toContain(ann.getState().selfId);
    const { mine } = await finish(again, 1);
    expect(mine).toContain(round);
  });
});
