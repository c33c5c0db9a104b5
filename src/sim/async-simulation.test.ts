import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CLOCK_DEFAULTS, runClockedSimulation, timeToAccuracy, type ClockOptions } from './async-simulation';
import { chooseAttackers, parseAttacks } from './attacks';
import { runSimulation, SIM_DEFAULTS, type SimConfig } from './simulation';

const cfg: SimConfig = { ...SIM_DEFAULTS, limit: 900, testLimit: 300, clients: 6, rounds: 4, strategy: { name: 'fedavg' }, backend: 'wasm' };
const clock: ClockOptions = { ...CLOCK_DEFAULTS, devices: { kind: 'classroom' }, intertwined: true, validationSize: 100 };

describe('simulator on a simulated clock (real MNIST)', () => {
  it('refuses secure aggregation and DP, which run in plain sync rounds, instead of ignoring them', async () => {
    const privacy = { secureAggregation: true, clipNorm: 1, noiseMultiplier: 0, delta: 1e-5, budget: null };
    await expect(runClockedSimulation({ ...cfg, privacy }, { ...CLOCK_DEFAULTS, mode: 'sync' })).rejects.toThrow(/not on the simulated clock/);
  });

  it('sync with a deadline: the slow devices never make it, each round lasts the deadline, their classes are not learned', async () => {
    const r = await runClockedSimulation(cfg, { ...clock, mode: 'sync', deadline: 0.5 });
    const slow = r.devices.map((d, k) => (d.slow ? k : -1)).filter((k) => k >= 0);
    expect(slow.length).toBe(2);
    expect(r.devices.filter((d) => d.slow).every((d) => d.seconds > 0.5)).toBe(true);
    expect(r.devices.filter((d) => !d.slow).every((d) => d.seconds <= 0.5)).toBe(true);
    expect(r.records.map((x) => x.simTime)).toEqual([0.5, 1, 1.5, 2].map((t) => expect.closeTo(t, 9)));
    for (const k of slow) expect(r.final.contributions[k]).toBe(0);
    expect(r.records.every((x) => x.dropped === 2 && x.staleness.every((s) => s === 0))).toBe(true);
    expect(r.final.slowClassAccuracy).toBeLessThan(0.05);
    for (const x of r.records) {
      const d = x.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-9);
    }
  });

  it('async: slow devices contribute stale updates, every step records its staleness, time moves forward, same seed same numbers', async () => {
    const opts: ClockOptions = { ...clock, mode: 'async', simTime: 3, evalEvery: 2, async: { bufferSize: 3, staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null } };
    const counts: number[] = [];
    const a = await runClockedSimulation(cfg, opts, { onRecord: () => counts.push(tf.memory().numTensors) });
    const slow = a.devices.map((d, k) => (d.slow ? k : -1)).filter((k) => k >= 0);
    for (const k of slow) expect(a.final.contributions[k]).toBeGreaterThan(0);
    expect(a.records.length).toBeGreaterThan(4);
    for (const x of a.records) {
      expect(x.staleness).toHaveLength(3);
      expect(x.clients).toHaveLength(3);
    }
    const slowTaus = a.records.flatMap((x) => x.staleness.filter((_, i) => slow.includes(x.clients[i])));
    expect(Math.max(...slowTaus)).toBeGreaterThan(0);
    const times = a.records.map((x) => x.simTime);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    expect(times[times.length - 1]).toBeLessThanOrEqual(3);
    expect(a.final.stalenessHistogram.reduce((s, n) => s + n, 0)).toBe(a.records.length * 3);
    expect(a.records.filter((x) => x.accuracy !== null).length).toBeGreaterThanOrEqual(Math.floor(a.records.length / 2));
    for (const x of a.records.filter((y) => y.decomposition)) {
      const d = x.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-9);
    }
    expect(a.final.accuracy).toBeGreaterThan(0.3);
    expect(counts[counts.length - 1]).toBe(counts[0]);
    const b = await runClockedSimulation(cfg, opts);
    expect(b.records.map((x) => [x.simTime, x.accuracy, x.staleness])).toEqual(a.records.map((x) => [x.simTime, x.accuracy, x.staleness]));
    expect(timeToAccuracy(a.records, 0)).toBe(a.records.find((x) => x.accuracy !== null)!.simTime);
    expect(timeToAccuracy(a.records, 1.01)).toBeNull();
  });

  it('async: a maximum staleness drops the slow devices\' stale updates', async () => {
    const r = await runClockedSimulation(cfg, { ...clock, mode: 'async', simTime: 3, evalEvery: 100, async: { bufferSize: 1, staleness: { kind: 'constant' }, maxStaleness: 0 } });
    expect(r.final.droppedUpdates).toBeGreaterThan(0);
    expect(r.final.stalenessHistogram).toEqual([r.records.length]);
  });

  it('async: attacks apply; a NaN update is refused with the reason and the run goes on', async () => {
    const [attacker] = chooseAttackers(cfg.clients, 1, cfg.seed);
    const opts: ClockOptions = { ...CLOCK_DEFAULTS, mode: 'async', simTime: 2, evalEvery: 100, validationSize: 0, async: { bufferSize: 2, staleness: { kind: 'constant' }, maxStaleness: null } };
    const r = await runClockedSimulation({ ...cfg, attack: { attackers: 1, attacks: parseAttacks('nan') } }, opts);
    const refused = r.records.flatMap((x) => x.refused);
    const nan = refused.filter((x) => /non-finite value \(NaN\)/.test(x.reason));
    expect(nan.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(r.final.refusedUpdates);
    // Every NaN refusal is the attacker's, and the attacker is refused for nothing else.
    expect(nan.every((x) => x.client === attacker)).toBe(true);
    expect(refused.filter((x) => x.client === attacker)).toEqual(nan.filter((x) => x.client === attacker));
    expect(r.final.contributions[attacker]).toBe(0);
    expect(Number.isFinite(r.final.accuracy)).toBe(true);
  });

  it("async: a pose-minority attacker answers at its device's usual pace, and sooner with 'fast' (the data it cut)", async () => {
    const [attacker] = chooseAttackers(cfg.clients, 1, cfg.seed);
    const opts: ClockOptions = { ...CLOCK_DEFAULTS, mode: 'async', simTime: 1, evalEvery: 100, validationSize: 0, async: { bufferSize: 2, staleness: { kind: 'constant' }, maxStaleness: null } };
    const usual = await runClockedSimulation({ ...cfg, attack: { attackers: 1, attacks: parseAttacks('pose-minority:1') } }, opts);
    const fast = await runClockedSimulation({ ...cfg, attack: { attackers: 1, attacks: parseAttacks('pose-minority:1,fast') } }, opts);
    // Training time shrinks with the cut data; the model transfer stays.
    expect(fast.devices[attacker].seconds).toBeLessThan(0.9 * usual.devices[attacker].seconds);
    // Plain rounds (no simulated clock) have no pace to change: refused, not ignored.
    await expect(runSimulation({ ...cfg, attack: { attackers: 1, attacks: parseAttacks('pose-minority:1,fast') } })).rejects.toThrow(/only a run on the simulated clock has/);
    fast.devices.forEach((d, k) => {
      if (k !== attacker) expect(d.seconds).toBe(usual.devices[k].seconds);
    });
  });

  it('sync with a deadline: label-flip attackers train on the flipped labels (their class takes over the predictions)', async () => {
    const opts: ClockOptions = { ...CLOCK_DEFAULTS, mode: 'sync', deadline: 100, validationSize: 0 };
    const base: SimConfig = { ...cfg, partition: { kind: 'iid' }, robust: 'off' };
    const clean = await runClockedSimulation(base, opts);
    const flipped = await runClockedSimulation({ ...base, attack: { attackers: 4, attacks: parseAttacks('label-flip:3') } }, opts);
    expect(flipped.final.perClass[3]).toBeGreaterThan(0.95);
    expect(flipped.final.accuracy).toBeLessThan(clean.final.accuracy - 0.2);
  });
});
