import type { LocalProgressView } from '../../session/types';
import { formatLoss, formatRate } from '../format';

/** Live local training. `epoch` counts from 0 and `batch` counts finished batches, as the training loop reports them. */
export function ProgressPanel({ progress, localEpochs }: { progress: LocalProgressView | null; localEpochs: number | null }) {
  return (
    <section className="panel progress" aria-labelledby="progress-title">
      <h2 id="progress-title">This device: training</h2>
      {progress ? (
        <>
          <dl className="facts">
            <dt>Round</dt>
            <dd className="num">{progress.round}</dd>
            <dt>Epoch</dt>
            <dd className="num">
              {progress.epoch + 1}
              {localEpochs !== null ? ` of ${localEpochs}` : ''}
            </dd>
            <dt>Batch</dt>
            <dd className="num">
              {progress.batch} of {progress.batchesPerEpoch}
            </dd>
            <dt>Loss</dt>
            <dd className="num">{formatLoss(progress.loss)}</dd>
            <dt>Speed</dt>
            <dd className="num">{formatRate(progress.samplesPerSecond)} samples</dd>
          </dl>
          <progress max={Math.max(1, progress.batchesPerEpoch)} value={Math.min(progress.batch, progress.batchesPerEpoch)} aria-label="Batches done in this epoch" />
        </>
      ) : (
        <p className="empty">Not training right now.</p>
      )}
    </section>
  );
}
