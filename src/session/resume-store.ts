/**
 * What a tab keeps so that a reload does not end its part in the session: which session it was in (code, secret,
 * role, client key, whether it aggregated; per tab) and, for the aggregating tab (the host, or a client that took
 * over from it: whichever aggregates is the session's host now), the session's state after its last round (per code).
 */
import type { SnapshotStore } from '../data/session-store';
import type { RosterEntry, SessionConfig } from '../fl/protocol';
import type { Checkpoint } from './aggregator-role';
import type { RoundRecord } from './session-node';

export interface TabSession {
  code: string;
  secret: string;
  role: 'host' | 'client';
  /** The random key this tab says hello with (HelloMessage.clientKey): the same slot and demo shard after a reload. */
  clientKey: string;
  name: string;
  /**
   * Whether this tab aggregated the session when it last changed: the host, or a client that took over. Such a tab
   * resumes from its HostSnapshot after a reload (offered, as for the host) instead of rejoining as a client by itself.
   * Absent in what older versions kept: the host did (`role === 'host'`), nobody else.
   */
  aggregating?: boolean;
  /** The host tab's key seed (src/session/host-key.ts): it takes control of its session back after a reload. Never sent. */
  hostSeed?: string;
  /** Rounds this tab's updates went into, so that its history survives a reload. */
  contributed?: number[];
  /** The aggregating tab ran rounds (not stopped): resumed after a reload, it runs on. */
  running?: boolean;
}

/** Whether the tab aggregated the session when it was last saved (see TabSession.aggregating). */
export function wasAggregating(s: TabSession): boolean {
  return s.aggregating ?? s.role === 'host';
}

/**
 * The session after the latest round its aggregating tab finished (or since it began aggregating): enough for that tab
 * to resume at that round, in that term, under the same id.
 */
export interface HostSnapshot {
  code: string;
  config: SessionConfig;
  hostTrains: boolean;
  checkpoint: Checkpoint;
  records: RoundRecord[];
  /** The members and their slots, so the resumed host keeps the same order of successors and can call them back. */
  roster: RosterEntry[];
  /** The term it aggregated; absent (older snapshots): 1, the host's. */
  term?: number;
  /** The peer id it aggregated under; absent (older snapshots): the host id. */
  peerId?: string;
  /** The TabSession.clientKey of the tab that saved it: tabs of one browser share IndexedDB, and only its own tab resumes it. */
  clientKey?: string;
  savedAt: number;
}

/** Per tab, surviving reloads (sessionStorage in the browser: a second tab is a second client). */
export interface TabSessionStore {
  load(): TabSession | null;
  save(session: TabSession): void;
  clear(): void;
}

/** Per origin (IndexedDB in the browser: model weights are too large for sessionStorage). */
export type HostSnapshotStore = SnapshotStore<HostSnapshot>;

/** Whether what a snapshot store loaded back is a HostSnapshot (older snapshots lack the optional fields). */
export function isHostSnapshot(v: unknown): v is HostSnapshot {
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

export function randomClientKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function isTabSession(v: unknown): v is TabSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.code === 'string' &&
    typeof s.secret === 'string' &&
    (s.role === 'host' || s.role === 'client') &&
    typeof s.clientKey === 'string' &&
    typeof s.name === 'string' &&
    (s.aggregating === undefined || typeof s.aggregating === 'boolean') &&
    (s.hostSeed === undefined || typeof s.hostSeed === 'string') &&
    (s.running === undefined || typeof s.running === 'boolean') &&
    (s.contributed === undefined || (Array.isArray(s.contributed) && s.contributed.every((r) => Number.isSafeInteger(r) && r > 0)))
  );
}

const TAB_SESSION_KEY = 'fedtab.session';

/** A TabSessionStore over a Storage (window.sessionStorage in the app). */
export function storageTabSessions(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>): TabSessionStore {
  return {
    load: () => {
      try {
        const v: unknown = JSON.parse(storage.getItem(TAB_SESSION_KEY) ?? 'null');
        return isTabSession(v) ? v : null;
      } catch {
        return null;
      }
    },
    save: (s) => storage.setItem(TAB_SESSION_KEY, JSON.stringify(s)),
    clear: () => storage.removeItem(TAB_SESSION_KEY),
  };
}
