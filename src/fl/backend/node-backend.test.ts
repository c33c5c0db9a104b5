import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cnnSpec, mlpSpec } from '../models';
import { isBackendPreference, measureTrainingThroughput, nodeWasmBinaryDir, setupNodeBackend } from './node-backend';

describe('setupNodeBackend', () => {
  it('finds the wasm binaries in node_modules', () => {
    expect(existsSync(join(nodeWasmBinaryDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('activates the requested backend', async () => {
    expect(await setupNodeBackend('cpu')).toEqual({ backend: 'cpu', reason: "requested 'cpu'" });
    expect(tf.getBackend()).toBe('cpu');
    expect((await setupNodeBackend('wasm')).backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  // How long the probe takes is a benchmark figure (npm run bench:backends), not a unit-test assertion.
  it("'auto' probes the CNN and picks the faster backend (wasm, ~100x faster here) and says why", async () => {
    await setupNodeBackend('cpu');
    const choice = await setupNodeBackend('auto', cnnSpec([28, 28, 1], 10));
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/probe.*wasm \d+ vs cpu \d+/);
  });

  it("'auto' without a model applies the documented rule", async () => {
    const choice = await setupNodeBackend('auto');
    expect(['wasm', 'cpu']).toContain(choice.backend);
    expect(tf.getBackend()).toBe(choice.backend);
    expect(choice.reason).toMatch(/rule/);
  });

  it('rejects an unknown preference by name', async () => {
    expect(isBackendPreference('webgl')).toBe(false);
    await expect(setupNodeBackend('webgl' as never)).rejects.toThrow(/unknown backend preference 'webgl'/);
  });
});

describe('measureTrainingThroughput', () => {
  it('trains (loss falls), reports a rate and leaves no tensors behind', async () => {
    await setupNodeBackend('wasm');
    const before = tf.memory().numTensors;
    const r = await measureTrainingThroughput(mlpSpec([28, 28, 1], 10, [64]), { batchSize: 32, warmupBatches: 1, maxBatches: 20, budgetMs: 2000 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.timedBatches).toBe(20);
    expect(r.samplesPerSecond).toBeGreaterThan(0);
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
  });
});
