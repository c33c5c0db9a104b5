import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageDataset } from '../fl/data/dataset';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { hostPeerId } from './session-code';
import { SessionControllerCore, type ControllerDeps, type ControllerTrainer, type ControllerTransport } from './session-controller';
import { FakeWorker } from './testing/fake-worker';
import type { SessionSettings } from './types';
import { storageTabSessions, type HostSnapshot, type HostSnapshotStore } from './resume-store';

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 4,
  localEpochs: 1,
  batchSize: 16,
  learningRate: 0.1,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 2_000,
  decomposition: 'proxy',
  decompositionEvery: 1,
  codec: 'float32',
  demoPartition: { kind: 'iid' },
  demoClients: 4,
  seed: 3,
  hostTrains: true,
};


/** One browser: per-tab storage (sessionStorage) and the origin's IndexedDB, as in-memory stand-ins. */
function makeTab() {
  const items = new Map<string, string>();
  const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) };
  return storageTabSessions(storage);
}

function makeWorld() {
  const network = new InMemoryNetwork();
  let nextId = 0;
  const snapshots = new Map<string, HostSnapshot>();
  const hostSnapshots: HostSnapshotStore = {
    load: async (code) => snapshots.get(code) ?? null,
    save: async (s) => void snapshots.set(s.code, structuredClone(s)),
    forget: async (code) => void snapshots.delete(code),
  };
  /** The tab's transports, closed when the tab "reloads" (the page goes away without leaving the session). */
  function deps(tabSession = makeTab()): ControllerDeps & { workers: FakeWorker[]; transports: ControllerTransport[] } {
    const workers: FakeWorker[] = [];
    const transports: ControllerTransport[] = [];
    return {
      workers,
      transports,
      createTrainer: () => {
        const w = new FakeWorker();
        workers.push(w);
        return w as unknown as ControllerTrainer;
      },
      openTransport: async ({ id }) => {
        const endpoint = network.endpoint(id ?? `tab-${++nextId}`);
        const transport: ControllerTransport = Object.assign(endpoint, { close: () => network.disconnect(endpoint.selfId), onError: () => () => undefined });
        transports.push(transport);
        return transport;
      },
      lanUrls: async () => [],
      demoTestSplit: async () => ({ kind: 'image', images: new Uint8Array(784), shape: [28, 28, 1], labels: new Int32Array([0]), numClasses: 2 }) satisfies ImageDataset,
      storedData: { load: async () => null, files: () => [], forget: async () => undefined },
      pageUrl: () => 'https://fedtab.test/app/',
      tabSession,
      hostSnapshots,
    };
  }
  /** The tab goes away without leaving (a reload): its peers see its links close. */
  const reload = (d: { transports: ControllerTransport[] }) => d.transports.forEach((t) => t.close());
  return { network, deps, reload, snapshots };
}

async function until(done: () => boolean, maxMs = 30_000): Promise<void> {
  for (let t = 0; t < maxMs && !done(); t += 10) await vi.advanceTimersByTimeAsync(10);
  expect(done()).toBe(true);
}

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
