import { describe, expect, it } from 'vitest';
import { aggregateRound, type AggregationJob } from './aggregate-round';
import { privacyProblem, privateAggregateRound, type PrivacySettings } from './private-aggregation';
import { robustSettings } from './robust';
import { Rng } from './rng';
import type { ClientUpdate, StrategyConfig } from './strategies/types';
import type { WeightSet } from './weights';

const rng = new Rng(21);
const layout = [
  { name: 'dense/kernel', shape: [40, 5] },
  { name: 'dense/bias', shape: [5] },
];
const randomSet = (scale: number): WeightSet => layout.map((l) => ({ name: l.name, shape: [...l.shape], values: Float32Array.from({ length: l.shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()) }));
const global = randomSet(1);
const ids = Array.from({ length: 10 }, (_, i) => `client-${i}`);

function updates(withControl = false): ClientUpdate[] {
  return ids.map((clientId, k) => ({ clientId, delta: randomSet(0.01), numSamples: 20 + 7 * k, ...(withControl ? { extras: { deltaC: randomSet(0.01) } } : {}) }));
}

function job(strategy: StrategyConfig, u: ClientUpdate[]): AggregationJob {
  return { strategy, round: 2, population: 10, global, state: null, updates: u, declaredSamples: Object.fromEntries(u.map((x) => [x.clientId, x.numSamples])), robust: robustSettings('off'), valuesScanned: true };
}

const secure: PrivacySettings = { secureAggregation: true, clipNorm: 100, noiseMultiplier: 0, delta: 1e-5, budget: null };
const ctx = { sessionId: 'S', selected: 10, graphSeed: 3, noiseFor: () => new Rng(1) };

function maxDiff(a: WeightSet, b: WeightSet): number {
  let m = 0;
  a.forEach((t, ti) => t.values.forEach((x, i) => (m = Math.max(m, Math.abs(x - b[ti].values[i])))));
  return m;
}

describe('private aggregation of a round', () => {
  it('gives FedAvg\'s new model to the quantisation error, without dropouts and with the dropouts it tolerates', async () => {
    const u = updates();
    const plain = aggregateRound(job({ name: 'fedavg' }, u));
    const { outcome, stats } = await privateAggregateRound(job({ name: 'fedavg' }, u), secure, ctx);
    if (!plain.ok || !outcome.ok) throw new Error('aggregation failed');
    expect(maxDiff(outcome.global, plain.global)).toBeLessThan(1e-5);
    expect(outcome.accepted.map((a) => a.numSamples)).toEqual(u.map((x) => x.numSamples));
    expect(stats).toMatchObject({ survivors: 10, noiseMultiplier: 0, clientsClipped: 0, clamped: 0 });
    expect(stats.secagg).toMatchObject({ degree: 8, threshold: 5 });
    // 10 clients, degree 8, threshold 5: any 3 may drop after sharing.
    const gone = ['client-1', 'client-4', 'client-8'];
    const kept = u.filter((x) => !gone.includes(x.clientId));
    const plainKept = aggregateRound(job({ name: 'fedavg' }, kept));
    const dropped = await privateAggregateRound(job({ name: 'fedavg' }, u), secure, { ...ctx, dropAfterSharing: gone });
    if (!plainKept.ok || !dropped.outcome.ok) throw new Error('aggregation failed');
    expect(dropped.stats.survivors).toBe(7);
    expect(maxDiff(dropped.outcome.global, plainKept.global)).toBeLessThan(1e-5);
    await expect(privateAggregateRound(job({ name: 'fedavg' }, u), secure, { ...ctx, dropAfterSharing: ['client-1', 'client-2', 'client-4', 'client-6', 'client-8'] })).rejects.toThrow(/cannot be unmasked/);
  });

  it('gives SCAFFOLD\'s model and control variate, with a server optimizer, as the plain aggregation does', async () => {
    // Random updates do not follow SCAFFOLD's delta-c rule: the plain aggregation's check of it is off (controlCosine -1).
    for (const strategy of [{ name: 'scaffold', weighting: 'samples', controlCosine: -1, serverOpt: 'adam', serverLr: 0.1 }, { name: 'scaffold', weighting: 'uniform', controlCosine: -1 }] as StrategyConfig[]) {
      const u = updates(true);
      const plain = aggregateRound(job(strategy, u));
      const { outcome } = await privateAggregateRound(job(strategy, u), secure, ctx);
      if (!plain.ok || !outcome.ok) throw new Error(`aggregation failed: ${JSON.stringify([plain.ok || plain.reason, outcome.ok || outcome.reason])}`);
      expect(maxDiff(outcome.global, plain.global)).toBeLessThan(1e-5);
      for (const [name, tensors] of Object.entries(plain.state!.tensors)) expect(maxDiff(outcome.state!.tensors[name], tensors)).toBeLessThan(1e-5);
    }
    // The delta-c check needs each update: on the noised mean it would refuse honest rounds, so private rounds skip it.
    const noisy = await privateAggregateRound(job({ name: 'scaffold' }, updates(true)), { ...secure, clipNorm: 0.01, noiseMultiplier: 1 }, ctx);
    expect(noisy.outcome).toMatchObject({ ok: true, combiner: 'secure sum', dropped: [] });
  });

  it('without secure aggregation, sums in the clear with the same client-side clipping and noise', async () => {
    const u = updates();
    const clear = await privateAggregateRound(job({ name: 'fedavg' }, u), { ...secure, secureAggregation: false, clipNorm: 0.05 }, ctx);
    const masked = await privateAggregateRound(job({ name: 'fedavg' }, u), { ...secure, clipNorm: 0.05 }, ctx);
    if (!clear.outcome.ok || !masked.outcome.ok) throw new Error('aggregation failed');
    expect(clear.stats.secagg).toBeNull();
    expect(clear.stats.clientsClipped).toBe(10);
    expect(maxDiff(clear.outcome.global, masked.outcome.global)).toBeLessThan(1e-6);
  });

  it('with DP noise, clips every update to C, weights clients equally, and the mean carries std sigma * C / m', async () => {
    const u = updates();
    u[0] = { ...u[0], delta: randomSet(100) }; // far over the clip norm
    const C = 0.02;
    const sigma = 2;
    const dp: PrivacySettings = { secureAggregation: true, clipNorm: C, noiseMultiplier: sigma, delta: 1e-5, budget: null };
    const noisy = await privateAggregateRound(job({ name: 'fedavg' }, u), dp, { ...ctx, noiseFor: (id) => new Rng(ids.indexOf(id) + 100) });
    const quiet = await privateAggregateRound(job({ name: 'fedavg' }, u), { ...dp, noiseMultiplier: 0 }, ctx);
    if (!noisy.outcome.ok || !quiet.outcome.ok) throw new Error('aggregation failed');
    expect(noisy.stats.clientsClipped).toBeGreaterThanOrEqual(1);
    expect(noisy.stats.noiseMultiplier).toBe(sigma);
    const quietGlobal = quiet.outcome.global;
    const diffs = noisy.outcome.global.flatMap((t, ti) => Array.from(t.values, (x, i) => x - quietGlobal[ti].values[i]));
    const sd = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / diffs.length);
    expect(sd).toBeGreaterThan(0.9 * ((sigma * C) / 10));
    expect(sd).toBeLessThan(1.1 * ((sigma * C) / 10));
    // Two of ten drop: the sum carries sigma * sqrt(8 / 10).
    const fewer = await privateAggregateRound(job({ name: 'fedavg' }, u), dp, { ...ctx, dropAfterSharing: ['client-3', 'client-5'] });
    expect(fewer.stats.noiseMultiplier).toBeCloseTo(sigma * Math.sqrt(0.8), 12);
  });

  it('refuses strategies and defences that need individual updates, saying why', () => {
    expect(privacyProblem(secure, { name: 'fedld' }, 'off')).toMatch(/FedLD: its principal-gradient step needs the pairwise products/);
    expect(privacyProblem(secure, { name: 'fedavg' }, 'clip')).toMatch(/replaces the robust screening by client-side clipping/);
    expect(privacyProblem({ ...secure, clipNorm: 0 }, { name: 'fedavg' }, 'off')).toMatch(/positive clip norm/);
    expect(privacyProblem({ ...secure, budget: 3 }, { name: 'fedavg' }, 'off')).toMatch(/budget needs DP noise/);
    expect(privacyProblem({ ...secure, noiseMultiplier: 1, budget: 3 }, { name: 'fedprox', mu: 0.01 }, 'off')).toBeNull();
  });
});
