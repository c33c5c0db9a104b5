/** How many model-shaped weight sets a configured strategy puts on the wire (see Strategy.wireSets). */
import { resolveStrategy } from './registry';
import { serverOptimizerStateSets } from './server-optimizer';
import type { StrategyConfig } from './types';

export interface WireSets {
  /** Beside the weights (round-start) or the delta (update). */
  extras: number;
  /** In the server state a checkpoint carries: the strategy's own and the server optimizer's moments. */
  serverState: number;
  /** The names of the extras beside the delta, in the order a private contribution carries them. */
  updateExtras: readonly string[];
}

export function strategyWireSets(config: StrategyConfig): WireSets {
  const { strategy, params } = resolveStrategy(config);
  const own = strategy.wireSets ?? { extras: 0, serverState: 0 };
  return { extras: own.extras, serverState: own.serverState + serverOptimizerStateSets(params), updateExtras: [...(strategy.updateExtras ?? [])].sort() };
}
