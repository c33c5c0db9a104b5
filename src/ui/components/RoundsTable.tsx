import { memo } from 'react';
import type { RoundView, SessionSettings } from '../../session/types';
import { orderedRounds } from '../chart-series';
import { formatBytes, formatDuration, formatLoss, formatPercent, formatSignedLoss, MISSING } from '../format';
import { formatEpsilon } from '../privacy-view';

export const GLOBAL_LOSS_NOTE =
  "Global: the new global model's loss on the clients' held-out data mixture (exact mode) or on the aggregator's proxy validation set (proxy mode); it is the sum of local + shift + aggregation.";
export const TEST_LOSS_NOTE = "Test loss: the same global model on the aggregator's own test set, a different data set, so the two numbers differ.";

const MODE_TEXT = { exact: 'exact', proxy: 'proxy', off: 'off' } as const;

/** Whether the table has the decomposition's columns: not in a private session that measured none (only dashes). */
export function hasDecompositionColumns(rounds: readonly RoundView[]): boolean {
  return !rounds.some((r) => r.privacy) || rounds.some((r) => r.decomposition !== null);
}

/**
 * Every finished round's numbers, newest first: the decomposition (and how it was measured), accuracy, participation,
 * epsilon in a private session, time, traffic.
 */
export function RoundsTable({ rounds, evaluating }: { rounds: RoundView[]; evaluating: boolean }) {
  if (rounds.length === 0) return null;
  const rows = orderedRounds(rounds).reverse();
  const isPrivate = rows.some((r) => r.privacy);
  const measured = hasDecompositionColumns(rows);
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Numbers per round">
      <table className="numbers rounds-table">
        <caption className="visually-hidden">Numbers per round, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Round</th>
            {measured && (
              <>
                <th scope="col" title={GLOBAL_LOSS_NOTE}>
                  Global<sup aria-hidden="true">1</sup>
                </th>
                <th scope="col" className="col-extra">
                  Local
                </th>
                <th scope="col" className="col-extra">
                  Shift
                </th>
                <th scope="col" className="col-extra">
                  Aggregation
                </th>
                <th scope="col" className="col-extra" title="How the decomposition was measured in this round">
                  Mode
                </th>
              </>
            )}
            <th scope="col">Accuracy</th>
            <th scope="col" title={TEST_LOSS_NOTE} className="col-extra">
              Test loss<sup aria-hidden="true">2</sup>
            </th>
            <th scope="col">Clients</th>
            {isPrivate && (
              <th scope="col" title="The epsilon spent after this round (private sessions with DP noise)">
                Epsilon
              </th>
            )}
            <th scope="col" className="col-extra">
              Sent
            </th>
            <th scope="col" className="col-extra">
              Received
            </th>
            <th scope="col" className="col-extra">
              Time
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const d = r.decomposition;
            const total = r.trainMs + r.aggregateMs + r.evalMs;
            const pendingAccuracy = i === 0 && evaluating && r.accuracy === null;
            return (
              <tr key={r.round}>
                <th scope="row">{r.round}</th>
                {measured && (
                  <>
                    <td className="strong">{formatLoss(d?.global)}</td>
                    <td className="col-extra">{formatLoss(d?.local)}</td>
                    <td className="col-extra">{formatSignedLoss(d?.shift)}</td>
                    <td className="col-extra">{formatSignedLoss(d?.aggregation)}</td>
                    <td className="col-extra">{d && r.decompositionMode ? MODE_TEXT[r.decompositionMode] : d ? '?' : 'not measured'}</td>
                  </>
                )}
                <td title={pendingAccuracy ? 'the global model of this round is being evaluated' : undefined}>{pendingAccuracy ? 'evaluating…' : formatPercent(r.accuracy)}</td>
                <td className="col-extra">{formatLoss(r.loss)}</td>
                <td title={r.missing.length > 0 ? `missing: ${r.missing.join(', ')}` : undefined}>
                  {r.participantCount}
                  {r.missing.length > 0 && <span className="warn-text"> ({r.missing.length} missing)</span>}
                </td>
                {isPrivate && <td>{r.privacy && r.privacy.epsilon !== null ? formatEpsilon(r.privacy.epsilon) : MISSING}</td>}
                <td className="col-extra">{formatBytes(r.bytesSent)}</td>
                <td className="col-extra">{formatBytes(r.bytesReceived)}</td>
                {total > 0 ? (
                  <td
                    className="col-extra"
                    title={`train ${formatDuration(r.trainMs)}, aggregate ${formatDuration(r.aggregateMs)}, evaluate ${formatDuration(r.evalMs)}, slowest client ${formatDuration(r.slowestClientMs)}`}
                  >
                    {formatDuration(total)}
                  </td>
                ) : (
                  <td className="col-extra" title="timings are known to the aggregating tab only">
                    —
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The rounds table in its own panel, with what "global" and "test loss" mean. */
export const RoundsPanel = memo(function RoundsPanel({ rounds, settings }: { rounds: RoundView[]; settings: SessionSettings | null }) {
  if (rounds.length === 0) return null;
  const hasTestData = rounds.some((r) => r.accuracy !== null);
  const last = orderedRounds(rounds).at(-1);
  const evaluating = hasTestData && last !== undefined && last.accuracy === null && settings !== null;
  const hasGlobal = hasDecompositionColumns(rounds);
  return (
    <section className="panel rounds" aria-labelledby="rounds-title">
      <h2 id="rounds-title">Rounds</h2>
      <RoundsTable rounds={rounds} evaluating={evaluating} />
      <p className="note table-notes">
        {hasGlobal && (
          <>
            <sup>1</sup> {GLOBAL_LOSS_NOTE}{' '}
          </>
        )}
        <sup>2</sup> {TEST_LOSS_NOTE} On a narrow screen only the main columns are shown.
      </p>
    </section>
  );
});
