/** The aggregating tab's session state after each round, in IndexedDB, so that tab can resume it after a reload (src/session/resume-store.ts). */
import { openDB, type IDBPDatabase } from 'idb';
import { yieldToEventLoop } from '../fl/next-task';
import type { HostSnapshot, HostSnapshotStore } from '../session/resume-store';

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

function isHostSnapshot(v: unknown): v is HostSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const c = s.checkpoint as Record<string, unknown> | undefined;
  const optional = (key: string, type: 'number' | 'string') => s[key] === undefined || typeof s[key] === type;
  return (
    typeof s.code === 'string' &&
    typeof s.config === 'object' &&
    s.config !== null &&
    Array.isArray(s.records) &&
    Array.isArray(s.roster) &&
    typeof c === 'object' &&
    c !== null &&
    Array.isArray(c.weights) &&
    typeof c.round === 'number' &&
    optional('term', 'number') &&
    optional('peerId', 'string') &&
    optional('clientKey', 'string')
  );
}

export const idbHostSnapshots: HostSnapshotStore = {
  load: async (code) => {
    const v = await withDb((db) => db.get(STORE, code));
    return isHostSnapshot(v) ? v : null;
  },
  save: async (snapshot) => {
    // In a task of its own: the snapshot is saved when a round ends, where the tab has the next round to start.
    await yieldToEventLoop();
    await withDb((db) => db.put(STORE, snapshot, snapshot.code));
  },
  forget: async (code) => {
    await withDb((db) => db.delete(STORE, code));
  },
};
