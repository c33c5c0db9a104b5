/**
 * The engine's aggregation step alone at classroom scale: K updates of the MNIST MLP (784-64-10, 50,890 values),
 * robust screening + strategy aggregation, timed per stage (median of interleaved repetitions in one process).
 * Usage: npx tsx scripts/bench-aggregate.ts [--clients 50] [--reps 9] [--strategy fedld]
 */
import { getStrategy } from '../src/fl/strategies/registry';
import { parseArgs } from 'node:util';
import { Rng } from '../src/fl/rng';
import { robustAggregate, robustSettings, screenUpdates } from '../src/fl/robust';
import { strategyRuntime } from '../src/fl/strategies/runtime';
import type { ClientUpdate, ServerState } from '../src/fl/strategies/types';
import { layoutOf, type WeightSet } from '../src/fl/weights';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '50' }, reps: { type: 'string', default: '9' }, strategy: { type: 'string', default: 'fedld' } } });
const K = Number(values.clients);
const reps = Number(values.reps);
const LAYOUT = [
  { name: 'fc1/kernel', shape: [784, 64] },
  { name: 'fc1/bias', shape: [64] },
  { name: 'logits/kernel', shape: [64, 10] },
  { name: 'logits/bias', shape: [10] },
];
const rng = new Rng(1);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const make = (f: () => number): WeightSet => LAYOUT.map((l) => ({ name: l.name, shape: [...l.shape], values: Float32Array.from({ length: size(l.shape) }, f) }));
const global = make(() => 0.05 * rng.normal());
const common = make(() => 0.01 * rng.normal());
// Honest-looking updates: a shared direction plus client noise, norms within a factor of ~2.
const updates: ClientUpdate[] = Array.from({ length: K }, (_, k) => {
  const s = 0.5 + rng.next();
  const delta = common.map((t) => ({ ...t, shape: [...t.shape], values: t.values.map((v) => s * (v + 0.01 * rng.normal())) }));
  return { clientId: `c${String(k).padStart(3, '0')}`, delta, numSamples: 150 + rng.int(100) };
});
const runtime = strategyRuntime({ name: values.strategy! });
// FedLD's principal path needs a history: take it from one plain-mean round first.
const first = runtime.aggregate(global, updates, null, { round: 1, population: K });
const state: ServerState | null = first.state;
const layout = layoutOf(global);

const stages: Record<string, () => unknown> = {
  'strategy aggregate': () => runtime.aggregate(global, updates, state, { round: 2, population: K }),
  'screen (clip)': () => screenUpdates(layout, updates, () => undefined, robustSettings('clip'), { valuesScanned: true }),
  'robust off + strategy': () => robustAggregate({ global, updates, declaredSamples: () => undefined, settings: robustSettings('off'), aggregator: { aggregate: (g, u) => runtime.aggregate(g, u, state, { round: 2, population: K }).weights }, traits: getStrategy(values.strategy!).traits, valuesScanned: true }),
  'robust clip + strategy': () => robustAggregate({ global, updates, declaredSamples: () => undefined, settings: robustSettings('clip'), aggregator: { aggregate: (g, u) => runtime.aggregate(g, u, state, { round: 2, population: K }).weights }, traits: getStrategy(values.strategy!).traits, valuesScanned: true }),
};
// Wall-clock and CPU time (all threads of the process: on a shared machine, CPU time is the steadier of the two).
const times: Record<string, { wall: number[]; cpu: number[] }> = Object.fromEntries(Object.keys(stages).map((k) => [k, { wall: [], cpu: [] }]));
const cold: Record<string, number> = {};
for (let r = 0; r < reps + 1; r++) {
  for (const [name, f] of Object.entries(stages)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    // The first repetition runs cold (JIT, kernel compilation): reported apart.
    if (r === 0) cold[name] = ms;
    else {
      times[name].wall.push(ms);
      times[name].cpu.push((c.user + c.system) / 1000);
    }
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
process.stdout.write(`K = ${K}, ${values.strategy}, d = ${layout.reduce((n, l) => n + size(l.shape), 0)}, median of ${reps} after a cold first run:\n`);
for (const [name, { wall, cpu }] of Object.entries(times)) {
  process.stdout.write(`  ${name.padEnd(24)} wall ${med(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}), CPU ${med(cpu).toFixed(1)} ms; cold first run ${cold[name].toFixed(1)} ms\n`);
}
