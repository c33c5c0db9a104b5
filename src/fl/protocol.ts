import type { PartitionSpec } from './data/partition';
import type { ModelSpec } from './models';
import type { RobustMode } from './robust/types';
import type { StrategyConfig } from './strategies/types';
import type { WeightSet } from './weights';

/** Bumped on any incompatible change of the messages below. */
export const PROTOCOL_VERSION = 1;

/** Hyper-parameters of one round of local training. */
export interface TrainConfig {
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  /** Seed for the client's batch shuffling this round. */
  seed: number;
}

export interface LocalMetrics {
  /** Mean training loss of the last local epoch (cross-entropy + strategy terms). */
  trainLoss: number;
  /** L(w_k; E_k): plain CE of the trained local model on the client's evaluation subset. */
  evalLoss: number;
  evalAccuracy: number;
  trainMs: number;
  samplesPerSecond: number;
}

export type DecompositionMode = 'exact' | 'proxy' | 'off';

export interface HelloMessage {
  type: 'hello';
  v: number;
  clientName: string;
  backend: string;
  numSamples: number;
  /** Per-class sample counts: counts only, never samples. */
  labelHistogram: number[];
  /** Join secret from the session link (checked by the host). */
  secret?: string;
}

export interface RoundStartMessage {
  type: 'round-start';
  v: number;
  round: number;
  model: ModelSpec;
  strategy: StrategyConfig;
  train: TrainConfig;
  weights: WeightSet;
}

export interface UpdateMessage {
  type: 'update';
  v: number;
  round: number;
  /** w_k - w_g */
  delta: WeightSet;
  numSamples: number;
  metrics: LocalMetrics;
}

/** Asks a client for plain-CE losses of the given models on its own evaluation subset. */
export interface EvalRequestMessage {
  type: 'eval-request';
  v: number;
  round: number;
  requestId: string;
  model: ModelSpec;
  models: WeightSet[];
}

export interface EvalResultMessage {
  type: 'eval-result';
  v: number;
  round: number;
  requestId: string;
  /** losses[m] = L(models[m]; E_this_client) */
  losses: number[];
  numSamples: number;
}

export interface RoundResultMessage {
  type: 'round-result';
  v: number;
  round: number;
  participants: number;
  accuracy: number | null;
  loss: number | null;
  /** The round's loss decomposition, when it was measured. */
  decomposition?: { local: number; shift: number; aggregation: number; global: number } | null;
}

export interface ByeMessage {
  type: 'bye';
  v: number;
  reason: string;
}

export interface ErrorMessage {
  type: 'error';
  v: number;
  reason: string;
}

export type WeightCodecChoice = 'float32' | 'float16' | 'int8';

/** Everything a session runs with, chosen by the host; sent to each client on joining. */
export interface SessionConfig {
  model: ModelSpec;
  strategy: StrategyConfig;
  train: Omit<TrainConfig, 'seed'>;
  rounds: number;
  minClients: number;
  fraction: number;
  roundDeadlineMs: number;
  decomposition: DecompositionMode;
  decompositionEvery: number;
  codec: WeightCodecChoice;
  seed: number;
  /** The aggregator's defence against hostile updates (src/fl/robust); absent means the default, 'clip'. */
  robust?: RobustMode;
  /** How the built-in demo data is split: client slot k gets part k of this partition. */
  demo: { partition: PartitionSpec; clients: number };
}

/** The aggregator's answer to an admitted hello. */
export interface WelcomeMessage {
  type: 'welcome';
  v: number;
  /** The client's slot in join order (stable across reconnects and handovers); picks its demo shard. */
  slot: number;
  round: number;
  config: SessionConfig;
}

export interface RosterEntry {
  id: string;
  name: string;
  slot: number;
  backend: string;
  numSamples: number;
  /** Counts only. */
  labelHistogram: number[];
}

/** Who is in the session, in join order, and who aggregates. Broadcast on every change. */
export interface RosterMessage {
  type: 'roster';
  v: number;
  aggregatorId: string;
  round: number;
  peers: RosterEntry[];
}

/** The latest global model, sent after each round to the clients next in line to aggregate. */
export interface CheckpointMessage {
  type: 'checkpoint';
  v: number;
  round: number;
  weights: WeightSet;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | RosterMessage
  | CheckpointMessage
  | RoundStartMessage
  | UpdateMessage
  | EvalRequestMessage
  | EvalResultMessage
  | RoundResultMessage
  | ByeMessage
  | ErrorMessage;

export type MessageType = Message['type'];
