/**
 * The fair strategy benchmark: every strategy of the registry (src/sim/bench-registry.ts) under label skew and size
 * skew, on real MNIST, through the simulator. Per partition and strategy, the client learning rate (and the server
 * learning rate where the strategy has one) is chosen on a validation split carved from the training data, never on
 * the test set; the chosen point then runs for every seed and is scored on the test set.
 *
 * Usage: npm run bench:strategies [-- --rounds 50 --seeds 3 --tune-rounds 15 --limit 4000 --workers 2
 *          --client-lrs 0.02,0.05,0.1 --server-lrs 0.5,1 --strategies fedavg,fedld
 *          --partitions dirichlet:0.1,dirichlet:0.5,dirichlet:100,sizeskew:0.5 --out docs/benchmarks/strategies.md]
 * The defaults are sized for about 30 minutes on the 2-core machine with 3 strategies (more strategies or grid points
 * scale it linearly; --max-minutes stops early with what is done).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { PartitionSpec } from '../src/fl/data/partition';
import { selectBenchStrategies, type BenchGridPoint, type BenchStrategy } from '../src/sim/bench-registry';
import { grid, mean, parseNumberList, pickBest, spread, tailAccuracy, tailDecomposition } from '../src/sim/bench-stats';
import { runSimulation, SIM_DEFAULTS, type SimConfig, type SimResult } from '../src/sim/simulation';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '50' },
    'tune-rounds': { type: 'string', default: '15' },
    seeds: { type: 'string', default: '3' },
    limit: { type: 'string', default: '4000' },
    'test-limit': { type: 'string', default: '2000' },
    clients: { type: 'string', default: '10' },
    fraction: { type: 'string', default: '1' },
    validation: { type: 'string', default: '0.1' },
    'last-rounds': { type: 'string', default: '5' },
    'client-lrs': { type: 'string', default: '0.02,0.05,0.1' },
    'server-lrs': { type: 'string', default: '0.5,1' },
    strategies: { type: 'string' },
    partitions: { type: 'string', default: 'dirichlet:0.1,dirichlet:0.5,dirichlet:100,sizeskew:0.5' },
    workers: { type: 'string', default: '2' },
    'max-minutes': { type: 'string', default: '40' },
    out: { type: 'string' },
  },
});

const int = (name: string, min = 1) => {
  const x = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return x;
};
const rounds = int('rounds');
const tuneRounds = int('tune-rounds');
const seeds = Array.from({ length: int('seeds') }, (_, i) => i + 1);
const lastRounds = int('last-rounds');
const clientLrs = parseNumberList(values['client-lrs']!, '--client-lrs');
const serverLrs = parseNumberList(values['server-lrs']!, '--server-lrs');
const strategies = selectBenchStrategies(values.strategies?.split(',').map((s) => s.trim()));
const partitions = values.partitions!.split(',').map(parsePartition);
const maxMs = Number(values['max-minutes']) * 60_000;
const base: SimConfig = {
  ...SIM_DEFAULTS,
  limit: int('limit'),
  testLimit: int('test-limit'),
  clients: int('clients'),
  fraction: Number(values.fraction),
  validation: Number(values.validation),
  model: 'mlp',
  backend: 'wasm',
  workers: int('workers'),
};
if (!(base.validation > 0 && base.validation < 1)) throw new Error('--validation must be in (0, 1): the learning rates are chosen on it');

function parsePartition(text: string): PartitionSpec {
  const [kind, a] = text.trim().split(':');
  const alpha = Number(a);
  if ((kind === 'dirichlet' || kind === 'sizeskew') && alpha > 0) return kind === 'dirichlet' ? { kind, alpha } : { kind, alpha, sigma: 1 };
  if (kind === 'iid') return { kind };
  throw new Error(`--partitions: "${text}" is not dirichlet:ALPHA, sizeskew:ALPHA or iid`);
}

function partitionLabel(p: PartitionSpec): string {
  if (p.kind === 'dirichlet') return `Dirichlet ${p.alpha}`;
  if (p.kind === 'sizeskew') return `size skew (sigma ${p.sigma ?? 1}) + Dirichlet ${p.alpha}`;
  return p.kind;
}

tf.env().set('PROD', true);
const pct = (x: number) => (100 * x).toFixed(1);
const started = Date.now();
const minutes = () => (Date.now() - started) / 60_000;

interface Cell {
  partition: PartitionSpec;
  strategy: BenchStrategy;
  chosen: BenchGridPoint;
  tuning: Array<{ point: BenchGridPoint; validationAccuracy: number }>;
  results: SimResult[];
}

/** A run that diverges scores -Infinity instead of ending the bench. */
async function run(config: SimConfig): Promise<SimResult | null> {
  try {
    return await runSimulation(config);
  } catch (e) {
    process.stderr.write(`  run failed (${(e as Error).message}); scored as diverged\n`);
    return null;
  }
}

async function main(): Promise<void> {
  const cells: Cell[] = [];
  let stoppedEarly = false;
  outer: for (const partition of partitions) {
    for (const strategy of strategies) {
      if (Date.now() - started > maxMs) {
        stoppedEarly = true;
        break outer;
      }
      const points = grid({ clientLr: clientLrs, serverLr: strategy.serverLr ? serverLrs : [1] });
      const tuning: Cell['tuning'] = [];
      for (const point of points) {
        const r = await run({ ...base, partition, strategy: strategy.config(point), learningRate: point.clientLr, rounds: tuneRounds, seed: seeds[0], evaluateOn: 'validation' });
        const validationAccuracy = r ? tailAccuracy(r.rounds, lastRounds) : -Infinity;
        tuning.push({ point, validationAccuracy });
        process.stderr.write(`${partitionLabel(partition)} ${strategy.name} lr ${point.clientLr} server ${point.serverLr}: validation ${pct(validationAccuracy)}% (${minutes().toFixed(1)} min)\n`);
      }
      const chosen = pickBest(tuning, (t) => t.validationAccuracy).best.point;
      const results: SimResult[] = [];
      for (const seed of seeds) {
        const r = await run({ ...base, partition, strategy: strategy.config(chosen), learningRate: chosen.clientLr, rounds, seed, evaluateOn: 'test' });
        if (r) results.push(r);
        process.stderr.write(`  seed ${seed}: ${r ? `test ${pct(tailAccuracy(r.rounds, lastRounds))}%` : 'diverged'} (${minutes().toFixed(1)} min)\n`);
      }
      cells.push({ partition, strategy, chosen, tuning, results });
      const total = partitions.length * strategies.length;
      process.stderr.write(`cell ${cells.length}/${total} done in ${minutes().toFixed(1)} min; projected total ${((minutes() / cells.length) * total).toFixed(0)} min (limit ${values['max-minutes']})\n`);
    }
  }
  const text = report(cells, stoppedEarly);
  process.stdout.write(text);
  if (values.out) writeFileSync(values.out, text);
}

function report(cells: Cell[], stoppedEarly: boolean): string {
  const lines: string[] = [];
  const argv = process.argv.slice(2).join(' ');
  lines.push(`# Strategies under label and size skew (MNIST, MLP 784-64-10, ${base.clients} clients)`, '');
  lines.push(`Produced by \`npm run bench:strategies${argv ? ` -- ${argv}` : ''}\` on ${new Date().toISOString().slice(0, 10)} (Node ${process.version}, tfjs wasm, ${base.workers} worker threads) in ${minutes().toFixed(1)} minutes${stoppedEarly ? ` — STOPPED EARLY at --max-minutes ${values['max-minutes']}: rows missing` : ''}.`);
  lines.push(
    `Setup: first ${base.limit} MNIST training images; ${pct(base.validation)}% of them (stratified, the same for every seed) held out as the validation set; ` +
      `the rest split over ${base.clients} clients (each keeps 20%, at most ${base.evalMax}, as its evaluation subset E_k); ${pct(base.fraction)}% of the clients per round, ` +
      `1 local epoch, batch ${base.batchSize}, SGD momentum 0.5. ` +
      `Tuning: client lr in {${clientLrs.join(', ')}}${strategies.some((x) => x.serverLr) ? `, server lr in {${serverLrs.join(', ')}} for strategies that have one` : ''}, ${tuneRounds} rounds, seed ${seeds[0]}, ` +
      `scored by the mean validation accuracy of the last ${lastRounds} rounds. Final: the chosen point, ${rounds} rounds, seeds ${seeds.join(', ')}, ` +
      `accuracy on ${base.testLimit} MNIST test images (mean of the last ${lastRounds} rounds per seed), mean ± standard deviation over seeds.`,
    '',
  );
  lines.push(`| partition | strategy | client lr | server lr | validation acc % | test acc % (last ${lastRounds}) | final-round acc % | local | shift | aggregation | global | aggregateMs / trainMs |`);
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) {
    const tails = c.results.map((r) => tailAccuracy(r.rounds, lastRounds));
    const finals = c.results.map((r) => r.final.accuracy);
    const terms = c.results.map((r) => tailDecomposition(r.rounds, lastRounds));
    const term = (k: 'local' | 'shift' | 'aggregation' | 'global') => `${mean(terms.map((t) => t[k])).toFixed(4)} ± ${spread(terms.map((t) => t[k])).toFixed(4)}`;
    const all = c.results.flatMap((r) => r.rounds);
    const aggShare = mean(all.map((r) => r.aggregateMs)) / mean(all.map((r) => r.trainMs));
    const val = c.tuning.find((t) => t.point === c.chosen)!.validationAccuracy;
    lines.push(
      `| ${partitionLabel(c.partition)} | ${c.strategy.description} | ${c.chosen.clientLr} | ${c.strategy.serverLr ? c.chosen.serverLr : '—'} | ${pct(val)} | ` +
        `${c.results.length ? `${pct(mean(tails))} ± ${pct(spread(tails))}` : 'diverged'}${c.results.length < seeds.length ? ` (${c.results.length}/${seeds.length} seeds)` : ''} | ` +
        `${c.results.length ? `${pct(mean(finals))} ± ${pct(spread(finals))}` : '—'} | ${term('local')} | ${term('shift')} | ${term('aggregation')} | ${term('global')} | ${(100 * aggShare).toFixed(2)}% |`,
    );
  }
  lines.push('', `Decomposition columns: the exact estimator (cross-evaluation on every client's E_k), mean over the last ${lastRounds} rounds per seed, then mean ± standard deviation over seeds.`);
  lines.push('', '## Tuning grid (validation accuracy %, last rounds mean)', '');
  for (const c of cells) {
    lines.push(`- ${partitionLabel(c.partition)}, ${c.strategy.name}: ${c.tuning.map((t) => `lr ${t.point.clientLr}${c.strategy.serverLr ? `/server ${t.point.serverLr}` : ''} → ${pct(t.validationAccuracy)}`).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}

main().catch((e) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
