import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseAttacks } from './attacks';
import { runSimulation, SIM_DEFAULTS, type SimConfig, type SimResult } from './simulation';

/** The JSON of a run without what is measured rather than computed. */
function reproducible(r: SimResult): unknown {
  const { resources: _resources, config, ...rest } = r;
  return JSON.parse(
    JSON.stringify({
      ...rest,
      backend: r.backend.name,
      config: { ...config, workers: 0 },
      rounds: r.rounds.map(({ trainMs: _t, aggregateMs: _a, evalMs: _e, ...x }) => x),
    }),
  );
}

const tiny: SimConfig = {
  ...SIM_DEFAULTS,
  limit: 900,
  testLimit: 300,
  clients: 6,
  fraction: 0.5,
  rounds: 2,
  partition: { kind: 'dirichlet', alpha: 0.5 },
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  backend: 'wasm',
};

describe('simulator on worker threads', () => {
  it('--workers 2 gives the same JSON (timings aside) as --workers 1, and leaves no tensors behind', async () => {
    tf.env().set('PROD', true);
    const one = await runSimulation({ ...tiny, workers: 1 });
    const before = tf.memory().numTensors;
    const two = await runSimulation({ ...tiny, workers: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(two.resources.runner).toBe('2 worker threads');
    expect(one.resources.runner).toBe('in-process');
    expect(reproducible(two)).toEqual(reproducible(one));
    expect(two.rounds.map((r) => r.participants)).toEqual([3, 3]);
    // A different seed changes the numbers, so equality above is not vacuous.
    const other = await runSimulation({ ...tiny, workers: 2, seed: 2 });
    expect(other.rounds.map((r) => r.loss)).not.toEqual(two.rounds.map((r) => r.loss));
  }, 180_000);

  it('label-flip attackers poison their training data on worker threads as in-process', async () => {
    const flipped: SimConfig = { ...tiny, fraction: 1, rounds: 1, attack: { attackers: 3, attacks: parseAttacks('label-flip:0') } };
    const one = await runSimulation({ ...flipped, workers: 1 });
    const two = await runSimulation({ ...flipped, workers: 2 });
    expect(reproducible(two)).toEqual(reproducible(one));
    const clean = await runSimulation({ ...flipped, attack: null, workers: 2 });
    expect(two.rounds[0].perClassAccuracy[0]).toBeGreaterThan(clean.rounds[0].perClassAccuracy[0]!);
  }, 180_000);
});
