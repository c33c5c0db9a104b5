import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlClient } from './client';
import { subsetDataset, type ImageDataset } from './data/dataset';
import { loadMnistNode } from './data/node-loaders';
import { partitionIndices } from './data/partition';
import { splitTrainEval } from './data/split';
import { RoundEngine } from './engine';
import { InMemoryNetwork } from './in-memory-transport';
import { TfLocalTrainer } from './local-trainer';
import { buildModel, getWeights, mlpSpec } from './models';
import type { Message } from './protocol';
import { settleFake } from './testing/fake-time';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every byte a message carries: typed arrays as their raw bytes, everything else as JSON text. */
function messageBytes(message: Message): Buffer {
  const parts: Buffer[] = [];
  const walk = (x: unknown): void => {
    if (ArrayBuffer.isView(x)) parts.push(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(message);
  parts.push(Buffer.from(JSON.stringify(message, (_k, v) => (ArrayBuffer.isView(v) ? undefined : v))));
  return Buffer.concat(parts);
}

// The engine's deadlines and the in-memory network's deliveries run on fake time: no outcome depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('data privacy', () => {
  it('raw samples never enter the transport: not as bytes, not as scaled floats; hello carries counts only', async () => {
    const all = loadMnistNode('train', 600);
    const spec = mlpSpec([28, 28, 1], 10, [16]);
    const parts = partitionIndices(all.labels, 10, 3, { kind: 'dirichlet', alpha: 0.5 }, 3);
    const sent: Message[] = [];
    const progressTo = new Set<string>();
    const network = new InMemoryNetwork({ tap: (_from, to, m) => (sent.push(m), m.type === 'progress' && progressTo.add(to)) });
    const locals = parts.clients.map((idx, k) => splitTrainEval(subsetDataset(all, idx), 0.2, k));
    const model = buildModel(spec, 1);
    const engine = new RoundEngine(
      network.endpoint('agg'),
      { model: spec, strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 }, train: { localEpochs: 1, batchSize: 32, learningRate: 0.05 }, minClients: 3, fraction: 1, decomposition: 'exact', decompositionEvery: 1, seed: 1 },
      { weights: await getWeights(model) },
    );
    const clients = locals.map((d, k) => new FlClient(network.endpoint(`c${k}`), 'agg', new TfLocalTrainer(d.train, d.eval, () => 'cpu'), { name: `c${k}` }));
    await Promise.all(clients.map((c) => c.join()));
    await settleFake(engine.waitForClients(3, 5000));
    const report = await settleFake(engine.runRound());
    expect(report?.decomposition).not.toBeNull();

    const allowed = new Set(['hello', 'round-start', 'update', 'progress', 'eval-request', 'eval-result', 'round-result']);
    expect(sent.every((m) => allowed.has(m.type))).toBe(true);
    for (const m of sent) {
      if (m.type === 'hello') {
        expect(Object.keys(m).sort()).toEqual(['backend', 'clientName', 'labelHistogram', 'numSamples', 'type', 'v']);
        expect(m.labelHistogram.reduce((a, b) => a + b, 0)).toBe(m.numSamples);
      }
      if (m.type === 'progress') expect(Object.keys(m).sort()).toEqual(['assignment', 'fraction', 'type', 'v']);
    }
    // Progress reports (the first of each round goes out at once) reach the aggregator alone.
    expect([...progressTo]).toEqual(['agg']);
    const wire = Buffer.concat(sent.map(messageBytes));
    // Probe with 48-byte windows from the middle of every client's samples (the centre of a digit is never blank).
    let probes = 0;
    for (const { train, eval: ev } of locals) {
      for (const ds of [train, ev] as ImageDataset[]) {
        for (let s = 0; s < ds.labels.length; s += 7) {
          const raw = ds.images.subarray(s * 784 + 380, s * 784 + 428);
          if (raw.every((b) => b === 0)) continue;
          const scaled = Float32Array.from(raw, (b) => b / 255);
          expect(wire.indexOf(Buffer.from(raw))).toBe(-1);
          expect(wire.indexOf(Buffer.from(scaled.buffer))).toBe(-1);
          probes++;
        }
      }
    }
    expect(probes).toBeGreaterThan(50);
    // The probe can see data when it is there: the same search finds a sample smuggled into a message.
    const smuggled = locals[0].train.images.subarray(380, 428);
    const leaky = messageBytes({ type: 'error', v: 1, reason: 'x', extra: Uint8Array.from(smuggled) } as unknown as Message);
    expect(leaky.indexOf(Buffer.from(smuggled))).toBeGreaterThanOrEqual(0);
    engine.dispose();
    model.dispose();
  });
});
