/**
 * The typed RPC surface of the training worker (Comlink), and guards for what crosses it.
 * Data sources are handed to the worker by reference (demo shard spec, "stored") or by value (datasets);
 * local samples never leave the browser.
 */
import type { ScoredModel } from '../fl/scored-model';
import type { Dataset } from '../fl/data/dataset';
import type { EvaluateResponse, TrainerInfo, TrainRequest, TrainResponse } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';
import type { ModelFiles } from './model-files';
import type { ConfusionResult, Prediction, SamplePrediction } from './inspect';

export interface WorkerImportResult {
  /** Null when nothing was loaded (see problems / refused). */
  info: LocalDataInfo | null;
  /** Files that were skipped, and why. */
  problems: string[];
  /** Why the data does not fit the session's task (then nothing was stored). */
  refused: string[];
}

export type PredictInput = { kind: 'values'; values: Float32Array } | { kind: 'sample'; index: number };
import type { DemoShardSpec } from '../data/demo';
import type { LocalFile } from '../data/pickers';
import { isDemoShardSpec } from '../data/demo';
import { isDataset } from '../data/dataset-guard';
import type { BackendName, BackendPreference } from './backend-names';

export type DataSource =
  /** The built-in demo: this client's shard of the MNIST pool served under `dataUrl` (see demoDataUrl). */
  | { kind: 'demo'; shard: DemoShardSpec; dataUrl: string }
  /** The user's own data kept in this origin's IndexedDB (see importLocalData). */
  | { kind: 'stored' }
  /** Datasets already in memory (tests, or data the page prepared itself). */
  | { kind: 'datasets'; name: string; train: Dataset; eval: Dataset };

export type DataSourceKind = DataSource['kind'];

export interface LocalDataInfo {
  source: DataSourceKind;
  name: string;
  trainSamples: number;
  evalSamples: number;
  numClasses: number;
  /** Label counts of the train split (counts only, never samples). */
  labelHistogram: number[];
  /** [h, w, c] for images; [features] for tabular data. */
  inputShape: number[];
}

export interface BackendProbe {
  backend: BackendName;
  /** Trains this model here (false: unavailable, or it failed; see error). */
  ok: boolean;
  samplesPerSecond?: number;
  warmupMs?: number;
  timedBatches?: number;
  error?: string;
}

/** From navigator.gpu.requestAdapter() / adapter.info; null when WebGPU is absent. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendReport {
  backend: BackendName;
  preference: string;
  /** Why this backend, in words (the probe's numbers, or the forced choice). */
  reason: string;
  /** Things the user should know: fallbacks from a forced choice, unknown names. */
  notices: string[];
  /** Every backend tried, in the order tried. */
  probes: BackendProbe[];
  adapter: AdapterSummary | null;
  /** Wall time of the whole selection. */
  selectionMs: number;
}

export interface BackendSwitch {
  from: BackendName;
  to: BackendName;
  reason: string;
}

export interface WorkerTrainResponse extends TrainResponse {
  /** Backend that produced this update. */
  backend: BackendName;
  /** Backends abandoned during this call (the round was redone from the global weights after each). */
  backendSwitches: BackendSwitch[];
}

export interface WorkerEvaluateResponse extends EvaluateResponse {
  backend: BackendName;
  backendSwitches: BackendSwitch[];
}

export interface WorkerProgress {
  round: number;
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  samplesPerSecond: number;
  backend: BackendName;
}

export interface WorkerInfo extends TrainerInfo {
  data: LocalDataInfo | null;
  backendReport: BackendReport | null;
}

export interface TensorMemory {
  numTensors: number;
  numBytes: number;
}

import type { PrivateParty } from '../fl/private-party';

export interface TrainingWorkerApi {
  loadData(source: DataSource): Promise<LocalDataInfo>;
  /** Chooses (and activates) the backend for `model`: probe for 'auto', else the forced one with fallback. */
  selectBackend(preference: BackendPreference | string, model: ModelSpec): Promise<BackendReport>;
  /** One round of local training from req.weights. Progress arrives throttled through `onProgress`. */
  train(req: TrainRequest, onProgress?: (p: WorkerProgress) => void): Promise<WorkerTrainResponse>;
  /** Losses and accuracies of the models on the local eval data (a base + delta is built here). */
  evaluate(model: ModelSpec, models: ScoredModel[]): Promise<WorkerEvaluateResponse>;
  /** The deterministic initial weights of `model` (what buildModel(model, seed) starts from), e.g. a host's round-0 model. */
  initialWeights(model: ModelSpec, seed?: number): Promise<WeightSet>;
  /**
   * Reads the user's files (image folder, CSV, .npz) here, off the page's main thread: checks them against the
   * session's model (when given; images are scaled to its input), stores them in IndexedDB and loads them.
   */
  importFiles(files: LocalFile[], model: ModelSpec | null): Promise<WorkerImportResult>;
  /** Class probabilities for one input (model-ready values) or for held-out sample `index` of this worker's data. */
  predict(model: ModelSpec, weights: WeightSet, input: PredictInput): Promise<Prediction | SamplePrediction>;
  /** Confusion matrix and per-class accuracy on this worker's held-out data. */
  confusion(model: ModelSpec, weights: WeightSet): Promise<ConfusionResult>;
  /** The model with these weights as TensorFlow.js files (model.json + weights.bin), for download. */
  exportModel(model: ModelSpec, weights: WeightSet, info: { round: number; session: string }): Promise<ModelFiles>;
  /** Stops the running train() after its current batch (it resolves with cancelled: true). */
  cancel(): void;
  info(): Promise<WorkerInfo>;
  memory(): TensorMemory;
  /** Makes the active GPU backend really fail (WEBGL_lose_context / device.destroy()), for tests and demos. */
  simulateBackendLoss(): string;
  /** Frees the model; the worker stays usable. */
  dispose(): void;
}

/** This tab's side of a private session's rounds, as worker calls: its clipping, noise, keys and masks stay there. */
export type PartyApi = { [K in keyof PrivateParty as `party${Capitalize<K>}`]: PrivateParty[K] };

/** What the training worker exposes: the training session and the private party. */
export type TrainingWorkerRemote = TrainingWorkerApi & PartyApi;

export function partyApi(party: PrivateParty): PartyApi {
  return {
    partyContribute: (update, spec) => party.contribute(update, spec),
    partyAdvertise: (assignment, length) => party.advertise(assignment, length),
    partyShare: (setup) => party.share(setup),
    partyReceive: (assignment, shares) => party.receive(assignment, shares),
    partyMask: (assignment, update, spec) => party.mask(assignment, update, spec),
    partyReveal: (request) => party.reveal(request),
  };
}

export function isDataSource(value: unknown): value is DataSource {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case 'demo':
      return isDemoShardSpec(v.shard) && typeof v.dataUrl === 'string';
    case 'stored':
      return true;
    case 'datasets':
      return typeof v.name === 'string' && isDataset(v.train) && isDataset(v.eval);
    default:
      return false;
  }
}
