import { useEffect, useState, memo } from 'react';
import type { PeerView } from '../../session/types';
import type { PrivacySettings } from '../../fl/private-aggregation';
import type { NetworkReport } from '../../net/connection-watch';
import { connectionLine, connectionMeaning, networkSummary } from '../connection-view';
import { useProjector } from '../hooks';
import { peerStatusLine, peerStatusTone } from '../peer-status';
import { peersPrivacyNote } from '../privacy-view';
import { LabelBars } from './LabelBars';

export { PEER_STATUS_TEXT } from '../peer-status';

/** Re-renders once a second while `active` (for "training · 12 s"). */
function useSecondsClock(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export const PeersTable = memo(function PeersTable({
  peers,
  knowsStatus,
  network = null,
  aggregatorId = null,
  privacy = null,
}: {
  peers: PeerView[];
  knowsStatus: boolean;
  /** This tab's connections (direct or relayed, RTT), attempts that never opened and why. */
  network?: NetworkReport | null;
  aggregatorId?: string | null;
  /** A private session's settings: the table then shows no per-update detail (there is none to show). */
  privacy?: PrivacySettings | null;
}) {
  const projector = useProjector();
  const summary = networkSummary(network, peers, knowsStatus, aggregatorId);
  const active = peers.filter((p) => p.status !== 'left').length;
  const now = useSecondsClock(peers.some((p) => p.status === 'training' || p.status === 'evaluating'));
  return (
    <section className="panel peers" aria-labelledby="peers-title">
      <h2 id="peers-title">
        Peers <span className="muted">({active} connected{peers.length > active ? `, ${peers.length - active} left` : ''})</span>
      </h2>
      {summary.relayed && <p className="note network-relayed">{summary.relayed}</p>}
      {summary.problems.map((line) => (
        <p key={line} className="note warn network-problem" role="status">
          {line}
        </p>
      ))}
      {privacy && (
        <p className="note" data-testid="peers-privacy">
          {peersPrivacyNote(privacy)}
        </p>
      )}
      {!knowsStatus && peers.length > 0 && (
        <p className="note">
          {privacy
            ? 'What the others are doing is known to the aggregating tab; their label counts stay on their devices. Here you see your own.'
            : 'What the others are doing and their label counts are known to the aggregating tab; here you see your own.'}
        </p>
      )}
      {peers.length === 0 ? (
        <p className="empty">Nobody has joined yet.</p>
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Peers">
          <table className="peers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-backend">
                  Backend
                </th>
                <th scope="col">Samples</th>
                <th scope="col">Labels</th>
                <th scope="col">Status</th>
                <th scope="col" className="col-connection">
                  Connection
                </th>
              </tr>
            </thead>
            <tbody>
              {peers.map((p) => (
                <tr key={p.id} className={p.status === 'left' ? 'left' : undefined}>
                  <th scope="row">
                    <span className="peer-name">{p.name}</span>
                    {p.isSelf && <span className="badge you">you</span>}
                    {p.isAggregator && <span className="badge aggregator">aggregator</span>}
                  </th>
                  <td className="col-backend">{p.backend || '—'}</td>
                  <td className="num">{p.numSamples.toLocaleString('en-US')}</td>
                  <td>
                    {/* Rosters reach non-aggregating tabs without the others' label counts (privacy): no empty bars. */}
                    {knowsStatus || p.isSelf ? (
                      <LabelBars counts={p.labelHistogram} large={projector} />
                    ) : (
                      <span className="muted" title="known to the aggregating tab only">—</span>
                    )}
                  </td>
                  <td>
                    {knowsStatus || p.isSelf ? (
                      <span className={`peer-status status-${p.status} tone-${peerStatusTone(p.status)}`}>{peerStatusLine(privacy && p.status === 'uploaded' ? { ...p, statusDetail: undefined } : p, now)}</span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="col-connection" title={connectionMeaning(network?.routes[p.id])}>
                    {p.isSelf ? <span className="muted">this tab</span> : connectionLine(network?.routes[p.id])}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
});
