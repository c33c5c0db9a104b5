import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { RdpAccountant } from './accountant';
import { carriedNoiseMultiplier, clipFactor, cryptoNormal, jointNorm, perClientNoiseStd } from './clip-noise';
import { computeRdp, epsilonFromRdp, sampledGaussianRdp } from './rdp';

/*
 * Reference values: the unit tests of TensorFlow Privacy's RDP accountant (rdp_accountant_test.py, the module
 * compute_rdp / get_privacy_spent of Mironov et al.'s sampled Gaussian analysis), at their integer orders:
 *   compute_rdp(q=1, noise=10, steps=1, order=20) = 0.1
 *   compute_rdp(q=0.1, noise=2, steps=10, order=5) = 0.07737 (to 5 places)
 *   compute_rdp(q=0.01, noise=2.5, steps=50, orders [5, 50, 100]) = [0.00218075, 0.023846, 167.416307] (to 1e-5)
 *   get_privacy_spent(orders 2..32, compute_rdp(q=0.01, noise=4, steps=10000), delta=1e-5) = eps 1.258575 at order 20
 */
describe('the RDP accountant of the sampled Gaussian mechanism', () => {
  it('matches TensorFlow Privacy\'s compute_rdp reference values', () => {
    expect(computeRdp(1, 10, 1, [20])[0]).toBeCloseTo(0.1, 12);
    expect(computeRdp(0.1, 2, 10, [5])[0]).toBeCloseTo(0.07737, 5);
    const seq = computeRdp(0.01, 2.5, 50, [5, 50, 100]);
    expect(Math.abs(seq[0] - 0.00218075)).toBeLessThan(1e-5);
    expect(Math.abs(seq[1] - 0.023846)).toBeLessThan(1e-5);
    expect(Math.abs(seq[2] - 167.416307)).toBeLessThan(1e-5);
    expect(computeRdp(0, 10, 1, [20])[0]).toBe(0);
  });

  it('matches TensorFlow Privacy\'s get_privacy_spent reference value', () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const spent = epsilonFromRdp(computeRdp(0.01, 4, 10000, orders), 1e-5, orders);
    expect(spent.epsilon).toBeCloseTo(1.258575, 5);
    expect(spent.order).toBe(20);
  });

  it('composes rounds with different sampling rates and noise, and previews without recording', () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const a = new RdpAccountant(1e-5, orders);
    expect(a.spent().epsilon).toBe(0);
    for (let i = 0; i < 3; i++) a.record(0.01, 4);
    const preview = a.preview(0.5, 1.2);
    expect(a.spent().rounds).toBe(3);
    a.record(0.5, 1.2);
    expect(a.spent()).toEqual(preview);
    const want = epsilonFromRdp(orders.map((o) => 3 * sampledGaussianRdp(0.01, 4, o) + sampledGaussianRdp(0.5, 1.2, o)), 1e-5, orders);
    expect(a.spent().epsilon).toBeCloseTo(want.epsilon, 12);
    // More noise never costs more; a higher sampling rate never costs less.
    expect(new RdpAccountant(1e-5).preview(0.1, 2).epsilon).toBeLessThan(new RdpAccountant(1e-5).preview(0.1, 1).epsilon);
    expect(new RdpAccountant(1e-5).preview(0.2, 1).epsilon).toBeGreaterThan(new RdpAccountant(1e-5).preview(0.1, 1).epsilon);
  });

  it('refuses impossible parameters with the reason', () => {
    expect(() => sampledGaussianRdp(1.5, 1, 2)).toThrow(/sampling rate 1.5/);
    expect(() => sampledGaussianRdp(0.1, 0, 2)).toThrow(/noise multiplier 0/);
    expect(() => sampledGaussianRdp(0.1, 1, 2.5)).toThrow(/order 2.5/);
    expect(() => new RdpAccountant(0)).toThrow(/delta 0/);
  });
});

describe('client clipping and noise shares', () => {
  it('clips the joint norm to C and leaves smaller updates alone', () => {
    const parts = [Float32Array.of(3, 0), Float32Array.of(4)];
    expect(jointNorm(parts)).toBe(5);
    expect(clipFactor(5, 1)).toBeCloseTo(0.2, 12);
    expect(clipFactor(0.5, 1)).toBe(1);
    expect(() => clipFactor(NaN, 1)).toThrow(/not finite/);
  });

  it('K noise shares add up to std sigma * C, and the carried multiplier falls with dropouts', () => {
    const K = 16;
    const std = perClientNoiseStd(1.5, 0.8, K);
    const rng = new Rng(4);
    const sums = Array.from({ length: 4000 }, () => {
      let s = 0;
      for (let k = 0; k < K; k++) s += std * rng.normal();
      return s;
    });
    const sd = Math.sqrt(sums.reduce((a, x) => a + x * x, 0) / sums.length);
    expect(sd).toBeGreaterThan(1.2 * 0.95);
    expect(sd).toBeLessThan(1.2 * 1.05);
    expect(carriedNoiseMultiplier(1.5, K, K)).toBe(1.5);
    expect(carriedNoiseMultiplier(1.5, 4, K)).toBeCloseTo(0.75, 12);
  });

  it('draws standard normals from the CSPRNG', () => {
    const xs = Array.from({ length: 20000 }, () => cryptoNormal.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
