import { describe, expect, it } from 'vitest';
import { FedLdAggregator } from './fedld-aggregator';
import { plainMeanUpdate, principalGradientUpdate } from './principal-gradient';
import type { ClientUpdate } from './types';
import type { WeightSet } from '../weights';
import { sizeOfShape } from '../weights';
import { Rng } from '../rng';

const LAYOUT = [
  { name: 'dense/kernel', shape: [12, 6] },
  { name: 'dense/bias', shape: [6] },
  { name: 'bn/moving_mean', shape: [1] },
];

function weights(rng: Rng, scale = 1, layout = LAYOUT): WeightSet {
  return layout.map(({ name, shape }) => ({
    name,
    shape: [...shape],
    values: Float32Array.from({ length: sizeOfShape(shape) }, () => scale * rng.normal()),
  }));
}

/** Heterogeneous clients: client i's update is a shared drift plus its own noise, scaled by (i + 1). */
function clientUpdates(rng: Rng, count: number, ids = Array.from({ length: count }, (_, i) => `c${i}`)): ClientUpdate[] {
  const drift = weights(rng, 0.5);
  return ids.map((clientId, i) => {
    const noise = weights(rng);
    const delta = drift.map((t, ti) => ({ ...t, values: t.values.map((x, k) => (i + 1) * 0.01 * (x + noise[ti].values[k])) }));
    return { clientId, delta, numSamples: 10 * (i + 1) };
  });
}

function expectClose(actual: Float32Array, expected: ArrayLike<number>, tol = 1e-6) {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol);
}

const rowsOf = (updates: ClientUpdate[], ti: number) => updates.map((u) => u.delta[ti].values);
const plus = (a: Float32Array, b: Float32Array) => a.map((x, i) => x + b[i]);

describe('FedLdAggregator', () => {
  it('uses the plain unweighted mean in the first round, whatever the sample counts', () => {
    const rng = new Rng(1);
    const global = weights(rng);
    const updates = clientUpdates(rng, 5);
    const agg = new FedLdAggregator({ rho: 0.8 });
    const next = agg.aggregate(global, updates);
    next.forEach((t, ti) => {
      expect(t.name).toBe(global[ti].name);
      expect(t.shape).toEqual(global[ti].shape);
      expectClose(t.values, plus(global[ti].values, plainMeanUpdate(rowsOf(updates, ti))));
    });
    expect(agg.lastStats?.round).toBe(1);
    expect(agg.lastStats?.tensors.every((s) => s.mode === 'mean')).toBe(true);
  });

  it('uses principal gradients from the second round on (d = 1 tensors keep the mean)', () => {
    const rng = new Rng(2);
    const agg = new FedLdAggregator({ rho: 0.8 });
    const global1 = agg.aggregate(weights(rng), clientUpdates(rng, 5));
    const updates = clientUpdates(rng, 5);
    const global2 = agg.aggregate(global1, updates);
    const kernelUpdate = principalGradientUpdate(rowsOf(updates, 0), 0.8);
    expectClose(global2[0].values, plus(global1[0].values, kernelUpdate));
    expectClose(global2[1].values, plus(global1[1].values, principalGradientUpdate(rowsOf(updates, 1), 0.8)));
    expectClose(global2[2].values, plus(global1[2].values, plainMeanUpdate(rowsOf(updates, 2))));
    // Principal gradients really differ from averaging on these heterogeneous clients.
    const mean = plainMeanUpdate(rowsOf(updates, 0));
    expect(kernelUpdate.some((x, i) => Math.abs(x - mean[i]) > 1e-4)).toBe(true);
    expect(agg.lastStats?.round).toBe(2);
    expect(agg.lastStats?.clients).toBe(5);
    expect(agg.lastStats?.tensors.map((s) => [s.name, s.mode, s.directionsKept])).toEqual([
      ['dense/kernel', 'principal', 4],
      ['dense/bias', 'principal', 4],
      ['bn/moving_mean', 'mean', 0],
    ]);
    expect(agg.lastStats?.ms).toBeGreaterThanOrEqual(0);
  });

  it('keeps the plain mean for a tensor that has never moved', () => {
    const rng = new Rng(3);
    const agg = new FedLdAggregator({ rho: 1 });
    const first = clientUpdates(rng, 4);
    for (const u of first) u.delta[1].values.fill(0); // the bias stayed put in round 1
    const global1 = agg.aggregate(weights(rng), first);
    const updates = clientUpdates(rng, 4);
    const global2 = agg.aggregate(global1, updates);
    expectClose(global2[1].values, plus(global1[1].values, plainMeanUpdate(rowsOf(updates, 1))));
    expectClose(global2[0].values, plus(global1[0].values, principalGradientUpdate(rowsOf(updates, 0), 1)));
    expect(agg.lastStats?.tensors.map((s) => s.mode)).toEqual(['principal', 'mean', 'mean']);
  });

  it('aggregates over the clients present when only 3 of 5 report', () => {
    const rng = new Rng(4);
    const agg = new FedLdAggregator({ rho: 0.8 });
    const global1 = agg.aggregate(weights(rng), clientUpdates(rng, 5));
    const present = clientUpdates(rng, 3, ['c4', 'c0', 'c2']);
    const global2 = agg.aggregate(global1, present);
    expectClose(global2[0].values, plus(global1[0].values, principalGradientUpdate(rowsOf(present, 0), 0.8)));
    expect(agg.lastStats?.clients).toBe(3);
    expect(agg.lastStats?.tensors[0].directionsKept).toBe(2); // floor(0.8 * 3)
  });

  it('applies the single update unchanged when only one client reports', () => {
    const rng = new Rng(5);
    const agg = new FedLdAggregator({ rho: 0.8 });
    const global1 = agg.aggregate(weights(rng), clientUpdates(rng, 3));
    const [only] = clientUpdates(rng, 1);
    const global2 = agg.aggregate(global1, [only]);
    global2.forEach((t, ti) => expectClose(t.values, plus(global1[ti].values, only.delta[ti].values), 0));
  });

  it('does not modify its inputs', () => {
    const rng = new Rng(6);
    const global = weights(rng);
    const updates = clientUpdates(rng, 3);
    const before = [global, ...updates.map((u) => u.delta)].map((w) => w.map((t) => Array.from(t.values)));
    new FedLdAggregator({ rho: 0.8 }).aggregate(global, updates);
    const after = [global, ...updates.map((u) => u.delta)].map((w) => w.map((t) => Array.from(t.values)));
    expect(after).toEqual(before);
  });

  // The updates' layout and finiteness are checked once, by the round engine (see engine-trust.test.ts); a
  // non-finite result is still refused here.
  it('rejects a non-finite result, duplicates and empty rounds with clear errors, without advancing', () => {
    const rng = new Rng(7);
    const global = weights(rng);
    const agg = new FedLdAggregator({ rho: 0.8 });

    const overflowing = clientUpdates(rng, 3);
    overflowing.forEach((u) => u.delta[1].values.fill(3e38));
    const nearMax = global.map((t, i) => (i === 1 ? { ...t, values: new Float32Array(t.values.length).fill(3e38) } : t));
    expect(() => agg.aggregate(nearMax, overflowing)).toThrow(/FedLD: new global weights \(global \+ update overflowed float32\)/);

    const twice = clientUpdates(rng, 2, ['a', 'a']);
    expect(() => agg.aggregate(global, twice)).toThrow(/client a reported more than once/);
    expect(() => agg.aggregate(global, [])).toThrow(/no client updates/);
    const dupGlobal = [global[1], { ...global[1] }];
    expect(() => agg.aggregate(dupGlobal, [{ clientId: 'a', delta: dupGlobal, numSamples: 1 }])).toThrow(/duplicate tensor names/);
    expect(() => new FedLdAggregator({ rho: 0 })).toThrow(/rho must be in \(0, 1\]/);

    // None of the failed calls counted as a round: the next one is still the first (plain mean).
    expect(agg.lastStats).toBeNull();
    const updates = clientUpdates(rng, 3);
    const next = agg.aggregate(global, updates);
    expect(agg.lastStats?.round).toBe(1);
    expectClose(next[0].values, plus(global[0].values, plainMeanUpdate(rowsOf(updates, 0))));
  });

  it('refuses a model whose layout changed between rounds until reset()', () => {
    const rng = new Rng(8);
    const agg = new FedLdAggregator({ rho: 0.8 });
    agg.aggregate(weights(rng), clientUpdates(rng, 3));
    const other = [{ name: 'dense/kernel', shape: [4, 4] }];
    const otherGlobal = weights(rng, 1, other);
    const otherUpdates = ['x', 'y'].map((clientId) => ({ clientId, delta: weights(rng, 0.1, other), numSamples: 1 }));
    expect(() => agg.aggregate(otherGlobal, otherUpdates)).toThrow(/layout changed since earlier rounds/);
    agg.reset();
    agg.aggregate(otherGlobal, otherUpdates);
    expect(agg.lastStats?.round).toBe(1);
  });
});
