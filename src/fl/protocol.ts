import type { PartitionSpec } from './data/partition';
import type { ModelSpec } from './models';
import type { LocalOptimizerName } from './local-optimizer';
import type { Extras, ServerState, StrategyConfig } from './strategies/types';
import type { WeightSet } from './weights';

/** Bumped on any incompatible change of the messages below. */
export const PROTOCOL_VERSION = 1;

/** Hyper-parameters of one round of local training. */
export interface TrainConfig {
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  /** Local optimizer (default LOCAL_OPTIMIZER_DEFAULTS.optimizer). */
  optimizer?: LocalOptimizerName;
  /** Momentum of the 'momentum' optimizer (default LOCAL_OPTIMIZER_DEFAULTS.momentum). */
  momentum?: number;
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
  /**
   * The tab's random per-session key (at most CLIENT_KEY_MAX_LENGTH characters), kept across reloads: the aggregator
   * gives the same key the same slot (and so the same demo shard) again.
   */
  clientKey?: string;
}

export const CLIENT_KEY_MAX_LENGTH = 64;

export interface RoundStartMessage {
  type: 'round-start';
  v: number;
  /** The aggregation term (see src/session/election.ts); stamped by the session layer. */
  term?: number;
  round: number;
  model: ModelSpec;
  strategy: StrategyConfig;
  train: TrainConfig;
  weights: WeightSet;
  /** Weight-shaped tensors the strategy sends beside the weights (SCAFFOLD's server control variate c). */
  extras?: Extras;
}

export interface UpdateMessage {
  type: 'update';
  v: number;
  round: number;
  /** w_k - w_g */
  delta: WeightSet;
  numSamples: number;
  metrics: LocalMetrics;
  /** Weight-shaped tensors the client strategy sends beside the delta (SCAFFOLD's delta-c). */
  extras?: Extras;
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
  /** The aggregation term; stamped by the session layer. */
  term?: number;
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
  /** Set when the client leaves this aggregator to follow the aggregator of this later term (it stays in the session). */
  term?: number;
}

export interface ErrorMessage {
  type: 'error';
  v: number;
  reason: string;
}

/**
 * Session authentication (src/session/authenticated-transport.ts): a challenge-response that proves both sides
 * know the join secret without sending it. Nonces are AUTH_NONCE_HEX_LENGTH lowercase hex characters, proofs
 * (HMAC-SHA-256) AUTH_PROOF_HEX_LENGTH. No other message passes between two peers before it has succeeded.
 */
export const AUTH_NONCE_HEX_LENGTH = 32;
export const AUTH_PROOF_HEX_LENGTH = 64;

/** The connecting side's opening: its fresh nonce. */
export interface AuthHelloMessage {
  type: 'auth-hello';
  v: number;
  nonce: string;
}

/** The answering side's fresh nonce and its proof (role 'host') over both nonces and both peer ids. */
export interface AuthChallengeMessage {
  type: 'auth-challenge';
  v: number;
  nonce: string;
  proof: string;
}

/** The connecting side's proof (role 'client') over both nonces and both peer ids. */
export interface AuthProofMessage {
  type: 'auth-proof';
  v: number;
  proof: string;
}

export type AuthMessage = AuthHelloMessage | AuthChallengeMessage | AuthProofMessage;

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
  /** How the built-in demo data is split: client slot k gets part k of this partition. */
  demo: { partition: PartitionSpec; clients: number };
}

/** The aggregator's answer to an admitted hello. */
export interface WelcomeMessage {
  type: 'welcome';
  v: number;
  term: number;
  /** The client's slot in join order (stable across reconnects and handovers); picks its demo shard. */
  slot: number;
  round: number;
  config: SessionConfig;
  /** The session's finished rounds (metrics only, the latest WELCOME_HISTORY_MAX), so a late joiner sees the whole run. */
  history?: RoundSummary[];
}

export const WELCOME_HISTORY_MAX = 1_000;

/** A finished round as every member may know it. */
export interface RoundSummary {
  round: number;
  accuracy: number | null;
  loss: number | null;
  decomposition: { local: number; shift: number; aggregation: number; global: number } | null;
  participantCount: number;
}

/**
 * Sent, after the join handshake, by a lobby: a tab that holds the session's well-known host id for an aggregator
 * that took over under another id. The joiner says hello to `aggregatorId` instead.
 */
export interface RedirectMessage {
  type: 'redirect';
  v: number;
  term: number;
  aggregatorId: string;
}

export interface RosterEntry {
  id: string;
  name: string;
  slot: number;
  backend: string;
  numSamples: number;
  /** Counts only, and only in the aggregator's own view: rosters sent to peers carry an empty list. */
  labelHistogram: number[];
}

/**
 * Who is in the session, in join order, and who aggregates in which term. Broadcast on every change and as the
 * aggregator's heartbeat. Sent by the current aggregator with another aggregatorId and a higher term, it says
 * "I stepped down: follow that one".
 */
export interface RosterMessage {
  type: 'roster';
  v: number;
  term: number;
  aggregatorId: string;
  round: number;
  peers: RosterEntry[];
}

/** The latest global model and the strategy's server state, sent after each round to the clients next in line to aggregate. */
export interface CheckpointMessage {
  type: 'checkpoint';
  v: number;
  term: number;
  round: number;
  weights: WeightSet;
  serverState: ServerState | null;
}

/** The deterministic successor asks to aggregate in `term` because the aggregator of the term before went silent. */
export interface VoteRequestMessage {
  type: 'vote-request';
  v: number;
  term: number;
  /** The aggregator it wants to replace. */
  previous: string;
}

/** Answer to a vote-request: granted only when this peer also lost the previous aggregator. */
export interface VoteMessage {
  type: 'vote';
  v: number;
  term: number;
  granted: boolean;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | RosterMessage
  | CheckpointMessage
  | VoteRequestMessage
  | VoteMessage
  | RedirectMessage
  | RoundStartMessage
  | UpdateMessage
  | EvalRequestMessage
  | EvalResultMessage
  | RoundResultMessage
  | ByeMessage
  | ErrorMessage
  | AuthHelloMessage
  | AuthChallengeMessage
  | AuthProofMessage;

export type MessageType = Message['type'];
