import type { PeerStatus, PeerView } from '../../session/types';
import { useProjector } from '../hooks';
import { LabelBars } from './LabelBars';

export const PEER_STATUS_TEXT: Record<PeerStatus, string> = {
  idle: 'idle',
  training: 'training',
  uploaded: 'update sent',
  evaluating: 'evaluating',
  left: 'left',
};

export function PeersTable({ peers }: { peers: PeerView[] }) {
  const projector = useProjector();
  const active = peers.filter((p) => p.status !== 'left').length;
  return (
    <section className="panel peers" aria-labelledby="peers-title">
      <h2 id="peers-title">
        Peers <span className="muted">({active} connected{peers.length > active ? `, ${peers.length - active} left` : ''})</span>
      </h2>
      {peers.length === 0 ? (
        <p className="empty">Nobody has joined yet.</p>
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Peers">
          <table className="peers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Backend</th>
                <th scope="col">Samples</th>
                <th scope="col">Labels</th>
                <th scope="col">Status</th>
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
                  <td>{p.backend || '—'}</td>
                  <td className="num">{p.numSamples.toLocaleString('en-US')}</td>
                  <td>
                    <LabelBars counts={p.labelHistogram} large={projector} />
                  </td>
                  <td>
                    <span className={`peer-status status-${p.status}`}>{PEER_STATUS_TEXT[p.status]}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
