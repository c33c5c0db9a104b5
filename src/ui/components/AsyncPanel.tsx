import type { PeerView, RoundView } from '../../session/types';
import { asyncStats, STALENESS_BINS } from '../async-stats';

/** Async sessions: updates each peer contributed, and a histogram of their staleness (aggregating tab only). */
export function AsyncPanel({ rounds, peers }: { rounds: RoundView[]; peers: PeerView[] }) {
  const s = asyncStats(rounds, peers);
  const top = Math.max(1, ...s.histogram);
  return (
    <section className="panel async-panel" aria-labelledby="async-title">
      <h2 id="async-title">
        Asynchronous steps <span className="muted">({s.updates} updates used{s.updates ? `, mean staleness ${s.meanStaleness.toFixed(1)} steps` : ''})</span>
      </h2>
      {s.updates === 0 ? (
        <p className="empty">No step yet, or this tab does not aggregate (only the aggregating tab sees who contributed).</p>
      ) : (
        <div className="two-columns">
          <table className="async-contributions" aria-label="Updates used per peer">
            <thead>
              <tr>
                <th scope="col">Peer</th>
                <th scope="col">Updates used</th>
                <th scope="col">Mean staleness</th>
              </tr>
            </thead>
            <tbody>
              {s.perPeer.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.name}</th>
                  <td className="num">{p.updates}</td>
                  <td className="num">{p.meanStaleness.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <figure className="staleness-histogram" aria-label="Staleness histogram: updates by steps of staleness">
            <div style={{ display: 'flex', alignItems: 'flex-end', gap: '2px', height: '6em' }}>
              {s.histogram.map((n, tau) => (
                <div key={tau} title={`${tau === STALENESS_BINS ? `${tau}+` : tau} steps stale: ${n} updates`} style={{ flex: 1, height: `${(100 * n) / top}%`, minHeight: n ? '2px' : 0, background: 'currentColor', opacity: 0.7 }} />
              ))}
            </div>
            <figcaption className="muted">staleness τ in steps: 0 … {STALENESS_BINS}+ (left to right)</figcaption>
          </figure>
        </div>
      )}
    </section>
  );
}
