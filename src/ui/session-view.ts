/** Derived, display-only facts about a session state (what the header says and which controls are enabled). */
import type { SessionState, SessionStatus } from '../session/types';

export const STATUS_TEXT: Record<SessionStatus, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  lobby: 'Waiting to start',
  running: 'Running',
  finished: 'Finished',
  error: 'Error',
};

type HeaderFacts = Pick<SessionState, 'status' | 'role' | 'aggregatorId' | 'isAggregator' | 'peers' | 'settings' | 'currentRound' | 'runningRound' | 'stopping' | 'phase' | 'waitingFor' | 'endedBecause'>;

/**
 * The status badge: like STATUS_TEXT, but says "Stopping…", "Stopped after round N" and what a round waits for
 * ("Waiting: 1 of 2 clients have data", the same on every tab) instead of "Waiting to start".
 */
export function statusText(s: HeaderFacts): string {
  if (s.status === 'finished' && s.endedBecause) return `Finished: ${s.endedBecause}`;
  if (s.status === 'running' && s.stopping) return 'Stopping after this round';
  if (s.status === 'running' && s.phase === 'waiting' && s.waitingFor) return `Waiting: ${s.waitingFor}`;
  if (s.status === 'lobby' && s.currentRound > 0) return `Stopped after round ${s.currentRound}`;
  if (s.status === 'lobby' && s.waitingFor) return `Waiting: ${s.waitingFor}`;
  if (s.status === 'lobby' && s.role === 'client') return 'Waiting for the host to start';
  return STATUS_TEXT[s.status];
}

/** Who aggregates, e.g. "Ana (this tab)", or the peer id when that peer is not in the list. */
export function aggregatorLabel(s: HeaderFacts): string {
  if (s.aggregatorId === null) return s.isAggregator ? 'this tab' : 'not chosen yet';
  const peer = s.peers.find((p) => p.id === s.aggregatorId);
  const name = peer?.name ?? s.aggregatorId;
  return s.isAggregator ? `${name} (this tab)` : name;
}

/**
 * "Round 5 of 10" while round 5 runs (runningRound), "3 of 10 rounds done" between rounds, "Not started" before
 * round 1. The round in progress is the one the log says "started".
 */
export function roundProgressText(s: HeaderFacts): string {
  const total = s.settings ? ` of ${s.settings.rounds}` : '';
  if (s.runningRound) return `Round ${s.runningRound}${total}`;
  if (s.currentRound <= 0) return 'Not started';
  return `${s.currentRound}${total} rounds done`;
}

/**
 * The aggregating tab (the host, or whoever took over) may start from the lobby, or resume after a stop, once a round
 * can run (enough clients hold data: otherwise waitingFor says what is missing). A finished run has nothing to resume.
 */
export function canStart(s: HeaderFacts): boolean {
  return s.isAggregator && s.status === 'lobby' && !s.waitingFor;
}

/** Whether the Start (Resume) button is shown at all: not on a finished run, and only to the aggregating tab. */
export function showsStart(s: HeaderFacts): boolean {
  return s.isAggregator && s.status !== 'finished';
}

export function canStop(s: HeaderFacts): boolean {
  return s.isAggregator && s.status === 'running';
}

/** Whether the tab is in a session at all (the dashboard has something to show). */
export function inSession(status: SessionStatus): boolean {
  return status !== 'idle';
}

/** This tab's part: the host, a client, or a client that took over aggregating from the host. */
export function roleText(state: Pick<SessionState, 'role' | 'isAggregator'>): string {
  if (state.role === 'host') return state.isAggregator ? 'you are the host' : 'you are the host (another tab aggregates)';
  return state.isAggregator ? 'you aggregate: you took over from the host' : 'you are a client';
}
