import { describe, expect, it } from 'vitest';
import { FedAvgAggregator } from '../strategies/fedavg-aggregator';
import { createAggregator } from '../strategies/aggregators';
import type { Aggregator, ClientUpdate } from '../strategies/types';
import type { WeightSet } from '../weights';
import { AsyncAggregation } from './async-aggregation';
import type { BufferedUpdate } from './buffer';
import { formatStaleness, parseStaleness, stalenessWeight } from './staleness';
import { robustSettings } from '../robust';

const ws = (...values: number[]): WeightSet => [{ name: 'w', shape: [values.length], values: Float32Array.from(values) }];

function update(clientId: string, seq: number, baseVersion: number, delta: number[], numSamples = 10): BufferedUpdate {
  return { clientId, key: `${clientId}#${seq}`, baseVersion, delta: ws(...delta), numSamples, arrivedAt: 0 };
}

describe('staleness functions', () => {
  it('match their definitions', () => {
    for (const tau of [0, 1, 2, 5, 17]) {
      expect(stalenessWeight({ kind: 'constant' }, tau)).toBe(1);
      expect(stalenessWeight({ kind: 'poly', a: 0.5 }, tau)).toBeCloseTo(1 / Math.sqrt(1 + tau), 12);
      expect(stalenessWeight({ kind: 'hinge', a: 2, b: 3 }, tau)).toBeCloseTo(tau <= 3 ? 1 : 1 / (2 * (tau - 3) + 1), 12);
    }
    expect(() => stalenessWeight({ kind: 'constant' }, -1)).toThrow();
  });

  it('parse and print', () => {
    expect(parseStaleness('poly:0.5')).toEqual({ kind: 'poly', a: 0.5 });
    expect(parseStaleness('hinge:10:4')).toEqual({ kind: 'hinge', a: 10, b: 4 });
    expect(formatStaleness(parseStaleness('hinge:10:4'))).toBe('hinge:10:4');
    for (const bad of ['poly', 'poly:', 'poly:-1', 'hinge:1', 'hinge:1:0.5', 'exp:1', 'constant:1']) expect(() => parseStaleness(bad)).toThrow(RangeError);
  });
});

describe('AsyncAggregation', () => {
  it("with the default defence, a scaled (x1e6) update in the buffer is shrunk to the round's median norm; with outliers 'drop', dropped with a reason", () => {
    const buffer = () => [update('a', 0, 0, [0.1, 0.2, 0.1]), update('b', 0, 0, [0.2, 0.1, 0.1]), update('c', 0, 0, [0.1, 0.1, 0.2]), update('evil', 0, 0, [1e5, 2e5, 1e5])];
    const defence = { settings: robustSettings('clip'), strategy: 'fedavg', declaredSamples: () => 10 };
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 4, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0, 0, 0), 0, defence);
    for (const u of buffer()) agg.submit(u);
    const step = agg.step()!;
    expect(step.rejected).toEqual([]);
    expect(step.used.map((u) => u.clientId).sort()).toEqual(['a', 'b', 'c', 'evil']);
    // Its direction (1, 2, 1) at the median norm sqrt(0.06): a quarter of that in the mean.
    const evil = [1, 2, 1].map((x) => (x * Math.sqrt(0.06)) / Math.sqrt(6));
    Array.from(step.global[0].values).forEach((v, i) => expect(v).toBeCloseTo((0.4 + evil[i]) / 4, 5));
    const dropping = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 4, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0, 0, 0), 0, { ...defence, settings: robustSettings({ outliers: 'drop' }) });
    for (const u of buffer()) dropping.submit(u);
    const dropped = dropping.step()!;
    expect(dropped.rejected.map((r) => r.clientId)).toEqual(['evil']);
    Array.from(dropped.global[0].values).forEach((v) => expect(v).toBeCloseTo(0.4 / 3, 5));
    // Without the defence the same buffer is poisoned.
    const open = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 4, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0, 0, 0));
    for (const u of [update('a', 0, 0, [0.1, 0.2, 0.1]), update('b', 0, 0, [0.2, 0.1, 0.1]), update('c', 0, 0, [0.1, 0.1, 0.2]), update('evil', 0, 0, [1e5, 2e5, 1e5])]) open.submit(u);
    expect(open.step()!.global[0].values[0]).toBeGreaterThan(1e4);
  });

  it('a step equals a direct reference: w + sum_i (n_i / n) s(tau_i) delta_i', () => {
    const staleness = { kind: 'poly' as const, a: 0.7 };
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 2, staleness, maxStaleness: null }, ws(1, 2, 3));
    agg.submit(update('a', 0, 0, [1, 0, 0], 10));
    agg.submit(update('b', 0, 0, [0, 1, 0], 30));
    const first = agg.step()!;
    expect(first.version).toBe(1);
    // Now three updates: tau 1, 1 and 0.
    agg.submit(update('c', 0, 0, [2, 2, 2], 20));
    agg.submit(update('d', 0, 0, [0, 0, 4], 20));
    agg.submit(update('a', 1, 1, [-1, 1, 0], 10));
    const before = Array.from(agg.global[0].values);
    const second = agg.step(3)!;
    const s1 = Math.pow(2, -0.7);
    const expected = before.map((w, i) => w + (20 / 50) * s1 * [2, 2, 2][i] + (20 / 50) * s1 * [0, 0, 4][i] + (10 / 50) * 1 * [-1, 1, 0][i]);
    Array.from(second.global[0].values).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(second.used.map((u) => [u.clientId, u.staleness])).toEqual([['c', 1], ['d', 1], ['a', 0]]);
    expect(second.used[0].weight).toBeCloseTo(s1, 12);
    // The first step: plain sample-weighted mean (tau 0 everywhere).
    Array.from(first.global[0].values).forEach((v, i) => expect(v).toBeCloseTo([1 + 0.25, 2 + 0.75, 3][i], 6));
  });

  it('hands the strategy the buffer through aggregate(global, updates), deltas scaled by s(tau)', () => {
    const seen: ClientUpdate[][] = [];
    const spy: Aggregator = { aggregate: (g, u) => (seen.push(u), g.map((t) => ({ ...t, values: t.values.map((x) => x + 1) }))) };
    const agg = new AsyncAggregation(spy, { bufferSize: 1, staleness: { kind: 'hinge', a: 1, b: 0 }, maxStaleness: null }, ws(0));
    agg.submit(update('a', 0, 0, [4]));
    agg.submit(update('b', 0, 0, [4]));
    agg.step();
    agg.step();
    expect(seen.map((u) => u.map((x) => x.delta[0].values[0]))).toEqual([[4], [2]]);
  });

  it('a client holds one place in a step: its newer update replaces its older one, still waiting', () => {
    const agg = new AsyncAggregation(createAggregator({ name: 'fedld', lambda: 0.1, rho: 0.8 }), { bufferSize: 3, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0));
    expect(agg.submit(update('a', 0, 0, [1]))).toBe('buffered');
    expect(agg.submit(update('a', 1, 0, [2]))).toBe('superseded');
    expect(agg.submit(update('b', 2, 0, [3]))).toBe('buffered');
    // However fast 'a' answers, the step waits for a third client.
    expect(agg.ready).toBe(false);
    expect(agg.submit(update('c', 3, 0, [4]))).toBe('buffered');
    const step = agg.step()!;
    expect(step.used.map((u) => u.key)).toEqual(['a#1', 'b#2', 'c#3']);
    expect(step.version).toBe(1);
  });

  it('never aggregates an update twice and never loses one', () => {
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 3, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0));
    const submitted: string[] = [];
    let seq = 0;
    for (let i = 0; i < 20; i++) {
      const u = update(`c${i % 4}`, seq++, agg.version, [1]);
      expect(['buffered', 'superseded']).toContain(agg.submit(u));
      submitted.push(u.key);
      expect(agg.submit({ ...u })).toBe('duplicate'); // the same update delivered twice
      if (i % 5 === 4) agg.step();
    }
    const used: string[] = [];
    let r;
    const stepsBefore = agg.version;
    // Steps taken during the loop, then drain.
    expect(stepsBefore).toBe(4);
    while ((r = agg.step())) used.push(...r.used.map((u) => u.key));
    // Everything submitted after the last in-loop step was used exactly once by the drain, and every key once overall.
    expect(agg.waiting).toBe(0);
    expect(new Set(used).size).toBe(used.length);
    expect(agg.submit(update('c0', 0, agg.version, [1]))).toBe('duplicate'); // an old key, even after it left the buffer
  });

  it('counts every submitted update exactly once across all steps', () => {
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 4, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0));
    const keys: string[] = [];
    const used: string[] = [];
    for (let i = 0; i < 37; i++) {
      const u = update(`c${i % 5}`, i, agg.version, [1]);
      agg.submit(u);
      agg.submit(u);
      keys.push(u.key);
      if (agg.ready) used.push(...agg.step()!.used.map((c) => c.key));
    }
    let r;
    while ((r = agg.step())) used.push(...r.used.map((c) => c.key));
    expect(used).toEqual(keys);
  });

  it('drops updates past the maximum staleness, at arrival and at the step', () => {
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 1, staleness: { kind: 'constant' }, maxStaleness: 1 }, ws(0));
    agg.submit(update('a', 0, 0, [1]));
    agg.step();
    agg.submit(update('a', 1, 1, [1]));
    agg.step();
    expect(agg.version).toBe(2);
    expect(agg.submit(update('b', 0, 0, [100]))).toBe('too-stale');
    expect(agg.submit(update('c', 0, 1, [1]))).toBe('buffered'); // tau 1 now
    expect(agg.submit(update('d', 0, 2, [1]))).toBe('buffered');
    expect(agg.step()!.used.map((u) => u.staleness)).toEqual([1]);
    // Three updates from version 3 wait; the third is 2 > 1 steps stale when its turn comes.
    for (const id of ['x', 'y', 'z']) expect(agg.submit(update(id, 0, 3, [1]))).toBe('buffered');
    expect(agg.step()!.used.map((u) => [u.key, u.staleness])).toEqual([['d#0', 1]]);
    expect(agg.step()!.used.map((u) => [u.key, u.staleness])).toEqual([['x#0', 1]]);
    let dropped: string[] = [];
    const before = agg.global;
    expect(agg.step(2, (d) => (dropped = d.map((x) => `${x.key}:${x.staleness}`)))).toBeNull();
    expect(dropped).toEqual(['y#0:2', 'z#0:2']);
    expect(agg.global).toBe(before);
    expect(agg.waiting).toBe(0);
  });

  it('duration weighting: an update counts in proportion to its duration over the mean duration so far (capped)', () => {
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 2, staleness: { kind: 'constant' }, maxStaleness: null, participation: 'duration' }, ws(0));
    const timed = (id: string, seq: number, startedAt: number, arrivedAt: number, d: number): BufferedUpdate => ({ ...update(id, seq, agg.version, [d]), startedAt, arrivedAt });
    agg.submit(timed('fast', 0, 0, 1, 1));
    agg.submit(timed('slow', 0, 0, 5, 1));
    const r = agg.step()!;
    // Mean duration 3: factors 1/3 and 5/3; equal sample counts, so the new weight is (1/3 + 5/3) / 2 = 1.
    expect(r.used.map((u) => u.weight)).toEqual([expect.closeTo(1 / 3, 12), expect.closeTo(5 / 3, 12)]);
    expect(agg.global[0].values[0]).toBeCloseTo(1, 6);
    for (let i = 1; i <= 40; i++) agg.submit(timed(`fast${i}`, i, i, i + 1, 1));
    agg.submit(timed('glacial', 0, 0, 1000, 1)); // mean now (1 + 5 + 40 + 1000) / 43 = 24.3: 41x, capped
    const capped = agg.step(41)!;
    expect(capped.used[40].weight).toBe(10);
    expect(capped.used[0].weight).toBe(0.1); // 43 / 1046 = 0.04, floored at 1 / 10
    expect(() => agg.submit({ ...update('x', 0, agg.version, [1]) })).toThrow(/startedAt/);
  });

  it('refuses malformed updates', () => {
    const agg = new AsyncAggregation(new FedAvgAggregator(), { bufferSize: 1, staleness: { kind: 'constant' }, maxStaleness: null }, ws(0, 0));
    expect(() => agg.submit(update('a', 0, 0, [1]))).toThrow(/tensor|values|shape/);
    expect(() => agg.submit(update('a', 1, 0, [NaN, 1]))).toThrow(/non-finite/);
    expect(() => agg.submit(update('a', 2, 0, [1, 1], 0))).toThrow(/sample count/);
    expect(() => agg.submit(update('a', 3, 5, [1, 1]))).toThrow(/version/);
    expect(agg.waiting).toBe(0);
  });
});
