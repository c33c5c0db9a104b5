import type * as tf from '@tensorflow/tfjs';
import type { LocalOptimizerName } from '../local-optimizer';
import type { WeightSet } from '../weights';

/** A hyper-parameter value: a number, or one option of a choice. */
export type ParamValue = number | string;

/**
 * Which strategy, with its hyper-parameters, as plain data: it travels in round-start messages and session configs.
 * `name` picks the strategy in the registry; every other field is one of its declared hyper-parameters
 * (or a server-optimizer setting, which every strategy accepts). A missing field means the declared default.
 */
export interface StrategyConfig {
  name: string;
  [param: string]: ParamValue;
}

export type StrategyName = string;

interface HyperParamBase {
  /** Field name in StrategyConfig, CLI flag (--name) and form field. */
  name: string;
  /** Short label for forms and tables, e.g. "λ: margin-control weight". */
  label: string;
  /** One sentence: what it does. */
  help: string;
}

export interface NumberParam extends HyperParamBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. rho in (0, 1]). */
  minExclusive?: boolean;
  integer?: boolean;
}

export interface ChoiceParam extends HyperParamBase {
  kind: 'choice';
  default: string;
  options: readonly { value: string; label: string }[];
}

export type HyperParam = NumberParam | ChoiceParam;

/** Every declared hyper-parameter with a value (defaults filled in). */
export type ResolvedParams = Readonly<Record<string, ParamValue>>;

/**
 * A strategy's server-side state as plain data (FedLD's per-tensor history, SCAFFOLD's global control variate,
 * FedAdam's moments, ...). It travels in checkpoints so that a new aggregator continues where the old one stopped.
 */
export interface ServerState {
  /** The strategy that wrote it; a state for another strategy is ignored. */
  strategy: string;
  /** Aggregation steps taken so far. */
  steps: number;
  /** Named weight-shaped tensors. */
  tensors: Record<string, WeightSet>;
  /** Named scalars. */
  values: Record<string, number>;
}

/** A client's strategy state kept between rounds on that client (SCAFFOLD's c_k). Same plain form as ServerState. */
export type ClientState = ServerState;

/** Named weight-shaped tensors a strategy sends beside the weights (round-start) or the delta (update). */
export type Extras = Record<string, WeightSet>;

/** One client's contribution to a round, as the aggregator sees it. */
export interface ClientUpdate {
  clientId: string;
  /** w_k - w_g, per tensor, same layout as the global weights. */
  delta: WeightSet;
  numSamples: number;
  /** What the client strategy sent besides the delta (e.g. SCAFFOLD's delta-c). */
  extras?: Extras;
  /**
   * What the aggregator sent beside the weights with this update's assignment, when it may differ from what the
   * strategy's current state would send (asynchronous steps: SCAFFOLD's c of the version the client started from).
   * Set by the aggregator, never taken from the client.
   */
  sentExtras?: Extras;
}

/** What the client adds to the plain cross-entropy of each mini-batch. */
export interface LossTermInputs {
  logits: tf.Tensor2D;
  /** The model's trainable weights being optimised, in model order. */
  params: tf.Variable[];
  /** The round's global weights, same order as params (constant during local training). */
  globalParams: tf.Tensor[];
}

/** Everything the client half of a strategy sees when a round starts. */
export interface ClientRoundContext {
  /** The TensorFlow.js namespace (strategy files import tfjs as types only; see TfApi). */
  tf: typeof tf;
  params: ResolvedParams;
  /** The round's global weights w_g. */
  global: WeightSet;
  /** What the server sent beside the weights (validated to the model's layout). */
  extras: Extras;
  /** This client's state from its previous round with the same strategy, or null. */
  state: ClientState | null;
  /** For each trainable parameter (the `params` order of LossTermInputs), its index in the WeightSet. */
  trainableIndex: readonly number[];
}

/** After local training: what the client half needs to finish its round. */
export interface ClientFinishContext {
  /** w_k - w_g */
  delta: WeightSet;
  /** Optimizer steps taken (mini-batches). */
  steps: number;
  learningRate: number;
  /** The local optimizer that took them, and its momentum (used by 'momentum' only). */
  optimizer: LocalOptimizerName;
  momentum: number;
}

/** The client half of a strategy for one round. Owns the tensors it creates: dispose() frees them. */
export interface ClientRound {
  /** Extra loss term for one batch, or null when the strategy adds none. Called inside a gradient tape. */
  extraLoss(inputs: LossTermInputs): tf.Scalar | null;
  /** What to send besides the delta, and the state to keep for this client's next round. */
  finish?(ctx: ClientFinishContext): { extras?: Extras; state?: ClientState | null };
  dispose?(): void;
}

/** A candidate for a round: a connected client with data. */
export interface RoundCandidate {
  id: string;
  numSamples: number;
}

export interface RoundPlanContext {
  round: number;
  /** Sorted by id. */
  candidates: readonly RoundCandidate[];
  fraction: number;
  minClients: number;
  seed: number;
  global: WeightSet;
  state: ServerState | null;
}

/**
 * What a strategy may set of a round's local training: the round-start's train config less its seed (protocol.ts
 * checks at compile time that the two agree; this file does not import the protocol, which imports the registry).
 */
export interface TrainOverrides {
  localEpochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: LocalOptimizerName;
  momentum?: number;
}

/** Which clients a round asks, what they get besides the weights, and per-round training overrides. */
export interface RoundPlan {
  selected: string[];
  extras?: Extras;
  train?: TrainOverrides;
  /** Measure the loss decomposition this round (default: every decompositionEvery rounds; mode 'off' wins). */
  measureDecomposition?: boolean;
}

export interface AggregateContext {
  round: number;
  /** Clients that could have been asked this round (N in SCAFFOLD's |S|/N). */
  population: number;
}

export interface AggregateResult {
  weights: WeightSet;
  /** The strategy's state after this step (null: the strategy keeps none). */
  state: ServerState | null;
}

/**
 * The server half of a strategy. Pure: the state goes in and comes out, so a round that fails later leaves
 * nothing half-committed and a new aggregator can continue from a checkpointed state.
 */
export interface StrategyServer {
  /** Optional; the default samples a seeded `fraction` of the candidates. */
  planRound?(ctx: RoundPlanContext): RoundPlan;
  aggregate(global: WeightSet, updates: ClientUpdate[], state: ServerState | null, ctx: AggregateContext): AggregateResult;
  /**
   * Optional: the strategy's own check of the updates as they arrived (before any clipping), run before the robust
   * aggregation in every mode, as the layout check is. Returns the updates kept and the ones refused, each with the reason.
   */
  screen?(global: WeightSet, updates: ClientUpdate[], state: ServerState | null): { kept: ClientUpdate[]; dropped: { clientId: string; reason: string }[] };
}

/** What the robust aggregation needs to know of a strategy (src/fl/robust). */
export interface StrategyTraits {
  /** The server's aggregate is the sample-weighted mean of the updates, so a coordinate-wise statistic can take its place. */
  weightedMean: boolean;
  /**
   * An honest client's update moves the classifier's output bias towards its own labels (it trains with cross-entropy
   * on them, plus at most a term that does not turn the bias against them), so the direction check by labels applies.
   */
  labelDirected: boolean;
}

/** A federated strategy: one object, registered once in registry.ts. */
export interface Strategy {
  name: string;
  /** Display name, e.g. "FedLD". */
  label: string;
  /** One line for the host form, the CLI help and the README. */
  summary: string;
  params: readonly HyperParam[];
  /** How the robust aggregation treats its updates. */
  traits: StrategyTraits;
  client(ctx: ClientRoundContext): ClientRound;
  server(params: ResolvedParams): StrategyServer;
  /** Short description of the variant that runs, for the report (default: label and parameters). */
  describe?(params: ResolvedParams): string;
  /** Why this strategy cannot run with that local optimizer (null or absent: it can); checked by the host form and the CLI. */
  localOptimizerProblem?(optimizer: LocalOptimizerName): string | null;
  /**
   * Model-shaped weight sets this strategy puts on the wire: beside the weights or the delta (its extras), and in its
   * server state (checkpoints). They size each peer's message limit (src/fl/codec/session-limits.ts); default none.
   */
  wireSets?: { extras: number; serverState: number };
  /**
   * The names of what its clients send beside the delta, in order (SCAFFOLD's delta-c): a private session's
   * contribution carries them after the delta, and the aggregator, which sees only the sum, names them back. Default none.
   */
  updateExtras?: readonly string[];
}

/** The stateful form of a server half: what a caller that only has (global, updates) uses (e.g. async aggregation). */
export interface Aggregator {
  /** New global weights from the current global weights and the updates that arrived this round. */
  aggregate(global: WeightSet, updates: ClientUpdate[], ctx?: Partial<AggregateContext>): WeightSet;
  /** The strategy's own check of the updates as they arrived (StrategyServer.screen), if it has one. */
  screen?(global: WeightSet, updates: ClientUpdate[]): { kept: ClientUpdate[]; dropped: { clientId: string; reason: string }[] };
}
