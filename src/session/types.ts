import type { ClientInfo } from '../fl/engine';
import type { ModelSpec } from '../fl/model-spec';
import type { PredictInput } from '../worker/api';
import type { ConfusionResult, Prediction, SamplePrediction } from '../worker/inspect';
import type { LossDecomposition } from '../fl/decomposition';
import type { DecompositionMode, SessionPhase } from '../fl/protocol';
import type { RobustMode } from '../fl/robust/types';
import type { ScreeningVerdict } from '../fl/robust/verdicts';
import type { ClassBalance } from '../fl/collapse';
import type { LocalOptimizerName } from '../fl/local-optimizer';
import type { AggregationMode } from '../fl/async/mode';
import type { PrivacySettings } from '../fl/private-aggregation';
import type { StrategyConfig } from '../fl/strategies/types';
import type { PartitionSpec } from '../fl/data/partition';
import type { WeightCodecName } from '../fl/codec';
import type { LocalFile } from '../data/pickers';
import type { NetworkReport } from '../net/connection-watch';

/** What the session learns: the MNIST demo, images of a given size, or table rows. Fixes the model's input and outputs. */
export type SessionTask =
  | { kind: 'mnist' }
  | { kind: 'images'; height: number; width: number; channels: 1 | 3; classes: number }
  | { kind: 'tabular'; features: number; classes: number };

/** What the host chooses when creating a session. Plain data: it is shown to joining clients. */
export interface SessionSettings {
  /** Default: the MNIST demo task. */
  task?: SessionTask;
  /** 'cnn' only for image tasks. */
  model: 'mlp' | 'cnn';
  /** Hidden layer sizes of the MLP (default: [64] for images, [32, 16] for tables). */
  hidden?: number[];
  strategy: StrategyConfig;
  /** Rounds to run; the host can stop earlier. */
  rounds: number;
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  /** Local optimizer (absent: the default, SGD with momentum 0.5). */
  optimizer?: LocalOptimizerName;
  momentum?: number;
  minClients: number;
  /** Share of connected clients asked to train each round. */
  fraction: number;
  roundDeadlineMs: number;
  decomposition: DecompositionMode;
  decompositionEvery: number;
  codec: WeightCodecName;
  /** Defence against hostile updates; absent means the default, 'clip'. */
  robust?: RobustMode;
  /** How the built-in demo data is split among clients (slot = join order). */
  demoPartition: PartitionSpec;
  demoClients: number;
  seed: number;
  /** The host tab trains on its own data too. */
  hostTrains: boolean;
  /** Synchronous rounds (also when absent) or asynchronous buffered aggregation. */
  aggregation?: AggregationMode;
  /**
   * Private aggregation: every client clips its update (and adds its share of DP noise); with secure aggregation the
   * aggregating tab learns only the sum. Absent: off.
   */
  privacy?: PrivacySettings;
}

/**
 * What a peer is doing, as the aggregating tab sees it: 'idle' (connected, not asked in the running round),
 * 'training' (asked to train), 'uploaded' (its update arrived), 'evaluating' (cross-evaluation), 'missing' (selected,
 * no update in time), 'left-out' (it reported it cannot train, or its update was refused: see statusDetail),
 * 'no-data' (joined without samples), 'left'.
 */
export type PeerStatus = 'idle' | 'training' | 'uploaded' | 'evaluating' | 'missing' | 'left-out' | 'no-data' | 'left';

export interface PeerView extends ClientInfo {
  isAggregator: boolean;
  isSelf: boolean;
  status: PeerStatus;
  /** Why (for 'left-out' and 'missing'), or which round. */
  statusDetail?: string | null;
  /** When the status began (ms since the epoch). */
  statusSince?: number;
  /** Round the status refers to (0: none). */
  statusRound?: number;
  /** For 'training': the share of its local training the peer last reported done, 0..1 (null: none reported yet). */
  statusProgress?: number | null;
}

export interface RoundView {
  round: number;
  /** Global model on the aggregator's test data (null when it holds none). */
  accuracy: number | null;
  loss: number | null;
  decomposition: LossDecomposition | null;
  /** Per-class accuracy of the global model and the collapse warning, when the aggregator measured them. */
  classes?: ClassBalance | null;
  /** Ids of the clients whose updates were aggregated (known to the aggregating tab only). */
  participants: string[];
  participantCount: number;
  missing: string[];
  trainMs: number;
  aggregateMs: number;
  evalMs: number;
  slowestClientMs: number;
  bytesSent: number;
  bytesReceived: number;
  /** Async mode: the staleness of each participant's update, in the order of participants. */
  staleness?: number[];
  /** How the decomposition of this round was measured, as this tab knows it (null: not recorded). */
  decompositionMode?: DecompositionMode | null;
  /** What the robust aggregation did to updates it left out, clipped or capped (known to the aggregating tab only). */
  screening?: ScreeningVerdict[];
  /** A private session's round: what it spent and whom its sum covers. */
  privacy?: RoundPrivacyView;
}

/** What one round of a private session spent, and what the aggregating tab learned from it. */
export interface RoundPrivacyView {
  /** Secure aggregation: the aggregating tab learned only the sum of the participants' contributions. */
  secure: boolean;
  /** The (epsilon, delta) spent so far towards whoever sees the global models (null: no DP noise). */
  epsilon: number | null;
  delta: number;
  /** The session's budget for epsilon (null: none). */
  budget: number | null;
  /** The noise multiplier this round's sum carried (0: none). */
  noiseMultiplier: number;
  /** Clients asked this round over clients that could have been asked. */
  samplingRate: number;
  /** Clients whose contributions are in the sum. */
  survivors: number;
}

export interface LocalProgressView {
  round: number;
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  samplesPerSecond: number;
}

export interface LocalDataView {
  source: 'demo' | 'own';
  description: string;
  numSamples: number;
  numEval: number;
  labelHistogram: number[];
  problems: string[];
}

export interface BackendView {
  name: string;
  adapter: { vendor: string; architecture: string; isFallbackAdapter: boolean } | null;
  probe: { backend: string; samplesPerSecond: number | null; error?: string }[];
  message: string | null;
}

export interface LogEntry {
  time: number;
  level: 'info' | 'warn' | 'error';
  text: string;
  /** How many times this line was logged (absent: once); a repeat moves the line to the end, with `time` its latest. */
  count?: number;
}

export type SessionStatus = 'idle' | 'connecting' | 'lobby' | 'running' | 'finished' | 'error';

export interface SessionState {
  status: SessionStatus;
  role: 'host' | 'client' | null;
  selfId: string | null;
  aggregatorId: string | null;
  isAggregator: boolean;
  code: string | null;
  /** Link other devices open to join (includes the join secret). */
  joinUrl: string | null;
  lanUrls: string[];
  settings: SessionSettings | null;
  peers: PeerView[];
  rounds: RoundView[];
  currentRound: number;
  localProgress: LocalProgressView | null;
  localData: LocalDataView | null;
  backend: BackendView | null;
  log: LogEntry[];
  error: string | null;
  /** The round in progress right now (null between rounds and before the first); currentRound counts finished rounds. */
  runningRound?: number | null;
  /** Host asked to stop; the round in progress still finishes. */
  stopping?: boolean;
  /** Where the session stands, from the aggregator's record (null before this tab has one). */
  phase?: SessionPhase | null;
  /** Why no round can run now, e.g. "1 of 2 clients have data" (null when one can): Start waits for it. */
  waitingFor?: string | null;
  /** Why a finished session ended before its last round (a private session's budget is spent), else null. */
  endedBecause?: string | null;
  /** The session's model (from its config). */
  modelSpec?: ModelSpec | null;
  /** Round of the newest global model this tab holds (null: none yet), for "try the model" and the download. */
  globalModelRound?: number | null;
  /** Rounds to which this tab's update was sent. */
  selfContributions?: number[];
  /** This client tab is rejoining its session by itself after a reload (null otherwise). */
  rejoining?: { code: string } | null;
  /** This tab's connections: direct or relayed and RTT per peer, attempts that never opened and why, the relay. */
  network?: NetworkReport | null;
}

export const INITIAL_SESSION_STATE: SessionState = {
  status: 'idle',
  role: null,
  selfId: null,
  aggregatorId: null,
  isAggregator: false,
  code: null,
  joinUrl: null,
  lanUrls: [],
  settings: null,
  peers: [],
  rounds: [],
  currentRound: 0,
  localProgress: null,
  localData: null,
  backend: null,
  log: [],
  error: null,
  runningRound: null,
  stopping: false,
  phase: null,
  waitingFor: null,
  modelSpec: null,
  globalModelRound: null,
  selfContributions: [],
  rejoining: null,
  network: null,
};

/** What the UI can ask of a session. Implemented in src/session; the UI never does FL math. */
export interface SessionController {
  getState(): SessionState;
  subscribe(listener: (state: SessionState) => void): () => void;
  host(settings: SessionSettings, name: string): Promise<void>;
  /** `aggregatorId`: from a join link's `a=` parameter, when the aggregator is not the host's tab. */
  join(code: string, secret: string, name: string, aggregatorId?: string): Promise<void>;
  /** Host: start (or resume) running rounds. */
  start(): Promise<void>;
  /** Host: stop after the current round. */
  stop(): void;
  leave(): void;
  useDemoData(): Promise<void>;
  /** Files from an <input> (File[], folders via webkitRelativePath) or dropped/picked ones with their paths (LocalFile[]). */
  importFiles(files: File[] | LocalFile[]): Promise<void>;
  forgetData(): Promise<void>;
  setBackend(preference: string): Promise<void>;
  setDecomposition(mode: DecompositionMode): void;
  /** Clears the session's error message (the user dismissed it). */
  clearError?(): void;
  /** The newest global model's prediction for a drawn input or a held-out sample of this tab's data (in the worker). */
  predict?(input: PredictInput): Promise<(Prediction | SamplePrediction) & { round: number }>;
  /** Aggregating tab: confusion matrix and per-class accuracy of the newest global model on its test set. */
  confusion?(): Promise<ConfusionResult & { round: number }>;
  /** The newest global model this tab holds, as TensorFlow.js files (model.json + weights.bin). */
  exportModel?(): Promise<{ round: number; modelJson: string; weightsBin: ArrayBuffer }>;
  /**
   * The session this tab was in before a reload, if it can be resumed. role 'host': the tab aggregated it
   * (its host, or a client that took over: the session's host now), so it offers to resume it; 'client': it rejoins.
   */
  resumable?(): { code: string; role: 'host' | 'client'; name: string } | null;
  /**
   * Resumes it: the aggregating tab (host or successor) at its last round, in its term, under the same id, or as a
   * client when the session went on without it; a client with the same slot.
   */
  resume?(): Promise<void>;
  /** Stops a client tab's automatic rejoin after a reload (state.rejoining); resume() still offers it. */
  cancelRejoin?(): void;
}
