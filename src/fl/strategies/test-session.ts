/**
 * Test helper: a real federated session in one process (engine, clients, tfjs trainers, in-memory transport
 * through the real wire codec) on a small separable tabular problem: label = argmax of the first C features.
 */
import { FlClient } from '../client';
import { createWireCodec } from '../codec';
import type { TabularDataset } from '../data/dataset';
import { RoundEngine, type EngineEvent, type EngineHooks } from '../engine';
import { InMemoryNetwork } from '../in-memory-transport';
import { TfLocalTrainer } from '../local-trainer';
import { buildModel, getWeights, setWeights } from '../models';
import { tabularSpec } from '../model-spec';
import type { TrainConfig } from '../protocol';
import { Rng } from '../rng';
import { evaluateModel } from '../train';
import type { ServerState, StrategyConfig } from './types';

export const TEST_FEATURES = 6;
export const TEST_CLASSES = 3;

export function separableData(n: number, seed: number): TabularDataset {
  const rng = new Rng(seed);
  const rows = new Float32Array(n * TEST_FEATURES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < TEST_FEATURES; f++) rows[i * TEST_FEATURES + f] = 2 * rng.next() - 1;
    let best = 0;
    for (let c = 1; c < TEST_CLASSES; c++) if (rows[i * TEST_FEATURES + c] > rows[i * TEST_FEATURES + best]) best = c;
    labels[i] = best;
  }
  return { kind: 'tabular', rows, features: TEST_FEATURES, labels, numClasses: TEST_CLASSES };
}

export interface TestSessionOptions {
  strategy: StrategyConfig;
  clients?: number;
  samplesPerClient?: number;
  train?: Partial<Omit<TrainConfig, 'seed'>>;
  fraction?: number;
  serverState?: ServerState | null;
  hooks?: EngineHooks;
}

export async function startTestSession(opts: TestSessionOptions) {
  const spec = tabularSpec(TEST_FEATURES, TEST_CLASSES, [8]);
  const network = new InMemoryNetwork({ codec: createWireCodec('float32') });
  const k = opts.clients ?? 3;
  const trainers = Array.from({ length: k }, (_, i) => {
    const n = opts.samplesPerClient ?? 60;
    return new TfLocalTrainer(separableData(n, 100 + i), separableData(20, 200 + i), () => 'cpu');
  });
  const events: EngineEvent[] = [];
  const globalModel = buildModel(spec, 1);
  const test = separableData(90, 999);
  const engine = new RoundEngine(
    network.endpoint('agg'),
    {
      model: spec,
      strategy: opts.strategy,
      train: { localEpochs: 1, batchSize: 16, learningRate: 0.1, ...opts.train },
      minClients: 1,
      fraction: opts.fraction ?? 1,
      decomposition: 'exact',
      decompositionEvery: 1,
      seed: 1,
      timing: { roundDeadlineMs: 60_000, evalDeadlineMs: 60_000 },
    },
    { weights: await getWeights(globalModel), serverState: opts.serverState ?? null },
    {
      evaluateGlobal: async (w) => {
        setWeights(globalModel, w);
        return evaluateModel(globalModel, test);
      },
      onEvent: (e) => events.push(e),
      ...opts.hooks,
    },
  );
  const clients = trainers.map((t, i) => new FlClient(network.endpoint(`c${i}`), 'agg', t, { name: `c${i}` }));
  await Promise.all(clients.map((c) => c.join()));
  await engine.waitForClients(k, 5000);
  return {
    engine,
    events,
    network,
    trainers,
    dispose: () => {
      engine.dispose();
      trainers.forEach((t) => t.dispose());
      globalModel.dispose();
    },
  };
}
