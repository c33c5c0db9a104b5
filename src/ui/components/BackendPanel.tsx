import { useState, memo } from 'react';
import type { BackendView } from '../../session/types';
import { UI_CONFIG } from '../config';
import { formatRate } from '../format';
import { useSession } from '../store';
import { InlineError } from './ErrorBanner';
import { secureContextNote } from '../secure-context';

export const BackendPanel = memo(function BackendPanel({ backend }: { backend: BackendView | null }) {
  const actions = useSession((s) => s.actions);
  const busy = useSession((s) => s.pending === 'backend');
  const [choice, setChoice] = useState<string>('auto');
  const fastest = backend?.probe.reduce<number>((m, p) => Math.max(m, p.samplesPerSecond ?? 0), 0) ?? 0;
  return (
    <section className="panel backend" aria-labelledby="backend-title">
      <h2 id="backend-title">This device: compute</h2>
      {backend ? (
        <>
          <p>
            Training on <strong className="backend-name">{backend.name}</strong>
          </p>
          {backend.adapter && (
            <p className="muted">
              GPU adapter: {backend.adapter.vendor || 'unknown vendor'}
              {backend.adapter.architecture ? `, ${backend.adapter.architecture}` : ''}
              {backend.adapter.isFallbackAdapter ? ' (software fallback adapter: slow)' : ''}
            </p>
          )}
          {backend.probe.length > 0 && (
            <table className="probe">
              <caption>Measured speed (probe)</caption>
              <thead>
                <tr>
                  <th scope="col">Backend</th>
                  <th scope="col">Samples/s</th>
                </tr>
              </thead>
              <tbody>
                {backend.probe.map((p) => (
                  <tr key={p.backend} className={p.backend === backend.name ? 'chosen' : undefined}>
                    <th scope="row">{p.backend}</th>
                    <td className="num">
                      {p.samplesPerSecond !== null ? formatRate(p.samplesPerSecond) : <span className="muted">{p.error ?? "not available"}</span>}
                      {p.samplesPerSecond !== null && fastest > 0 && (
                        <span className="rate-bar" style={{ width: `${(p.samplesPerSecond / fastest) * 100}%` }} aria-hidden="true" />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {backend.message && <p className="note">{backend.message}</p>}
          {secureContextNote(window) && <p className="warn-text secure-context-note">{secureContextNote(window)}</p>}
        </>
      ) : (
        <p className="empty">The compute backend is chosen when data is loaded.</p>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.setBackend(choice);
        }}
      >
        <label htmlFor="backend-choice">Backend</label>
        <select id="backend-choice" value={choice} onChange={(e) => setChoice(e.target.value)}>
          {UI_CONFIG.backendChoices.map((b) => (
            <option key={b} value={b}>
              {b === 'auto' ? 'auto (fastest measured)' : b}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          {busy ? 'Switching…' : 'Use it'}
        </button>
      </form>
      <InlineError source="backend" />
    </section>
  );
});
