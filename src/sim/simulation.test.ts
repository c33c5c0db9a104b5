import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runSimulation, SIM_DEFAULTS, type SimConfig } from './simulation';

const small: SimConfig = {
  ...SIM_DEFAULTS,
  limit: 1500,
  testLimit: 500,
  clients: 3,
  rounds: 3,
  partition: { kind: 'dirichlet', alpha: 0.5 },
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  backend: 'wasm',
};

describe('simulator on real MNIST', () => {
  it('3 clients, 3 rounds of FedLD end well above chance, and the decomposition sums to the global loss every round', async () => {
    const result = await runSimulation(small);
    expect(result.rounds).toHaveLength(3);
    expect(result.final.accuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(result.final.bestAccuracy).toBeGreaterThanOrEqual(result.final.accuracy);
    for (const r of result.rounds) {
      const d = r.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-6);
      expect(r.participants).toBe(3);
    }
    expect(result.partition.histograms).toHaveLength(3);
    const total = result.partition.histograms.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(1500);
  });

  it('the same seed gives the same numbers; another seed gives others', async () => {
    const cfg = { ...small, rounds: 2, strategy: { name: 'fedavg' as const } };
    const a = await runSimulation(cfg);
    const b = await runSimulation(cfg);
    const c = await runSimulation({ ...cfg, seed: 2 });
    const numbers = (r: typeof a) => r.rounds.map((x) => [x.accuracy, x.loss, x.decomposition!.local, x.decomposition!.shift, x.decomposition!.aggregation]);
    expect(numbers(b)).toEqual(numbers(a));
    expect(numbers(c)).not.toEqual(numbers(a));
  });

  it('the tensor count does not grow across 5 simulated rounds', async () => {
    const counts: number[] = [];
    await runSimulation({ ...small, rounds: 5, limit: 600, strategy: { name: 'fedprox', mu: 0.01 } }, { onRound: () => counts.push(tf.memory().numTensors) });
    expect(counts).toHaveLength(5);
    expect(counts[4]).toBe(counts[0]);
  });

  it('partial participation trains a share of the clients each round', async () => {
    const result = await runSimulation({ ...small, clients: 4, fraction: 0.5, rounds: 2, limit: 800 });
    expect(result.rounds.map((r) => r.participants)).toEqual([2, 2]);
  });

  it('through the int8 wire format, costs about a quarter of the float32 bytes and still learns', async () => {
    const f32 = await runSimulation({ ...small, rounds: 2, codec: 'float32' });
    const i8 = await runSimulation({ ...small, rounds: 2, codec: 'int8' });
    const ratio = i8.rounds[1].bytes / f32.rounds[1].bytes;
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThan(0.27);
    expect(i8.final.accuracy).toBeGreaterThan(0.5);
    expect(Math.abs(i8.final.accuracy - f32.final.accuracy)).toBeLessThan(0.05);
  });
});
