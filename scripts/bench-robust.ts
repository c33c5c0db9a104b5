/**
 * The default defence measured on both sides, with the simulator (the app's FL code):
 * - honest side: heterogeneous data and no attacker; the default against `--robust off` (accuracy, and the share of
 *   honest updates the defence left out);
 * - hostile side: 1 and 2 attackers of 5 and of 10, sync rounds and async steps; the default against the same run
 *   with the attackers absent;
 * - the strategy under the minority pose: the same default screening in front of FedAvg and of FedLD (its paper step
 *   and its mean-norm step), 2 posing attackers of 5, sync, async, and async with attackers that answer fast; every seed.
 * Every run is a command line of the simulator (`npm run sim -- ...`), parsed by the simulator's own option parser.
 * Usage: npm run bench:robust [-- --seeds 3 --rounds 10 --limit 6000 --only honest|hostile|strategies --out docs/benchmarks/robust.md]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { RobustSettings } from '../src/fl/robust';
import { chooseAttackers } from '../src/sim/attacks';
import { runClockedSimulation } from '../src/sim/async-simulation';
import { parseSimArgs } from '../src/sim/cli-options';
import { runSimulation } from '../src/sim/simulation';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '10' },
    limit: { type: 'string', default: '6000' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
if (values.only !== undefined && !['honest', 'hostile', 'strategies'].includes(values.only)) throw new Error(`--only ${values.only}: use honest, hostile or strategies`);
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const COMMON = `--strategy fedavg --rounds ${Number(values.rounds)} --limit ${Number(values.limit)} --test-limit 2000 --backend wasm --quiet`;

tf.env().set('PROD', true);

interface Outcome {
  accuracy: number;
  /** Updates that reached screening, and how many of them it left out, honest clients' and attackers' apart. */
  updates: number;
  honestLeftOut: number;
  attackerUpdates: number;
  attackerAccepted: number;
  seconds: number;
}

/**
 * Runs one simulator command line (with `robust`, the default defence with these settings changed); attackers are told
 * apart by the seed, as the simulator chooses them.
 */
async function run(args: string, robust?: Partial<RobustSettings>): Promise<Outcome> {
  const started = performance.now();
  const options = parseSimArgs(args.split(/\s+/).filter(Boolean));
  const config = robust ? { ...options.config, robust } : options.config;
  const { clock } = options;
  const attackers = config.attack ? chooseAttackers(config.clients, config.attack.attackers, config.seed) : new Set<number>();
  const isAttacker = (client: number) => attackers.has(client);
  if (clock) {
    const r = await runClockedSimulation(config, clock);
    const used = r.records.flatMap((x) => x.clients);
    const refused = r.records.flatMap((x) => x.refused.filter((f) => /robust aggregation/.test(f.reason)).map((f) => f.client));
    const attackerUsed = used.filter(isAttacker).length;
    const attackerRefused = refused.filter(isAttacker).length;
    return {
      accuracy: r.final.accuracy,
      updates: used.length + refused.length,
      honestLeftOut: refused.length - attackerRefused,
      attackerUpdates: attackerUsed + attackerRefused,
      attackerAccepted: attackerUsed,
      seconds: (performance.now() - started) / 1000,
    };
  }
  const r = await runSimulation(config);
  const clientIndex = (id: string) => Number(id.replace(/^client-0*/, '') || '0');
  const leftOut = r.rounds.flatMap((x) => x.screening.filter((v) => v.action === 'left-out').map((v) => clientIndex(v.clientId)));
  const updates = r.rounds.reduce((s, x) => s + x.participants, 0) + leftOut.length;
  const attackerLeftOut = leftOut.filter(isAttacker).length;
  const attackerUpdates = attackers.size * r.rounds.length;
  return {
    accuracy: r.final.accuracy,
    updates,
    honestLeftOut: leftOut.length - attackerLeftOut,
    attackerUpdates,
    attackerAccepted: attackerUpdates - attackerLeftOut,
    seconds: (performance.now() - started) / 1000,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const acc = (x: number) => (100 * x).toFixed(1);
const log = (s: string) => process.stderr.write(`${s}\n`);

const HONEST: Array<{ name: string; args: string }> = [
  { name: 'MNIST, Dirichlet 0.1, 10 clients', args: '--clients 10 --partition dirichlet --alpha 0.1' },
  { name: 'MNIST, Dirichlet 0.5, 10 clients', args: '--clients 10 --partition dirichlet --alpha 0.5' },
  { name: 'MNIST, size skew (log-normal sizes, sigma 1, Dirichlet 0.5), 10 clients', args: '--clients 10 --partition sizeskew --alpha 0.5 --sigma 1' },
  { name: 'MNIST, intertwined classroom (slow devices alone hold some classes), 10 clients, sync', args: '--clients 10 --partition dirichlet --alpha 0.5 --mode sync --devices classroom --intertwined' },
  { name: 'binary MNIST (3 vs 5), Dirichlet 0.1, 5 clients: each class concentrated on one client', args: '--data mnist:3,5 --clients 5 --partition dirichlet --alpha 0.1' },
];

const ATTACKS: Array<{ name: string; attack: string; strategy?: string; robust?: Partial<RobustSettings> }> = [
  { name: 'scale x1e6', attack: 'scale:1e6' },
  // Over dropFactor x the median norm, under minorityFactor: shrunk to the median unless the attacker passes for a minority.
  { name: 'scale x7', attack: 'scale:7' },
  // Trains and declares only its most frequent class, so it passes the label check as a minority, then scales: x7
  // is over the plain bounds and under minorityFactor, x20 and x1e6 over both.
  { name: 'poses as a minority (one class), x7', attack: 'pose-minority:7' },
  { name: 'poses as a minority (one class), x20', attack: 'pose-minority:20' },
  { name: 'poses as a minority (one class), x1e6', attack: 'pose-minority:1e6' },
  // The same x7 against the minority bounds as they were before the cover rule: every verified minority up to
  // minorityFactor, whoever else holds its classes (a cover share above 1 counts no class as covered).
  { name: 'poses as a minority (one class), x7, minority bounds without the cover rule', attack: 'pose-minority:7', robust: { minorityCoverShare: 2 } },
  { name: 'sign-flip x4, claims 1e9 samples', attack: 'signflip:4,inflate-samples:1e9' },
  { name: 'label flip to class 0', attack: 'label-flip:0' },
  { name: "SCAFFOLD: forged delta-c (2x)", attack: 'scaffold-c:2', strategy: 'scaffold' },
  { name: 'NaN', attack: 'nan' },
  { name: 'max-float', attack: 'max-float' },
];
const TEAMS: Array<[number, number]> = [
  [5, 1],
  [5, 2],
  [10, 1],
  [10, 2],
];
const MODES = [
  { name: 'sync', args: '' },
  { name: 'async', args: '--mode async' },
];

const lines: string[] = [];
const started = performance.now();

async function honestSide(): Promise<void> {
  lines.push('## Honest side: no attacker, heterogeneous data', '');
  lines.push('Targets for the default: accuracy within 1 point of `--robust off`, at most 2% of honest updates left out.', '');
  lines.push('| data | default accuracy | `--robust off` | difference (points) | honest updates left out | met |', '|---|---|---|---|---|---|');
  for (const s of HONEST) {
    const def: Outcome[] = [];
    const off: Outcome[] = [];
    for (const seed of seeds) {
      def.push(await run(`${COMMON} ${s.args} --seed ${seed}`));
      off.push(await run(`${COMMON} ${s.args} --seed ${seed} --robust off`));
      log(`honest ${s.name} seed ${seed}: default ${acc(def.at(-1)!.accuracy)} (left out ${def.at(-1)!.honestLeftOut}) vs off ${acc(off.at(-1)!.accuracy)}`);
    }
    const a = mean(def.map((o) => o.accuracy));
    const b = mean(off.map((o) => o.accuracy));
    const leftOut = def.reduce((x, o) => x + o.honestLeftOut, 0) / def.reduce((x, o) => x + o.updates, 0);
    const met = a >= b - 0.01 && leftOut <= 0.02;
    lines.push(`| ${s.name} | ${acc(a)} (${def.map((o) => acc(o.accuracy)).join(', ')}) | ${acc(b)} (${off.map((o) => acc(o.accuracy)).join(', ')}) | ${(100 * (a - b)).toFixed(1)} | ${pct(leftOut)} | ${met ? 'yes' : 'no'} |`);
  }
  lines.push('', `Accuracy: final test accuracy in %, mean of seeds ${seeds.join(', ')} (each seed in brackets).`, '');
}

async function hostileSide(): Promise<void> {
  lines.push('## Hostile side: attackers among the clients (MNIST, Dirichlet 0.5)', '');
  lines.push(
    'Target for the default: accuracy within 2 points of the same run with the attackers absent. "Absent" runs give the attackers',
    'NaN updates, which every mode refuses before aggregation, so what is left is exactly the honest clients\' run.',
    'Async runs take as many steps as sync rounds, each of 5 updates from 5 different clients (the default buffer; a client',
    'holds one place in it), or one from each client that can send when fewer can: an absent attacker\'s refused updates do',
    'not count, so each step of the absent run aggregates the honest clients\' updates alone. An attacker\'s update that the',
    'defence leaves out still took its place in its step.',
    '"Poses as a minority" attackers keep only the samples of their most frequent class, declare that histogram (the true one',
    'of what they train on), train honestly and scale their update: they pass the label check as a label-verified minority,',
    'whose bounds widen (up to minorityFactor x the median) only by the share of its labels on classes no other client of the',
    'round holds; async, they answer at their device\'s usual pace.',
    '',
  );
  lines.push('| attack | clients | attackers | mode | default accuracy | attackers absent | difference (points) | attacker updates accepted | honest updates left out | met |', '|---|---|---|---|---|---|---|---|---|---|');
  const seed = seeds[0];
  const absent = new Map<string, Outcome>();
  for (const a of ATTACKS) {
    for (const [clients, attackers] of TEAMS) {
      for (const mode of MODES) {
        const base = `${COMMON} --strategy ${a.strategy ?? 'fedavg'} --clients ${clients} --partition dirichlet --alpha 0.5 --seed ${seed} ${mode.args}`;
        const key = `${a.strategy ?? 'fedavg'} ${clients} ${attackers} ${mode.name}`;
        if (!absent.has(key)) absent.set(key, await run(`${base} --attackers ${attackers} --attack nan --robust off`));
        const clean = absent.get(key)!;
        const attacked = await run(`${base} --attackers ${attackers} --attack ${a.attack}`, a.robust);
        const diff = attacked.accuracy - clean.accuracy;
        log(`hostile ${a.name} ${attackers}/${clients} ${mode.name}: ${acc(attacked.accuracy)} vs absent ${acc(clean.accuracy)} (${attacked.seconds.toFixed(0)} s)`);
        lines.push(
          `| ${a.name} | ${clients} | ${attackers} | ${mode.name} | ${acc(attacked.accuracy)} | ${acc(clean.accuracy)} | ${(100 * diff).toFixed(1)} | ${attacked.attackerAccepted} of ${attacked.attackerUpdates} | ${attacked.honestLeftOut} of ${attacked.updates - attacked.attackerUpdates} | ${diff >= -0.02 ? 'yes' : 'no'} |`,
        );
      }
    }
  }
  lines.push('', `Seed ${seed}. "Attacker updates accepted": updates of the attackers that went into the model (clipped or not).`, '');
}

if (values.only === undefined || values.only === 'honest') await honestSide();
const POSE_STRATEGIES = [
  { name: 'FedAvg', args: '--strategy fedavg' },
  { name: 'FedLD, paper step', args: '--strategy fedld --step spec' },
  { name: 'FedLD, mean-norm step (default)', args: '--strategy fedld --step norm' },
];
const POSE_MODES = [
  { name: 'sync', args: '', attack: 'pose-minority:7' },
  { name: 'async', args: '--mode async', attack: 'pose-minority:7' },
  { name: 'async, attackers answer fast', args: '--mode async', attack: 'pose-minority:7,fast' },
];

async function strategiesSide(): Promise<void> {
  lines.push('## The strategy under the minority pose (MNIST, Dirichlet 0.5, 2 attackers of 5)', '');
  lines.push(
    'The same default screening in front of different strategies. The attackers pose as minorities and scale by 7 (as',
    'above). "Answer fast": on the simulated clock their device time follows the one class they kept, about 4x less data',
    'than their shard, so they are in every async step with fresh updates (`--attack pose-minority:7,fast`). Every seed',
    'is a run of its own, against the same run with the attackers absent; "met" is the mean within 2 points.',
    '',
  );
  lines.push('| strategy | mode | default accuracy | attackers absent | difference (points) | worst seed | met |', '|---|---|---|---|---|---|---|');
  const absent = new Map<string, Outcome>();
  for (const st of POSE_STRATEGIES) {
    for (const mode of POSE_MODES) {
      const attacked: Outcome[] = [];
      const clean: Outcome[] = [];
      for (const seed of seeds) {
        const base = `${COMMON} ${st.args} --clients 5 --partition dirichlet --alpha 0.5 --attackers 2 --seed ${seed} ${mode.args}`;
        const key = `${base}`;
        if (!absent.has(key)) absent.set(key, await run(`${base} --attack nan --robust off`));
        clean.push(absent.get(key)!);
        attacked.push(await run(`${base} --attack ${mode.attack}`));
        log(`strategies ${st.name} ${mode.name} seed ${seed}: ${acc(attacked.at(-1)!.accuracy)} vs absent ${acc(clean.at(-1)!.accuracy)}`);
      }
      const diffs = attacked.map((o, i) => o.accuracy - clean[i].accuracy);
      const diff = mean(diffs);
      lines.push(
        `| ${st.name} | ${mode.name} | ${acc(mean(attacked.map((o) => o.accuracy)))} (${attacked.map((o) => acc(o.accuracy)).join(', ')}) | ${acc(mean(clean.map((o) => o.accuracy)))} (${clean.map((o) => acc(o.accuracy)).join(', ')}) | ${(100 * diff).toFixed(1)} | ${(100 * Math.min(...diffs)).toFixed(1)} | ${diff >= -0.02 ? 'yes' : 'no'} |`,
      );
    }
  }
  lines.push('', `Seeds ${seeds.join(', ')}; accuracy: mean (each seed in brackets).`, '');
  lines.push('The same two FedLD steps with no attacker, behind the default screening (10 clients):', '');
  lines.push('| data | FedLD, paper step | FedLD, mean-norm step (default) | difference (points) |', '|---|---|---|---|');
  for (const s of HONEST.slice(0, 3)) {
    const paper: Outcome[] = [];
    const meanNorm: Outcome[] = [];
    for (const seed of seeds) {
      paper.push(await run(`${COMMON} --strategy fedld --step spec ${s.args} --seed ${seed}`));
      meanNorm.push(await run(`${COMMON} --strategy fedld --step norm ${s.args} --seed ${seed}`));
      log(`strategies honest ${s.name} seed ${seed}: paper ${acc(paper.at(-1)!.accuracy)} vs mean-norm ${acc(meanNorm.at(-1)!.accuracy)}`);
    }
    const a = mean(paper.map((o) => o.accuracy));
    const b = mean(meanNorm.map((o) => o.accuracy));
    lines.push(`| ${s.name} | ${acc(a)} (${paper.map((o) => acc(o.accuracy)).join(', ')}) | ${acc(b)} (${meanNorm.map((o) => acc(o.accuracy)).join(', ')}) | ${(100 * (b - a)).toFixed(1)} |`);
  }
  lines.push('');
}

if (values.only === undefined || values.only === 'hostile') await hostileSide();
if (values.only === undefined || values.only === 'strategies') await strategiesSide();
const header = [
  '# Robust aggregation on both sides',
  '',
  `Produced by \`npm run bench:robust\` on ${new Date().toISOString().slice(0, 10)} (Node ${process.version}), in ${((performance.now() - started) / 60000).toFixed(1)} min.`,
  `Every run: FedAvg (SCAFFOLD or FedLD where named), MNIST MLP, ${values.limit} training images, ${values.rounds} rounds, the simulator's default robust setting unless stated (\`${COMMON}\`).`,
  '',
];
const report = [...header, ...lines].join('\n');
if (values.out) writeFileSync(values.out, report);
process.stdout.write(report);
