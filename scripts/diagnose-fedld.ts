/**
 * Why does FedLD trail FedAvg here? Runs FedLD on a skewed MNIST split and, every round, compares the
 * principal-gradient update u with the plain mean of the same client updates: norm ratio and cosine.
 * Also runs ablations: FedLD aggregation without margin control (lambda 0), and rho 1.
 * Usage: npx tsx scripts/diagnose-fedld.ts [--rounds 20] [--alpha 0.1]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { FedAvgAggregator } from '../src/fl/strategies/fedavg-aggregator';
import { FedLdAggregator } from '../src/fl/strategies/fedld-aggregator';
import type { ClientUpdate, StrategyConfig } from '../src/fl/strategies/types';
import type { WeightSet } from '../src/fl/weights';
import { runSimulation, SIM_DEFAULTS } from '../src/sim/simulation';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, alpha: { type: 'string', default: '0.1' }, limit: { type: 'string', default: '10000' }, only: { type: 'string' } } });

/** Diagnostic switches: rescale FedLD's update to the plain mean's norm, or shrink FedAvg's update by a factor. */
const mode = { rescaleFedLd: false, fedAvgScale: 1 };
tf.env().set('PROD', true);

const stats: { round: number; normRatio: number; cosine: number }[] = [];
const original = FedLdAggregator.prototype.aggregate;
let round = 0;
FedLdAggregator.prototype.aggregate = function (global: WeightSet, updates: ClientUpdate[]) {
  let next = original.call(this, global, updates);
  if (mode.rescaleFedLd && round > 0) {
    next = next.map((t, ti) => {
      let uu = 0, mm = 0;
      const mean = new Float32Array(t.values.length);
      for (let i = 0; i < t.values.length; i++) {
        for (const up of updates) mean[i] += up.delta[ti].values[i] / updates.length;
        const u = t.values[i] - global[ti].values[i];
        uu += u * u; mm += mean[i] * mean[i];
      }
      const k = uu > 0 ? Math.sqrt(mm / uu) : 1;
      return { ...t, values: t.values.map((v, i) => global[ti].values[i] + k * (v - global[ti].values[i])) };
    });
  }
  let dotUM = 0, uu = 0, mm = 0;
  next.forEach((t, ti) => {
    for (let i = 0; i < t.values.length; i++) {
      const u = t.values[i] - global[ti].values[i];
      let m = 0;
      for (const up of updates) m += up.delta[ti].values[i] / updates.length;
      dotUM += u * m; uu += u * u; mm += m * m;
    }
  });
  stats.push({ round: ++round, normRatio: Math.sqrt(uu / mm), cosine: dotUM / Math.sqrt(uu * mm) });
  return next;
};

const originalAvg = FedAvgAggregator.prototype.aggregate;
FedAvgAggregator.prototype.aggregate = function (global: WeightSet, updates: ClientUpdate[]) {
  const next = originalAvg.call(this, global, updates);
  if (mode.fedAvgScale === 1) return next;
  return next.map((t, ti) => ({ ...t, values: t.values.map((v, i) => global[ti].values[i] + mode.fedAvgScale * (v - global[ti].values[i])) }));
};

const base = { ...SIM_DEFAULTS, limit: Number(values.limit), testLimit: 10000, clients: 10, rounds: Number(values.rounds), partition: { kind: 'dirichlet' as const, alpha: Number(values.alpha) }, backend: 'wasm' as const, seed: 1 };
const variants: Array<{ label: string; strategy: StrategyConfig; rescale?: boolean; fedAvgScale?: number }> = [
  { label: 'fedavg', strategy: { name: 'fedavg' as const } },
  { label: 'fedld lambda 0.1 rho 0.8', strategy: { name: 'fedld' as const, lambda: 0.1, rho: 0.8 } },
  { label: 'fedld lambda 0 rho 0.8 (aggregation only)', strategy: { name: 'fedld' as const, lambda: 0, rho: 0.8 } },
  { label: 'fedld lambda 0.1 rho 1.0', strategy: { name: 'fedld' as const, lambda: 0.1, rho: 1 } },
  { label: 'fedld, update rescaled to the norm of the plain mean (diagnostic only)', strategy: { name: 'fedld' as const, lambda: 0.1, rho: 0.8 }, rescale: true },
  { label: 'fedavg with its update scaled by 0.36 (diagnostic only)', strategy: { name: 'fedavg' as const }, fedAvgScale: 0.36 },
];
for (const v of variants) {
  if (values.only && !v.label.includes(values.only)) continue;
  mode.rescaleFedLd = v.rescale ?? false;
  mode.fedAvgScale = v.fedAvgScale ?? 1;
  stats.length = 0;
  round = 0;
  const r = await runSimulation({ ...base, strategy: v.strategy });
  const acc = r.rounds.map((x) => (100 * x.accuracy).toFixed(1)).join(' ');
  console.log(`\n${v.label}: final ${(100 * r.final.accuracy).toFixed(1)}%  per round: ${acc}`);
  if (stats.length) {
    const principal = stats.slice(1); // round 1 is the plain mean by spec
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`  ||u_fedld|| / ||mean of updates||: mean ${mean(principal.map((s) => s.normRatio)).toFixed(3)} (rounds 2..): ${principal.map((s) => s.normRatio.toFixed(2)).join(' ')}`);
    console.log(`  cosine(u_fedld, mean): mean ${mean(principal.map((s) => s.cosine)).toFixed(3)}`);
  }
}
