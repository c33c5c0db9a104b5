/**
 * Everything the training worker does, independent of Comlink and worker globals (so Node can test it):
 * holds the local data, the backend choice and a TfLocalTrainer, trains rounds with throttled progress and
 * cancel, and redoes a round on the next backend when the active one dies.
 */
import { materialize, type ScoredModel } from '../fl/scored-model';
import * as tf from '@tensorflow/tfjs';
import { exportModelFiles, type ModelFiles } from './model-export';
import { importLocalData } from '../data/local-data';
import type { LocalFile } from '../data/pickers';
import { dataFitProblems, dataShapeOf, imageTargetShape } from '../data/task-fit';
import { confusion, predictSample, predictValues, type ConfusionResult, type Prediction, type SamplePrediction } from './inspect';
import type { Dataset } from '../fl/data/dataset';
import { datasetSize, labelHistogram } from '../fl/data/dataset';
import type { TrainRequest } from '../fl/local-trainer';
import { TfLocalTrainer } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import { buildModel, modelInputShape, getWeights } from '../fl/models';
import type { WeightSet } from '../fl/weights';
import { cloneWeights } from '../fl/weights';
import { fetchDemoData, demoShard } from '../data/demo';
import type { LocalSplit } from '../data/split';
import { loadLocalData } from '../data/store';
import type {
  BackendReport,
  BackendSwitch,
  DataSource,
  LocalDataInfo,
  PredictInput,
  WorkerImportResult,
  TensorMemory,
  TrainingWorkerApi,
  WorkerEvaluateResponse,
  WorkerInfo,
  WorkerProgress,
  WorkerTrainResponse,
} from './api';
import { isDataSource } from './api';
import type { BackendEnvironment } from './backend';
import { BackendManager } from './backend';
import type { BackendName } from './backend-names';
import { WORKER_CONFIG } from './config';
import { throttle } from './progress';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Throws a clear error when the data cannot feed the model (shape or class count). */
export function assertDataFitsModel(spec: ModelSpec, data: Dataset, what = 'local data'): void {
  const want = modelInputShape(spec);
  if (data.kind === 'image') {
    if (spec.kind === 'tabular') throw new Error(`${what} are images [${data.shape}], but the model is tabular (${spec.features} features)`);
    if (want.length !== 3 || want.some((d, i) => d !== data.shape[i])) {
      throw new Error(`${what} are images of shape [${data.shape}], but the ${spec.kind} model expects [${want}]`);
    }
  } else if (spec.kind !== 'tabular' || spec.features !== data.features) {
    throw new Error(`${what} have ${data.features} features per row, but the ${spec.kind} model expects input [${want}]`);
  }
  if (data.numClasses > spec.numClasses) {
    throw new Error(`${what} have ${data.numClasses} classes, but the model predicts only ${spec.numClasses}`);
  }
}

export class TrainingSession implements TrainingWorkerApi {
  private readonly backends: BackendManager;
  private data: (LocalSplit & { info: LocalDataInfo }) | null = null;
  private trainer: TfLocalTrainer | null = null;
  private readonly demoCache = new Map<string, Promise<Dataset>>();
  private running = false;
  private cancelRequested = false;

  constructor(env: BackendEnvironment = {}) {
    this.backends = new BackendManager(env);
  }

  private async demoPool(dataUrl: string): Promise<Dataset> {
    let pool = this.demoCache.get(dataUrl);
    if (!pool) {
      pool = fetchDemoData(dataUrl, ['train']).then((d) => d.train!);
      this.demoCache.set(dataUrl, pool);
      pool.catch(() => this.demoCache.delete(dataUrl));
    }
    return pool;
  }

  async loadData(source: DataSource): Promise<LocalDataInfo> {
    if (!isDataSource(source)) throw new Error(`loadData: not a data source: ${JSON.stringify(source)?.slice(0, 200)}`);
    if (this.running) throw new Error('loadData: a training round is running; cancel it first');
    let split: LocalSplit;
    let name: string;
    switch (source.kind) {
      case 'demo': {
        const pool = await this.demoPool(source.dataUrl);
        if (pool.kind !== 'image') throw new Error('demo pool is not image data');
        split = demoShard(pool, source.shard);
        const p = source.shard.partition;
        name = `demo shard ${source.shard.slot + 1}/${source.shard.numClients} (${p.kind}${p.kind === 'dirichlet' ? ` alpha ${p.alpha}` : ''}, seed ${source.shard.seed})`;
        break;
      }
      case 'stored': {
        const stored = await loadLocalData();
        if (!stored) throw new Error('no local data is stored in this browser; import a folder, CSV or .npz first');
        split = stored;
        name = stored.name;
        break;
      }
      case 'datasets':
        split = { train: source.train, eval: source.eval };
        name = source.name;
        break;
    }
    if (datasetSize(split.train) === 0) throw new Error(`${name}: the train split is empty`);
    const info: LocalDataInfo = {
      source: source.kind,
      name,
      trainSamples: datasetSize(split.train),
      evalSamples: datasetSize(split.eval),
      numClasses: split.train.numClasses,
      labelHistogram: labelHistogram(split.train.labels, split.train.numClasses),
      inputShape: split.train.kind === 'image' ? [...split.train.shape] : [split.train.features],
    };
    this.replaceTrainer(null);
    this.data = { ...split, info };
    return info;
  }

  async selectBackend(preference: string, model: ModelSpec): Promise<BackendReport> {
    if (this.running) throw new Error('selectBackend: a training round is running; cancel it first');
    this.replaceTrainer(null);
    const report = await this.backends.select(preference, model, this.data?.train ?? null);
    return report;
  }

  private replaceTrainer(next: TfLocalTrainer | null): void {
    try {
      this.trainer?.dispose();
    } catch {
      // Its tensors lived on a backend that died; nothing left to free there.
    }
    this.trainer = next;
  }

  private requireData(what: string): LocalSplit {
    if (!this.data) throw new Error(`${what}: no local data loaded (call loadData first)`);
    return this.data;
  }

  private trainerFor(data: LocalSplit): TfLocalTrainer {
    if (!this.trainer) this.trainer = new TfLocalTrainer(data.train, data.eval, () => this.backends.active ?? tf.getBackend());
    return this.trainer;
  }

  private async ensureBackend(model: ModelSpec): Promise<BackendName> {
    if (!this.backends.active) await this.selectBackend('auto', model);
    return this.backends.active!;
  }

  /**
   * Runs `work` on the active backend; when the backend dies (flagged lost, or an error after which it
   * cannot compute 1 + 1), switches to the next backend and runs `work` again from scratch.
   */
  private async withFailover<T>(model: ModelSpec, work: (trainer: TfLocalTrainer) => Promise<T>): Promise<{ result: T; switches: BackendSwitch[] }> {
    const data = this.requireData('train');
    const switches: BackendSwitch[] = [];
    for (;;) {
      await this.ensureBackend(model);
      let result: T | undefined;
      let failure: string | null = null;
      const watch = this.backends.watchForLoss();
      try {
        // Reads on a dead GPU context may never settle: stop waiting for `work` once the backend is lost.
        // `work` never rejects into the void: an abandoned run's late error is captured here and dropped.
        const settled = work(this.trainerFor(data)).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        const outcome = await Promise.race([settled, watch.lost.then((reason) => ({ reason }))]);
        if ('reason' in outcome) failure = outcome.reason;
        else if ('error' in outcome) {
          failure = this.backends.lost() ?? ((await this.backends.isAlive()) ? null : `backend stopped working: ${errorText(outcome.error)}`);
          if (failure === null) throw outcome.error;
        } else {
          result = outcome.value;
          failure = this.backends.lost();
        }
      } finally {
        watch.stop();
      }
      if (failure === null) return { result: result as T, switches };
      this.replaceTrainer(null);
      switches.push(await this.backends.failover(failure, model));
    }
  }

  async train(req: TrainRequest, onProgress?: (p: WorkerProgress) => void): Promise<WorkerTrainResponse> {
    if (this.running) throw new Error('train: a round is already running in this worker');
    const data = this.requireData('train');
    assertDataFitsModel(req.model, data.train);
    this.running = true;
    this.cancelRequested = false;
    try {
      const emit = onProgress ? throttle(onProgress, WORKER_CONFIG.progressMaxPerSecond) : undefined;
      const { result, switches } = await this.withFailover(req.model, (trainer) =>
        trainer.train(req, {
          onProgress: emit && ((p) => emit({ ...p, round: req.round, backend: this.backends.active! })),
          // A lost backend stops the round at the next batch; withFailover then redoes it elsewhere.
          shouldCancel: () => this.cancelRequested || this.backends.lost() !== null,
        }),
      );
      return { ...result, backend: this.backends.active!, backendSwitches: switches };
    } finally {
      this.running = false;
      this.cancelRequested = false;
    }
  }

  async evaluate(model: ModelSpec, models: ScoredModel[]): Promise<WorkerEvaluateResponse> {
    const data = this.requireData('evaluate');
    assertDataFitsModel(model, data.eval, 'local eval data');
    const weightSets = models.map(materialize);
    const { result, switches } = await this.withFailover(model, (trainer) => trainer.evaluate(model, weightSets));
    return { ...result, backend: this.backends.active!, backendSwitches: switches };
  }

  async initialWeights(model: ModelSpec, seed = 1): Promise<WeightSet> {
    await this.ensureBackend(model);
    const m = buildModel(model, seed);
    try {
      // Copies: a read may hand out a backend's own storage, and the worker transfers these buffers.
      return cloneWeights(await getWeights(m));
    } finally {
      m.dispose();
    }
  }

  async importFiles(files: LocalFile[], model: ModelSpec | null): Promise<WorkerImportResult> {
    if (this.running) throw new Error('import: a training round is running; try again after it');
    const target = model ? imageTargetShape(model) : null;
    const result = await importLocalData(files, {
      ...(target ? { image: { targetShape: target }, npz: { targetShape: target } } : {}),
      ...(model ? { check: (ds: Dataset) => dataFitProblems(model, dataShapeOf(ds), ds.numClasses) } : {}),
    });
    if (!result.summary) return { info: null, problems: result.problems, refused: result.refused ?? [] };
    return { info: await this.loadData({ kind: 'stored' }), problems: result.problems, refused: [] };
  }

  async predict(model: ModelSpec, weights: WeightSet, input: PredictInput): Promise<Prediction | SamplePrediction> {
    await this.ensureBackend(model);
    if (input.kind === 'values') return predictValues(model, weights, input.values);
    const data = this.requireData('predict');
    assertDataFitsModel(model, data.eval, 'your held-out data');
    return predictSample(model, weights, data.eval, input.index);
  }

  async confusion(model: ModelSpec, weights: WeightSet): Promise<ConfusionResult> {
    await this.ensureBackend(model);
    const data = this.requireData('confusion');
    assertDataFitsModel(model, data.eval, 'the held-out data');
    return confusion(model, weights, data.eval);
  }

  async exportModel(model: ModelSpec, weights: WeightSet, info: { round: number; session: string }): Promise<ModelFiles> {
    await this.ensureBackend(model);
    return exportModelFiles(model, weights, info);
  }

  cancel(): void {
    if (this.running) this.cancelRequested = true;
  }

  async info(): Promise<WorkerInfo> {
    const train = this.data?.train;
    return {
      backend: this.backends.active ?? 'none',
      numSamples: train ? datasetSize(train) : 0,
      labelHistogram: train ? labelHistogram(train.labels, train.numClasses) : [],
      data: this.data?.info ?? null,
      backendReport: this.backends.report,
    };
  }

  memory(): TensorMemory {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  simulateBackendLoss(): string {
    return this.backends.simulateLoss();
  }

  dispose(): void {
    this.replaceTrainer(null);
  }
}
