/**
 * FedAvg vs FedProx vs FedLD under label skew, on real MNIST, through the simulator.
 * Usage: npm run bench:strategies [-- --rounds R --limit N --seeds S --out docs/benchmarks/strategies.md]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { defaultStrategyConfig as strategyConfig } from '../src/fl/strategies/registry';
import type { StrategyName } from '../src/fl/strategies/types';
import { runSimulation, SIM_DEFAULTS, type SimConfig, type SimResult } from '../src/sim/simulation';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    limit: { type: 'string', default: '10000' },
    seeds: { type: 'string', default: '2' },
    'last-rounds': { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const limit = Number(values.limit);
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const lastRounds = Number(values['last-rounds']);
const strategies: StrategyName[] = ['fedavg', 'fedprox', 'fedld'];
const alphas = [0.1, 0.5, 100];

tf.env().set('PROD', true);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const pct = (x: number) => (100 * x).toFixed(1);

interface Cell {
  strategy: StrategyName;
  alpha: number;
  results: SimResult[];
}

async function main() {
  const started = Date.now();
  const cells: Cell[] = [];
  for (const alpha of alphas) {
    for (const strategy of strategies) {
      const cell: Cell = { strategy, alpha, results: [] };
      for (const seed of seeds) {
        const config: SimConfig = {
          ...SIM_DEFAULTS,
          limit,
          testLimit: 10000,
          clients: 10,
          model: 'mlp',
          rounds,
          partition: { kind: 'dirichlet', alpha },
          strategy: strategyConfig(strategy),
          seed,
          backend: 'wasm',
        };
        const t0 = Date.now();
        const result = await runSimulation(config);
        process.stderr.write(`alpha ${alpha} ${strategy} seed ${seed}: final ${pct(result.final.accuracy)}% best ${pct(result.final.bestAccuracy)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        cell.results.push(result);
      }
      cells.push(cell);
    }
  }

  const lines: string[] = [];
  const cmd = `npm run bench:strategies -- --rounds ${rounds} --limit ${limit} --seeds ${seeds.length} --last-rounds ${lastRounds}`;
  lines.push('# Strategies under label skew (MNIST, MLP 784-64-10, 10 clients)', '');
  lines.push(`Produced by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, Node ${process.version}, tfjs wasm backend), in ${((Date.now() - started) / 60000).toFixed(1)} minutes.`);
  lines.push(
    `Setup: first ${limit} MNIST training images split over 10 clients by a Dirichlet(alpha) label partition (each client keeps 20% (at most 200) as its evaluation subset E_k), ` +
      `all clients every round, ${rounds} rounds, 1 local epoch, batch ${SIM_DEFAULTS.batch}, SGD lr ${SIM_DEFAULTS.lr} momentum 0.5; FedProx mu 0.01; FedLD lambda 0.1, rho 0.8. ` +
      `Accuracy on the 10,000 MNIST test images. Seeds ${seeds.join(', ')}: mean ± standard deviation over seeds.`,
    '',
  );
  lines.push('| alpha | strategy | final acc % | best acc % | local | shift | aggregation | global | invariant max err | aggregateMs / trainMs |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) {
    const finals = c.results.map((r) => r.final.accuracy);
    const bests = c.results.map((r) => r.final.bestAccuracy);
    const tail = c.results.flatMap((r) => r.rounds.slice(-lastRounds));
    const all = c.results.flatMap((r) => r.rounds);
    const term = (k: 'local' | 'shift' | 'aggregation' | 'global') => mean(tail.map((r) => r.decomposition[k])).toFixed(4);
    const invariant = Math.max(...all.map((r) => Math.abs(r.decomposition.local + r.decomposition.shift + r.decomposition.aggregation - r.decomposition.global)));
    const aggShare = mean(all.map((r) => r.aggregateMs)) / mean(all.map((r) => r.trainMs));
    lines.push(
      `| ${c.alpha} | ${c.strategy} | ${pct(mean(finals))} ± ${pct(spread(finals))} | ${pct(mean(bests))} ± ${pct(spread(bests))} | ${term('local')} | ${term('shift')} | ${term('aggregation')} | ${term('global')} | ${invariant.toExponential(1)} | ${mean(all.map((r) => r.aggregateMs)).toFixed(1)} / ${mean(all.map((r) => r.trainMs)).toFixed(0)} ms (${(100 * aggShare).toFixed(2)}%) |`,
    );
  }
  lines.push('', `Decomposition columns: mean over the last ${lastRounds} rounds and all seeds of the exact estimator (cross-evaluation on every client's E_k).`);
  lines.push('"invariant max err": the largest |local + shift + aggregation - global| over every round of every run.');
  lines.push('"trainMs" is the wall time from round-start to the last update (all 10 clients train one after another in this one process).', '');

  lines.push('## FedLD vs FedAvg', '');
  for (const alpha of alphas) {
    const get = (s: StrategyName) => cells.find((c) => c.alpha === alpha && c.strategy === s)!;
    const ld = mean(get('fedld').results.map((r) => r.final.accuracy));
    const avg = mean(get('fedavg').results.map((r) => r.final.accuracy));
    const ldBest = mean(get('fedld').results.map((r) => r.final.bestAccuracy));
    const avgBest = mean(get('fedavg').results.map((r) => r.final.bestAccuracy));
    lines.push(`- alpha ${alpha}: FedLD final ${pct(ld)}% vs FedAvg ${pct(avg)}% (${ld >= avg ? 'FedLD at least as accurate' : 'FedLD LESS accurate'}, ${pct(ld - avg)} points); best ${pct(ldBest)}% vs ${pct(avgBest)}%.`);
  }
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (values.out) writeFileSync(values.out, text);
}

main().catch((e) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
