import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import type { ClientUpdate } from '../strategies/types';
import { labelVerdicts } from './label-evidence';
import { screenUpdates } from './screen';
import { normOf } from './stats';
import { LAYOUT, trained } from './test-helpers';
import { robustSettings, ROBUST_DEFAULTS } from './types';
import { screeningVerdicts } from './verdicts';

const none = () => undefined;

/** The update with each tensor scaled to factors[ti] x the given reference norm of that tensor. */
function scaledTo(u: ClientUpdate, factors: number[], reference: number[]): ClientUpdate {
  return { ...u, delta: u.delta.map((t, ti) => ({ ...t, values: t.values.map((v) => (v * factors[ti] * reference[ti]) / normOf([t])) })) };
}

function times(u: ClientUpdate, s: number): ClientUpdate {
  return { ...u, delta: u.delta.map((t) => ({ ...t, values: t.values.map((v) => v * s) })) };
}

const tensorNorm = (u: ClientUpdate, ti: number) => normOf([u.delta[ti]]);

describe("a label-verified minority's norm bounds", () => {
  // Four clients whose labels differ from one another about as much as each other's; one holding only class 4.
  const majority: Record<string, number[]> = {
    a: [50, 40, 30, 20, 0],
    b: [40, 50, 20, 30, 0],
    c: [30, 20, 50, 40, 0],
    d: [20, 30, 40, 50, 0],
  };
  const histograms: Record<string, number[]> = { ...majority, minority: [0, 0, 0, 0, 300] };
  const declared = (id: string) => histograms[id];

  function round(seed: number) {
    const rng = new Rng(seed);
    const others = Object.entries(majority).map(([id, h]) => trained(rng, id, h, 1));
    const minority = trained(rng, 'minority', histograms.minority, -1);
    // The reference norms once the minority is the largest update of the five: per tensor, the third smallest of
    // the others' (their median with the minority on top).
    const reference = LAYOUT.map((_, ti) => others.map((u) => tensorNorm(u, ti)).sort((x, y) => x - y)[2]);
    const median = others.map((u) => normOf(u.delta)).sort((x, y) => x - y)[2];
    return { others, minority, reference, median };
  }

  it('the premise: the minority passes the label check and is far more unusual than the median client; the others are not', () => {
    const { others, minority } = round(1);
    const verdicts = labelVerdicts(LAYOUT, [...others, minority], declared);
    const skews = verdicts.map((v) => v.skew).sort((x, y) => x - y);
    const m = verdicts.find((v) => v.clientId === 'minority')!;
    expect(m.cosine).toBeGreaterThan(0.9);
    expect(m.skew).toBeGreaterThan(ROBUST_DEFAULTS.minoritySkewRatio * skews[2]);
    for (const v of verdicts.filter((x) => x.clientId !== 'minority')) expect(v.skew).toBeLessThan(ROBUST_DEFAULTS.minoritySkewRatio * skews[2]);
  });

  it('keeps all of an honest minority update 6x the median norm, which the plain bounds shrink to the median', () => {
    for (const seed of [1, 2, 3]) {
      const { others, minority, reference, median } = round(seed);
      const big = scaledTo(minority, [6, 6], reference);
      expect(normOf(big.delta) / median).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor);
      const r = screenUpdates(LAYOUT, [...others, big], none, robustSettings('clip'), { declaredLabels: declared });
      expect(r.dropped).toEqual([]);
      expect(r.kept[4]).toBe(big);
      expect(r.clipped).toEqual([]);
      // The plain bounds (no relaxation) shrink it to the round's median norm.
      const plain = screenUpdates(LAYOUT, [...others, big], none, robustSettings({ minorityFactor: 1 }), { declaredLabels: declared });
      expect(normOf(plain.kept[4].delta)).toBeLessThanOrEqual(median * (1 + 1e-6));
      expect(plain.clipped.map((c) => c.clientId)).toEqual(['minority']);
      // Under 'drop' it is kept too, and dropped without the relaxation.
      expect(screenUpdates(LAYOUT, [...others, big], none, robustSettings({ outliers: 'drop' }), { declaredLabels: declared }).kept[4]).toBe(big);
      const dropping = screenUpdates(LAYOUT, [...others, big], none, robustSettings({ outliers: 'drop', minorityFactor: 1 }), { declaredLabels: declared });
      expect(dropping.dropped.map((d) => d.clientId)).toEqual(['minority']);
    }
  });

  it('clips a minority tensor over minorityFactor x its reference norm to exactly that, and says the bound was wider', () => {
    const { others, minority, reference } = round(4);
    const big = scaledTo(minority, [3, 12], reference);
    const r = screenUpdates(LAYOUT, [...others, big], none, robustSettings('clip'), { declaredLabels: declared });
    const kept = r.kept[4];
    expect(kept.delta[0]).toBe(big.delta[0]);
    expect(tensorNorm(kept, 1)).toBeCloseTo(ROBUST_DEFAULTS.minorityFactor * reference[1], 5);
    expect(r.clipped).toEqual([{ clientId: 'minority', norm: normOf(big.delta), clippedTo: normOf(kept.delta), minority: true }]);
    const [verdict] = screeningVerdicts(r);
    expect(verdict.reason).toMatch(/^update norm [\d.]+ clipped to [\d.]+ \(\d+% of it went in; a wider bound than others get, as its update follows labels unlike the others'\)$/);
  });

  it('holds a scaled attacker that declares a skewed histogram and trains honestly on it to minorityFactor x the reference, whatever its scale', () => {
    const { others, minority, reference, median } = round(5);
    const f = ROBUST_DEFAULTS.minorityFactor;
    for (const s of [2, 5, 8, 20, 1e3, 1e6]) {
      const attacker = times(minority, s);
      const r = screenUpdates(LAYOUT, [...others, attacker], none, robustSettings('clip'), { declaredLabels: declared });
      const kept = r.kept.find((u) => u.clientId === 'minority')!;
      LAYOUT.forEach((_, ti) => expect(tensorNorm(kept, ti)).toBeLessThanOrEqual(f * reference[ti] * (1 + 1e-6)));
      expect(normOf(kept.delta)).toBeLessThanOrEqual(f * median * (1 + 1e-6));
      // Past minorityFactor x the median norm it goes in at the median norm, as any gross outlier does.
      if (s >= 1e3) expect(normOf(kept.delta)).toBeLessThanOrEqual(median * (1 + 1e-6));
      // Others are untouched.
      r.kept.slice(0, 4).forEach((u, k) => expect(u).toBe(others[k]));
    }
  });

  it('gives a scaled attacker whose labels are like the others\' (or that declared none) the plain bounds', () => {
    const { others, minority, median, reference } = round(6);
    for (const s of [6, 1e6]) {
      const attacker = times(others[3], s);
      const updates = [...others.slice(0, 3), attacker, minority];
      const r = screenUpdates(LAYOUT, updates, none, robustSettings('clip'), { declaredLabels: declared });
      const kept = r.kept.find((u) => u.clientId === 'd')!;
      const med = updates.map((u) => normOf(u.delta)).sort((x, y) => x - y)[2];
      expect(normOf(kept.delta)).toBeLessThanOrEqual(med * (1 + 1e-6));
      expect(r.clipped.find((c) => c.clientId === 'd')!.minority).toBeUndefined();
    }
    // The large minority without declared labels, or under the consensus check, is shrunk like anyone (minCosine -1:
    // the consensus check would drop it for its direction, which is not what is looked at here).
    const big = scaledTo(minority, [6, 6], reference);
    for (const [settings, options] of [
      [robustSettings({ minCosine: -1 }), {}],
      [robustSettings({ direction: 'consensus', minCosine: -1 }), { declaredLabels: declared }],
    ] as const) {
      const r = screenUpdates(LAYOUT, [...others, big], none, settings, options);
      expect(normOf(r.kept[4].delta)).toBeLessThanOrEqual(median * (1 + 1e-6));
    }
  });

  it('gives a minority posing for a class the others hold the plain bounds: the wider ones are for classes no one else trains on', () => {
    const { others, median, reference } = round(8);
    const rng = new Rng(8);
    const declaredWith = (h: Record<string, number[]>) => (id: string) => h[id] ?? histograms[id];
    // Declares and trains on class 0 alone: as unusual as the class-4 holder, but a, b, c and d hold class 0 too.
    const poser = trained(rng, 'poser', [300, 0, 0, 0, 0], -1);
    const labels = declaredWith({ poser: [300, 0, 0, 0, 0] });
    const verdict = labelVerdicts(LAYOUT, [...others, poser], labels).find((v) => v.clientId === 'poser')!;
    expect(verdict.cosine).toBeGreaterThan(0.9);
    const big = scaledTo(poser, [6, 6], reference);
    expect(normOf(big.delta) / median).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor);
    const r = screenUpdates(LAYOUT, [...others, big], none, robustSettings('clip'), { declaredLabels: labels });
    expect(normOf(r.kept[4].delta)).toBeLessThanOrEqual(median * (1 + 1e-6));
    expect(r.clipped.find((c) => c.clientId === 'poser')!.minority).toBeUndefined();
    // With every class counted as uncovered (a cover share above 1), it would get the wider bounds.
    const uncovered = screenUpdates(LAYOUT, [...others, big], none, robustSettings({ minorityCoverShare: 2 }), { declaredLabels: labels });
    expect(uncovered.kept[4]).toBe(big);
  });

  it('widens the bounds of a minority by the share of its labels on classes no one else holds', () => {
    const { others, median, reference } = round(9);
    const rng = new Rng(9);
    // Half class 3 (which the others hold), half class 4 (which they do not): half the extra room.
    const half = trained(rng, 'half', [0, 0, 0, 150, 150], -1);
    const labels = (id: string) => (id === 'half' ? [0, 0, 0, 150, 150] : histograms[id]);
    const f = ROBUST_DEFAULTS;
    const drop = f.dropFactor + (f.minorityFactor - f.dropFactor) / 2;
    const clip = f.clipFactor + (f.minorityFactor - f.clipFactor) / 2;
    const within = scaledTo(half, [clip * 0.95, clip * 0.95], reference);
    expect(normOf(within.delta) / median).toBeGreaterThan(f.dropFactor);
    expect(normOf(within.delta) / median).toBeLessThan(drop);
    const kept = screenUpdates(LAYOUT, [...others, within], none, robustSettings('clip'), { declaredLabels: labels });
    expect(kept.kept[4]).toBe(within);
    const beyond = times(within, (drop * 1.1 * median) / normOf(within.delta));
    const shrunk = screenUpdates(LAYOUT, [...others, beyond], none, robustSettings('clip'), { declaredLabels: labels });
    expect(normOf(shrunk.kept[4].delta)).toBeLessThanOrEqual(median * (1 + 1e-6));
    expect(shrunk.clipped).toEqual([{ clientId: 'half', norm: normOf(beyond.delta), clippedTo: normOf(shrunk.kept[4].delta), minority: true }]);
  });

  it('two minorities of the same class do not cover each other (slow devices that alone hold some classes)', () => {
    const { others, median, reference } = round(10);
    const rng = new Rng(10);
    const twins = ['m1', 'm2'].map((id) => scaledTo(trained(rng, id, [0, 0, 0, 0, 300], -1), [6, 6], reference));
    const labels = (id: string) => histograms[id] ?? [0, 0, 0, 0, 300];
    twins.forEach((u) => expect(normOf(u.delta) / median).toBeGreaterThan(ROBUST_DEFAULTS.dropFactor));
    const r = screenUpdates(LAYOUT, [...others, ...twins], none, robustSettings('clip'), { declaredLabels: labels });
    expect(r.kept.slice(4)).toEqual(twins);
    expect(r.clipped).toEqual([]);
  });

  it('with two updates there is no minority to speak of: the smaller norm bounds the other at clipFactor', () => {
    const rng = new Rng(7);
    const small = trained(rng, 'a', histograms.a, 1);
    const big = times(trained(rng, 'minority', histograms.minority, -1), 10);
    const r = screenUpdates(LAYOUT, [small, big], none, robustSettings('clip'), { declaredLabels: declared });
    LAYOUT.forEach((_, ti) => expect(tensorNorm(r.kept[1], ti)).toBeLessThanOrEqual(ROBUST_DEFAULTS.clipFactor * tensorNorm(small, ti) * (1 + 1e-6)));
  });

  it('refuses an unbounded or meaningless setting', () => {
    expect(() => robustSettings({ minorityFactor: Infinity })).toThrow(/minorityFactor must be a finite number >= 1/);
    expect(() => robustSettings({ minorityFactor: 0.5 })).toThrow(/minorityFactor/);
    expect(() => robustSettings({ minoritySkewRatio: -1 })).toThrow(/minoritySkewRatio must be a finite number >= 0/);
    expect(() => robustSettings({ minoritySkewRatio: NaN })).toThrow(/minoritySkewRatio/);
    expect(() => robustSettings({ minorityCoverShare: -0.1 })).toThrow(/minorityCoverShare must be a finite number >= 0/);
    expect(() => robustSettings({ minorityCoverShare: Infinity })).toThrow(/minorityCoverShare/);
  });
});
