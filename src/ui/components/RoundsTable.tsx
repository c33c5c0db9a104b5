import type { RoundView } from '../../session/types';
import { orderedRounds } from '../chart-series';
import { formatBytes, formatDuration, formatLoss, formatPercent, formatSignedLoss } from '../format';

/** Every finished round's numbers, newest first: the decomposition, accuracy, participation, time and traffic. */
export function RoundsTable({ rounds }: { rounds: RoundView[] }) {
  if (rounds.length === 0) return null;
  const rows = orderedRounds(rounds).reverse();
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Numbers per round">
      <table className="numbers">
        <caption className="visually-hidden">Numbers per round, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Round</th>
            <th scope="col">Global</th>
            <th scope="col">Local</th>
            <th scope="col">Shift</th>
            <th scope="col">Aggregation</th>
            <th scope="col">Accuracy</th>
            <th scope="col">Test loss</th>
            <th scope="col">Clients</th>
            <th scope="col">Sent</th>
            <th scope="col">Received</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const d = r.decomposition;
            const total = r.trainMs + r.aggregateMs + r.evalMs;
            return (
              <tr key={r.round}>
                <th scope="row">{r.round}</th>
                <td className="strong">{formatLoss(d?.global)}</td>
                <td>{formatLoss(d?.local)}</td>
                <td>{formatSignedLoss(d?.shift)}</td>
                <td>{formatSignedLoss(d?.aggregation)}</td>
                <td>{formatPercent(r.accuracy)}</td>
                <td>{formatLoss(r.loss)}</td>
                <td title={r.missing.length > 0 ? `missing: ${r.missing.join(', ')}` : undefined}>
                  {r.participantCount}
                  {r.missing.length > 0 && <span className="warn-text"> ({r.missing.length} missing)</span>}
                </td>
                <td>{formatBytes(r.bytesSent)}</td>
                <td>{formatBytes(r.bytesReceived)}</td>
                {total > 0 ? (
                  <td title={`train ${formatDuration(r.trainMs)}, aggregate ${formatDuration(r.aggregateMs)}, evaluate ${formatDuration(r.evalMs)}, slowest client ${formatDuration(r.slowestClientMs)}`}>
                    {formatDuration(total)}
                  </td>
                ) : (
                  <td title="timings are known to the aggregating tab only">—</td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
