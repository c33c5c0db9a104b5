/**
 * The aggregation worker's RPC surface (Comlink): one round's aggregation (robust screening and the strategy, see
 * src/fl/aggregate-round.ts) off the aggregating tab's main thread. The job arrives as a copy; the outcome's arrays
 * go back transferred, not copied.
 */
import * as Comlink from 'comlink';
import { aggregateRound, type AggregationJob, type AggregationOutcome } from '../fl/aggregate-round';

export interface AggregateWorkerApi {
  aggregate(job: AggregationJob): AggregationOutcome;
  /** Answers once the worker runs (its module loaded). */
  ping(): true;
}

/** The buffers behind every typed array in `x`, each once. */
export function typedArrayBuffers(x: unknown, into = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer) into.add(x.buffer);
  } else if (Array.isArray(x)) {
    for (const item of x) typedArrayBuffers(item, into);
  } else if (typeof x === 'object' && x !== null) {
    for (const value of Object.values(x)) typedArrayBuffers(value, into);
  }
  return [...into];
}

export const aggregateWorkerApi: AggregateWorkerApi = {
  aggregate(job) {
    const outcome = aggregateRound(job);
    // The outcome may share arrays with the job (e.g. an unchanged state); the job is this worker's copy, so they go too.
    return Comlink.transfer(outcome, typedArrayBuffers(outcome));
  },
  ping: () => true,
};
