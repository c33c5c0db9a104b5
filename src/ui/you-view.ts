/** What the "You" panel says about this tab's own part (display only). */
import { trainingFraction } from '../fl/progress-report';
import type { SessionPhase } from '../fl/protocol';
import type { LocalDataView, LocalProgressView, PeerView, SessionStatus } from '../session/types';

export interface YouFacts {
  self: Pick<PeerView, 'status' | 'statusDetail' | 'statusRound'> | null;
  progress: LocalProgressView | null;
  localEpochs: number | null;
  sessionStatus: SessionStatus;
  hasData: boolean;
  /** The session's phase and what its next round waits for (from the aggregator's record), and the rounds done. */
  phase?: SessionPhase | null;
  waitingFor?: string | null;
  finishedRounds?: number;
}

/** One headline sentence: what this device is doing now. */
export function youHeadline(f: YouFacts): string {
  // Rejoining after a reload: the data comes back with the session (it waits for the slot).
  if (f.sessionStatus === 'connecting') return 'Connecting to the session…';
  if (!f.hasData) return 'No data on this device yet: load the demo data or your own files below.';
  const s = f.self;
  const round = s?.statusRound ? ` ${s.statusRound}` : '';
  const ended = f.sessionStatus === 'finished' || f.phase === 'stopped';
  if (ended && s?.status !== 'training' && s?.status !== 'evaluating') {
    return f.sessionStatus === 'finished' ? 'The run is finished.' : `The host stopped the run after round ${f.finishedRounds ?? 0}.`;
  }
  if (f.waitingFor && s?.status !== 'training' && s?.status !== 'evaluating') return `Ready: the next round waits until ${f.waitingFor}.`;
  switch (s?.status) {
    case 'training':
      return `Training round${round}`;
    case 'evaluating':
      return `Scoring the others' models on your held-out data (round${round})`;
    case 'uploaded':
      return `Your update for round${round} was sent`;
    case 'left-out':
      return `Left out of round${round}: ${s.statusDetail ?? 'this device could not train'}`;
    case 'missing':
      return `Your update for round${round} did not arrive in time`;
    default:
      break;
  }
  if (f.sessionStatus === 'finished') return 'The run is finished.';
  if (f.sessionStatus === 'lobby') return 'Ready: waiting for the host to start.';
  return 'Waiting for the next round.';
}

/** Share of the local work done in the current round, 0..1 (the fraction this tab also reports to its aggregator). */
export function roundFraction(p: LocalProgressView, localEpochs: number | null): number {
  return trainingFraction(p, localEpochs);
}

/** "Your updates went into 3 of 5 rounds (1, 2, 4)." */
export function contributionText(rounds: number[], finishedRounds: number): string {
  if (rounds.length === 0) return finishedRounds > 0 ? `None of your updates went into the ${finishedRounds} finished rounds yet.` : 'No round has finished yet.';
  const list = rounds.length <= 12 ? ` (${rounds.join(', ')})` : '';
  return `Your updates went into ${rounds.length} of ${Math.max(finishedRounds, rounds.length)} rounds${list}.`;
}

export function dataLine(d: LocalDataView | null): string {
  if (!d) return 'no data loaded';
  return `${d.numSamples.toLocaleString('en-US')} training samples, ${d.numEval.toLocaleString('en-US')} held out (${d.source === 'demo' ? 'demo data' : 'your own files'})`;
}
