/**
 * The worker's logic (TrainingSession) run directly in Node on the backends Node has (wasm, cpu):
 * the same code the module worker exposes over Comlink.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { nodeWasmBinaryDir } from '../fl/backend/node-backend';
import { loadMnistNode } from '../fl/data/node-loaders';
import { cnnSpec, mlpSpec, tabularSpec } from '../fl/models';
import type { TrainRequest } from '../fl/local-trainer';
import { addScaledWeights, l2Norm, layoutOf } from '../fl/weights';
import { splitLocalDataset } from '../data/split';
import type { WorkerProgress } from './api';
import { TrainingSession, assertDataFitsModel } from './session';

const mnist = loadMnistNode('train', 600);
const { train, eval: evalData } = splitLocalDataset(mnist, 0.2, 5);
const MLP = mlpSpec([28, 28, 1], 10, [16]);

function request(round: number, weights: TrainRequest['weights'], localEpochs = 1): TrainRequest {
  return { round, model: MLP, strategy: { name: 'fedavg' }, train: { localEpochs, batchSize: 32, learningRate: 0.1, seed: round }, weights };
}

async function loadedSession(): Promise<TrainingSession> {
  const s = new TrainingSession({ wasmPaths: nodeWasmBinaryDir() });
  await s.loadData({ kind: 'datasets', name: 'mnist-600', train, eval: evalData });
  return s;
}

describe('TrainingSession (Node: wasm and cpu)', () => {
  it('probes the backends it has, explains the ones it lacks, and activates the fastest', async () => {
    const s = await loadedSession();
    const report = await s.selectBackend('auto', MLP);
    const byName = Object.fromEntries(report.probes.map((p) => [p.backend, p]));
    expect(byName.webgpu.ok).toBe(false);
    expect(byName.webgpu.error).toMatch(/WebGPU is not available/);
    expect(byName.webgl.error).toMatch(/not registered/);
    expect(byName.wasm.ok && byName.cpu.ok).toBe(true);
    const fastest = byName.wasm.samplesPerSecond! >= byName.cpu.samplesPerSecond! ? 'wasm' : 'cpu';
    expect(report.backend).toBe(fastest);
    expect(tf.getBackend()).toBe(fastest);
    expect(report.reason).toMatch(/fastest in a mlp training probe/);
    s.dispose();
  });

  it('trains rounds whose updates match the model layout, with a stable tensor count', async () => {
    const s = await loadedSession();
    await s.selectBackend('cpu', MLP);
    let weights = await s.initialWeights(MLP);
    const counts: number[] = [];
    const losses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const r = await s.train(request(round, weights));
      expect(layoutOf(r.delta)).toEqual(layoutOf(weights));
      expect(r.numSamples).toBe(train.labels.length);
      expect(r.backend).toBe('cpu');
      expect(r.backendSwitches).toEqual([]);
      expect(l2Norm(r.delta)).toBeGreaterThan(0);
      weights = addScaledWeights(weights, r.delta);
      counts.push(s.memory().numTensors);
      losses.push(r.metrics.trainLoss);
    }
    expect(new Set(counts).size).toBe(1);
    expect(losses[3]).toBeLessThan(losses[0]);

    const ev = await s.evaluate(MLP, [await s.initialWeights(MLP), weights]);
    expect(ev.numSamples).toBe(evalData.labels.length);
    expect(ev.losses[1]).toBeLessThan(ev.losses[0]);
    expect(ev.accuracies[1]).toBeGreaterThan(0.5);
    s.dispose();
  });

  it('trains the CNN on wasm thanks to the conv-gradient patch', async () => {
    const s = await loadedSession();
    const cnn = cnnSpec([28, 28, 1], 10);
    const report = await s.selectBackend('wasm', cnn);
    expect(report.backend).toBe('wasm');
    const r = await s.train({ ...request(0, await s.initialWeights(cnn)), model: cnn });
    expect(r.backend).toBe('wasm');
    expect(r.metrics.evalAccuracy).toBeGreaterThan(0.2);
    s.dispose();
  });

  it('stops a round on cancel() and reports it; the next round runs in full', async () => {
    const s = await loadedSession();
    await s.selectBackend('cpu', MLP);
    const weights = await s.initialWeights(MLP);
    const seen: WorkerProgress[] = [];
    const r = await s.train(request(0, weights, 50), (p) => {
      seen.push(p);
      s.cancel();
    });
    expect(r.cancelled).toBe(true);
    expect(seen.at(-1)!.epoch).toBe(0);
    expect(seen[0]).toMatchObject({ round: 0, backend: 'cpu', batchesPerEpoch: Math.ceil(train.labels.length / 32) });
    const next = await s.train(request(1, weights));
    expect(next.cancelled).toBe(false);
    s.dispose();
  });

  it('falls back from a forced backend Node lacks, naming the reason', async () => {
    const s = await loadedSession();
    const report = await s.selectBackend('webgl', MLP);
    expect(report.backend).toBe('wasm');
    expect(report.notices[0]).toMatch(/requested backend 'webgl' is not available \(webgl: the webgl backend is not registered.*falling back to 'wasm'/);
    s.dispose();
  });

  it('refuses to train before data is loaded, and data that does not fit the model', async () => {
    const empty = new TrainingSession();
    await expect(empty.train(request(0, []))).rejects.toThrow(/no local data loaded \(call loadData first\)/);
    const s = await loadedSession();
    await expect(s.train({ ...request(0, []), model: mlpSpec([32, 32, 3], 10) })).rejects.toThrow(/images of shape \[28,28,1\], but the mlp model expects \[32,32,3\]/);
    expect(() => assertDataFitsModel(tabularSpec(4, 10), train)).toThrow(/are images \[28,28,1\], but the model is tabular/);
    expect(() => assertDataFitsModel(mlpSpec([28, 28, 1], 5), train)).toThrow(/have 10 classes, but the model predicts only 5/);
    await expect(s.loadData({ kind: 'stored' })).rejects.toThrow(/IndexedDB is not available here/);
    await expect(s.loadData({ kind: 'datasets', name: 'x', train: { ...train, labels: new Int32Array(3) }, eval: evalData })).rejects.toThrow(/not a data source/);
    s.dispose();
  });
});
