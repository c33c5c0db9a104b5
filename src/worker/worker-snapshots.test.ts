import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotStore, StoredSnapshot } from '../data/session-store';
import type { ServerState } from '../fl/strategies/types';
import type { WeightSet } from '../fl/weights';
import type { SnapshotWorkerApi } from './snapshot-api';
import { copyForTransfer } from './transferables';
import { snapshotsSavedInWorker } from './worker-snapshots';
import { closeInProcessWorkers, inProcessWorker } from './testing/in-process-worker';

/** A snapshot shaped as the session's (src/session/resume-store.ts), down to what these tests look at. */
interface Snapshot extends StoredSnapshot {
  checkpoint: { round: number; weights: WeightSet; serverState: ServerState | null };
}
type Store = SnapshotStore<Snapshot>;

function memoryStore(): Store & { saved: Snapshot[] } {
  const saved: Snapshot[] = [];
  return { saved, load: async (code) => saved.filter((s) => s.code === code).at(-1) ?? null, save: async (s) => void saved.push(s), forget: async () => undefined };
}

function snapshot(): Snapshot {
  return {
    code: 'ABCD',
    hostTrains: true,
    checkpoint: { round: 3, weights: [{ name: 'w', shape: [3], values: Float32Array.of(1, 2, 3) }], serverState: { strategy: 'fedld', steps: 3, tensors: { history: [{ name: 'w', shape: [3], values: Float32Array.of(4, 5, 6) }] }, values: {} } },
    records: [],
    roster: [],
    savedAt: 1,
  } as Snapshot;
}

/** A snapshot worker, in-process, saving into `into`. */
function snapshotWorker(into: Store, save: SnapshotWorkerApi['save'] = (s) => into.save(s as Snapshot)) {
  const api: SnapshotWorkerApi = { save, ping: () => true };
  return inProcessWorker(api);
}

describe('snapshots saved in a worker', () => {
  afterEach(() => {
    closeInProcessWorkers();
  });

  it('the worker gets a copy: the page\'s arrays stay usable (not transferred away), the values arrive intact', async () => {
    const workerSide = memoryStore();
    const pageSide = memoryStore();
    let started = 0;
    const store = snapshotsSavedInWorker(pageSide, () => (started++, snapshotWorker(workerSide)));
    expect(started).toBe(0); // nothing started before the first save
    const s = snapshot();
    await store.save(s);
    await store.save(s);
    expect(started).toBe(1);
    expect(pageSide.saved).toHaveLength(0);
    expect(workerSide.saved).toHaveLength(2);
    expect(Array.from(workerSide.saved[0].checkpoint.weights[0].values)).toEqual([1, 2, 3]);
    expect(Array.from(workerSide.saved[0].checkpoint.serverState!.tensors.history[0].values)).toEqual([4, 5, 6]);
    expect(s.checkpoint.weights[0].values.length).toBe(3); // still the page's, not detached
    expect(Array.from(s.checkpoint.serverState!.tensors.history[0].values)).toEqual([4, 5, 6]);
  });

  it('saves on this thread where the worker cannot be made or does not start', async () => {
    const pageSide = memoryStore();
    await snapshotsSavedInWorker(pageSide, () => null).save(snapshot());
    expect(pageSide.saved).toHaveLength(1);
    const silent = inProcessWorker(null); // nothing answers the ping
    const slow = memoryStore();
    await snapshotsSavedInWorker(slow, () => silent, 20).save(snapshot());
    expect(slow.saved).toHaveLength(1);
  });

  it('a delete is not overtaken by a save still on its way to the worker (leaving leaves no snapshot behind)', async () => {
    const device = memoryStore();
    const forget = async (code: string) => {
      device.saved.splice(0, device.saved.length, ...device.saved.filter((x) => x.code !== code));
    };
    const slowWorker = () => snapshotWorker(device, async (x) => {
      await new Promise((r) => setTimeout(r, 30));
      await device.save(x as Snapshot);
    });
    const store = snapshotsSavedInWorker({ ...device, forget }, slowWorker);
    await Promise.all([store.save(snapshot()), store.forget('ABCD')]);
    expect(device.saved).toHaveLength(0);
    await Promise.all([store.forget('ABCD'), store.save(snapshot())]);
    expect(device.saved).toHaveLength(1);
  });

  it('copyForTransfer copies every typed array once (a shared one stays shared) and keeps everything else', () => {
    const s = snapshot();
    const { copy, buffers } = copyForTransfer(s);
    expect(copy).toEqual(s);
    expect(copy.checkpoint.weights[0].values).not.toBe(s.checkpoint.weights[0].values);
    expect(buffers).toHaveLength(2);
    const base = s.checkpoint.weights;
    const shared = copyForTransfer([{ base, delta: base }, { base, delta: base }]);
    expect(shared.copy[0].base[0].values).toBe(shared.copy[1].delta[0].values);
    expect(shared.buffers).toHaveLength(1);
  });
});
