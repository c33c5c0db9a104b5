/** Shared fixtures of the round-engine tests: a tiny model, its layout and a base config to override per test. */
import type { EngineConfig } from '../engine';
import { mlpSpec } from '../models';
import type { LocalMetrics } from '../protocol';
import type { WeightSet } from '../weights';

/** The one 2x2 kernel of `mlpSpec([2], 2, [])`, with the given values. */
export const tinyWeights = (values: number[]): WeightSet => [{ name: 'fc1/kernel', shape: [2, 2], values: Float32Array.from(values) }];

export const testMetrics: LocalMetrics = { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 5, samplesPerSecond: 100 };

/** FedAvg on the tiny model, one client enough, no decomposition, short deadlines: override what a test needs. */
export function testEngineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    model: mlpSpec([2], 2, []),
    strategy: { name: 'fedavg' },
    train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
    minClients: 1,
    fraction: 1,
    decomposition: 'off',
    decompositionEvery: 1,
    seed: 1,
    timing: { roundDeadlineMs: 300, evalDeadlineMs: 300 },
    ...overrides,
  };
}

/**
 * A SCAFFOLD delta-c that follows from `delta` as an honest client's does (K * lr = 1): -c - delta, with c the server
 * control variate of the round start (zero when absent). SCAFFOLD refuses a delta-c that does not.
 */
export function consistentDeltaC(c: WeightSet | undefined, delta: WeightSet): WeightSet {
  return delta.map((t, ti) => ({ name: t.name, shape: [...t.shape], values: Float32Array.from(t.values, (d, i) => -(c?.[ti].values[i] ?? 0) - d) }));
}
