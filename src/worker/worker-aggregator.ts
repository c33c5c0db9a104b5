/**
 * Main-thread side of the aggregation worker: an EngineHooks.aggregate that runs aggregateRound in a module Web
 * Worker, so screening and combining a round's updates (FedLD's Gram matrix and eigen-solve, the robust medians)
 * do not block the aggregating tab. Where the worker cannot start or dies, it aggregates on this thread instead.
 */
import * as Comlink from 'comlink';
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../fl/aggregate-round';
import type { AggregateWorkerApi } from './aggregate-api';

/** A worker that has not answered by then is given up (its module did not load). */
export const AGGREGATE_WORKER_START_TIMEOUT_MS = 10_000;

export type Aggregate = (job: AggregationJob) => Promise<AggregationOutcome>;

export class WorkerAggregator {
  private readonly remote: Comlink.Remote<AggregateWorkerApi>;
  private readonly started: Promise<boolean>;
  private failure: Error | null = null;
  private readonly waiting = new Set<(error: Error) => void>();

  /** `worker`: a module Worker running aggregate.worker.ts (in tests, any Comlink endpoint exposing aggregateWorkerApi). */
  constructor(
    private readonly worker: Comlink.Endpoint & { terminate?(): void },
    startTimeoutMs = AGGREGATE_WORKER_START_TIMEOUT_MS,
  ) {
    this.remote = Comlink.wrap<AggregateWorkerApi>(worker);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.fail(new Error(`the aggregation worker failed: ${(event as ErrorEvent).message || 'it could not be loaded'}`));
    });
    this.started = this.whenStarted(startTimeoutMs);
  }

  /** The job is copied to the worker (the engine keeps using its arrays); the outcome comes back transferred. */
  readonly aggregate: Aggregate = async (job) => {
    if (!(await this.started) || this.failure) return aggregateRound(job);
    try {
      return await this.call<AggregationOutcome>(this.remote.aggregate(job));
    } catch (error) {
      // The worker died mid-job: this round is aggregated here, and so are the next ones.
      if (this.failure) return aggregateRound(job);
      throw error;
    }
  };

  terminate(): void {
    this.fail(new Error('the aggregation worker was stopped'));
  }

  private call<T>(reply: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      reply.then(resolve, reject).finally(() => this.waiting.delete(reject));
    });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
    this.worker.terminate?.();
  }

  private async whenStarted(timeoutMs: number): Promise<boolean> {
    const timer = setTimeout(() => this.fail(new Error(`the aggregation worker did not start within ${timeoutMs} ms`)), timeoutMs);
    try {
      await this.call(this.remote.ping());
      return true;
    } catch (error) {
      console.warn('Aggregating on the main thread:', error instanceof Error ? error.message : error);
      return false;
    } finally {
      clearTimeout(timer);
    }
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
