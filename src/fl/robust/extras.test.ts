import { describe, expect, it } from 'vitest';
import { AsyncAggregation } from '../async/async-aggregation';
import { aggregateRound } from '../aggregate-round';
import { Rng } from '../rng';
import { createAggregator } from '../strategies/aggregators';
import type { ClientUpdate, ServerState } from '../strategies/types';
import type { WeightSet } from '../weights';
import { controlVariateProblem } from './extras';
import { randomDelta, zeros } from './test-helpers';
import { robustSettings } from './types';

const lin = (sets: WeightSet[], scales: number[]): WeightSet =>
  sets[0].map((t, ti) => ({ name: t.name, shape: [...t.shape], values: Float32Array.from(t.values, (_, i) => sets.reduce((s, w, k) => s + scales[k] * w[ti].values[i], 0)) }));
const norm = (w: WeightSet) => Math.hypot(...w.flatMap((t) => Array.from(t.values)));

/** An honest SCAFFOLD update: delta-c = -c - delta / (K lr), with its own K lr. */
function honest(id: string, rng: Rng, c: WeightSet, kLr: number): ClientUpdate {
  const delta = lin([randomDelta(rng, 0.1, 0.05)], [1]);
  return { clientId: id, delta, numSamples: 100, extras: { deltaC: lin([c, delta], [-1, -1 / kLr]) } };
}

/** The fixed-direction attack: delta-c replaced by one direction at `factor` x its honest norm. */
function forged(u: ClientUpdate, factor: number): ClientUpdate {
  const direction = randomDelta(new Rng(99));
  return { ...u, extras: { deltaC: lin([direction], [(factor * norm(u.extras!.deltaC)) / norm(direction)]) } };
}

describe('SCAFFOLD delta-c against delta-w (controlVariateProblem)', () => {
  const rng = new Rng(3);
  const c = randomDelta(rng, 0.5);

  it('an honest delta-c passes whatever its K * lr; a forged or sign-flipped one does not, nor a scaled one where c dominates', () => {
    for (const kLr of [0.05, 1, 40]) {
      const u = honest('a', rng, c, kLr);
      expect(controlVariateProblem(u.delta, u.extras!.deltaC, c, 0.99)).toBeNull();
      expect(controlVariateProblem(u.delta, forged(u, 1).extras!.deltaC, c, 0.9)).toMatch(/does not follow from delta-w: the cosine of delta-c \+ c with -delta-w is -?0\.\d+ \(1 when honest\), below 0\.9/);
      if (kLr === 40) expect(controlVariateProblem(u.delta, lin([u.extras!.deltaC], [2]), c, 0.9)).toMatch(/does not follow from delta-w/);
      expect(controlVariateProblem(u.delta, lin([u.extras!.deltaC], [-1]), c, 0.9)).toMatch(/does not follow from delta-w/);
    }
  });

  it('no step: delta-c must be zero (or -c); another layout is refused', () => {
    expect(controlVariateProblem(zeros(), zeros(), c, 0.9)).toBeNull();
    expect(controlVariateProblem(zeros(), lin([c], [-1]), c, 0.9)).toBeNull();
    expect(controlVariateProblem(zeros(), randomDelta(rng), c, 0.9)).toBe('is not zero while delta-w is');
    const u = honest('a', rng, c, 1);
    expect(controlVariateProblem(u.delta, [u.extras!.deltaC[0]], c, 0.9)).toBe('does not have the layout of delta-w');
  });
});

describe('the SCAFFOLD delta-c check in a round', () => {
  const rng = new Rng(5);
  const c = randomDelta(rng, 0.3);
  const state: ServerState = { strategy: 'scaffold', steps: 3, tensors: { c }, values: {} };
  const updates = ['a', 'b', 'c', 'd', 'e'].map((id, k) => honest(id, rng, c, 0.5 + k));
  const job = (u: ClientUpdate[], mode: 'clip' | 'off' = 'clip', strategy: Record<string, string | number> = {}) => ({
    strategy: { name: 'scaffold', ...strategy },
    round: 4,
    population: 5,
    global: zeros(),
    state,
    updates: u,
    declaredSamples: Object.fromEntries(u.map((x) => [x.clientId, 100])),
    robust: robustSettings(mode),
    valuesScanned: true,
  });

  it('refuses a forged delta-c with the reason and leaves an honest round untouched', () => {
    const clean = aggregateRound(job(updates));
    if (!clean.ok) throw new Error(clean.reason);
    expect(clean.dropped).toEqual([]);
    const unchecked = aggregateRound(job(updates, 'clip', { controlCosine: -1 }));
    if (!unchecked.ok) throw new Error(unchecked.reason);
    expect(clean.state).toEqual(unchecked.state);
    expect(clean.global).toEqual(unchecked.global);

    const attacked = aggregateRound(job([...updates.slice(0, 4), forged(updates[4], 2)]));
    if (!attacked.ok) throw new Error(attacked.reason);
    expect(attacked.dropped.map((d) => d.clientId)).toEqual(['e']);
    expect(attacked.dropped[0].reason).toMatch(/^SCAFFOLD: deltaC does not follow from delta-w/);
    expect(attacked.accepted.map((u) => u.clientId)).toEqual(['a', 'b', 'c', 'd']);
    // A protocol check, as the layout one: in every robust mode; --control-cosine -1 turns it off.
    const off = aggregateRound(job([...updates.slice(0, 4), forged(updates[4], 2)], 'off'));
    expect(off.ok && off.dropped.map((d) => d.clientId)).toEqual(['e']);
    const open = aggregateRound(job([...updates.slice(0, 4), forged(updates[4], 2)], 'off', { controlCosine: -1 }));
    expect(open.ok && open.dropped).toEqual([]);
  });

  it('in asynchronous steps too: the forged update is refused with the reason', () => {
    const aggregator = createAggregator({ name: 'scaffold' }, state);
    const core = new AsyncAggregation(aggregator, { bufferSize: 5, staleness: { kind: 'constant' }, maxStaleness: null }, zeros(), 0, { settings: robustSettings('clip'), strategy: 'scaffold', declaredSamples: () => 100 });
    [...updates.slice(0, 4), forged(updates[4], 1)].forEach((u, k) => core.submit({ ...u, key: `${u.clientId}#0`, baseVersion: 0, arrivedAt: k }));
    const step = core.step()!;
    expect(step.rejected.map((r) => r.clientId)).toEqual(['e']);
    expect(step.rejected[0].reason).toMatch(/deltaC does not follow from delta-w/);
    expect(step.used.map((u) => u.clientId)).toEqual(['a', 'b', 'c', 'd']);
  });
});
