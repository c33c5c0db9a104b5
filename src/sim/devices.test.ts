import { describe, expect, it } from 'vitest';
import { EventQueue } from '../fl/coordinator/event-queue';
import { DEVICE_CONFIG, deviceProfiles, parseDevices, slowClientIds, workSeconds } from './devices';
import { intertwinedPartition, slowClassesFor } from './intertwined';
import { Rng } from '../fl/rng';

describe('simulated devices', () => {
  it('classroom: 30% of 20 devices are 5x slower in compute and link', () => {
    const d = deviceProfiles({ kind: 'classroom' }, 20, 3);
    const slow = d.filter((x) => x.slow);
    expect(slow).toHaveLength(6);
    expect(d.map((x, k) => (x.slow ? k : -1)).filter((k) => k >= 0)).toEqual(slowClientIds(20, 3));
    for (const x of slow) expect(x.samplesPerSecond).toBeCloseTo(DEVICE_CONFIG.baseSamplesPerSecond / 5, 9);
    for (const x of d.filter((y) => !y.slow)) expect(x.bytesPerSecond).toBe(DEVICE_CONFIG.baseBytesPerSecond);
  });

  it('uniform devices are all equal; lognormal gives the slowest draws to the designated slow devices', () => {
    expect(new Set(deviceProfiles({ kind: 'uniform' }, 10, 1).map((x) => x.samplesPerSecond)).size).toBe(1);
    const d = deviceProfiles({ kind: 'lognormal', sigma: 1 }, 20, 5);
    const slowMax = Math.max(...d.filter((x) => x.slow).map((x) => x.samplesPerSecond));
    const fastMin = Math.min(...d.filter((x) => !x.slow).map((x) => x.samplesPerSecond));
    expect(slowMax).toBeLessThanOrEqual(fastMin);
    expect(deviceProfiles({ kind: 'lognormal', sigma: 1 }, 20, 5)).toEqual(d);
  });

  it('work time = epochs * samples / speed + 2 * bytes / bandwidth', () => {
    expect(workSeconds({ samplesPerSecond: 100, bytesPerSecond: 1000, slow: false }, 250, 2, 500)).toBeCloseTo(5 + 1, 12);
  });

  it('parses the profile names', () => {
    expect(parseDevices('lognormal:0.5')).toEqual({ kind: 'lognormal', sigma: 0.5 });
    expect(() => parseDevices('lognormal:')).toThrow(RangeError);
  });
});

describe('event queue (simulated clock)', () => {
  it('pops in time order, ties in push order', () => {
    const q = new EventQueue<string>();
    const rng = new Rng(4);
    const items = Array.from({ length: 200 }, (_, i) => ({ t: Math.floor(rng.next() * 20), id: `e${i}` }));
    items.forEach((x) => q.push(x.t, x.id));
    const out: string[] = [];
    while (q.size) out.push(q.pop()!.item);
    const expected = [...items].sort((a, b) => a.t - b.t || Number(a.id.slice(1)) - Number(b.id.slice(1))).map((x) => x.id);
    expect(out).toEqual(expected);
    expect(q.pop()).toBeUndefined();
    expect(() => q.push(NaN, 'x')).toThrow();
  });
});

describe('intertwined partition', () => {
  it('the slow clients hold exactly the slow classes; every sample is placed once', () => {
    const rng = new Rng(2);
    const labels = Int32Array.from({ length: 3000 }, () => rng.int(10));
    const slow = slowClientIds(20, 1);
    const { partition, slowClasses } = intertwinedPartition(labels, 10, 20, slow, { kind: 'dirichlet', alpha: 0.5 }, 1);
    expect(slowClasses).toEqual([7, 8, 9]);
    expect(slowClassesFor(10, 0, 20)).toEqual([]);
    const all = partition.clients.flatMap((c) => Array.from(c)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    partition.histograms.forEach((h, k) => {
      const held = h.map((n, c) => (n > 0 ? c : -1)).filter((c) => c >= 0);
      if (slow.includes(k)) expect(held.every((c) => c >= 7)).toBe(true);
      else expect(held.every((c) => c < 7)).toBe(true);
    });
  });
});
