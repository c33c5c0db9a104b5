/**
 * The snapshot worker's RPC surface (Comlink): writes the aggregating tab's session snapshot to IndexedDB off the
 * main thread (the write serialises the model and the strategy state: ~20 ms a round on the main thread for the CNN).
 */
import { saveSnapshot, type StoredSnapshot } from '../data/session-store';

export interface SnapshotWorkerApi {
  save(snapshot: StoredSnapshot): Promise<void>;
  /** Answers once the worker runs (its module loaded). */
  ping(): true;
}

export const snapshotWorkerApi: SnapshotWorkerApi = {
  save: saveSnapshot,
  ping: () => true,
};
