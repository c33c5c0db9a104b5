/**
 * Main-thread side of the training worker: a LocalTrainer (like TfLocalTrainer) whose training runs in a
 * module Web Worker, so the FL client code can use either. Progress comes back throttled via a Comlink proxy.
 */
import type { ScoredModel } from '../fl/scored-model';
import { copyForTransfer } from './transferables';
import * as Comlink from 'comlink';
import type { PrivateParty } from '../fl/private-party';
import type { Dataset } from '../fl/data/dataset';
import type { LocalTrainer, TrainerInfo, TrainRequest } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import type { TrainHooks } from '../fl/train';
import type { WeightSet } from '../fl/weights';
import type { DemoShardSpec } from '../data/demo';
import type { LocalFile } from '../data/pickers';
import { demoDataUrl } from '../data/demo';
import type {
  BackendReport,
  DataSource,
  LocalDataInfo,
  PredictInput,
  WorkerImportResult,
  TensorMemory,
  TrainingWorkerRemote,
  WorkerEvaluateResponse,
  WorkerInfo,
  WorkerProgress,
  WorkerTrainResponse,
} from './api';
import type { BackendPreference } from './backend-names';
import { WORKER_CONFIG } from './config';
import type { ModelFiles } from './model-files';
import type { ConfusionResult, Prediction, SamplePrediction } from './inspect';

export interface WorkerTrainHooks extends TrainHooks {
  /** Like onProgress, with the round and backend (throttled in the worker). */
  onWorkerProgress?: (p: WorkerProgress) => void;
}

export class WorkerTrainer implements LocalTrainer {
  private readonly remote: Comlink.Remote<TrainingWorkerRemote>;
  /** Rejects once the worker dies (failed module load, uncaught error), so no call waits forever. */
  private readonly failed: Promise<never>;
  private terminated = false;

  constructor(private readonly worker: Worker = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module', name: 'fedtab-training' })) {
    this.remote = Comlink.wrap<TrainingWorkerRemote>(worker);
    this.failed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new Error(`the training worker failed: ${ev.message || 'it could not be loaded'}`));
      });
    });
    this.failed.catch(() => {});
  }

  /** The worker's private party: the main thread relays the protocol's messages, the worker does the work. */
  readonly party: PrivateParty = {
    contribute: (update, spec) => this.call(this.remote.partyContribute(update, spec)),
    advertise: (assignment, length) => this.call(this.remote.partyAdvertise(assignment, length)),
    share: (setup) => this.call(this.remote.partyShare(setup)),
    receive: (assignment, shares) => this.call(this.remote.partyReceive(assignment, shares)),
    mask: (assignment, update, spec) => this.call(this.remote.partyMask(assignment, update, spec)),
    reveal: (request) => this.call(this.remote.partyReveal(request)),
  };

  private call<T>(p: Promise<T>): Promise<T> {
    if (this.terminated) return Promise.reject(new Error('the training worker was terminated'));
    return Promise.race([p, this.failed]);
  }

  loadData(source: DataSource): Promise<LocalDataInfo> {
    return this.call(this.remote.loadData(source));
  }

  /** The demo shard the session assigned; `dataUrl` defaults to the site's data/ folder (under Vite's base). */
  loadDemoShard(shard: DemoShardSpec, dataUrl: string = demoDataUrl(new URL(import.meta.env.BASE_URL, globalThis.location.href).href)): Promise<LocalDataInfo> {
    return this.loadData({ kind: 'demo', shard, dataUrl });
  }

  /** The user's data kept in IndexedDB (see importLocalData). */
  loadStoredData(): Promise<LocalDataInfo> {
    return this.loadData({ kind: 'stored' });
  }

  loadDatasets(name: string, train: Dataset, evalData: Dataset): Promise<LocalDataInfo> {
    return this.loadData({ kind: 'datasets', name, train, eval: evalData });
  }

  selectBackend(preference: BackendPreference | string, model: ModelSpec): Promise<BackendReport> {
    return this.call(this.remote.selectBackend(preference, model));
  }

  async train(req: TrainRequest, hooks: WorkerTrainHooks = {}): Promise<WorkerTrainResponse> {
    const { onProgress, onWorkerProgress, shouldCancel } = hooks;
    const progress =
      onProgress || onWorkerProgress
        ? Comlink.proxy((p: WorkerProgress) => {
            onWorkerProgress?.(p);
            onProgress?.(p);
          })
        : undefined;
    const poll = shouldCancel
      ? setInterval(() => {
          if (shouldCancel()) void this.cancel();
        }, WORKER_CONFIG.cancelPollMs)
      : undefined;
    try {
      // The round's model is copied and the copy transferred (a memory copy on this thread, not a structured clone).
      const { copy, buffers } = copyForTransfer(req);
      return await this.call(this.remote.train(Comlink.transfer(copy, buffers), progress));
    } finally {
      if (poll !== undefined) clearInterval(poll);
    }
  }

  /**
   * Losses and accuracies of the models on the worker's data. Local models may come as base + delta: the worker builds
   * them, off the page's main thread. The models' arrays are copied (a base shared by several once) and the copies
   * transferred: a memory copy on this thread instead of a structured clone.
   */
  evaluate(model: ModelSpec, models: ScoredModel[]): Promise<WorkerEvaluateResponse> {
    const { copy, buffers } = copyForTransfer(models);
    return this.call(this.remote.evaluate(model, Comlink.transfer(copy, buffers)));
  }

  initialWeights(model: ModelSpec, seed?: number): Promise<WeightSet> {
    return this.call(this.remote.initialWeights(model, seed));
  }

  importFiles(files: LocalFile[], model: ModelSpec | null): Promise<WorkerImportResult> {
    return this.call(this.remote.importFiles(files, model));
  }

  predict(model: ModelSpec, weights: WeightSet, input: PredictInput): Promise<Prediction | SamplePrediction> {
    return this.call(this.remote.predict(model, weights, input));
  }

  confusion(model: ModelSpec, weights: WeightSet): Promise<ConfusionResult> {
    return this.call(this.remote.confusion(model, weights));
  }

  exportModel(model: ModelSpec, weights: WeightSet, info: { round: number; session: string }): Promise<ModelFiles> {
    return this.call(this.remote.exportModel(model, weights, info));
  }

  async info(): Promise<TrainerInfo> {
    const { backend, numSamples, labelHistogram } = await this.workerInfo();
    return { backend, numSamples, labelHistogram };
  }

  workerInfo(): Promise<WorkerInfo> {
    return this.call(this.remote.info());
  }

  /** Stops the running round after its current batch; train() then resolves with cancelled: true. */
  cancel(): Promise<void> {
    return this.call(this.remote.cancel());
  }

  memory(): Promise<TensorMemory> {
    return this.call(this.remote.memory());
  }

  simulateBackendLoss(): Promise<string> {
    return this.call(this.remote.simulateBackendLoss());
  }

  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}
