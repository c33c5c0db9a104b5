/**
 * Main-thread side of the snapshot worker: a SnapshotStore whose saves run in a module Web Worker. The page only
 * copies the snapshot's arrays (a memory copy; the engine keeps using its own) and transfers the copies; the worker
 * does IndexedDB's serialisation and write. Loads and deletes stay on this thread (rare: a reload, a leave). Where the
 * worker cannot start or dies, saves run on this thread, as before.
 */
import * as Comlink from 'comlink';
import type { SnapshotStore, StoredSnapshot } from '../data/session-store';
import type { SnapshotWorkerApi } from './snapshot-api';
import { copyForTransfer } from './transferables';
import { WorkerLink, type WorkerEndpoint } from './worker-link';

export const SNAPSHOT_WORKER_START_TIMEOUT_MS = 10_000;

/**
 * `store` with its saves in the worker that `createWorker` makes, on the first save (only an aggregating tab saves:
 * the others never start it). `createWorker` returning null, or throwing, means saving on this thread.
 */
export function snapshotsSavedInWorker<S extends StoredSnapshot>(
  store: SnapshotStore<S>,
  createWorker: () => WorkerEndpoint | null,
  startTimeoutMs = SNAPSHOT_WORKER_START_TIMEOUT_MS,
): SnapshotStore<S> {
  let link: WorkerLink<SnapshotWorkerApi> | null | undefined;
  const linkToWorker = () => {
    if (link !== undefined) return link;
    let worker: WorkerEndpoint | null = null;
    try {
      worker = createWorker();
    } catch (error) {
      console.warn('Saving session snapshots on the main thread: the snapshot worker could not be created', error);
    }
    link = worker ? new WorkerLink<SnapshotWorkerApi>(worker, { name: 'the snapshot worker', fallback: 'Saving session snapshots on the main thread', startTimeoutMs }) : null;
    return link;
  };
  // Saves and deletes run one after another, in call order: a delete (leaving the session) must not be overtaken by
  // a save still on its way to the worker, which would leave the snapshot behind.
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(op: () => Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };
  const saveCopy = async (snapshot: S, { copy, buffers }: { copy: S; buffers: ArrayBuffer[] }): Promise<void> => {
    const link = linkToWorker();
    if (!link || !(await link.usable())) return store.save(snapshot);
    try {
      await link.call(link.remote.save(Comlink.transfer(copy, buffers)));
    } catch (error) {
      if (link.dead) return store.save(snapshot);
      throw error;
    }
  };
  return {
    load: (code) => store.load(code),
    forget: (code) => inOrder(() => store.forget(code)),
    save: (snapshot: S) => {
      // Copied now: the worker gets the session as it is at this call.
      const copy = copyForTransfer(snapshot);
      return inOrder(() => saveCopy(snapshot, copy));
    },
  };
}

/** The snapshot store with saves in a worker (started on the first save), where workers can be made. */
export function withSnapshotWorker<S extends StoredSnapshot>(store: SnapshotStore<S>): SnapshotStore<S> {
  if (typeof Worker === 'undefined') return store;
  return snapshotsSavedInWorker(store, () => new Worker(new URL('./snapshot.worker.ts', import.meta.url), { type: 'module', name: 'fedtab-snapshots' }));
}
