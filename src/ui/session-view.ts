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

type HeaderFacts = Pick<SessionState, 'status' | 'role' | 'aggregatorId' | 'isAggregator' | 'peers' | 'settings' | 'currentRound' | 'runningRound' | 'stopping'>;

/** The status badge: like STATUS_TEXT, but says "Stopping…" and "Stopped after round N" instead of "Waiting to start". */
export function statusText(s: HeaderFacts): string {
  if (s.status === 'running' && s.stopping) return 'Stopping after this round';
  if (s.status === 'lobby' && s.currentRound > 0) return `Stopped after round ${s.currentRound}`;
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

/** The aggregating tab (the host, or whoever took over) may start (or resume) from the lobby, or after a stop that left rounds to run. */
export function canStart(s: HeaderFacts): boolean {
  if (!s.isAggregator) return false;
  if (s.status === 'lobby') return true;
  return s.status === 'finished' && s.settings !== null && s.currentRound < s.settings.rounds;
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
