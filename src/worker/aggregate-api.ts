/**
 * The aggregation worker's RPC surface (Comlink): one round's aggregation (robust screening and the strategy, see
 * src/fl/aggregate-round.ts) off the aggregating tab's main thread. The job arrives as a copy; the outcome's arrays
 * go back transferred, not copied.
 */
import * as Comlink from 'comlink';
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../fl/aggregate-round';
import { typedArrayBuffers } from './transferables';
import { unmaskSum, type UnmaskJob } from '../fl/secagg/secagg-server';

export interface AggregateWorkerApi {
  aggregate(job: AggregationJob): AggregationOutcome;
  /** A secure round's sum with the masks taken off (src/fl/secagg/secagg-server.ts). */
  unmask(job: UnmaskJob): Promise<Uint32Array>;
  /** Answers once the worker runs (its module loaded). */
  ping(): true;
}

export const aggregateWorkerApi: AggregateWorkerApi = {
  aggregate(job) {
    const outcome = aggregateRound(job);
    // The outcome may share arrays with the job (e.g. an unchanged state); the job is this worker's copy, so they go too.
    return Comlink.transfer(outcome, typedArrayBuffers(outcome));
  },
  async unmask(job) {
    const sum = await unmaskSum(job);
    return Comlink.transfer(sum, [sum.buffer as ArrayBuffer]);
  },
  ping: () => true,
};
