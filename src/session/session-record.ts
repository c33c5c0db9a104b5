/**
 * The session's state as one record: owned by the aggregator of the current term, replicated to every member with
 * that term (the session-state message). Every tab's header, buttons and "you" panel are projected from it
 * (./session-projection.ts), so a stop, a wait for clients or the end of the run reads the same on every tab.
 */
import { PROTOCOL_VERSION, type SessionPhase, type SessionStateMessage } from '../fl/protocol';

export type SessionRecord = Omit<SessionStateMessage, 'type' | 'v'>;

/** What the aggregator may change in its record; term, seq and aggregator stay with the keeper, the reason follows readiness. */
export type SessionRecordChange = Partial<Omit<SessionRecord, 'term' | 'seq' | 'aggregatorId' | 'reason'>>;

/** Connected clients holding data, and how many a round needs. */
export interface Readiness {
  withData: number;
  needed: number;
}

export function readinessOf(clients: readonly { numSamples: number }[], minClients: number): Readiness {
  return { withData: clients.filter((c) => c.numSamples > 0).length, needed: minClients };
}

/** Why no round can run with these clients ("1 of 2 clients have data"), or null when one can. */
export function missingForRound(r: Readiness): string | null {
  return r.withData >= r.needed ? null : `${r.withData} of ${r.needed} clients have data`;
}

/** Whether `next` replaces `known`: a later term, or a later record of the same term. */
export function supersedes(next: SessionRecord, known: SessionRecord | null): boolean {
  return known === null || next.term > known.term || (next.term === known.term && next.seq > known.seq);
}

export function recordOfMessage(m: SessionStateMessage): SessionRecord {
  const { type: _type, v: _v, ...record } = m;
  return record;
}

export function messageOfRecord(r: SessionRecord): SessionStateMessage {
  return { type: 'session-state', v: PROTOCOL_VERSION, ...r, inRound: [...r.inRound] };
}

/** The phase an aggregator starts its term in, from the round it resumes at. */
export function initialPhase(round: number, totalRounds: number, started: boolean): SessionPhase {
  if (round >= totalRounds) return 'finished';
  return started ? 'stopped' : 'lobby';
}

/** The aggregator's side: its term's record, a new sequence number on each change, published when it changes. */
export class SessionRecordKeeper {
  private current: SessionRecord;

  constructor(
    init: Pick<SessionRecord, 'term' | 'aggregatorId' | 'phase' | 'round' | 'totalRounds'> & Readiness,
    private readonly publish: (record: SessionRecord) => void,
  ) {
    this.current = { ...init, seq: 1, runningRound: null, reason: missingForRound(init), inRound: [] };
  }

  get record(): SessionRecord {
    return this.current;
  }

  /** Applies the change; publishes (with the next seq) only when something differs. `hold`: why rounds pause, if not for readiness. */
  update(change: SessionRecordChange, hold: string | null = null): void {
    const next = { ...this.current, ...change };
    next.reason = hold ?? missingForRound(next);
    if (sameRecord(next, this.current)) return;
    this.current = { ...next, seq: this.current.seq + 1 };
    this.publish(this.current);
  }
}

function sameRecord(a: SessionRecord, b: SessionRecord): boolean {
  return (
    a.phase === b.phase &&
    a.round === b.round &&
    a.runningRound === b.runningRound &&
    a.totalRounds === b.totalRounds &&
    a.reason === b.reason &&
    a.withData === b.withData &&
    a.needed === b.needed &&
    a.inRound.length === b.inRound.length &&
    a.inRound.every((id, i) => id === b.inRound[i])
  );
}
