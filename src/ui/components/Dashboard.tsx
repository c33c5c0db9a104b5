import { useShallow } from 'zustand/react/shallow';
import { ResumeOffer } from './ResumeOffer';
import { navigate } from '../hooks';
import { inSession } from '../session-view';
import { useSession, type SessionStore } from '../store';
import type { SessionState } from '../../session/types';
import { AccuracyPanel } from './AccuracyPanel';
import { BackendPanel } from './BackendPanel';
import { DecompositionPanel } from './DecompositionPanel';
import { EventLog } from './EventLog';
import { LocalDataPanel } from './LocalDataPanel';
import { PeersTable } from './PeersTable';
import { ProgressPanel } from './ProgressPanel';
import { SessionHeader } from './SessionHeader';

function sessionState(s: SessionStore): SessionState {
  return {
    status: s.status,
    role: s.role,
    selfId: s.selfId,
    aggregatorId: s.aggregatorId,
    isAggregator: s.isAggregator,
    code: s.code,
    joinUrl: s.joinUrl,
    lanUrls: s.lanUrls,
    settings: s.settings,
    peers: s.peers,
    rounds: s.rounds,
    currentRound: s.currentRound,
    localProgress: s.localProgress,
    localData: s.localData,
    backend: s.backend,
    log: s.log,
    error: s.error,
  };
}

export function Dashboard() {
  const state = useSession(useShallow(sessionState));
  const leave = useSession((s) => s.actions.leave);

  if (!inSession(state.status)) {
    return (
      <section className="panel narrow">
        <h2>No session in this tab</h2>
        <p>This tab is not hosting or part of a session.</p>
        <ResumeOffer />
        <div className="button-row">
          <a className="button primary" href="#/host">
            Host a session
          </a>
          <a className="button" href="#/">
            Join with a code
          </a>
        </div>
      </section>
    );
  }

  const onLeave = () => {
    if (leave()) navigate({ page: 'landing' });
  };
  const trains = state.role === 'client' || (state.settings?.hostTrains ?? true);

  return (
    <div className="dashboard">
      <SessionHeader state={state} onLeave={onLeave} />
      <DecompositionPanel rounds={state.rounds} settings={state.settings} />
      <div className="two-columns">
        <AccuracyPanel rounds={state.rounds} settings={state.settings} />
        <PeersTable peers={state.peers} />
      </div>
      {!trains && <p className="note">This tab aggregates and does not train (the host chose not to train).</p>}
      <div className="three-columns">
        <LocalDataPanel data={state.localData} />
        <BackendPanel backend={state.backend} />
        <ProgressPanel progress={state.localProgress} localEpochs={state.settings?.localEpochs ?? null} />
      </div>
      <EventLog log={state.log} />
    </div>
  );
}
