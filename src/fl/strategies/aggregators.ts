import type { Aggregator, StrategyConfig } from './types';
import { FedAvgAggregator } from './fedavg-aggregator';
import { FedLdAggregator } from './fedld-aggregator';

/** The aggregator half of each strategy. FedProx changes only local training, so it aggregates like FedAvg. */
export function createAggregator(config: StrategyConfig): Aggregator {
  switch (config.name) {
    case 'fedavg':
    case 'fedprox':
      return new FedAvgAggregator();
    case 'fedld':
      return new FedLdAggregator({ rho: config.rho });
  }
}
