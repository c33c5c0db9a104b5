/**
 * Main-thread side of the aggregation worker: an EngineHooks.aggregate that runs aggregateRound in a module Web
 * Worker, so screening and combining a round's updates (FedLD's Gram matrix and eigen-solve, the robust medians)
 * do not block the aggregating tab. Where the worker cannot start or dies, it aggregates on this thread instead.
 */
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../fl/aggregate-round';
import * as Comlink from 'comlink';
import { unmaskSum, type UnmaskJob } from '../fl/secagg/secagg-server';
import type { AggregateWorkerApi } from './aggregate-api';
import { copyForTransfer } from './transferables';
import { WorkerLink, type WorkerEndpoint } from './worker-link';

/** A worker that has not answered by then is given up (its module did not load). */
export const AGGREGATE_WORKER_START_TIMEOUT_MS = 10_000;

export type Aggregate = (job: AggregationJob) => Promise<AggregationOutcome>;

export class WorkerAggregator {
  private readonly link: WorkerLink<AggregateWorkerApi>;

  /** `worker`: a module Worker running aggregate.worker.ts (in tests, any Comlink endpoint exposing aggregateWorkerApi). */
  constructor(worker: WorkerEndpoint, startTimeoutMs = AGGREGATE_WORKER_START_TIMEOUT_MS) {
    this.link = new WorkerLink(worker, { name: 'the aggregation worker', fallback: 'Aggregating on the main thread', startTimeoutMs });
  }

  /**
   * The job's arrays are copied (the engine keeps using its own) and the copies transferred to the worker: a memory
   * copy on this thread instead of a structured clone. The outcome comes back transferred.
   */
  readonly aggregate: Aggregate = async (job) => {
    if (!(await this.link.usable())) return aggregateRound(job);
    try {
      const { copy, buffers } = copyForTransfer(job);
      return await this.link.call<AggregationOutcome>(this.link.remote.aggregate(Comlink.transfer(copy, buffers)));
    } catch (error) {
      // The worker died mid-job: this round is aggregated here, and so are the next ones.
      if (this.link.dead) return aggregateRound(job);
      throw error;
    }
  };

  /** A secure round's unmasking, in the worker (the job copied and the copies transferred, as for aggregate). */
  readonly unmask = async (job: UnmaskJob): Promise<Uint32Array> => {
    if (!(await this.link.usable())) return unmaskSum(job);
    try {
      const { copy, buffers } = copyForTransfer(job);
      return await this.link.call<Uint32Array>(this.link.remote.unmask(Comlink.transfer(copy, buffers)));
    } catch (error) {
      if (this.link.dead) return unmaskSum(job);
      throw error;
    }
  };

  terminate(): void {
    this.link.fail(new Error('the aggregation worker was stopped'));
  }
}

/** An aggregation worker, or undefined where workers cannot be made (then the engine aggregates in-process). */
export function startAggregationWorker(): WorkerAggregator | undefined {
  if (typeof Worker === 'undefined') return undefined;
  try {
    return new WorkerAggregator(new Worker(new URL('./aggregate.worker.ts', import.meta.url), { type: 'module', name: 'fedtab-aggregate' }));
  } catch (error) {
    console.warn('Aggregating on the main thread: the aggregation worker could not be created', error);
    return undefined;
  }
}
