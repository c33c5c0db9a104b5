/**
 * The user's local data in IndexedDB, so a reload keeps it. Stays on this device: it is read by this
 * origin's pages and its training worker only, and never sent anywhere.
 */
import type { IDBPDatabase } from 'idb';
import { openDB } from 'idb';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize } from '../fl/data/dataset';
import { DATA_CONFIG } from './config';
import { isDataset } from './dataset-guard';
import type { LocalDataKind } from './import';
import type { LocalSplit } from './split';

export interface StoredLocalData extends LocalSplit {
  name: string;
  kind: LocalDataKind;
  savedAt: number;
  /** Problems reported when it was imported (skipped files). */
  problems: string[];
}

export interface StoredLocalDataSummary {
  name: string;
  kind: LocalDataKind;
  savedAt: number;
  trainSamples: number;
  evalSamples: number;
  numClasses: number;
  classNames?: string[];
}

const { name: DB_NAME, version: DB_VERSION, store: STORE, key: KEY } = DATA_CONFIG.indexedDb;

function open(): Promise<IDBPDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available here, so local data cannot be kept across reloads'));
  return openDB(DB_NAME, DB_VERSION, {
    upgrade(db) {
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
    },
  });
}

async function withDb<T>(fn: (db: IDBPDatabase) => Promise<T>): Promise<T> {
  const db = await open();
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

export function isStoredLocalData(v: unknown): v is StoredLocalData {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.name === 'string' && typeof s.savedAt === 'number' && Array.isArray(s.problems) && isDataset(s.train) && isDataset(s.eval);
}

/** Replaces the stored local data. */
export async function saveLocalData(data: Omit<StoredLocalData, 'savedAt'> & { savedAt?: number }): Promise<StoredLocalData> {
  const record: StoredLocalData = { ...data, savedAt: data.savedAt ?? Date.now() };
  await withDb((db) => db.put(STORE, record, KEY));
  return record;
}

/** The stored local data, or null when there is none (or it is from an incompatible version). */
export async function loadLocalData(): Promise<StoredLocalData | null> {
  const value = await withDb((db) => db.get(STORE, KEY));
  return isStoredLocalData(value) ? value : null;
}

/** Deletes the stored local data from this browser. */
export async function forgetLocalData(): Promise<void> {
  await withDb((db) => db.clear(STORE));
}

export function summarizeLocalData(data: StoredLocalData): StoredLocalDataSummary {
  return {
    name: data.name,
    kind: data.kind,
    savedAt: data.savedAt,
    trainSamples: datasetSize(data.train),
    evalSamples: datasetSize(data.eval),
    numClasses: data.train.numClasses,
    ...(data.train.classNames ? { classNames: data.train.classNames } : {}),
  };
}
