import { afterEach, describe, expect, it, vi } from 'vitest';
import { aggregateRound, type AggregationJob } from '../fl/aggregate-round';
import { robustSettings } from '../fl/robust';
import type { WeightSet } from '../fl/weights';
import { aggregateWorkerApi, type AggregateWorkerApi } from './aggregate-api';
import { typedArrayBuffers } from './transferables';
import { WorkerAggregator } from './worker-aggregator';
import { closeInProcessWorkers, inProcessWorker } from './testing/in-process-worker';

const weights = (seed: number): WeightSet => [
  { name: 'fc/kernel', shape: [3, 2], values: Float32Array.from({ length: 6 }, (_, i) => Math.sin(seed * 7 + i) / 10) },
  { name: 'fc/bias', shape: [2], values: Float32Array.from({ length: 2 }, (_, i) => Math.cos(seed * 3 + i) / 10) },
];

function job(strategy: AggregationJob['strategy']): AggregationJob {
  const ids = ['a', 'b', 'c', 'd'];
  return {
    strategy,
    round: 3,
    population: 4,
    global: weights(0),
    state: null,
    updates: ids.map((clientId, i) => ({ clientId, delta: weights(i + 1), numSamples: 10 * (i + 1) })),
    declaredSamples: Object.fromEntries(ids.map((id, i) => [id, 10 * (i + 1)])),
    robust: robustSettings(undefined),
    valuesScanned: true,
  };
}

const aggregationWorker = (api: AggregateWorkerApi = aggregateWorkerApi) => inProcessWorker(api);

describe('WorkerAggregator', () => {
  afterEach(() => {
    closeInProcessWorkers();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it.each([{ name: 'fedavg' }, { name: 'fedld' }] as AggregationJob['strategy'][])('gives what aggregateRound gives here ($name), and leaves the job usable', async (strategy) => {
    const aggregator = new WorkerAggregator(aggregationWorker());
    const input = job(strategy);
    const outcome = await aggregator.aggregate(input);
    expect(outcome).toEqual(aggregateRound(job(strategy)));
    // The engine still needs the job's arrays (the decomposition): they were copied, not transferred.
    expect(input.updates[0].delta[0].values.byteLength).toBe(24);
    expect(input.global[0].values.byteLength).toBe(24);
  });

  it('aggregates on this thread when the worker does not start in time, and stops it', async () => {
    vi.useFakeTimers();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const worker = Object.assign(new EventTarget(), { postMessage: () => {}, terminated: false, terminate() { this.terminated = true; } });
    const aggregator = new WorkerAggregator(worker, 1000);
    const pending = aggregator.aggregate(job({ name: 'fedavg' }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await pending).toEqual(aggregateRound(job({ name: 'fedavg' })));
    expect(worker.terminated).toBe(true);
  });

  it('lists every typed array buffer of an outcome once', () => {
    const a = new Float32Array(2);
    expect(typedArrayBuffers({ x: [{ values: a }, { values: new Float32Array(a.buffer) }], y: 'text', z: null })).toEqual([a.buffer]);
  });
});
