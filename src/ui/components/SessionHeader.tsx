import { useState } from 'react';
import type { SessionState } from '../../session/types';
import { describePartition, describeStrategy } from '../../session/host-form';
import { aggregatorLabel, canStart, canStop, roleText, roundProgressText, showsStart, statusText } from '../session-view';
import { useSession } from '../store';
import { useProjector } from '../hooks';
import { peersSummary } from '../peers-summary';
import { describeTask } from '../../data/task-fit';
import { describePrivacy, latestPrivacy, privacySpentText } from '../privacy-view';


/** The session's status line and the host's controls. How to join lives in JoinPanel. */
export function SessionHeader({ state, onLeave }: { state: SessionState; onLeave: () => void }) {
  const actions = useSession((s) => s.actions);
  const pending = useSession((s) => s.pending);
  const projector = useProjector();
  const settings = state.settings;
  const spent = settings?.privacy ? latestPrivacy(state.rounds) : null;

  return (
    <section className="panel session-header" aria-label="Session">
      <div className="header-row">
        <div className="code-block">
          <span className="label">Session</span>
          <span className="session-code">{state.code ?? '—'}</span>
        </div>
        <div className="facts-block">
          <p className="status-line">
            <span className={`status-badge status-${state.status}`} data-testid="status-badge">
              {statusText(state)}
            </span>{' '}
            <span className="round-progress" data-testid="round-progress">
              {roundProgressText(state)}
            </span>
          </p>
          {projector && (
            <p className="peers-summary" data-testid="peers-summary">
              {peersSummary(state.peers)}
            </p>
          )}
          <p>
            Aggregator: <strong>{aggregatorLabel(state)}</strong>
            {state.role && <span className="muted"> · {roleText(state)}</span>}
          </p>
          {settings?.privacy && (
            <p data-testid="privacy-summary">
              Privacy: <strong>{spent ? privacySpentText(spent) : 'no round yet'}</strong>
            </p>
          )}
          {settings && (
            <details className="settings-summary">
              <summary>Session settings</summary>
              <p className="muted">
                {state.modelSpec ? `${describeTask(state.modelSpec)} · ` : ''}
                {describeStrategy(settings.strategy)} · {settings.model.toUpperCase()} · {settings.localEpochs} local epoch
                {settings.localEpochs === 1 ? '' : 's'} · batch {settings.batchSize} · lr {settings.learningRate} · {settings.codec} · demo split{' '}
                {describePartition(settings.demoPartition)}
                {settings.privacy && ` · ${describePrivacy(settings.privacy)}`}
              </p>
            </details>
          )}
        </div>
        <div className="controls-block">
          {state.isAggregator && (
            <div className="button-row">
              {showsStart(state) && (
                <button
                  type="button"
                  className="primary"
                  onClick={() => void actions.start()}
                  disabled={!canStart(state) || pending === 'start'}
                  title={state.waitingFor ? `Waiting: ${state.waitingFor}` : undefined}
                >
                  {state.currentRound > 0 ? 'Resume' : 'Start'}
                </button>
              )}
              {state.status !== 'finished' && (
                <button type="button" onClick={() => actions.stop()} disabled={!canStop(state) || state.stopping === true}>
                  Stop after this round
                </button>
              )}
            </div>
          )}
          {state.isAggregator && state.status === 'lobby' && state.waitingFor && (
            <p className="muted start-waiting" data-testid="start-waiting">
              Start waits: {state.waitingFor}
            </p>
          )}
        </div>
        <LeaveButton running={state.status === 'running'} aggregating={state.isAggregator} onLeave={onLeave} />
      </div>
    </section>
  );
}

/** Leave, away from Stop; while rounds run it asks first (leaving ends this tab's part, and the host's hands over). */
function LeaveButton({ running, aggregating, onLeave }: { running: boolean; aggregating: boolean; onLeave: () => void }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <div className="leave-block">
        <button type="button" className="danger subtle" onClick={() => (running ? setConfirming(true) : onLeave())}>
          Leave session
        </button>
      </div>
    );
  }
  return (
    <div className="leave-block confirm" role="alertdialog" aria-labelledby="leave-question">
      <p id="leave-question">
        Leave the running session?{' '}
        {aggregating ? 'Another tab takes over aggregating; you can join again as a client with the code.' : 'Your device stops training; you can join again with the code.'}
      </p>
      <div className="button-row">
        <button type="button" className="danger" onClick={onLeave}>
          Leave
        </button>
        <button type="button" autoFocus onClick={() => setConfirming(false)}>
          Stay
        </button>
      </div>
    </div>
  );
}
