import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import type { ClientUpdate } from '../strategies/types';
import { labelVerdicts, outputBiasIndex } from './label-evidence';
import { screenUpdates } from './screen';
import { LAYOUT, randomDelta, trained, update } from './test-helpers';
import { robustSettings } from './types';

function flipped(u: ClientUpdate): ClientUpdate {
  return { ...u, delta: u.delta.map((t) => ({ ...t, values: t.values.map((v) => -v) })) };
}

describe('checking updates against the labels their clients declared', () => {
  const majority: Record<string, number[]> = {
    a: [50, 40, 30, 20, 0],
    b: [40, 50, 20, 30, 0],
    c: [30, 20, 50, 40, 0],
    d: [20, 30, 40, 50, 0],
  };
  // The only client holding class 4, and nothing else: its update points away from everyone else's.
  const minority = [0, 0, 0, 0, 300];
  const histograms: Record<string, number[]> = { ...majority, minority };
  const declared = (id: string) => histograms[id];

  function round(seed: number): ClientUpdate[] {
    const rng = new Rng(seed);
    return [...Object.entries(majority).map(([id, h]) => trained(rng, id, h, 1)), trained(rng, 'minority', minority, -1)];
  }

  it('finds the output bias: the last rank-1 tensor with one entry per class', () => {
    expect(outputBiasIndex(LAYOUT, 5)).toBe(1);
    expect(outputBiasIndex(LAYOUT, 7)).toBe(-1);
    expect(outputBiasIndex([{ name: 'fc1/bias', shape: [5] }, { name: 'logits/kernel', shape: [5, 5] }, { name: 'logits/bias', shape: [5] }], 5)).toBe(2);
  });

  it('keeps an honest minority that points against the consensus, which the consensus check drops', () => {
    const updates = round(1);
    const byLabels = screenUpdates(LAYOUT, updates, () => undefined, robustSettings('clip'), { declaredLabels: declared });
    expect(byLabels.dropped).toEqual([]);
    expect(byLabels.kept.map((u) => u.clientId)).toEqual(['a', 'b', 'c', 'd', 'minority']);
    const verdict = labelVerdicts(LAYOUT, updates, declared).find((v) => v.clientId === 'minority')!;
    expect(verdict.cosine).toBeGreaterThan(0.9);
    expect(verdict.skew).toBeGreaterThan(0.7);
    // The same round under the consensus check alone loses the only client that holds class 4.
    const byConsensus = screenUpdates(LAYOUT, updates, () => undefined, robustSettings({ direction: 'consensus' }), { declaredLabels: declared });
    expect(byConsensus.dropped.map((d) => d.clientId)).toEqual(['minority']);
  });

  it('drops a sign-flipped update of a skewed client, saying why, and keeps the rest', () => {
    const updates = round(2).map((u) => (u.clientId === 'b' ? flipped(u) : u));
    const r = screenUpdates(LAYOUT, updates, () => undefined, robustSettings('clip'), { declaredLabels: declared });
    expect(r.kept.map((u) => u.clientId)).toEqual(['a', 'c', 'd', 'minority']);
    expect(r.dropped).toHaveLength(1);
    expect(r.dropped[0].clientId).toBe('b');
    expect(r.dropped[0].reason).toMatch(/its output layer moved against the labels it declared \(cosine -0\.\d\d/);
  });

  it('drops an update trained on labels its client did not declare (label flipping to one class)', () => {
    const rng = new Rng(3);
    const updates = round(3).map((u) => (u.clientId === 'c' ? { ...trained(rng, 'c', [0, 0, 0, 0, 140], 1), numSamples: 140 } : u));
    const r = screenUpdates(LAYOUT, updates, () => undefined, robustSettings('clip'), { declaredLabels: declared });
    expect(r.dropped.map((d) => d.clientId)).toEqual(['c']);
  });

  it('checks clients whose labels look like the mixture, or who declared none, against the consensus instead', () => {
    const rng = new Rng(4);
    const iid: Record<string, number[]> = { a: [20, 20, 20, 20, 20], b: [21, 19, 20, 20, 20], c: [20, 21, 19, 20, 20], d: [20, 20, 21, 19, 20] };
    const updates = Object.entries(iid).map(([id, h]) => trained(rng, id, h, 1));
    const withFlip = [...updates, flipped(trained(rng, 'e', [19, 20, 20, 21, 20], 1))];
    expect(labelVerdicts(LAYOUT, withFlip, (id) => iid[id] ?? [19, 20, 20, 21, 20]).every((v) => v.skew < 0.1)).toBe(true);
    const r = screenUpdates(LAYOUT, withFlip, () => undefined, robustSettings('clip'), { declaredLabels: (id) => iid[id] ?? [19, 20, 20, 21, 20] });
    expect(r.dropped.map((d) => d.clientId)).toEqual(['e']);
    expect(r.dropped[0].reason).toMatch(/points away from the others/);
    // No labels declared at all: the same verdict, by the consensus.
    expect(screenUpdates(LAYOUT, withFlip, () => undefined, robustSettings('clip')).dropped.map((d) => d.clientId)).toEqual(['e']);
  });

  it("abstains on histograms it cannot use, and 'off' never drops for direction", () => {
    const updates = round(5);
    expect(labelVerdicts(LAYOUT, updates, () => [1, 2, 3])).toEqual([]);
    expect(labelVerdicts(LAYOUT, updates, () => [0, 0, 0, 0, 0])).toEqual([]);
    const flippedRound = updates.map((u) => (u.clientId === 'a' ? flipped(u) : u));
    expect(screenUpdates(LAYOUT, flippedRound, () => undefined, robustSettings({ direction: 'off' }), { declaredLabels: declared }).dropped).toEqual([]);
  });
});

describe('the label check on a classifier fed by a hidden layer', () => {
  const layout = [
    { name: 'fc1/kernel', shape: [4, 3] },
    { name: 'fc1/bias', shape: [3] },
    { name: 'logits/kernel', shape: [3, 3] },
    { name: 'logits/bias', shape: [3] },
  ];
  const histograms: Record<string, number[]> = { a: [80, 10, 10], b: [10, 80, 10], c: [10, 10, 80] };
  /** Softmax training on h: the bias moves along q - 1/3, each kernel row along the same, scaled by a ReLU output >= 0. */
  function trained(rng: Rng, id: string): ClientUpdate {
    const q = histograms[id].map((n) => n / 100 - 1 / 3);
    const rows = [0.5, 1, 2];
    const delta = layout.map((l) => ({ name: l.name, shape: [...l.shape], values: Float32Array.from({ length: l.shape.reduce((x, y) => x * y, 1) }, () => 0.01 * rng.normal()) }));
    q.forEach((x, c) => (delta[3].values[c] += x));
    rows.forEach((h, i) => q.forEach((x, c) => (delta[2].values[i * 3 + c] += h * x)));
    return update(id, delta, 100);
  }

  it('drops an update that keeps its bias honest but flips the rest of the output layer', () => {
    const rng = new Rng(9);
    const updates = ['a', 'b', 'c'].map((id) => trained(rng, id));
    expect(labelVerdicts(layout, updates, (id) => histograms[id]).every((v) => v.cosine! > 0.9)).toBe(true);
    const forged = updates.map((u) => (u.clientId === 'b' ? { ...u, delta: u.delta.map((t, i) => (i === 3 ? t : { ...t, values: t.values.map((v) => -v) })) } : u));
    const verdicts = labelVerdicts(layout, forged, (id) => histograms[id]);
    expect(verdicts.find((v) => v.clientId === 'b')!.cosine).toBeLessThan(-0.9);
    const r = screenUpdates(layout, forged, () => undefined, robustSettings('clip'), { declaredLabels: (id) => histograms[id] });
    expect(r.dropped.map((d) => d.clientId)).toEqual(['b']);
  });
});
