/**
 * The simulator at scale: peak RSS with many clients, the speed-up of --workers, and FedLD's
 * aggregation share of training time at K = 50. Each measurement is its own `npm run sim` process, so peak RSS
 * is that run's own. Usage: npm run bench:sim-scale [-- --only rss|workers|fedld --fedld-rounds 3 --out FILE.md]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SimResult } from '../src/sim/simulation';

const { values } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string', default: '2' }, 'fedld-rounds': { type: 'string', default: '3' } } });
const dir = mkdtempSync(join(tmpdir(), 'fedtab-sim-scale-'));
let runs = 0;

function sim(args: string[]): SimResult {
  const out = join(dir, `run-${++runs}.json`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', ...args, '--backend', 'wasm', '--quiet', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`sim ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return JSON.parse(readFileSync(out, 'utf8')) as SimResult;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

say(`# Simulator at scale (${new Date().toISOString().slice(0, 16)}, Node ${process.version}, wasm backend)`);
say('');
say('Timings on a shared machine: other processes load the cores, so speed-ups are lower bounds of what an idle machine gives.');
say('');

if (!values.only || values.only === 'rss') {
  say('## Peak RSS: memory grows with a round\'s participants, not the population');
  say('');
  say('| clients | per round | samples | partition | strategy | rounds | peak RSS MB | wall s |');
  say('|---:|---:|---:|---|---|---:|---:|---:|');
  for (const [clients, fraction] of [[1000, 0.1], [10000, 0.01]] as const) {
    const args = ['--clients', String(clients), '--fraction', String(fraction), '--limit', '60000', '--test-limit', '2000', '--partition', 'shards', '--strategy', 'fedavg', '--rounds', '2'];
    const r = sim(args);
    say(`| ${clients} | ${r.rounds[0].participants} | 60000 | shards | fedavg | 2 | ${r.resources.peakRssMb.toFixed(0)} | ${(r.resources.wallMs / 1000).toFixed(0)} |`);
  }
  say('');
}

if (!values.only || values.only === 'workers') {
  const n = Number(values.workers);
  say(`## --workers ${n} against 1 (same numbers, less time)`);
  say('');
  const args = ['--clients', '20', '--limit', '8000', '--test-limit', '1000', '--partition', 'dirichlet', '--alpha', '0.5', '--strategy', 'fedavg', '--rounds', '3'];
  const one = sim([...args, '--workers', '1']);
  const many = sim([...args, '--workers', String(n)]);
  const work = (r: SimResult) => sum(r.rounds.map((x) => x.trainMs + x.evalMs));
  const same = JSON.stringify(one.rounds.map((x) => [x.accuracy, x.loss, x.decomposition])) === JSON.stringify(many.rounds.map((x) => [x.accuracy, x.loss, x.decomposition]));
  say(`20 clients, 8000 MNIST samples, 3 rounds of FedAvg: train + evaluation time ${(work(one) / 1000).toFixed(1)} s on 1 thread, ${(work(many) / 1000).toFixed(1)} s on ${n} workers: speed-up ${(work(one) / work(many)).toFixed(2)}x; identical numbers: ${same ? 'yes' : 'NO'}.`);
  const cpu1 = one.resources.cpuMs;
  const cpuN = many.resources.cpuMs;
  say(
    `CPU time of the whole run (all threads): ${(cpu1 / 1000).toFixed(1)} s on 1 thread, ${(cpuN / 1000).toFixed(1)} s with ${n} workers ` +
      `(the workers' extra start-up and copies: ${((100 * (cpuN - cpu1)) / cpu1).toFixed(0)}%). With ${n} free cores the speed-up is bounded by about ${((n * cpu1) / cpuN).toFixed(2)}x; ` +
      `wall-clock speed-up needs idle cores (load average now ${loadavg()[0].toFixed(1)} on ${cpus().length} cores).`,
  );
  say('');
}

if (!values.only || values.only === 'fedld') {
  say('## FedLD aggregation share at K = 50');
  say('');
  // The aggregation alone (--robust off), then with the default robust screening before it (what a session runs).
  // --fedld-rounds N (default 3): more rounds show the steady state past the first rounds' JIT warm-up.
  const rounds = values['fedld-rounds']!;
  for (const robust of ['off', 'clip']) {
    const r = sim(['--clients', '50', '--limit', '10000', '--test-limit', '1000', '--partition', 'dirichlet', '--alpha', '0.5', '--strategy', 'fedld', '--step', 'spec', '--rounds', rounds, '--robust', robust]);
    const agg = sum(r.rounds.map((x) => x.aggregateMs));
    const train = sum(r.rounds.map((x) => x.trainMs));
    say(`MNIST MLP, 10,000 samples over 50 clients, ${rounds} rounds, 1 thread, --robust ${robust}: aggregation ${agg.toFixed(0)} ms, training ${train.toFixed(0)} ms: ${((100 * agg) / train).toFixed(2)}% (per round: ${r.rounds.map((x) => `${x.aggregateMs.toFixed(0)}/${x.trainMs.toFixed(0)} ms`).join(', ')}).`);
    say('');
  }
}

if (values.out) writeFileSync(values.out, lines.join('\n') + '\n');
