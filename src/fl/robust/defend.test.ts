import { getStrategy } from '../strategies/registry';
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { FedAvgAggregator } from '../strategies/fedavg-aggregator';
import { FedLdAggregator } from '../strategies/fedld-aggregator';
import type { Aggregator, ClientUpdate } from '../strategies/types';
import { coordinateCombine, robustAggregate } from './defend';
import { flat, randomDelta, update, zeros } from './test-helpers';
import { robustSettings, type RobustMode, type RobustSettings } from './types';

const MAX_FLOAT = 3.4028234663852886e38;
const none = () => undefined;

function run(mode: RobustMode | Partial<RobustSettings>, updates: ClientUpdate[], aggregator: Aggregator = new FedAvgAggregator(), strategy = 'fedavg') {
  return robustAggregate({ global: zeros(), updates, declaredSamples: none, settings: robustSettings(mode), aggregator, traits: getStrategy(strategy).traits });
}

function maxFloat(rng: Rng) {
  return randomDelta(rng).map((t) => ({ ...t, values: t.values.map((v) => (v >= 0 ? MAX_FLOAT : -MAX_FLOAT)) }));
}

describe('robust aggregation of a round', () => {
  it("'clip' with FedAvg is the weighted mean of the clipped updates", () => {
    const rng = new Rng(1);
    const updates = [update('a', randomDelta(rng, 0.1, 1), 10), update('b', randomDelta(rng, 0.1, 1), 30), update('c', randomDelta(rng, 0.1, 1), 60), update('big', randomDelta(rng, 0.1, 1e4), 100)];
    const r = run({ mode: 'clip', dropFactor: Infinity }, updates);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.combiner).toBe('strategy');
    expect(r.clipped.map((c) => c.clientId)).toContain('big');
    const expected = new FedAvgAggregator().aggregate(zeros(), r.accepted);
    expect(flat(r.global)).toEqual(flat(expected));
    expect(Math.max(...flat(r.global).map(Math.abs))).toBeLessThan(10);
  });

  it("'trimmed-mean' and 'median' replace FedAvg's mean with the coordinate-wise statistic (direct reference)", () => {
    const rng = new Rng(2);
    const updates = Array.from({ length: 5 }, (_, k) => update(`c${k}`, randomDelta(rng, 0.3, 1), 10 * (k + 1)));
    for (const mode of ['trimmed-mean', 'median'] as const) {
      const r = run(mode, updates);
      expect(r.ok && r.combiner).toBe(mode);
      if (!r.ok) return;
      const columns = flat(r.accepted[0].delta).map((_, i) => r.accepted.map((u) => flat(u.delta)[i]).sort((a, b) => a - b));
      const ref = columns.map((c) => (mode === 'median' ? c[2] : (c[1] + c[2] + c[3]) / 3));
      flat(r.global).forEach((x, i) => expect(x).toBeCloseTo(ref[i], 5));
    }
  });

  it('with FedLD the strategy aggregates and the statistic is only the fallback', () => {
    const rng = new Rng(3);
    const updates = Array.from({ length: 4 }, (_, k) => update(`c${k}`, randomDelta(rng, 0.3, 1)));
    const r = run('median', updates, new FedLdAggregator({ rho: 0.8 }), 'fedld');
    expect(r.ok && r.combiner).toBe('strategy');
    const failing: Aggregator = {
      aggregate: () => {
        throw new Error('boom');
      },
    };
    const f = run('median', updates, failing, 'fedld');
    expect(f.ok && f.combiner).toBe('median (fallback)');
    if (f.ok) expect(flat(f.global)).toEqual(flat(coordinateCombine(zeros(), f.accepted, { mode: 'median', trimFraction: 0.2 })));
  });

  it("even 'off' never throws: updates that overflow the new model are dropped, largest first, with the reason", () => {
    const rng = new Rng(4);
    const global = zeros().map((t) => ({ ...t, values: t.values.fill(1e38) }));
    const allMax = () => zeros().map((t) => ({ ...t, values: t.values.fill(MAX_FLOAT) }));
    const honest = Array.from({ length: 3 }, (_, k) => update(`h${k}`, randomDelta(rng, 0.1)));
    const r = robustAggregate({ global, updates: [...honest, update('max', allMax(), 1e9), update('max2', allMax(), 1e9)], declaredSamples: none, settings: robustSettings('off'), aggregator: new FedAvgAggregator(), traits: getStrategy('fedavg').traits });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.accepted.map((u) => u.clientId)).toEqual(['h0', 'h1', 'h2']);
    expect(r.dropped.map((d) => d.clientId).sort()).toEqual(['max', 'max2']);
    expect(r.dropped[0].reason).toMatch(/not finite with this update, the largest of the round/);
    expect(flat(r.global).every(Number.isFinite)).toBe(true);
  });

  it('NaN, Infinity and max-float never reach the aggregate in any mode, with any strategy', () => {
    for (const mode of ['off', 'clip', 'trimmed-mean', 'median'] as const) {
      for (const strategy of ['fedavg', 'fedld'] as const) {
        const rng = new Rng(5);
        const nan = randomDelta(rng);
        nan[0].values[3] = NaN;
        const inf = randomDelta(rng);
        inf[1].values[0] = Infinity;
        const updates = [update('a', randomDelta(rng, 0.1, 0.5)), update('b', randomDelta(rng, 0.1, 0.5)), update('c', randomDelta(rng, 0.1, 0.5)), update('nan', nan), update('inf', inf), update('max', maxFloat(rng), 1e9)];
        const aggregator = strategy === 'fedld' ? new FedLdAggregator({ rho: 0.8 }) : new FedAvgAggregator();
        const r = run(mode, updates, aggregator, strategy);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        expect(flat(r.global).every(Number.isFinite)).toBe(true);
        // 'off' lets a finite max-float update through (that is what off means); every defence keeps it out.
        if (mode !== 'off') expect(Math.max(...flat(r.global).map(Math.abs))).toBeLessThan(100);
        expect(r.accepted.map((u) => u.clientId)).not.toContain('nan');
        expect(r.accepted.map((u) => u.clientId)).not.toContain('inf');
      }
    }
  });

  it('a strategy failure that is not about non-finite numbers fails the round without blaming any update', () => {
    const rng = new Rng(7);
    const updates = Array.from({ length: 4 }, (_, k) => update(`c${k}`, randomDelta(rng, 0.3, 1)));
    const failing: Aggregator = {
      aggregate: () => {
        throw new Error('numerical trouble');
      },
    };
    const r = run('clip', updates, failing, 'fedld');
    expect(r).toMatchObject({ ok: false, reason: 'numerical trouble', dropped: [] });
  });

  it('fails the round cleanly when nothing usable is left', () => {
    const rng = new Rng(6);
    const nan = randomDelta(rng);
    nan[0].values[0] = NaN;
    const r = run('clip', [update('nan', nan)]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no usable update/);
    const overflowGlobal = robustAggregate({ global: maxFloat(rng), updates: [update('m', maxFloat(rng))], declaredSamples: none, settings: robustSettings('off'), aggregator: new FedAvgAggregator(), traits: getStrategy('fedavg').traits });
    expect(overflowGlobal.ok).toBe(false);
  });
});

describe('which direction check a strategy gets', () => {
  // Four clients of two classes' mixtures and one that alone holds class 4, whose update points away from theirs; its
  // bias moves towards class 4, as cross-entropy training on its labels makes it.
  const histograms: Record<string, number[]> = { a: [5, 4, 3, 2, 0], b: [4, 5, 2, 3, 0], c: [3, 2, 5, 4, 0], d: [2, 3, 4, 5, 0], m: [0, 0, 0, 0, 9] };
  function updates(): ClientUpdate[] {
    const rng = new Rng(21);
    return Object.entries(histograms).map(([id, h]) => {
      const delta = randomDelta(rng, 0.02, id === 'm' ? -0.3 : 0.3);
      const total = h.reduce((x, y) => x + y, 0);
      h.forEach((n, c) => (delta[1].values[c] = n / total - 0.2));
      return update(id, delta);
    });
  }
  const input = (strategy: string) => ({ global: zeros(), updates: updates(), declaredSamples: none, declaredLabels: (id: string) => histograms[id], settings: robustSettings('clip'), aggregator: new FedAvgAggregator(), traits: getStrategy(strategy).traits });

  it('FedAvg, FedProx and FedLD clients are checked by their labels: the minority stays', () => {
    for (const strategy of ['fedavg', 'fedprox', 'fedld']) expect(robustAggregate(input(strategy)).dropped).toEqual([]);
  });

  it("SCAFFOLD's drift-corrected clients are checked against the consensus", () => {
    expect(robustAggregate(input('scaffold')).dropped.map((d) => d.clientId)).toEqual(['m']);
  });
});
