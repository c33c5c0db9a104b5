/**
 * The aggregating tab's session state after each round, in IndexedDB, so that tab can resume it after a reload. The
 * snapshot record and its check are the session's (src/session/resume-store.ts); this store only needs its code.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { yieldToEventLoop } from '../fl/next-task';

/** What the store needs of a snapshot: the session code it is kept under. */
export interface StoredSnapshot {
  code: string;
}

/** Per origin (IndexedDB in the browser: model weights are too large for sessionStorage). */
export interface SnapshotStore<S extends StoredSnapshot> {
  load(code: string): Promise<S | null>;
  save(snapshot: S): Promise<void>;
  forget(code: string): Promise<void>;
}

const DB_NAME = 'fedtab-sessions';
const STORE = 'hosted';

function open(): Promise<IDBPDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available here, so a session cannot be resumed after a reload'));
  return openDB(DB_NAME, 1, {
    upgrade(db) {
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
    },
  });
}

/** One connection for the page's lifetime: opening one per save cost a long main-thread task at every round's end. */
let connection: Promise<IDBPDatabase> | null = null;

async function withDb<T>(fn: (db: IDBPDatabase) => Promise<T>): Promise<T> {
  connection ??= open().then((db) => {
    // Another tab upgrading the database, or the browser closing it: open a fresh one next time.
    db.addEventListener('versionchange', () => {
      db.close();
      connection = null;
    });
    db.addEventListener('close', () => (connection = null));
    return db;
  });
  const pending = connection;
  try {
    return await fn(await pending);
  } catch (e) {
    if (connection === pending) connection = null;
    throw e;
  }
}

/** Saves `snapshot` under its code. */
export async function saveSnapshot(snapshot: StoredSnapshot): Promise<void> {
  // In a task of its own: the snapshot is saved when a round ends, where the tab has the next round to start.
  await yieldToEventLoop();
  await withDb((db) => db.put(STORE, snapshot, snapshot.code));
}

/** The IndexedDB snapshot store; what it loads back is `isSnapshot`'s to accept (else: no snapshot). */
export function idbSnapshots<S extends StoredSnapshot>(isSnapshot: (v: unknown) => v is S): SnapshotStore<S> {
  return {
    load: async (code) => {
      const v = await withDb((db) => db.get(STORE, code));
      return isSnapshot(v) ? v : null;
    },
    save: saveSnapshot,
    forget: async (code) => {
      await withDb((db) => db.delete(STORE, code));
    },
  };
}
