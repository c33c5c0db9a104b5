/**
 * The session's replicated state record, end to end over the in-memory network: Stop reaches every tab, a finished
 * run leaves every tab with the final model, and a session with too few clients holding data says so everywhere.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionControllerCore } from './session-controller';
import { untilFake } from './testing/fake-time';
import { joinSession, makeControllerWorld, makeSnapshotStore, makeTabStorage, openSession, TEST_SETTINGS } from './testing/controller-world';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the session state record', () => {
  it('Stop reaches every tab: each is stopping, then stopped after round N, within 1 s of the aggregator', async () => {
    const world = makeControllerWorld();
    const tabs = [world.deps(), world.deps(), world.deps()];
    const host = new SessionControllerCore(tabs[0]);
    await openSession(host, { ...TEST_SETTINGS, rounds: 20 });
    const { client: ana } = await joinSession(host, tabs[1], 'Ana');
    const { client: ben } = await joinSession(host, tabs[2], 'Ben');
    // Rounds long enough to see a stop arrive while one runs.
    for (const t of tabs) t.workers[0].trainMs = 400;
    const students = [ana, ben];
    const running = host.start();
    await untilFake(() => host.getState().currentRound >= 2);
    expect(students.map((s) => s.getState().status)).toEqual(['running', 'running']);

    host.stop();
    await untilFake(() => students.every((s) => s.getState().stopping === true), 1_000);
    expect(students.map((s) => s.getState().status)).toEqual(['running', 'running']);
    await untilFake(() => host.getState().phase === 'stopped');
    const stoppedAfter = host.getState().currentRound;
    expect(host.getState()).toMatchObject({ status: 'lobby', runningRound: null });
    await untilFake(() => students.every((s) => s.getState().phase === 'stopped'), 1_000);
    for (const s of students) {
      expect(s.getState()).toMatchObject({ status: 'lobby', currentRound: stoppedAfter, runningRound: null, stopping: false });
    }
    await running;
    // Nothing moves on while stopped.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(students.map((s) => [s.getState().phase, s.getState().currentRound])).toEqual([['stopped', stoppedAfter], ['stopped', stoppedAfter]]);
    // Every tab holds the model of the last round done, not the one it started from.
    await untilFake(() => students.every((s) => s.getState().globalModelRound === stoppedAfter));

    // Resumed, the students follow again.
    const resumed = host.start();
    await untilFake(() => students.every((s) => s.getState().phase === 'running'), 1_000);
    host.stop();
    await untilFake(() => host.getState().phase === 'stopped');
    await resumed;
    [ana, ben, host].forEach((t) => t.leave());
  });

  it('a finished run: every tab is finished and holds the final model', async () => {
    const world = makeControllerWorld();
    const host = new SessionControllerCore(world.deps());
    await openSession(host, { ...TEST_SETTINGS, rounds: 3 });
    const { client } = await joinSession(host, world.deps());
    const running = host.start();
    await untilFake(() => host.getState().phase === 'finished');
    await running;
    expect(host.getState()).toMatchObject({ status: 'finished', phase: 'finished', currentRound: 3, globalModelRound: 3 });
    await untilFake(() => client.getState().phase === 'finished', 1_000);
    expect(client.getState()).toMatchObject({ status: 'finished', currentRound: 3, runningRound: null });
    await untilFake(() => client.getState().globalModelRound === 3, 1_000);
    expect((await client.exportModel()).round).toBe(3);
    client.leave();
    host.leave();
  });

  it('too few clients with data: Start waits with the reason on every tab; a started run waits, logging the condition once with a count', async () => {
    const world = makeControllerWorld();
    const host = new SessionControllerCore(world.deps());
    await openSession(host, { ...TEST_SETTINGS, hostTrains: false, rounds: 2 });
    expect(host.getState().waitingFor).toBe('0 of 2 clients have data');
    const { client: ana } = await joinSession(host, world.deps(), 'Ana');
    await untilFake(() => host.getState().waitingFor === '1 of 2 clients have data');
    await untilFake(() => ana.getState().waitingFor === '1 of 2 clients have data', 1_000);
    expect(ana.getState()).toMatchObject({ status: 'lobby', phase: 'lobby' });

    // Started anyway (the button is disabled, the controller is not): the run waits and says why, on every tab.
    const running = host.start();
    await untilFake(() => ana.getState().phase === 'waiting');
    expect(ana.getState()).toMatchObject({ status: 'running', waitingFor: '1 of 2 clients have data', runningRound: null });
    await vi.advanceTimersByTimeAsync(10_000);
    const notRun = host.getState().log.filter((e) => e.text.startsWith('round 1 not run'));
    expect(notRun).toHaveLength(1);
    expect(notRun[0].count).toBeGreaterThanOrEqual(5);
    // The earlier lines are still there.
    expect(host.getState().log.some((e) => e.text.includes('created'))).toBe(true);

    const { client: ben } = await joinSession(host, world.deps(), 'Ben');
    await untilFake(() => host.getState().phase === 'finished');
    await running;
    expect(host.getState()).toMatchObject({ status: 'finished', currentRound: 2, waitingFor: null });
    await untilFake(() => ana.getState().status === 'finished' && ben.getState().status === 'finished', 1_000);
    [ana, ben, host].forEach((t) => t.leave());
  });

  it('a student who reloads keeps its slot, its shard and the rounds it contributed to', async () => {
    const world = makeControllerWorld();
    const host = new SessionControllerCore(world.deps());
    await openSession(host, { ...TEST_SETTINGS, rounds: 30 });
    const annTab = makeTabStorage();
    const annDeps = world.deps(annTab, makeSnapshotStore());
    const { client: ann } = await joinSession(host, annDeps, 'Ann');
    await joinSession(host, world.deps(), 'Ben');
    const run = host.start();
    await untilFake(() => (ann.getState().selfContributions ?? []).length >= 3);
    const before = ann.getState().selfContributions!;
    world.reload(annDeps);
    const againDeps = world.deps(annTab, makeSnapshotStore());
    const again = new SessionControllerCore(againDeps);
    const rejoined = again.rejoinAfterReload();
    expect(again.getState().rejoining).not.toBeNull();
    await untilFake(() => again.getState().status === 'running' || again.getState().status === 'finished');
    expect(await rejoined).toBe(true);
    expect(againDeps.workers[0].calls).toContain('demo shard 1');
    // Its earlier rounds are still its own, and it goes on contributing.
    expect(again.getState().selfContributions!.slice(0, before.length)).toEqual(before);
    const after = Math.max(...before);
    await untilFake(() => again.getState().selfContributions!.some((r) => r > after + 1));
    host.stop();
    await untilFake(() => host.getState().phase === 'stopped');
    await run;
    for (const t of [again, host]) t.leave();
  });
});
