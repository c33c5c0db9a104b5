import * as tf from '@tensorflow/tfjs';
import { setupNodeBackend, type BackendPreference } from '../fl/backend/node-backend';
import { FlClient } from '../fl/client';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize, subsetDataset } from '../fl/data/dataset';
import { loadCsvNode, loadMnistNode, loadNpzNode } from '../fl/data/node-loaders';
import { describePartition, partitionIndices, type PartitionSpec, type PartitionSummary } from '../fl/data/partition';
import { standardizeFeatures } from '../fl/data/csv';
import { splitTrainEval } from '../fl/data/split';
import type { LossDecomposition } from '../fl/decomposition';
import { RoundEngine, type EngineEvent, type RoundReport } from '../fl/engine';
import { createWireCodec, type WeightCodecName } from '../fl/codec';
import { InMemoryNetwork, type InMemoryEndpoint } from '../fl/in-memory-transport';
import { TfLocalTrainer } from '../fl/local-trainer';
import { buildModel, cnnSpec, getWeights, mlpSpec, setWeights, tabularSpec, type ModelSpec } from '../fl/models';
import type { StrategyConfig } from '../fl/strategies/types';
import { evaluateModel } from '../fl/train';
import type { RobustMode, RobustSettings } from '../fl/robust';
import { AttackingTrainer, chooseAttackers, type AttackConfig } from './attacks';

export interface SimConfig {
  /** 'mnist', a .npz path (MedMNIST layout) or a .csv path with a label column. */
  data: string;
  /** Use the first N training samples (0 = all). */
  limit: number;
  /** Evaluate the global model on at most this many test samples. */
  testLimit: number;
  model: 'mlp' | 'cnn';
  clients: number;
  partition: PartitionSpec;
  strategy: StrategyConfig;
  rounds: number;
  localEpochs: number;
  batch: number;
  lr: number;
  fraction: number;
  seed: number;
  backend: BackendPreference;
  /** Share of each client's samples held out as its evaluation subset E_k. */
  evalFraction: number;
  /** At most this many samples per E_k (exact decomposition costs K^2 + K evaluations). */
  evalMax: number;
  /** Send every message through the real wire format with this weight codec (null: in-memory objects). */
  codec: WeightCodecName | null;
  /** The aggregator's defence against hostile updates: a mode, or settings (the defaults fill the rest). */
  robust: RobustMode | Partial<RobustSettings>;
  /** Clients (chosen by the seed) that poison their updates; null: everyone is honest. */
  attack: AttackConfig | null;
}

export const SIM_DEFAULTS: SimConfig = {
  data: 'mnist',
  limit: 6000,
  testLimit: 2000,
  model: 'mlp',
  clients: 10,
  partition: { kind: 'dirichlet', alpha: 0.5 },
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  rounds: 10,
  localEpochs: 1,
  batch: 32,
  lr: 0.05,
  fraction: 1,
  seed: 1,
  backend: 'auto',
  evalFraction: 0.2,
  evalMax: 200,
  codec: null,
  robust: 'clip',
  attack: null,
};

export interface SimRound {
  round: number;
  accuracy: number;
  loss: number;
  decomposition: LossDecomposition;
  participants: number;
  /** Bytes on the wire this round, all peers together (0 without a codec). */
  bytes: number;
  trainMs: number;
  aggregateMs: number;
  evalMs: number;
}

export interface SimResult {
  config: SimConfig;
  backend: { name: string; reason: string };
  model: ModelSpec;
  partition: { histograms: number[][]; summary: PartitionSummary };
  rounds: SimRound[];
  final: { accuracy: number; bestAccuracy: number };
}

export interface SimHooks {
  onRound?: (round: SimRound) => void;
  onStatus?: (text: string) => void;
  /** Every event of the aggregator's round engine (rejections with their reasons, failed rounds, ...). */
  onEngineEvent?: (event: EngineEvent) => void;
}

interface LoadedData {
  train: Dataset;
  test: Dataset;
}

function loadData(cfg: SimConfig): LoadedData {
  const limit = cfg.limit > 0 ? cfg.limit : undefined;
  if (cfg.data === 'mnist') {
    return { train: loadMnistNode('train', limit), test: loadMnistNode('test', cfg.testLimit) };
  }
  if (cfg.data.endsWith('.npz')) {
    const train = loadNpzNode(cfg.data, 'train');
    const test = loadNpzNode(cfg.data, 'test');
    return { train: limit ? subsetDataset(train, range(Math.min(limit, datasetSize(train)))) : train, test: subsetDataset(test, range(Math.min(cfg.testLimit, datasetSize(test)))) };
  }
  if (cfg.data.endsWith('.csv')) {
    const all = loadCsvNode(cfg.data);
    const { train, eval: test } = splitTrainEval(all, 0.2, cfg.seed);
    const std = standardizeFeatures(train, [test]);
    const limited = limit ? subsetDataset(std.train, range(Math.min(limit, datasetSize(std.train)))) : std.train;
    return { train: limited, test: std.others[0] };
  }
  throw new Error(`unknown data source "${cfg.data}" (use mnist, a .npz file or a .csv file)`);
}

function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

export function modelSpecFor(cfg: SimConfig, data: Dataset): ModelSpec {
  if (data.kind === 'tabular') {
    if (cfg.model === 'cnn') throw new Error('the cnn model needs image data; use --model mlp for CSV data');
    return tabularSpec(data.features, data.numClasses);
  }
  return cfg.model === 'cnn' ? cnnSpec(data.shape, data.numClasses) : mlpSpec(data.shape, data.numClasses);
}

/** Runs a whole federated simulation in this process, through the same engine, client and strategies as the app. */
export async function runSimulation(cfg: SimConfig, hooks: SimHooks = {}): Promise<SimResult> {
  const data = loadData(cfg);
  const spec = modelSpecFor(cfg, data.train);
  const backend = await setupNodeBackend(cfg.backend, spec);
  hooks.onStatus?.(`backend ${backend.backend}: ${backend.reason}`);

  const partition = partitionIndices(data.train.labels, data.train.numClasses, cfg.clients, cfg.partition, cfg.seed);
  const network = new InMemoryNetwork(cfg.codec ? { codec: createWireCodec(cfg.codec) } : {});
  const aggregatorId = 'aggregator';
  const clients: FlClient[] = [];
  const trainers: TfLocalTrainer[] = [];
  const attackers = cfg.attack ? chooseAttackers(cfg.clients, cfg.attack.attackers, cfg.seed) : new Set<number>();
  partition.clients.forEach((indices, k) => {
    const local = splitTrainEval(subsetDataset(data.train, indices), cfg.evalFraction, cfg.seed * 31 + k, cfg.evalMax);
    const trainer = new TfLocalTrainer(local.train, local.eval, () => tf.getBackend(), cfg.seed);
    trainers.push(trainer);
    const participant = cfg.attack && attackers.has(k) ? new AttackingTrainer(trainer, cfg.attack.attacks) : trainer;
    clients.push(new FlClient(network.endpoint(`client-${String(k).padStart(3, '0')}`), aggregatorId, participant, { name: `client ${k}` }));
  });

  const globalModel = buildModel(spec, cfg.seed);
  const aggregatorEndpoint = network.endpoint(aggregatorId);
  const engine = new RoundEngine(
    aggregatorEndpoint,
    {
      model: spec,
      strategy: cfg.strategy,
      train: { localEpochs: cfg.localEpochs, batchSize: cfg.batch, learningRate: cfg.lr },
      minClients: 1,
      fraction: cfg.fraction,
      decomposition: 'exact',
      decompositionEvery: 1,
      seed: cfg.seed,
      robust: cfg.robust,
      timing: { roundDeadlineMs: 3_600_000, evalDeadlineMs: 3_600_000 },
    },
    await getWeights(globalModel),
    {
      evaluateGlobal: async (weights) => {
        setWeights(globalModel, weights);
        return evaluateModel(globalModel, data.test);
      },
      onEvent: (e) => {
        hooks.onEngineEvent?.(e);
        if (e.kind === 'update-received') hooks.onStatus?.(`round ${e.round}: update from ${e.from}`);
        if (e.kind === 'rejected' || e.kind === 'round-failed') hooks.onStatus?.(`warning: ${JSON.stringify(e)}`);
      },
    },
  );
  try {
    await Promise.all(clients.map((c) => c.join()));
    await engine.waitForClients(cfg.clients, 10_000);
    const rounds: SimRound[] = [];
    let bytesBefore = totalBytes(aggregatorEndpoint);
    for (let r = 1; r <= cfg.rounds; r++) {
      const report = await engine.runRound();
      if (!report) throw new Error(`round ${r} failed: no updates arrived`);
      const bytesNow = totalBytes(aggregatorEndpoint);
      const record = toSimRound(report, bytesNow - bytesBefore);
      bytesBefore = bytesNow;
      rounds.push(record);
      hooks.onRound?.(record);
    }
    const accuracies = rounds.map((r) => r.accuracy);
    return {
      config: cfg,
      backend: { name: backend.backend, reason: backend.reason },
      model: spec,
      partition: { histograms: partition.histograms, summary: describePartition(partition.histograms) },
      rounds,
      final: { accuracy: accuracies[accuracies.length - 1] ?? NaN, bestAccuracy: Math.max(...accuracies) },
    };
  } finally {
    engine.dispose();
    trainers.forEach((t) => t.dispose());
    globalModel.dispose();
  }
}

/** Everything the aggregator sent and received: with a star topology, all the traffic of the session. */
function totalBytes(endpoint: InMemoryEndpoint): number {
  const t = endpoint.trafficTotals();
  return t.bytesSent + t.bytesReceived;
}

function toSimRound(report: RoundReport, bytes: number): SimRound {
  if (!report.decomposition || report.accuracy === null || report.loss === null) {
    throw new Error(`round ${report.round}: the simulator always measures accuracy and the exact decomposition`);
  }
  return {
    round: report.round,
    accuracy: report.accuracy,
    loss: report.loss,
    decomposition: report.decomposition,
    participants: report.participants.length,
    bytes,
    trainMs: report.trainMs,
    aggregateMs: report.aggregateMs,
    evalMs: report.evalMs,
  };
}
