/**
 * Control follows the host: the tab that hosted a session (it holds the host's key) takes aggregation and its
 * Start/Stop back after a reload, whoever aggregated meanwhile, and the stand-in hands back without losing a round.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionControllerCore } from './session-controller';
import { settleFake, untilFake } from './testing/fake-time';
import { makeControllerWorld, makeSnapshotStore, makeTabStorage, TEST_SETTINGS } from './testing/controller-world';

const until = untilFake;

const settle = settleFake;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A host and ann, bob and cy, each tab keeping its session across reloads, each device with its own snapshots. */
async function classroom(rounds: number) {
  const world = makeControllerWorld();
  const hostTab = makeTabStorage();
  const hostSnapshots = makeSnapshotStore();
  const hostDeps = world.deps(hostTab, hostSnapshots);
  const host = new SessionControllerCore(hostDeps);
  await settle(host.host({ ...TEST_SETTINGS, rounds }, 'Teacher'));
  const { code, joinUrl } = host.getState();
  const secret = new URL(joinUrl!.replace('#/join/', '')).searchParams.get('s')!;
  const students = [];
  for (const name of ['Ann', 'Bob', 'Cy']) {
    const deps = world.deps(makeTabStorage(), makeSnapshotStore());
    const tab = new SessionControllerCore(deps);
    await settle(tab.join(code!, secret, name));
    deps.workers[0].trainMs = 300;
    students.push(tab);
  }
  hostDeps.workers[0].trainMs = 300;
  await until(() => host.getState().peers.filter((p) => p.numSamples > 0).length === 4);
  return { world, host, hostTab, hostSnapshots, hostDeps, code: code!, secret, students };
}

describe('control follows the host', () => {
  it('the host reloads while a student stands in: it gets aggregation and Start/Stop back within seconds, and no round is lost', async () => {
    const { world, host, hostTab, hostSnapshots, hostDeps, students } = await classroom(14);
    const [ann, bob, cy] = students;
    void host.start();
    await until(() => host.getState().currentRound >= 2);

    // The host's tab reloads; ann, next in line, takes over after the silence deadline and runs on.
    world.reload(hostDeps);
    await until(() => ann.getState().isAggregator, 30_000);
    const before = ann.getState().currentRound;
    await until(() => ann.getState().currentRound > before);

    const again = new SessionControllerCore(world.deps(hostTab, hostSnapshots));
    expect(again.resumable()?.role).toBe('host');
    const resumedAt = Date.now();
    await settle(again.resume());
    await until(() => again.getState().isAggregator, 10_000);
    expect(Date.now() - resumedAt).toBeLessThan(10_000);
    expect(again.getState()).toMatchObject({ role: 'host', isAggregator: true });
    expect(ann.getState().log.some((l) => l.text.startsWith('the host (Teacher) is back: handing control to it'))).toBe(true);
    // Every student follows the host again; the run goes on by itself (it was running).
    await until(() => students.every((s) => s.getState().aggregatorId === again.getState().selfId));
    expect(students.filter((s) => s.getState().isAggregator)).toEqual([]);
    await until(() => again.getState().status === 'finished', 120_000);
    // No round lost or run twice: every round once, in order, on the host's record of the run.
    expect(again.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    await until(() => [ann, bob, cy].every((s) => s.getState().phase === 'finished'), 2_000);
    [again, ...students].forEach((t) => t.leave());
  });

  it('a stopped session comes back to the host stopped, with Start on the host; a key that is not the host\'s is ignored', async () => {
    const { world, host, hostTab, hostSnapshots, hostDeps, students } = await classroom(20);
    const [ann] = students;
    const run = host.start();
    await until(() => host.getState().currentRound >= 1);
    host.stop();
    await settle(run);
    world.reload(hostDeps);
    await until(() => ann.getState().isAggregator, 30_000);
    const stoppedAt = ann.getState().currentRound;

    const again = new SessionControllerCore(world.deps(hostTab, hostSnapshots));
    await settle(again.resume());
    await until(() => again.getState().isAggregator, 10_000);
    expect(again.getState()).toMatchObject({ role: 'host', status: 'lobby', currentRound: stoppedAt, waitingFor: null });
    // Nobody else can take it over with a made-up key.
    const log = () => again.getState().log.filter((l) => l.text.includes("with a key that is not the host's"));
    const node = (ann as unknown as { node: { reclaim(proof: string): void } }).node;
    node.reclaim('ab'.repeat(32));
    await until(() => log().length === 1, 2_000);
    expect(again.getState().isAggregator).toBe(true);
    const rest = again.start();
    await until(() => again.getState().status === 'finished', 120_000);
    await settle(rest);
    expect(again.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    [again, ...students].forEach((t) => t.leave());
  });

  it('the host reloads while running and resumes before anyone takes over: its run goes on by itself, no round lost', async () => {
    const { world, host, hostTab, hostSnapshots, hostDeps, students } = await classroom(10);
    void host.start();
    await until(() => host.getState().currentRound >= 2);
    world.reload(hostDeps);
    const again = new SessionControllerCore(world.deps(hostTab, hostSnapshots));
    await settle(again.resume());
    expect(again.getState()).toMatchObject({ role: 'host', isAggregator: true });
    await until(() => again.getState().phase === 'running', 10_000);
    expect(students.filter((s) => s.getState().isAggregator)).toEqual([]);
    await until(() => again.getState().status === 'finished', 120_000);
    expect(again.getState().rounds.map((r) => r.round)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    [again, ...students].forEach((t) => t.leave());
  });
});
