/**
 * The tab's Web Workers as the session controller uses them: the training worker (always), the validation worker
 * (the aggregating tab's held-out test set, started on its first evaluation) and the aggregation worker (started on
 * this tab's first aggregation). The session's other parts ask this object; none of them starts or stops a worker.
 */
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../../fl/aggregate-round';
import { unmaskSum, type UnmaskJob } from '../../fl/secagg/secagg-server';
import type { Dataset } from '../../fl/data/dataset';
import type { EngineHooks } from '../../fl/engine';
import type { ModelSpec } from '../../fl/model-spec';
import { demoDataFits } from '../../data/task-fit';
import type { BackendReport } from '../../worker/api';
import type { WorkerTrainer } from '../../worker/worker-trainer';
import type { ValidationEvaluator } from '../session-node';
import type { SessionState } from '../types';

/** What the controller asks of the training worker (and of the validation worker, when this tab aggregates). */
export type ControllerTrainer = Pick<
  WorkerTrainer,
  | 'train'
  | 'evaluate'
  | 'info'
  | 'selectBackend'
  | 'loadStoredData'
  | 'loadDemoShard'
  | 'loadDatasets'
  | 'initialWeights'
  | 'importFiles'
  | 'predict'
  | 'confusion'
  | 'exportModel'
  | 'cancel'
  | 'terminate'
  | 'memory'
  | 'party'
>;

export interface WorkerFactories {
  createTrainer(): ControllerTrainer;
  /** The demo test split: the aggregating tab's held-out data. */
  demoTestSplit(): Promise<Dataset>;
  /** Where this tab aggregates (a worker, started on first use); absent or undefined: in-process, on this thread. */
  createAggregator?: () => { aggregate: NonNullable<EngineHooks['aggregate']>; unmask?: NonNullable<EngineHooks['unmask']>; terminate(): void } | undefined;
}

export class TabWorkers {
  /** The training worker: local data, training, evaluation, inspection of the global model. */
  readonly trainer: ControllerTrainer;
  private validationWorker: ControllerTrainer | null = null;
  private validationReady: Promise<ControllerTrainer> | null = null;
  private aggregator: ReturnType<NonNullable<WorkerFactories['createAggregator']>> | null = null;
  private preference = 'auto';

  constructor(private readonly factories: WorkerFactories) {
    this.trainer = factories.createTrainer();
  }

  /**
   * One step's aggregation, in the aggregation worker when the page has one (else in-process). Bound, so that it is
   * handed to the round engine as its aggregate hook as is.
   */
  readonly aggregate = (job: AggregationJob): Promise<AggregationOutcome> => {
    this.aggregator ??= this.factories.createAggregator?.() ?? null;
    return this.aggregator ? this.aggregator.aggregate(job) : Promise.resolve(aggregateRound(job));
  };

  /** A secure round's unmasking, in the aggregation worker when the page has one (else in-process). Bound, like aggregate. */
  readonly unmask = (job: UnmaskJob): Promise<Uint32Array> => {
    this.aggregator ??= this.factories.createAggregator?.() ?? null;
    return this.aggregator?.unmask ? this.aggregator.unmask(job) : unmaskSum(job);
  };

  /** Whether the page runs aggregation in a worker (else the engine aggregates in-process). */
  get aggregatesElsewhere(): boolean {
    return this.factories.createAggregator !== undefined;
  }

  /**
   * Held-out data of the aggregating tab: the demo test split, evaluated in the validation worker. Lazy: the worker
   * and the download start on the first evaluation, so a client tab pays for them only if it ever aggregates.
   */
  demoValidation(): ValidationEvaluator {
    const start = async () => {
      const worker = this.factories.createTrainer();
      this.validationWorker = worker;
      const test = await this.factories.demoTestSplit();
      await worker.loadDatasets('demo test split', test, test);
      return worker;
    };
    return async (spec, models) => {
      if (!demoDataFits(spec)) throw new Error(`no test set for this task on the aggregating tab (its test data is the MNIST demo split), so no accuracy is measured`);
      this.validationReady ??= start();
      const r = await (await this.validationReady).evaluate(spec, models);
      return { losses: r.losses, accuracies: r.accuracies };
    };
  }

  /** The validation worker once it has started (the aggregating tab's test set), else null. */
  get validation(): Promise<ControllerTrainer> | null {
    return this.validationReady;
  }

  /** Picks the training worker's backend for `model` (the user's preference, or the fastest probed); what to show. */
  async chooseBackend(model: ModelSpec, preference = this.preference): Promise<{ backend: NonNullable<SessionState['backend']>; notices: string[] }> {
    this.preference = preference;
    const report: BackendReport = await this.trainer.selectBackend(preference, model);
    return {
      backend: {
        name: report.backend,
        adapter: report.adapter ? { vendor: report.adapter.vendor, architecture: report.adapter.architecture, isFallbackAdapter: report.adapter.isFallbackAdapter } : null,
        probe: report.probes.map((p) => ({ backend: p.backend, samplesPerSecond: p.samplesPerSecond ?? null, error: p.error })),
        message: [report.reason, ...report.notices].join(' '),
      },
      notices: report.notices,
    };
  }

  /** The session ended: training stops; the validation and aggregation workers go (a next session starts its own). */
  endSession(): void {
    this.trainer.cancel();
    this.validationWorker?.terminate();
    this.validationWorker = null;
    this.validationReady = null;
    this.aggregator?.terminate();
    this.aggregator = null;
  }

  /** Test hook: tensors held by the training worker. */
  memory() {
    return this.trainer.memory();
  }
}
