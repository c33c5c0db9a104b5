/**
 * What a tab keeps so that a reload does not end its part in the session: which session it was in (code, secret,
 * role, client key; per tab) and, for the host tab, the session's state after the last round (per code).
 */
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
}

/** The host's session after its latest round: enough to resume at that round under the same host id. */
export interface HostSnapshot {
  code: string;
  config: SessionConfig;
  hostTrains: boolean;
  checkpoint: Checkpoint;
  records: RoundRecord[];
  /** The members and their slots, so the resumed host keeps the same order of successors and can call them back. */
  roster: RosterEntry[];
  savedAt: number;
}

/** Per tab, surviving reloads (sessionStorage in the browser: a second tab is a second client). */
export interface TabSessionStore {
  load(): TabSession | null;
  save(session: TabSession): void;
  clear(): void;
}

/** Per origin (IndexedDB in the browser: model weights are too large for sessionStorage). */
export interface HostSnapshotStore {
  load(code: string): Promise<HostSnapshot | null>;
  save(snapshot: HostSnapshot): Promise<void>;
  forget(code: string): Promise<void>;
}

export function randomClientKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function isTabSession(v: unknown): v is TabSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.code === 'string' && typeof s.secret === 'string' && (s.role === 'host' || s.role === 'client') && typeof s.clientKey === 'string' && typeof s.name === 'string';
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
