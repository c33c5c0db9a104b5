/**
 * Dev-only preview of the dashboard (not part of the app bundle): the UI bound to a read-only SessionController
 * whose state is converted, at runtime, from a REAL simulator result (`npm run sim -- --clients 4 --rounds 8
 * --limit 3000 --out ...`, copied to fixtures/sim-run.json). Nothing is live; every action answers with an error.
 *
 *   /e2e/pages/ui-preview.html#/session              the run as seen by simulator client 0
 *   /e2e/pages/ui-preview.html?view=host#/session    the run as seen by the aggregator (host controls)
 *   /e2e/pages/ui-preview.html#/host                 the host settings form
 *   ?fixture=sim-run-private                          a private run instead (`--strategy fedavg --secagg --dp-clip 2
 *                                                    --dp-noise 0.7 --dp-budget 60 --clients 8`), shown as a private
 *                                                    session: no decomposition, the privacy spent per round
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { SimResult } from '../../src/sim/simulation';
import type { BackendView, LogEntry, PeerView, RoundView, SessionController, SessionSettings, SessionState } from '../../src/session/types';
import { fetchServerUrls } from '../../src/net/endpoints';
import { App } from '../../src/ui/components/App';
import { buildJoinUrl } from '../../src/ui/routes';
import { bindController } from '../../src/ui/store';
import '../../src/ui/styles.css';

const FIXTURES = { 'sim-run': new URL('./fixtures/sim-run.json', import.meta.url).href, 'sim-run-private': new URL('./fixtures/sim-run-private.json', import.meta.url).href };
const fixtureName = new URLSearchParams(location.search).get('fixture') ?? 'sim-run';
const FIXTURE_URL = Object.hasOwn(FIXTURES, fixtureName) ? FIXTURES[fixtureName as keyof typeof FIXTURES] : FIXTURES['sim-run'];
const AGGREGATOR_ID = 'aggregator';
/** The simulator names its clients like this (src/sim/simulation.ts). */
const clientId = (k: number) => `client-${String(k).padStart(3, '0')}`;
/** A recorded run cannot be joined; the header still needs a code and a link to show its layout. */
const PLACEHOLDER_CODE = 'REPLAY';
// Shaped like a real passphrase (two groups of five) so the join panel lays out as it does in a session.
const PLACEHOLDER_SECRET = 'REPLAYONLY';

type View = 'client' | 'host';

function isSimResult(value: unknown): value is SimResult {
  const v = value as Partial<SimResult> | null;
  return typeof v === 'object' && v !== null && typeof v.config === 'object' && Array.isArray(v.rounds) && Array.isArray(v.partition?.histograms);
}

/** "auto: 493 ms probe training the mlp, samples/s wasm 1313 vs cpu 147" -> per-backend rates. */
function probeFromReason(reason: string): BackendView['probe'] {
  const tail = /samples\/s (.+)$/.exec(reason)?.[1];
  if (!tail) return [];
  return tail.split(' vs ').flatMap((part) => {
    const m = /^(\S+) (\d+(?:\.\d+)?)$/.exec(part.trim());
    return m ? [{ backend: m[1], samplesPerSecond: Number(m[2]) }] : [];
  });
}

/** The same rule as splitTrainEval (src/fl/data/split.ts): how many of a client's samples are held out. */
function evalCount(n: number, cfg: SimResult['config']): number {
  return Math.min(Math.max(n - 1, 0), Math.floor(cfg.evalMax), Math.round(n * cfg.evalFraction));
}

function toSessionState(sim: SimResult, view: View, now: number, lanUrls: string[]): SessionState {
  const cfg = sim.config;
  // A private session's aggregating tab sees no local model: the app measures no decomposition there.
  const privacy = cfg.privacy ?? undefined;
  const settings: SessionSettings = {
    model: cfg.model,
    strategy: cfg.strategy,
    rounds: cfg.rounds,
    localEpochs: cfg.localEpochs,
    batchSize: cfg.batchSize,
    learningRate: cfg.learningRate,
    minClients: 1,
    fraction: cfg.fraction,
    roundDeadlineMs: 3_600_000,
    decomposition: privacy ? 'off' : 'exact',
    decompositionEvery: 1,
    ...(privacy ? { privacy, robust: 'off' as const } : {}),
    // In-memory transport: weights are passed as Float32Arrays, i.e. losslessly.
    codec: 'float32',
    demoPartition: cfg.partition,
    demoClients: cfg.clients,
    seed: cfg.seed,
    hostTrains: false,
  };
  const selfId = view === 'host' ? AGGREGATOR_ID : clientId(0);
  const sampleTotals = sim.partition.histograms.map((h) => h.reduce((a, b) => a + b, 0));
  const lastRound = sim.rounds.at(-1)?.round ?? 0;
  // With fraction 1 every client sent an update in the last round (the simulator records counts, not names).
  const everyoneSent = sim.rounds.at(-1)?.participants === sim.partition.histograms.length;
  const peers: PeerView[] = [
    { id: AGGREGATOR_ID, name: 'aggregator', backend: sim.backend.name, numSamples: 0, labelHistogram: [], joinedAt: now, isAggregator: true, isSelf: selfId === AGGREGATOR_ID, status: 'no-data' },
    ...sim.partition.histograms.map((h, k): PeerView => ({
      id: clientId(k),
      name: `client ${k}`,
      backend: sim.backend.name,
      numSamples: sampleTotals[k] - evalCount(sampleTotals[k], cfg),
      labelHistogram: h,
      joinedAt: now,
      isAggregator: false,
      isSelf: selfId === clientId(k),
      status: everyoneSent ? 'uploaded' : 'idle',
      statusRound: everyoneSent ? lastRound : 0,
      statusDetail: null,
    })),
  ];
  const allClients = sim.partition.histograms.map((_, k) => clientId(k));
  const rounds: RoundView[] = sim.rounds.map((r) => ({
    round: r.round,
    accuracy: r.accuracy,
    loss: r.loss,
    decomposition: privacy ? null : r.decomposition,
    decompositionMode: privacy ? 'off' : 'exact',
    ...(privacy && r.privacy
      ? { privacy: { secure: r.privacy.secure ?? privacy.secureAggregation, epsilon: r.privacy.epsilon, delta: r.privacy.delta, budget: privacy.budget, noiseMultiplier: r.privacy.noiseMultiplier, samplingRate: r.privacy.samplingRate, survivors: r.privacy.survivors } }
      : {}),
    // The simulator records how many took part, not who; with fraction 1 that is everyone.
    participants: r.participants === allClients.length ? allClients : Array.from({ length: r.participants }, (_, i) => `participant ${i + 1}`),
    participantCount: r.participants,
    missing: [],
    trainMs: r.trainMs,
    aggregateMs: r.aggregateMs,
    evalMs: r.evalMs,
    slowestClientMs: r.trainMs,
    // In-memory transport: nothing crossed a wire.
    bytesSent: 0,
    bytesReceived: 0,
  }));
  const totalMs = sim.rounds.reduce((s, r) => s + r.trainMs + r.aggregateMs + r.evalMs, 0);
  let t = now - totalMs;
  const log: LogEntry[] = [{ time: t, level: 'info', text: `backend ${sim.backend.name}: ${sim.backend.reason}` }];
  for (const r of sim.rounds) {
    t += r.trainMs + r.aggregateMs + r.evalMs;
    log.push({
      time: t,
      level: 'info',
      text: `round ${r.round}: ${r.participants} updates, accuracy ${(r.accuracy * 100).toFixed(1)} %, global loss ${(r.decomposition?.global ?? r.loss).toFixed(4)}`,
    });
  }
  const n0 = sampleTotals[0];
  return {
    status: 'finished',
    role: view === 'host' ? 'host' : 'client',
    selfId,
    aggregatorId: AGGREGATOR_ID,
    isAggregator: view === 'host',
    code: PLACEHOLDER_CODE,
    joinUrl: buildJoinUrl(`${location.origin}/`, PLACEHOLDER_CODE, PLACEHOLDER_SECRET),
    lanUrls,
    settings,
    peers,
    rounds,
    currentRound: sim.rounds.length,
    runningRound: null,
    modelSpec: sim.model,
    selfContributions: view === 'client' && sim.config.fraction === 1 ? sim.rounds.map((r) => r.round) : [],
    globalModelRound: null,
    localProgress: null,
    localData:
      view === 'host'
        ? null
        : {
            source: 'demo',
            description: `${cfg.data} slot 1 of ${cfg.clients}`,
            numSamples: n0 - evalCount(n0, cfg),
            numEval: evalCount(n0, cfg),
            labelHistogram: sim.partition.histograms[0],
            problems: [],
          },
    backend: { name: sim.backend.name, adapter: null, probe: probeFromReason(sim.backend.reason), message: sim.backend.reason },
    log,
    error: null,
  };
}

class RecordedRunController implements SessionController {
  constructor(private readonly state: SessionState) {}
  getState(): SessionState {
    return this.state;
  }
  subscribe(): () => void {
    return () => {};
  }
  private refuse(what: string): never {
    throw new Error(`This preview replays a recorded simulator run; it cannot ${what}.`);
  }
  host(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot host a session.'));
  }
  join(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot join a session.'));
  }
  start(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot start rounds.'));
  }
  stop(): void {
    this.refuse('stop rounds');
  }
  leave(): void {
    this.refuse('leave');
  }
  useDemoData(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot load data.'));
  }
  importFiles(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot import files.'));
  }
  forgetData(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it holds no data to forget.'));
  }
  setBackend(): Promise<void> {
    return Promise.reject(new Error('This preview replays a recorded simulator run; it cannot switch backends.'));
  }
  setDecomposition(): void {
    this.refuse('change the decomposition mode');
  }
}

function describeRun(sim: SimResult): string {
  const c = sim.config;
  const partition = c.partition.kind === 'dirichlet' ? `dirichlet α ${c.partition.alpha}` : c.partition.kind;
  return `${c.strategy.name}, ${c.clients} clients, ${c.rounds} rounds, ${c.data} (first ${c.limit} samples), ${partition}, backend ${sim.backend.name}`;
}

async function main(): Promise<void> {
  const root = document.getElementById('root');
  if (!root) throw new Error('ui-preview.html has no #root element');
  const response = await fetch(FIXTURE_URL);
  if (!response.ok) throw new Error(`${FIXTURE_URL}: HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (!isSimResult(body)) throw new Error(`${FIXTURE_URL} is not a simulator result (npm run sim -- --out FILE.json)`);
  const view: View = new URLSearchParams(location.search).get('view') === 'host' ? 'host' : 'client';
  const lanUrls = await fetchServerUrls().then((u) => u.urls, () => []);
  if (!location.hash) location.hash = '#/session';
  bindController(new RecordedRunController(toSessionState(body, view, Date.now(), lanUrls)));
  const banner = (
    <p className="recorded-banner" role="note">
      <strong>Recorded simulator run, not live</strong> ({describeRun(body)}), seen by {view === 'host' ? 'the aggregator' : 'client 0'}. In-memory
      transport, so the byte columns read 0; the session code and join link are placeholders. Every button answers with an error.
    </p>
  );
  createRoot(root).render(
    <StrictMode>
      <App banner={banner} />
    </StrictMode>,
  );
}

main().catch((e: unknown) => {
  document.body.textContent = `UI preview failed: ${e instanceof Error ? e.message : String(e)}`;
});
