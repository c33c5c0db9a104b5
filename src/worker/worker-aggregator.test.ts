import { afterEach, describe, expect, it, vi } from 'vitest';
import { aggregateRound, type AggregationJob } from '../fl/aggregate-round';
import { robustSettings } from '../fl/robust';
import type { WeightSet } from '../fl/weights';
import { aggregateWorkerApi, type AggregateWorkerApi } from './aggregate-api';
import { typedArrayBuffers } from './transferables';
import { WorkerAggregator } from './worker-aggregator';
import { closeInProcessWorkers, inProcessWorker } from './testing/in-process-worker';
import { SecAggClient } from '../fl/secagg/secagg-client';
import { SecAggServer, unmaskSum, type UnmaskJob } from '../fl/secagg/secagg-server';
import type { SealedShare } from '../fl/secagg/messages';

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

/** A secure round of 4 clients in which `dropped` share their secrets and then vanish: the unmask job it ends with. */
async function secureJob(dropped: string[]): Promise<{ job: UnmaskJob; expected: Uint32Array }> {
  const ids = ['a', 'b', 'c', 'd'];
  const length = 6;
  const server = new SecAggServer({ sessionId: 'S', round: 2, length, invited: ids, graphSeed: 5 });
  const clients = new Map(ids.map((id) => [id, new SecAggClient(id, 'S', 2, length)]));
  for (const c of clients.values()) server.receiveAdvertisement(await c.advertise());
  const setups = server.setups();
  const inbox = new Map<string, SealedShare[]>(ids.map((id) => [id, []]));
  for (const [id, c] of clients) for (const b of server.receiveShares(id, await c.shareSecrets(setups.get(id)!))) inbox.get(b.to)!.push(b);
  for (const [id, c] of clients) await c.receiveShares(inbox.get(id)!);
  const expected = new Uint32Array(length);
  for (const [id, c] of clients) {
    if (dropped.includes(id)) continue;
    const input = Uint32Array.from({ length }, (_, i) => (id.charCodeAt(0) * 1000 + i) >>> 0);
    for (let i = 0; i < length; i++) expected[i] = (expected[i] + input[i]) >>> 0;
    server.receiveMasked(await c.mask(input));
  }
  const request = server.unmaskRequest();
  return { job: server.unmaskJob(request.survivors.map((id) => clients.get(id)!.unmask(request))), expected };
}

describe('WorkerAggregator', () => {
  afterEach(() => {
    closeInProcessWorkers();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('takes the masks off a secure sum in the worker, with and without a dropout, and leaves the job usable', async () => {
    const aggregator = new WorkerAggregator(aggregationWorker());
    for (const dropped of [[], ['c']]) {
      const { job, expected } = await secureJob(dropped);
      expect(Array.from(await aggregator.unmask(job))).toEqual(Array.from(expected));
      expect(Array.from(await unmaskSum(job))).toEqual(Array.from(expected));
    }
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
