import type * as tf from '@tensorflow/tfjs';
import type { WeightSet } from '../weights';

/** Which algorithm, with its hyper-parameters. Plain data: it travels in round-start messages. */
export type StrategyConfig =
  | { name: 'fedavg' }
  | { name: 'fedprox'; mu: number }
  | { name: 'fedld'; lambda: number; rho: number };

export type StrategyName = StrategyConfig['name'];

export const STRATEGY_NAMES: readonly StrategyName[] = ['fedavg', 'fedprox', 'fedld'];

export const DEFAULT_STRATEGY_PARAMS = { mu: 0.01, lambda: 0.1, rho: 0.8 } as const;

export function strategyConfig(name: StrategyName, params: Partial<{ mu: number; lambda: number; rho: number }> = {}): StrategyConfig {
  const p = { ...DEFAULT_STRATEGY_PARAMS, ...params };
  switch (name) {
    case 'fedavg':
      return { name };
    case 'fedprox':
      return { name, mu: p.mu };
    case 'fedld':
      return { name, lambda: p.lambda, rho: p.rho };
  }
}

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

/** One client's contribution to a round, as the aggregator sees it. */
export interface ClientUpdate {
  clientId: string;
  /** w_k - w_g, per tensor, same layout as the global weights. */
  delta: WeightSet;
  numSamples: number;
}

/** What the client adds to the plain cross-entropy of each mini-batch. */
export interface LossTermInputs {
  logits: tf.Tensor2D;
  /** The model's trainable weights being optimised, in model order. */
  params: tf.Variable[];
  /** The round's global weights, same order as params (constant during local training). */
  globalParams: tf.Tensor[];
}

export interface ClientStrategy {
  /** Extra loss term for one batch, or null when the strategy adds none. Called inside a gradient tape. */
  extraLoss(inputs: LossTermInputs): tf.Scalar | null;
}

export interface Aggregator {
  /** New global weights from the current global weights and the updates that arrived this round. */
  aggregate(global: WeightSet, updates: ClientUpdate[]): WeightSet;
}
