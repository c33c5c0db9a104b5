import type { DecompositionMode } from '../../fl/protocol';
import type { SessionState } from '../../session/types';
import { UI_CONFIG } from '../config';
import { describePartition, describeStrategy } from '../host-form';
import { useProjector } from '../hooks';
import { joinLinks } from '../join-links';
import { STATUS_TEXT, aggregatorLabel, canStart, canStop, roundProgressText } from '../session-view';
import { useSession } from '../store';
import { CopyField } from './CopyField';
import { QrCode } from './QrCode';

const DECOMPOSITION_CHOICES: { value: DecompositionMode; text: string }[] = [
  { value: 'exact', text: 'exact (cross-evaluation)' },
  { value: 'proxy', text: 'proxy (aggregator validation set)' },
  { value: 'off', text: 'off' },
];

export function SessionHeader({ state, onLeave }: { state: SessionState; onLeave: () => void }) {
  const actions = useSession((s) => s.actions);
  const pending = useSession((s) => s.pending);
  const projector = useProjector();
  const links = state.joinUrl ? safeJoinLinks(state.joinUrl, state.lanUrls) : null;
  const settings = state.settings;

  return (
    <section className="panel session-header" aria-label="Session">
      <div className="header-main">
        <div className="code-block">
          <span className="label">Session code</span>
          <span className="session-code">{state.code ?? '—'}</span>
          {links?.secret && (
            <span className="secret">
              secret <code>{links.secret}</code>
            </span>
          )}
        </div>
        <div className="facts-block">
          <p>
            <span className={`status-badge status-${state.status}`}>{STATUS_TEXT[state.status]}</span>{' '}
            <span className="round-progress">{roundProgressText(state)}</span>
          </p>
          <p>
            Aggregator: <strong>{aggregatorLabel(state)}</strong>
            {state.role && <span className="muted"> · you are {state.role === 'host' ? 'the host' : 'a client'}</span>}
          </p>
          {settings && (
            <p className="muted settings-summary">
              {describeStrategy(settings.strategy)} · {settings.model.toUpperCase()} · {settings.localEpochs} local epoch
              {settings.localEpochs === 1 ? '' : 's'} · batch {settings.batchSize} · lr {settings.learningRate} · {settings.codec} · demo split{' '}
              {describePartition(settings.demoPartition)}
            </p>
          )}
          <div className="button-row">
            {state.isAggregator && (
              <>
                <button type="button" className="primary" onClick={() => void actions.start()} disabled={!canStart(state) || pending === 'start'}>
                  {state.currentRound > 0 ? 'Resume' : 'Start'}
                </button>
                <button type="button" onClick={() => actions.stop()} disabled={!canStop(state)}>
                  Stop after this round
                </button>
              </>
            )}
            <button type="button" className="danger" onClick={onLeave}>
              Leave
            </button>
          </div>
          {state.isAggregator && settings && (
            <div className="inline-form">
              <label htmlFor="decomposition-mode">Loss decomposition</label>
              <select
                id="decomposition-mode"
                value={settings.decomposition}
                onChange={(e) => actions.setDecomposition(e.target.value as DecompositionMode)}
              >
                {DECOMPOSITION_CHOICES.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.text}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
        {links && (
          <div className="qr-block">
            <QrCode text={links.primary} size={projector ? UI_CONFIG.qr.projectorSize : UI_CONFIG.qr.size} label="QR code of the join link" />
            <span className="muted">Scan to join</span>
          </div>
        )}
      </div>
      {links && (
        <div className="join-block">
          <CopyField id="join-url" label="Join link (send it, or scan the QR code)" value={links.primary} />
          {links.loopbackOnly && (
            <p className="warn-text">This link points at this machine only (localhost): other devices need one of the LAN addresses.</p>
          )}
          {links.lan.length > 0 && (
            <div className="lan-urls">
              <span className="label">Open on other devices in this network:</span>
              <ul>
                {links.lan.map((url) => (
                  <li key={url}>
                    <a href={url}>{url}</a>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
      {!links && state.lanUrls.length > 0 && (
        <div className="lan-urls">
          <span className="label">This app on the network:</span>
          <ul>
            {state.lanUrls.map((url) => (
              <li key={url}>
                <a href={url}>{url}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function safeJoinLinks(joinUrl: string, lanUrls: string[]) {
  try {
    return joinLinks(joinUrl, lanUrls);
  } catch {
    return { primary: joinUrl, lan: [], loopbackOnly: false, secret: null };
  }
}
