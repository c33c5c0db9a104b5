import * as tf from '@tensorflow/tfjs';
import { setupNodeBackend, type BackendChoice, type BackendPreference } from '../fl/backend/node-backend';
import { FlClient } from '../fl/client';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize, selectClasses, subsetDataset, takeFirst } from '../fl/data/dataset';
import { loadCsvNode, loadMnistNode, loadNpzNode } from '../fl/data/node-loaders';
import { describePartition, partitionIndices, type Partition, type PartitionSpec, type PartitionSummary } from '../fl/data/partition';
import { standardizeFeatures } from '../fl/data/csv';
import { splitTrainEval, splitTrainEvalIndices } from '../fl/data/split';
import type { LossDecomposition } from '../fl/decomposition';
import { RoundEngine, type EngineEvent, type RoundReport } from '../fl/engine';
import { createWireCodec, type WeightCodecName } from '../fl/codec';
import { InMemoryNetwork, type InMemoryEndpoint } from '../fl/in-memory-transport';
import { LOCAL_OPTIMIZER_DEFAULTS, type LocalOptimizerName } from '../fl/local-optimizer';
import { choiceSetting, numberDefault } from '../fl/settings';
import { buildModel, cnnSpec, getWeights, mlpSpec, setWeights, tabularSpec, type ModelSpec } from '../fl/models';
import type { StrategyConfig } from '../fl/strategies/types';
import { evaluateModel } from '../fl/train';
import { buildClientShards, type ClientShard } from './client-shards';
import type { RobustMode, RobustSettings, ScreeningVerdict } from '../fl/robust';
import type { AttackConfig } from './attacks';
import { armAttackers } from './arm-attackers';
import { buildParticipantTrainer, InProcessRunner, type ParticipantContext, type ParticipantRunner } from './participant';
import { shareDataset, WorkerPoolRunner } from './worker-pool';
import type { PrivacySettings } from '../fl/private-aggregation';
import { PrivateRounds, type PrivacySummary, type RoundPrivacy } from './private-rounds';

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
  batchSize: number;
  learningRate: number;
  /** Local optimizer and its momentum (used by 'momentum' only). */
  optimizer: LocalOptimizerName;
  momentum: number;
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
  /**
   * Share of the training data held out (stratified, the same samples for every run seed) as a validation set
   * before the clients' partition: 0 = none. Hyperparameters are chosen on it, never on the test set.
   */
  validation: number;
  /** What the global model is evaluated on each round: the test set, or the validation set carved above. */
  evaluateOn: 'test' | 'validation';
  /** Train a round's clients on this many worker threads (1 = in this thread). Same numbers either way. */
  workers: number;
  /** Secure aggregation and client-level DP (src/fl/private-aggregation.ts); null: plain rounds. */
  privacy: PrivacySettings | null;
}

export const SIM_DEFAULTS: SimConfig = {
  data: 'mnist',
  limit: numberDefault('limit'),
  testLimit: numberDefault('testLimit'),
  model: 'mlp',
  clients: numberDefault('clients'),
  partition: { kind: 'dirichlet', alpha: numberDefault('alpha') },
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  rounds: numberDefault('rounds'),
  localEpochs: numberDefault('localEpochs'),
  batchSize: numberDefault('batchSize'),
  learningRate: numberDefault('learningRate'),
  optimizer: LOCAL_OPTIMIZER_DEFAULTS.optimizer,
  momentum: LOCAL_OPTIMIZER_DEFAULTS.momentum,
  fraction: numberDefault('fraction'),
  seed: numberDefault('seed'),
  backend: 'auto',
  evalFraction: 0.2,
  evalMax: 200,
  codec: null,
  robust: 'clip',
  attack: null,
  validation: numberDefault('validation'),
  evaluateOn: choiceSetting('evaluateOn').default as SimConfig['evaluateOn'],
  workers: numberDefault('workers'),
  privacy: null,
};

export interface SimRound {
  round: number;
  accuracy: number;
  loss: number;
  /**
   * Null in private runs (their aggregator holds no local model to measure it with, as in a live session), and in a
   * round whose measurement failed (the warning says why).
   */
  decomposition: LossDecomposition | null;
  /** Which strategy variant ran. */
  strategy: string;
  /** Global model's accuracy per class (null: no test sample of that class). */
  perClassAccuracy: (number | null)[];
  /** Share of test samples assigned to the most predicted class. */
  predictedShare: number;
  /** Collapse warning (one class predicted for >= 90% of samples, or a class never predicted), or null. */
  collapse: string | null;
  participants: number;
  /** What the robust aggregation did to each update it left out, clipped or capped, with the reason. */
  screening: ScreeningVerdict[];
  /** Bytes on the wire this round, all peers together (0 without a codec). */
  bytes: number;
  /** Private rounds: the (eps, delta) spent so far, the noise the sum carried, secure aggregation's cost. */
  privacy?: RoundPrivacy;
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
  /** Private runs: the settings, the (eps, delta) spent, and why the run stopped early (its budget), if it did. */
  privacy?: PrivacySummary;
  /** Measured, not reproducible: peak resident memory of this process so far (workers included), and where clients ran. */
  resources: {
    peakRssMb: number;
    runner: string;
    wallMs: number;
    /** CPU time of the whole process (all threads) during the run: the work, whatever else loads the machine. */
    cpuMs: number;
  };
}

export interface SimHooks {
  onRound?: (round: SimRound) => void;
  onStatus?: (text: string) => void;
  /** Every event of the aggregator's round engine (rejections with their reasons, failed rounds, ...). */
  onEngineEvent?: (event: EngineEvent) => void;
}

export interface LoadedData {
  train: Dataset;
  test: Dataset;
}

export function loadData(cfg: SimConfig): LoadedData {
  const limit = cfg.limit > 0 ? cfg.limit : undefined;
  if (cfg.data === 'mnist') {
    return { train: loadMnistNode('train', limit), test: loadMnistNode('test', cfg.testLimit) };
  }
  const digits = /^mnist:(\d(?:,\d)+)$/.exec(cfg.data);
  if (digits) {
    // A task on some digits only (e.g. mnist:3,5, a binary one): limits count the selected samples.
    const classes = digits[1].split(',').map(Number);
    const train = selectClasses(loadMnistNode('train'), classes);
    const test = selectClasses(loadMnistNode('test'), classes);
    return { train: limit ? takeFirst(train, limit) : train, test: takeFirst(test, cfg.testLimit) };
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
  throw new Error(`unknown data source "${cfg.data}" (use mnist, mnist:D,D,... for some digits, a .npz file or a .csv file)`);
}

/** Seed of the validation carve-out: fixed, so runs with different seeds train on the same samples. */
export const VALIDATION_SPLIT_SEED = 0x7a11d;

/** Holds out cfg.validation of the training data (stratified) and picks what the global model is evaluated on. */
function carveValidation(cfg: SimConfig, loaded: LoadedData): LoadedData {
  if (cfg.validation === 0) {
    if (cfg.evaluateOn === 'validation') throw new Error('evaluateOn "validation" needs a validation share above 0');
    return loaded;
  }
  if (!(cfg.validation > 0 && cfg.validation < 1)) throw new Error(`validation must be in [0, 1), got ${cfg.validation}`);
  const all = range(datasetSize(loaded.train));
  const parts = splitTrainEvalIndices(all, loaded.train.labels, cfg.validation, VALIDATION_SPLIT_SEED);
  const train = subsetDataset(loaded.train, parts.train);
  return { train, test: cfg.evaluateOn === 'validation' ? subsetDataset(loaded.train, parts.eval) : loaded.test };
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

function cpuMsSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

/** Peak resident set size of this process so far, in MB (Node reports it in kB). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs a whole federated simulation in this process, through the same engine, client and strategies as the app.
 * Memory grows with a round's participants, not the population: clients are index lists into one shared dataset,
 * and their jobs run on one reused model per thread (this one, or each of cfg.workers worker threads).
 */
export async function runSimulation(cfg: SimConfig, hooks: SimHooks = {}): Promise<SimResult> {
  // Plain rounds have no device time for 'fast' to change: refuse it rather than run as if it applied.
  if (cfg.attack?.attacks.some((a) => a.kind === 'fast')) throw new Error('attack fast changes when an attacker answers, which only a run on the simulated clock has: add --devices, --mode async or --deadline');
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const loaded = carveValidation(cfg, loadData(cfg));
  // With worker threads, the one copy of the training samples lives in shared memory, seen by every thread.
  const data = cfg.workers > 1 ? { ...loaded, train: shareDataset(loaded.train) } : loaded;
  const spec = modelSpecFor(cfg, data.train);
  const backend = await setupNodeBackend(cfg.backend, spec);
  hooks.onStatus?.(`backend ${backend.backend}: ${backend.reason}`);

  const partition = partitionIndices(data.train.labels, data.train.numClasses, cfg.clients, cfg.partition, cfg.seed);
  const shards = buildClientShards(data.train, partition, { evalFraction: cfg.evalFraction, evalMax: cfg.evalMax, seed: cfg.seed });
  const runner: ParticipantRunner =
    cfg.workers > 1
      ? await WorkerPoolRunner.start({ workers: cfg.workers, data: data.train, backend: backend.backend, modelSeed: cfg.seed })
      : new InProcessRunner(data.train, cfg.seed);
  try {
    return await runWithRunner(cfg, hooks, { data, spec, backend, partition, shards, runner, started, cpuBefore });
  } finally {
    await runner.dispose();
  }
}

/** What runSimulation prepared before the clients and the engine exist. */
interface RunParts {
  data: LoadedData;
  spec: ModelSpec;
  backend: BackendChoice;
  partition: Partition;
  shards: ClientShard[];
  runner: ParticipantRunner;
  started: number;
  cpuBefore: NodeJS.CpuUsage;
}

async function runWithRunner(cfg: SimConfig, hooks: SimHooks, parts: RunParts): Promise<SimResult> {
  const { data, spec, backend, partition, shards, runner, started, cpuBefore } = parts;
  const armed = armAttackers(shards, cfg.attack, { seed: cfg.seed, strategy: cfg.strategy.name, numClasses: data.train.numClasses, labels: data.train.labels });
  const ctx: ParticipantContext = { shards: armed.shards, runner, backendName: tf.getBackend(), clientStates: new Map() };
  // Shared messages: the engine and these clients never mutate what they receive (see InMemoryNetworkOptions).
  const network = new InMemoryNetwork({ ...(cfg.codec ? { codec: createWireCodec(cfg.codec) } : {}), shareMessages: true });
  const aggregatorId = 'aggregator';
  const idWidth = Math.max(3, String(cfg.clients - 1).length);
  const trainerOf = (k: number) => armed.trainer(k, buildParticipantTrainer(ctx, k));
  const privateRounds = cfg.privacy ? new PrivateRounds(cfg.privacy, cfg) : null;
  const clients = shards.map(
    (_, k) =>
      new FlClient(network.endpoint(`client-${String(k).padStart(idWidth, '0')}`), aggregatorId, trainerOf(k), { name: `client ${k}`, ...(privateRounds ? { party: privateRounds.partyOf(k) } : {}) }),
  );

  let lastFailure: string | null = null;
  const globalModel = buildModel(spec, cfg.seed);
  const aggregatorEndpoint = network.endpoint(aggregatorId);
  const engine = new RoundEngine(
    aggregatorEndpoint,
    {
      model: spec,
      strategy: cfg.strategy,
      train: { localEpochs: cfg.localEpochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, optimizer: cfg.optimizer, momentum: cfg.momentum },
      minClients: 1,
      fraction: cfg.fraction,
      decomposition: 'exact',
      decompositionEvery: 1,
      seed: cfg.seed,
      robust: cfg.robust,
      ...(cfg.privacy ? { privacy: cfg.privacy } : {}),
      // The simulated clients train one after another: every step waits for all of them.
      timing: { roundDeadlineMs: 3_600_000, evalDeadlineMs: 3_600_000, secureStepMs: 3_600_000 },
    },
    { weights: await getWeights(globalModel) },
    {
      evaluateGlobal: async (weights) => {
        setWeights(globalModel, weights);
        return evaluateModel(globalModel, data.test);
      },
      onEvent: (e) => {
        if (e.kind === 'round-failed') lastFailure = e.reason;
        hooks.onEngineEvent?.(e);
        if (e.kind === 'update-received') hooks.onStatus?.(`round ${e.round}: update from ${e.from}`);
        if (e.kind === 'rejected' || e.kind === 'round-failed' || e.kind === 'round-warning') hooks.onStatus?.(`warning: ${JSON.stringify(e)}`);
      },
    },
  );
  try {
    await Promise.all(clients.map((c) => c.join()));
    await engine.waitForClients(cfg.clients, 10_000 + cfg.clients);
    const rounds: SimRound[] = [];
    let bytesBefore = totalBytes(aggregatorEndpoint);
    for (let r = 1; r <= cfg.rounds; r++) {
      const report = await engine.runRound();
      if (!report && engine.finished && privateRounds) {
        // The engine refused a round that would take eps past the budget.
        if (r === 1) throw new Error(`${engine.finished}: the budget allows no round`);
        privateRounds.stopped = engine.finished;
        hooks.onStatus?.(`stopped: ${engine.finished}`);
        break;
      }
      if (!report) throw new Error(`round ${r} failed: ${lastFailure ?? 'no updates arrived'}`);
      const bytesNow = totalBytes(aggregatorEndpoint);
      const record = toSimRound(report, bytesNow - bytesBefore);
      if (privateRounds && report.privacy) record.privacy = privateRounds.roundCounted(report.privacy);
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
      ...(privateRounds ? { privacy: privateRounds.summary() } : {}),
      resources: { peakRssMb: peakRssMb(), runner: runner.kind, wallMs: performance.now() - started, cpuMs: cpuMsSince(cpuBefore) },
    };
  } finally {
    engine.dispose();
    globalModel.dispose();
  }
}

/** Everything the aggregator sent and received: with a star topology, all the traffic of the session. */
function totalBytes(endpoint: InMemoryEndpoint): number {
  const t = endpoint.trafficTotals();
  return t.bytesSent + t.bytesReceived;
}

function toSimRound(report: RoundReport, bytes: number): SimRound {
  // (The decomposition can be missing: a private run measures none, and a round whose local models cannot be
  // evaluated, e.g. a hostile client's non-finite one, has its failure reported as a warning.)
  if (report.accuracy === null || report.loss === null) throw new Error(`round ${report.round}: the simulator always measures accuracy`);
  return {
    round: report.round,
    accuracy: report.accuracy,
    loss: report.loss,
    decomposition: report.decomposition,
    strategy: report.strategy,
    perClassAccuracy: report.classes?.perClassAccuracy ?? [],
    predictedShare: report.classes?.predictedShare ?? NaN,
    collapse: report.classes?.collapse ?? null,
    participants: report.participants.length,
    screening: report.screening,
    bytes,
    trainMs: report.trainMs,
    aggregateMs: report.aggregateMs,
    evalMs: report.evalMs,
  };
}
