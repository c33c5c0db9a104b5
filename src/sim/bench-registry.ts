/**
 * The strategies the fair benchmark compares (scripts/bench-strategies.ts). A new strategy drops in with one
 * entry here: how to build its config from a grid point, and whether it has a server learning rate to tune.
 */
import { strategyConfig, type StrategyConfig } from '../fl/strategies/types';

export interface BenchGridPoint {
  /** Local SGD learning rate. */
  clientLr: number;
  /** Server step on the aggregated update (1 = plain replacement); only tuned where serverLr is true. */
  serverLr: number;
}

export interface BenchStrategy {
  /** Name on the command line and in the tables. */
  name: string;
  /** What the strategy does, with its fixed hyperparameters. */
  description: string;
  /** Whether the strategy applies a server learning rate (else the grid holds serverLr 1 only). */
  serverLr: boolean;
  config(point: BenchGridPoint): StrategyConfig;
}

export function benchStrategies(): BenchStrategy[] {
  return [
    { name: 'fedavg', description: 'FedAvg', serverLr: false, config: () => strategyConfig('fedavg') },
    { name: 'fedprox', description: 'FedProx, mu 0.01', serverLr: false, config: () => strategyConfig('fedprox', { mu: 0.01 }) },
    { name: 'fedld', description: 'FedLD, lambda 0.1, rho 0.8', serverLr: false, config: () => strategyConfig('fedld', { lambda: 0.1, rho: 0.8 }) },
  ];
}

/** The registry entries named in `names` (all when undefined), in the order given; throws on an unknown name. */
export function selectBenchStrategies(names: string[] | undefined, registry = benchStrategies()): BenchStrategy[] {
  if (!names) return registry;
  return names.map((n) => {
    const s = registry.find((r) => r.name === n);
    if (!s) throw new Error(`unknown strategy "${n}" (the bench registry has ${registry.map((r) => r.name).join(', ')})`);
    return s;
  });
}
