/**
 * The strategies the fair benchmark compares (scripts/bench-strategies.ts). A new strategy drops in with one
 * entry here: how to build its config from a grid point, and whether it has a server learning rate to tune.
 */
import { defaultStrategyConfig } from '../fl/strategies/registry';
import type { StrategyConfig } from '../fl/strategies/types';

export interface BenchGridPoint {
  /** Local learning rate. */
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

/**
 * The methods of the fair comparison. Every one gets the same grid: the client learning rate, and a server learning
 * rate (the step on the aggregated update, FedOpt-style), since without it "worse method" and "untuned step length"
 * cannot be told apart (FedLD's principal-gradient step is shorter than the mean's).
 */
export function benchStrategies(): BenchStrategy[] {
  const lr = (p: BenchGridPoint) => ({ serverLr: p.serverLr });
  return [
    { name: 'fedavg', description: 'FedAvg (sample-weighted mean)', serverLr: true, config: (p) => defaultStrategyConfig('fedavg', lr(p)) },
    { name: 'fedprox', description: 'FedProx, mu 0.01', serverLr: true, config: (p) => defaultStrategyConfig('fedprox', { mu: 0.01, ...lr(p) }) },
    { name: 'scaffold', description: 'SCAFFOLD (control variates)', serverLr: true, config: (p) => defaultStrategyConfig('scaffold', lr(p)) },
    { name: 'fedavgm', description: 'FedAvgM (FedAvg + server momentum 0.9)', serverLr: true, config: (p) => defaultStrategyConfig('fedavg', { serverOpt: 'avgm', ...lr(p) }) },
    { name: 'fedld', description: 'FedLD paper-exact (uniform weighting, specified step; lambda 0.1, rho 0.8)', serverLr: true, config: (p) => defaultStrategyConfig('fedld', { step: 'spec', ...lr(p) }) },
    {
      name: 'fedld-wn',
      description: 'FedLD variant: sample-count weighting, step rescaled to the weighted mean update norm',
      serverLr: true,
      config: (p) => defaultStrategyConfig('fedld', { weighting: 'samples', step: 'norm', ...lr(p) }),
    },
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
