import type { SessionPhase } from '../../fl/protocol';
import type { LocalDataView, LocalProgressView, PeerView, SessionStatus } from '../../session/types';
import { formatLoss, formatRate } from '../format';
import { peerStatusTone } from '../peer-status';
import { contributionText, dataLine, roundFraction, youHeadline } from '../you-view';

export interface YouPanelProps {
  self: PeerView | null;
  progress: LocalProgressView | null;
  localEpochs: number | null;
  sessionStatus: SessionStatus;
  phase: SessionPhase | null;
  waitingFor: string | null;
  contributions: number[];
  finishedRounds: number;
  data: LocalDataView | null;
}

/** This tab's own part, first on a phone: what it is doing, its progress in the round, what it contributed. */
export function YouPanel(p: YouPanelProps) {
  const headline = youHeadline({ self: p.self, progress: p.progress, localEpochs: p.localEpochs, sessionStatus: p.sessionStatus, hasData: p.data !== null, phase: p.phase, waitingFor: p.waitingFor, finishedRounds: p.finishedRounds });
  const training = p.self?.status === 'training' && p.progress !== null && p.progress.round === p.self.statusRound;
  const tone = p.self ? peerStatusTone(p.self.status) : 'plain';
  return (
    <section className="panel you" aria-labelledby="you-title" data-testid="you-panel">
      <h2 id="you-title">You{p.self ? <span className="muted"> · {p.self.name}</span> : null}</h2>
      <p className={`you-headline tone-${tone}`} role="status">
        {headline}
      </p>
      {training && p.progress && (
        <>
          <progress max={1} value={roundFraction(p.progress, p.localEpochs)} aria-label="Your training in this round" />
          <p className="muted you-progress">
            epoch {p.progress.epoch + 1}
            {p.localEpochs !== null ? ` of ${p.localEpochs}` : ''} · batch {p.progress.batch} of {p.progress.batchesPerEpoch} · loss {formatLoss(p.progress.loss)} ·{' '}
            {formatRate(p.progress.samplesPerSecond)} samples
          </p>
        </>
      )}
      <p className="you-contribution">{contributionText(p.contributions, p.finishedRounds)}</p>
      <p className="muted">Your data: {dataLine(p.data)}. It never leaves this device.</p>
    </section>
  );
}
