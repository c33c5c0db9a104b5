import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlClient } from './client';
import { InMemoryNetwork } from './in-memory-transport';
import type { LocalTrainer, TrainRequest, TrainResponse } from './local-trainer';
import { mlpSpec } from './models';
import { PROGRESS_REPORT } from './progress-report';
import { PROTOCOL_VERSION, type Message } from './protocol';
import type { TrainHooks } from './train';

const weights = [{ name: 'w', shape: [2], values: Float32Array.from([0, 0]) }];

/** Trains 2 epochs of 10 batches, one batch per 100 ms of (fake) time, reporting each batch as the worker would. */
class SteppingTrainer implements LocalTrainer {
  async train(req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResponse> {
    for (let epoch = 0; epoch < req.train.localEpochs; epoch++) {
      for (let batch = 1; batch <= 10; batch++) {
        await new Promise((r) => setTimeout(r, 100));
        hooks.onProgress?.({ epoch, batch, batchesPerEpoch: 10, loss: 1, samplesPerSecond: 10 });
      }
    }
    return { delta: weights, numSamples: 10, cancelled: false, metrics: { trainLoss: 1, evalLoss: 1, evalAccuracy: 0.5, trainMs: 2000, samplesPerSecond: 10 } };
  }
  async evaluate() {
    return { losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 };
  }
  async info() {
    return { backend: 'test', numSamples: 10, labelHistogram: [10] };
  }
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('FlClient progress reports', () => {
  it('go to the aggregator alone, throttled, for the round it asked, and stop with the update', async () => {
    const seen: Array<{ from: string; to: string; message: Message }> = [];
    const network = new InMemoryNetwork({ tap: (from, to, message) => seen.push({ from, to, message }) });
    const agg = network.endpoint('agg');
    network.endpoint('other');
    const client = new FlClient(network.endpoint('me'), 'agg', new SteppingTrainer(), { name: 'me' });
    await client.join();
    agg.send('me', { type: 'round-start', v: PROTOCOL_VERSION, version: 3, assignment: 4, model: mlpSpec([2], 2, []), strategy: { name: 'fedavg' }, train: { localEpochs: 2, batchSize: 8, learningRate: 0.1, seed: 1 }, weights });
    await vi.advanceTimersByTimeAsync(5_000);

    const fromMe = seen.filter((s) => s.from === 'me');
    expect(fromMe.every((s) => s.to === 'agg')).toBe(true);
    const reports = fromMe.filter((s) => s.message.type === 'progress').map((s) => s.message as Extract<Message, { type: 'progress' }>);
    expect(reports.every((m) => m.assignment === 4)).toBe(true);
    // 2 s of training with 20 batch reports: the first at once, then one per interval.
    expect(reports.length).toBeLessThanOrEqual(1 + Math.ceil(2000 / PROGRESS_REPORT.intervalMs));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[0].fraction).toBe(0.05);
    const fractions = reports.map((m) => m.fraction);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    // Nothing after the update.
    const types = fromMe.map((s) => s.message.type);
    expect(types.lastIndexOf('progress')).toBeLessThan(types.indexOf('update'));
    expect(types.at(-1)).toBe('update');
  });
});
