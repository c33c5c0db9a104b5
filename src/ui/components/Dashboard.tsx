import { useShallow } from 'zustand/react/shallow';
import { ResumeOffer } from './ResumeOffer';
import { navigate, useProjector } from '../hooks';
import { inSession } from '../session-view';
import { useSession, type SessionStore } from '../store';
import type { SessionState } from '../../session/types';
import { AccuracyPanel } from './AccuracyPanel';
import { AsyncPanel } from './AsyncPanel';
import { BackendPanel } from './BackendPanel';
import { DecompositionPanel } from './DecompositionPanel';
import { EventLog } from './EventLog';
import { ConfusionPanel } from './ConfusionPanel';
import { ExportPanel } from './ExportPanel';
import { TryModelPanel } from './TryModelPanel';
import { JoinPanel } from './JoinPanel';
import { LocalDataPanel } from './LocalDataPanel';
import { PeersTable } from './PeersTable';
import { PrivacyPanel } from './PrivacyPanel';
import { YouPanel } from './ProgressPanel';
import { RoundsPanel } from './RoundsTable';
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
    runningRound: s.runningRound,
    stopping: s.stopping,
    phase: s.phase,
    waitingFor: s.waitingFor,
    selfContributions: s.selfContributions,
    modelSpec: s.modelSpec,
    globalModelRound: s.globalModelRound,
    localProgress: s.localProgress,
    localData: s.localData,
    backend: s.backend,
    log: s.log,
    error: s.error,
  };
}

/**
 * The session page. Host: header, then the charts with the join QR beside them (one screen in projector mode); the
 * main chart is the loss decomposition, or in a private session the privacy spent.
 * Student: header, then their own part ("You"), then the session's charts; the invitation sits at the end.
 */
export function Dashboard() {
  const state = useSession(useShallow(sessionState));
  const leave = useSession((s) => s.actions.leave);
  const projector = useProjector();

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
  const isHost = state.role === 'host';
  const trains = state.role === 'client' || (state.settings?.hostTrains ?? true);
  const self = state.peers.find((p) => p.isSelf) ?? null;
  // A private session's aggregating tab sees no local model, so its main panel is the privacy spent; a decomposition
  // is shown only where one was measured (a simulator run replayed).
  const privacy = state.settings?.privacy ?? null;
  const decompositionMeasured = state.rounds.some((r) => r.decomposition !== null);
  const you = trains ? (
    <YouPanel
      self={self}
      progress={state.localProgress}
      localEpochs={state.settings?.localEpochs ?? null}
      sessionStatus={state.status}
      phase={state.phase ?? null}
      waitingFor={state.waitingFor ?? null}
      contributions={state.selfContributions ?? []}
      finishedRounds={state.currentRound}
      data={state.localData}
    />
  ) : null;

  return (
    <div className={`dashboard ${isHost ? 'role-host' : 'role-client'}`}>
      <SessionHeader state={state} onLeave={onLeave} />
      {/* While a reloaded client tab rejoins by itself: says so, with a Cancel. */}
      <ResumeOffer />
      {!isHost && you}
      <div className="charts-area">
        {privacy ? (
          <PrivacyPanel privacy={privacy} rounds={state.rounds} totalRounds={state.settings?.rounds} decompositionMeasured={decompositionMeasured} />
        ) : (
          <DecompositionPanel rounds={state.rounds} settings={state.settings} canChangeMode={state.isAggregator} />
        )}
        <div className="side-column">
          <AccuracyPanel rounds={state.rounds} settings={state.settings} runningRound={state.runningRound ?? null} />
          {isHost && <JoinPanel joinUrl={state.joinUrl} lanUrls={state.lanUrls} code={state.code} compact={projector} />}
        </div>
      </div>
      <RoundsPanel rounds={state.rounds} settings={state.settings} />
      {privacy && decompositionMeasured && <DecompositionPanel rounds={state.rounds} settings={state.settings} canChangeMode={false} />}
      {isHost && you}
      <div className="two-columns">
        {state.modelSpec && <TryModelPanel spec={state.modelSpec} modelRound={state.globalModelRound ?? null} heldOut={state.localData?.numEval ?? 0} />}
        {state.isAggregator && state.rounds.some((r) => r.accuracy !== null) && <ConfusionPanel modelRound={state.globalModelRound ?? null} />}
      </div>
      {state.settings?.aggregation?.mode === 'async' && <AsyncPanel rounds={state.rounds} peers={state.peers} />}
      {!trains && <p className="note">This tab aggregates and does not train (the host chose not to train).</p>}
      <PeersTable peers={state.peers} knowsStatus={state.isAggregator} network={state.network} aggregatorId={state.aggregatorId} privacy={state.settings?.privacy ?? null} />
      <div className="three-columns">
        <LocalDataPanel data={state.localData} modelSpec={state.modelSpec ?? null} />
        <BackendPanel backend={state.backend} />
        <ExportPanel state={state} />
      </div>
      {(!isHost || projector) && <JoinPanel joinUrl={state.joinUrl} lanUrls={state.lanUrls} code={state.code} />}
      <EventLog log={state.log} />
    </div>
  );
}
