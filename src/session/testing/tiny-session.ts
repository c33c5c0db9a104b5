/** A tiny session for session-layer tests on fake time: a 2-input model, short timings, a trainer that adds 1. */
import type { LocalTrainer } from '../../fl/local-trainer';
import { mlpSpec } from '../../fl/models';
import type { SessionConfig } from '../../fl/protocol';
import type { WeightSet } from '../../fl/weights';

export const TINY_CONFIG: SessionConfig = {
  model: mlpSpec([2], 2, [2]),
  strategy: { name: 'fedavg' },
  train: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
  rounds: 60,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 400,
  decomposition: 'off',
  decompositionEvery: 1,
  codec: 'float32',
  seed: 1,
  demo: { partition: { kind: 'iid' }, clients: 4 },
};

export const TINY_TIMING = { heartbeatMs: 100, silenceMs: 500, voteTimeoutMs: 200, retryRoundMs: 50, welcomeTimeoutMs: 2_000, memberEstablishedMs: 500, memberRecentMs: 60_000 };

/** A weight set of the tiny model with every value `v`. */
export const tinyWeights = (v: number): WeightSet => [{ name: 'w', shape: [2], values: new Float32Array([v, v]) }];

/** Trains for 150 ms (fake time) and moves every weight by +1; records the rounds it was asked to train. */
export function fakeTrainer(calls: number[] = []): LocalTrainer {
  return {
    train: async (req) => {
      calls.push(req.round);
      await new Promise((r) => setTimeout(r, 150));
      return {
        delta: req.weights.map((t) => ({ ...t, values: new Float32Array(t.values.length).fill(1) })),
        numSamples: 10,
        metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 150, samplesPerSecond: 100 },
        cancelled: false,
      };
    },
    evaluate: async (_spec, ws) => ({ losses: ws.map(() => 1), accuracies: ws.map(() => 0.5), perClassAccuracies: ws.map(() => [0.5, 0.5]), predictionCounts: ws.map(() => [3, 2]), numSamples: 5 }),
    info: async () => ({ backend: 'fake', numSamples: 10, labelHistogram: [7, 3] }),
  };
}

/**
 * A session on the MNIST demo data with a small MLP (784-16-10), for session tests that train with TF.js: FedAvg,
 * 4 demo slots, every client asked, float16 on the wire. Tests override what they are about.
 */
export const MNIST_SESSION_CONFIG: SessionConfig = {
  model: mlpSpec([28, 28, 1], 10, [16]),
  strategy: { name: 'fedavg' },
  train: { localEpochs: 1, batchSize: 32, learningRate: 0.1 },
  rounds: 5,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 5_000,
  decomposition: 'off',
  decompositionEvery: 1,
  codec: 'float16',
  seed: 4,
  demo: { partition: { kind: 'iid' }, clients: 4 },
};
