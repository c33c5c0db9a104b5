/**
 * Rows 16-18 of scripts/bench-attacks.ts: the robust aggregation on both sides, through the simulator's options.
 * - 16: honest clients whose data is skewed (an honest minority) were left out by the old default;
 * - 17: label flipping (data poisoning) by 2 of 5 clients;
 * - 18: SCAFFOLD's control-variate change forged by 1 of 5 clients.
 * "clean" is the same run without the threat: `--robust off` for the honest rows, the attackers absent for the
 * attacks (their every update NaN, which every mode refuses before aggregation).
 */
import { measuredRow, renderTable, type RowReport } from './bench-attacks-lib';

export const ROBUST_ROWS = {
  16: {
    attack: 'honest clients with skewed data: one client alone holds (most of) a class, and its update points away from the others',
    before:
      'default screening left honest clients out: binary MNIST 3 vs 5 (5 clients, Dirichlet 0.1, 10 rounds) 0.531, a constant predictor, 20 honest updates left out (--robust off 0.935); ' +
      'MNIST, 10 clients, Dirichlet 0.1, seed 7: 0.688 with 4 honest updates dropped (off 0.746); a chest X-ray set, every strategy stuck at 0.50',
  },
  17: {
    attack: '2 of 5 clients train with every label flipped to class 0 (MNIST MLP, Dirichlet 0.5, 10 rounds)',
    before: 'accuracy 0.562, class 0 taking 35.5% of the predictions; at least 18 of 20 flipped updates accepted',
  },
  18: {
    attack: "1 of 5 clients replaces SCAFFOLD's control-variate change by a fixed direction at 1x or 2x its norm (MNIST MLP, 10 rounds)",
    before: '0.486 (1x) and 0.143 (2x) against 0.785 clean; norm clipping cannot see it and no update is dropped',
  },
} as const;

const BASE = ['--model', 'mlp', '--rounds', '10', '--limit', '6000', '--test-limit', '2000', '--backend', 'wasm'];

interface Run {
  accuracy: number;
  leftOut: number;
  seconds: number;
}

async function simulate(args: string[]): Promise<Run> {
  const { parseSimArgs } = await import('../src/sim/cli-options');
  const { runSimulation } = await import('../src/sim/simulation');
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  const started = Date.now();
  const { config } = parseSimArgs(args);
  const r = await runSimulation(config);
  const leftOut = r.rounds.reduce((n, round) => n + round.screening.filter((v) => v.action === 'left-out').length, 0);
  const run = { accuracy: r.final.accuracy, leftOut, seconds: (Date.now() - started) / 1000 };
  process.stderr.write(`  ${args.join(' ')}: ${run.accuracy.toFixed(3)}, ${leftOut} left out (${run.seconds.toFixed(0)} s)\n`);
  return run;
}

const show = (r: Run, what = 'left out') => `${r.accuracy.toFixed(3)} (${r.leftOut} ${what})`;

export async function row16(): Promise<RowReport> {
  const cases = [
    { label: 'binary MNIST 3 vs 5, 5 clients, Dirichlet 0.1, seed 1', args: ['--data', 'mnist:3,5', '--clients', '5', '--partition', 'dirichlet', '--alpha', '0.1', '--seed', '1'] },
    { label: 'MNIST, 10 clients, Dirichlet 0.1, seed 7', args: ['--data', 'mnist', '--clients', '10', '--partition', 'dirichlet', '--alpha', '0.1', '--seed', '7'] },
  ];
  const rows: string[][] = [];
  const after: string[] = [];
  const clean: string[] = [];
  for (const c of cases) {
    const args = [...BASE, '--strategy', 'fedavg', ...c.args];
    const def = await simulate(args);
    const off = await simulate([...args, '--robust', 'off']);
    rows.push([c.label, show(def), off.accuracy.toFixed(3), `\`${args.join(' ')}\``]);
    after.push(`${c.label}: ${show(def, 'honest updates left out')}`);
    clean.push(`${c.label}: ${off.accuracy.toFixed(3)} with --robust off`);
  }
  return measuredRow(16, ROBUST_ROWS[16], after.join('; '), clean.join('; '), [
    'FedAvg, the default defence against `--robust off`, final test accuracy; nobody attacks, so every update left out is an honest one.',
    '',
    ...renderTable(['data', 'default (left out)', '--robust off', 'flags'], rows),
  ]);
}

export async function row17(): Promise<RowReport> {
  const args = [...BASE, '--strategy', 'fedavg', '--clients', '5', '--partition', 'dirichlet', '--alpha', '0.5', '--seed', '1', '--attackers', '2'];
  const attacked = await simulate([...args, '--attack', 'label-flip:0']);
  const absent = await simulate([...args, '--attack', 'nan', '--robust', 'off']);
  return measuredRow(17, ROBUST_ROWS[17], `default: ${show(attacked, 'flipped updates left out, of 20')}`, `attackers absent: ${absent.accuracy.toFixed(3)}`, [
    '`' + [...args, '--attack', 'label-flip:0'].join(' ') + '`: the flipped clients declare their true labels (their hello is honest); the defence checks each update against them.',
  ]);
}

export async function row18(): Promise<RowReport> {
  const args = [...BASE, '--strategy', 'scaffold', '--clients', '5', '--partition', 'dirichlet', '--alpha', '0.5', '--seed', '1', '--attackers', '1'];
  const one = await simulate([...args, '--attack', 'scaffold-c:1']);
  const two = await simulate([...args, '--attack', 'scaffold-c:2']);
  const absent = await simulate([...args, '--attack', 'nan', '--robust', 'off']);
  return measuredRow(18, ROBUST_ROWS[18], `default: 1x ${show(one)}, 2x ${show(two)}`, `attacker absent: ${absent.accuracy.toFixed(3)}`, [
    '`' + [...args, '--attack', 'scaffold-c:F'].join(' ') + '`; SCAFFOLD checks each delta-c against its delta-w before anything else.',
  ]);
}
