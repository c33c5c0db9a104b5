/**
 * From the session's record (see ./session-record.ts) to what a tab shows: its status, the rounds done and running,
 * whether it stops, and why no round can run. Pure, the same on every tab: the aggregator projects its own record,
 * the others the record their aggregator replicated to them.
 */
import type { SessionPhase } from '../fl/protocol';
import type { SessionRecord } from './session-record';
import type { SessionStatus } from './types';

export interface ProjectionInput {
  record: SessionRecord | null;
  /** The tab is still hosting or joining (its controller has not reached the lobby yet). */
  connecting: boolean;
  /** Rounds this tab knows finished without the record (its own records, the round traffic it saw). */
  roundsKnown: number;
  /** The session's rounds (null: no config yet). */
  totalRounds: number | null;
}

export interface SessionProjection {
  status: SessionStatus;
  phase: SessionPhase | null;
  currentRound: number;
  runningRound: number | null;
  stopping: boolean;
  /** Why no round can run now (e.g. "1 of 2 clients have data"), null when one can. */
  waitingFor: string | null;
  /** Why a finished session ended before its last round (a private session's budget), else null. */
  endedBecause: string | null;
}

const STATUS_OF_PHASE: Record<SessionPhase, SessionStatus> = {
  lobby: 'lobby',
  waiting: 'running',
  running: 'running',
  stopping: 'running',
  stopped: 'lobby',
  finished: 'finished',
};

export function projectSession(input: ProjectionInput): SessionProjection {
  const { record, connecting, roundsKnown, totalRounds } = input;
  if (!record) {
    const finished = totalRounds !== null && roundsKnown >= totalRounds;
    return { status: connecting ? 'connecting' : finished ? 'finished' : 'lobby', phase: null, currentRound: roundsKnown, runningRound: null, stopping: false, waitingFor: null, endedBecause: null };
  }
  const status = connecting && record.phase === 'lobby' ? 'connecting' : STATUS_OF_PHASE[record.phase];
  const running = record.phase === 'running' || record.phase === 'stopping';
  return {
    status,
    phase: record.phase,
    // A round's result may reach a client just before the record that counts it.
    currentRound: Math.max(record.round, roundsKnown),
    runningRound: running ? record.runningRound : null,
    stopping: record.phase === 'stopping',
    waitingFor: record.phase === 'finished' ? null : record.reason,
    endedBecause: record.phase === 'finished' && record.round < record.totalRounds ? record.reason : null,
  };
}
