import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { screenUpdates } from './screen';
import { normOf } from './stats';
import { flat, LAYOUT, randomDelta, update } from './test-helpers';
import { robustSettings } from './types';

const clip = robustSettings('clip');
const none = () => undefined;

describe('screening a round of updates', () => {
  it('clips every tensor to clipFactor x the median norm of that tensor, exactly like a direct reference, on random inputs', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 10; trial++) {
      const K = 3 + rng.int(6);
      // Same mean direction for all (so none is dropped for its direction), norms spread over 3 orders of magnitude.
      const updates = Array.from({ length: K }, (_, k) => update(`c${k}`, randomDelta(rng, 0.1, 1).map((t) => ({ ...t, values: t.values.map((v) => v * 10 ** (rng.next() * 3)) }))));
      const factor = 1 + rng.next() * 3;
      const settings = robustSettings({ mode: 'clip', clipFactor: factor, dropFactor: Infinity });
      const result = screenUpdates(LAYOUT, updates, none, settings);
      expect(result.kept.map((u) => u.clientId)).toEqual(updates.map((u) => u.clientId));
      LAYOUT.forEach((_, ti) => {
        const norms = updates.map((u) => Math.sqrt(Array.from(u.delta[ti].values).reduce((s, x) => s + x * x, 0)));
        const sorted = [...norms].sort((a, b) => a - b);
        const med = K % 2 ? sorted[K >> 1] : (sorted[K / 2 - 1] + sorted[K / 2]) / 2;
        expect(result.referenceNorms![ti]).toBeCloseTo(med, 6);
        result.kept.forEach((u, k) => {
          const scale = Math.min(1, (factor * med) / norms[k]);
          Array.from(u.delta[ti].values).forEach((x, i) => expect(x).toBeCloseTo(updates[k].delta[ti].values[i] * scale, 4));
        });
      });
      const clippedIds = updates.filter((u, k) => result.kept[k] !== u).map((u) => u.clientId);
      expect(result.clipped.map((c) => c.clientId)).toEqual(clippedIds);
    }
  });

  it('drops non-finite updates, bad sample counts, wrong layouts and second updates, with reasons, in every mode', () => {
    const rng = new Rng(2);
    const nan = randomDelta(rng);
    nan[1].values[2] = NaN;
    const inf = randomDelta(rng);
    inf[0].values[0] = -Infinity;
    const wrong = randomDelta(rng).slice(0, 1);
    for (const mode of ['off', 'clip', 'median'] as const) {
      const r = screenUpdates(
        LAYOUT,
        [update('a', randomDelta(rng)), update('nan', nan), update('inf', inf), update('zero', randomDelta(rng), 0), update('frac', randomDelta(rng), 1.5), update('layout', wrong), update('a', randomDelta(rng))],
        none,
        robustSettings(mode),
      );
      expect(r.kept.map((u) => u.clientId)).toEqual(['a']);
      expect(r.dropped.map((d) => d.clientId)).toEqual(['nan', 'inf', 'zero', 'frac', 'layout', 'a']);
      expect(r.dropped[0].reason).toMatch(/non-finite/);
      expect(r.dropped[5].reason).toMatch(/second update/);
    }
  });

  it('with valuesScanned (the engine scanned them on receipt) skips only the NaN scan: layouts, counts, duplicates are still checked', () => {
    const rng = new Rng(3);
    const wrong = randomDelta(rng).slice(0, 1);
    const r = screenUpdates(LAYOUT, [update('a', randomDelta(rng)), update('zero', randomDelta(rng), 0), update('layout', wrong), update('a', randomDelta(rng))], none, clip, { valuesScanned: true });
    expect(r.kept.map((u) => u.clientId)).toEqual(['a']);
    expect(r.dropped.map((d) => d.clientId)).toEqual(['zero', 'layout', 'a']);
  });

  it('caps sample counts at the declared count, the session maximum and sampleFactor x the round median', () => {
    const rng = new Rng(4);
    const declared: Record<string, number> = { a: 100, b: 200, c: 300, liar: 50 };
    const updates = [update('a', randomDelta(rng, 0.1, 1), 100), update('b', randomDelta(rng, 0.1, 1), 200), update('c', randomDelta(rng, 0.1, 1), 300), update('liar', randomDelta(rng, 0.1, 1), 1e9)];
    const r = screenUpdates(LAYOUT, updates, (id) => declared[id], clip);
    expect(r.kept.map((u) => u.numSamples)).toEqual([100, 200, 300, 50]);
    expect(r.capped).toEqual([{ clientId: 'liar', claimed: 1e9, capped: 50 }]);
    // A liar that also lied when joining is held to the session maximum (1e6), then to 10 x the round median (250).
    const r2 = screenUpdates(LAYOUT, updates, (id) => (id === 'liar' ? 1e9 : declared[id]), clip);
    expect(r2.kept.map((u) => u.numSamples)).toEqual([100, 200, 300, 2500]);
    const r3 = screenUpdates(LAYOUT, updates, (id) => (id === 'liar' ? 1e9 : declared[id]), robustSettings({ maxSamples: 250 }));
    expect(r3.kept.map((u) => u.numSamples)).toEqual([100, 200, 250, 250]);
    // 'off' leaves them alone.
    expect(screenUpdates(LAYOUT, updates, (id) => declared[id], robustSettings('off')).kept.map((u) => u.numSamples)).toEqual([100, 200, 300, 1e9]);
  });

  it('drops a sign-flipped update (it points against the median update) and keeps honest ones', () => {
    const rng = new Rng(8);
    const honest = Array.from({ length: 4 }, (_, k) => update(`h${k}`, randomDelta(rng, 0.5, 1)));
    // Flipped, not scaled: its norm is like the others', so only its direction gives it away.
    const flipped = update('flip', randomDelta(rng, 0.5, 1).map((t) => ({ ...t, values: t.values.map((v) => -v) })));
    const r = screenUpdates(LAYOUT, [...honest, flipped], none, clip);
    expect(r.kept.map((u) => u.clientId)).toEqual(['h0', 'h1', 'h2', 'h3']);
    expect(r.dropped).toHaveLength(1);
    expect(r.dropped[0]).toMatchObject({ clientId: 'flip' });
    // No client declared labels, so each is checked against the round's consensus.
    expect(r.dropped[0].reason).toMatch(/points away from the others \(cosine -?[\d.]+ with the round's median update/);
  });

  it('from 3 updates on, drops an update whose norm is over dropFactor x the median norm, and only that one', () => {
    const rng = new Rng(12);
    const honest = Array.from({ length: 4 }, (_, k) => update(`h${k}`, randomDelta(rng, 0.3, 1)));
    const norms = honest.map((u) => normOf(u.delta)).sort((a, b) => a - b);
    for (const [factor, expectDrop] of [[1e6, true], [2.9, false]] as const) {
      // Scaled so that its norm is `factor` x the median of the five norms (its own is the largest, so the median
      // is the third smallest of the honest ones).
      const base = randomDelta(rng, 0.3, 1);
      const scale = (factor * norms[2]) / normOf(base);
      const big = update('big', base.map((t) => ({ ...t, values: t.values.map((v) => v * scale) })));
      const r = screenUpdates(LAYOUT, [...honest, big], none, robustSettings({ clipFactor: 2, dropFactor: 3, outliers: 'drop' }));
      expect(r.kept.map((u) => u.clientId)).toEqual(expectDrop ? ['h0', 'h1', 'h2', 'h3'] : ['h0', 'h1', 'h2', 'h3', 'big']);
      if (expectDrop) expect(r.dropped[0].reason).toMatch(/over 3 x the round's median norm/);
      else expect(r.clipped.map((c) => c.clientId)).toContain('big');
    }
  });

  it("with outliers 'shrink', a gross outlier keeps its direction at the round's median norm", () => {
    const rng = new Rng(13);
    const honest = Array.from({ length: 4 }, (_, k) => update(`h${k}`, randomDelta(rng, 0.3, 1)));
    const base = randomDelta(rng, 0.3, 1);
    const big = update('big', base.map((t) => ({ ...t, values: t.values.map((v) => v * 1e6) })));
    const r = screenUpdates(LAYOUT, [...honest, big], none, robustSettings({ outliers: 'shrink', clipFactor: 2, dropFactor: 3 }));
    expect(r.kept.map((u) => u.clientId)).toEqual(['h0', 'h1', 'h2', 'h3', 'big']);
    expect(r.dropped).toEqual([]);
    const norms = [...honest, big].map((u) => normOf(u.delta)).sort((a, b) => a - b);
    const shrunk = r.kept[4].delta;
    // Same direction as sent, whole norm the median of the five (then per-tensor clipping may shorten it further).
    const scale = flat(shrunk)[0] / flat(base)[0];
    flat(shrunk).forEach((x, i) => expect(x).toBeCloseTo(flat(base)[i] * scale, 4));
    expect(normOf(shrunk)).toBeLessThanOrEqual(norms[2] * (1 + 1e-6));
    expect(normOf(shrunk)).toBeGreaterThan(norms[2] * 0.5);
  });

  it('with 2 updates clips to clipFactor x the smaller norm; with 1 does not clip', () => {
    const rng = new Rng(6);
    const small = randomDelta(rng);
    const big = randomDelta(rng, 1e6);
    const three = robustSettings({ clipFactor: 3, dropFactor: 3 });
    const r = screenUpdates(LAYOUT, [update('small', small), update('big', big)], none, three);
    LAYOUT.forEach((_, ti) => {
      expect(r.referenceNorms![ti]).toBeCloseTo(normOf([small[ti]]), 6);
      expect(normOf([r.kept[1].delta[ti]]) / normOf([small[ti]])).toBeCloseTo(3, 5);
    });
    expect(r.kept[0].delta).toBe(small);
    const one = screenUpdates(LAYOUT, [update('big', big)], none, three);
    expect(one.referenceNorms).toBeNull();
    expect(one.kept[0].delta).toBe(big);
  });

  it('a max-float update comes out clipped to a finite, small norm', () => {
    const rng = new Rng(1);
    const max = randomDelta(rng).map((t) => ({ ...t, values: t.values.map((v) => (v >= 0 ? 3.4028234663852886e38 : -3.4028234663852886e38)) }));
    const honest = Array.from({ length: 4 }, (_, k) => update(`h${k}`, randomDelta(rng, 0.01)));
    const r = screenUpdates(LAYOUT, [...honest, update('max', max)], none, robustSettings({ minCosine: -1, clipFactor: 3, dropFactor: Infinity }));
    const kept = r.kept.find((u) => u.clientId === 'max')!;
    expect(flat(kept.delta).every(Number.isFinite)).toBe(true);
    LAYOUT.forEach((_, ti) => expect(normOf([kept.delta[ti]])).toBeCloseTo(3 * r.referenceNorms![ti], 6));
  });
});

describe('screening what a strategy sends beside the delta (SCAFFOLD delta-c)', () => {
  it('clips an outsized extra to clipFactor x the median norm of its tensor, records it, and leaves the others as they were', () => {
    const rng = new Rng(21);
    const updates = Array.from({ length: 5 }, (_, k) => ({ ...update(`c${k}`, randomDelta(rng, 0.1, 1)), extras: { deltaC: randomDelta(rng, 0.1, 1) } }));
    const hostile = { ...updates[4], extras: { deltaC: updates[4].extras.deltaC.map((t) => ({ ...t, values: t.values.map((v) => v * 1e4) })) } };
    const round = [...updates.slice(0, 4), hostile];
    const result = screenUpdates(LAYOUT, round, none, clip);
    expect(result.kept.map((u) => u.clientId)).toEqual(round.map((u) => u.clientId));
    LAYOUT.forEach((_, ti) => {
      const norms = round.map((u) => Math.sqrt(flat([u.extras.deltaC[ti]]).reduce((s, x) => s + x * x, 0)));
      const med = [...norms].sort((a, b) => a - b)[2];
      const after = result.kept.map((u) => Math.sqrt(flat([u.extras!.deltaC[ti]]).reduce((s, x) => s + x * x, 0)));
      expect(after[4]).toBeCloseTo(2 * med, 4); // clipFactor 2
      for (let k = 0; k < 4; k++) expect(result.kept[k].extras!.deltaC[ti]).toBe(round[k].extras.deltaC[ti]);
    });
    expect(result.clipped.filter((c) => c.part === 'deltaC').map((c) => c.clientId)).toEqual(['c4']);
    // Off means off: nothing is clipped.
    expect(screenUpdates(LAYOUT, round, none, robustSettings('off')).kept[4]).toBe(hostile);
  });
});
