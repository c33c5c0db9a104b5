/**
 * Private aggregation measured (src/fl/private-aggregation.ts, src/fl/secagg, src/fl/dp):
 * - cost: one round of secure aggregation for the MNIST MLP at K = 10, 30, 50 clients, without dropouts and with 10%
 *   of the clients dropping after they shared their secrets, against plain FedAvg (each client's payload bytes, the
 *   clients' time, the aggregator's time); every party in this process, message by message;
 * - accuracy: the simulator (`npm run sim -- ...`, the app's FL code) on MNIST with client-level DP at eps about 1, 4
 *   and 8 (delta 1e-5), under secure aggregation, against the same run without DP. The noise multiplier for each eps
 *   is found by bisection with the accountant for the run's sampling rate and rounds.
 * Usage: npm run bench:private [-- --only cost|accuracy --rounds 10 --clients 1000 --fraction 0.1 --local-epochs 5 --clip 0.5
 *   --eps none,clip,8,4,1 --seed 1 --repeats 3 --out FILE.md] (--eps: which accuracy rows; none = the run without DP,
 *   clip = secure aggregation with the clients' clipping and no noise)
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { aggregateRound, type AggregationJob } from '../src/fl/aggregate-round';
import { RdpAccountant } from '../src/fl/dp/accountant';
import { buildModel, getWeights, mlpSpec } from '../src/fl/models';
import { privateAggregateRound } from '../src/fl/private-aggregation';
import { robustSettings } from '../src/fl/robust';
import { Rng } from '../src/fl/rng';
import type { WeightSet } from '../src/fl/weights';
import { parseSimArgs } from '../src/sim/cli-options';
import { runSimulation, type SimResult } from '../src/sim/simulation';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '10' },
    'local-epochs': { type: 'string', default: '5' },
    eps: { type: 'string', default: 'none,clip,8,4,1' },
    seed: { type: 'string', default: '1' },
    clients: { type: 'string', default: '1000' },
    fraction: { type: 'string', default: '0.1' },
    clip: { type: 'string', default: '0.5' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});

tf.env().set('PROD', true);
const lines: string[] = [];
const say = (line = '') => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

say(`# Private aggregation: cost and accuracy (${new Date().toISOString().slice(0, 16)}, Node ${process.version}, load average ${loadavg()[0].toFixed(1)})`);
say();
say('Measured with `npm run bench:private` (scripts/bench-private.ts). Timings come from a shared 2-core machine: they are');
say('noisy, and slower than on an idle one.');
say();

async function cost(): Promise<void> {
  await tf.setBackend('cpu');
  const model = buildModel(mlpSpec([28, 28, 1], 10), 1);
  const global = await getWeights(model);
  model.dispose();
  const params = global.reduce((n, t) => n + t.values.length, 0);
  const repeats = Number(values.repeats);
  say(`## Cost of one round, MNIST MLP (${params.toLocaleString('en')} parameters)`);
  say();
  say('Each client\'s bytes are what it sends and receives in the round, as payload (before message framing): plain FedAvg');
  say('sends the float32 update (the model going out is the same in both); secure aggregation sends two public keys, gets');
  say('its neighbours\' keys, sends and gets one sealed share pair per neighbour, sends its masked input (one uint32 per');
  say('value, plus the weight) and reveals one share per neighbour. Client time: key generation, sharing, clipping and');
  say('masking, revealing (plain: none beyond encoding). Aggregator time: plain FedAvg\'s weighted mean, against routing,');
  say('summing and unmasking (rebuilding secrets, regenerating masks). Median of ' + repeats + ' rounds; 10% dropped: that many');
  say('clients go silent after sharing, so the aggregator rebuilds their mask keys and removes their pairwise masks.');
  say();
  say('| K | degree / threshold | plain: bytes per client | plain: aggregator | secure: bytes per client | secure: client | secure: aggregator | 10% dropped: aggregator |');
  say('|---:|---:|---:|---:|---:|---:|---:|---:|');
  const rng = new Rng(5);
  const randomDelta = (): WeightSet => global.map((t) => ({ ...t, values: Float32Array.from(t.values, () => 0.01 * rng.normal()) }));
  for (const K of [10, 30, 50]) {
    const ids = Array.from({ length: K }, (_, i) => `client-${String(i).padStart(2, '0')}`);
    const updates = ids.map((clientId, k) => ({ clientId, delta: randomDelta(), numSamples: 50 + k }));
    const job: AggregationJob = { strategy: { name: 'fedavg' }, round: 1, population: K, global, state: null, updates, declaredSamples: Object.fromEntries(updates.map((u) => [u.clientId, u.numSamples])), robust: robustSettings('off'), valuesScanned: true };
    const plainMs: number[] = [];
    const secure: { bytes: number; client: number; server: number }[] = [];
    const droppedMs: number[] = [];
    let graph = '';
    const drop = ids.filter((_, i) => i % 10 === 3);
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      if (!aggregateRound(job).ok) throw new Error('plain aggregation failed');
      plainMs.push(performance.now() - t0);
      const settings = { secureAggregation: true, clipNorm: 10, noiseMultiplier: 0, delta: 1e-5, budget: null };
      const ctx = { sessionId: 'bench', selected: K, graphSeed: 100 + r, noiseFor: () => rng };
      const s = (await privateAggregateRound({ ...job, round: r + 1 }, settings, ctx)).stats.secagg!;
      secure.push({ bytes: s.maxClientBytes, client: s.meanClientMs, server: s.serverMs });
      graph = `${s.degree} / ${s.threshold}`;
      droppedMs.push((await privateAggregateRound({ ...job, round: r + 1 }, settings, { ...ctx, dropAfterSharing: drop })).stats.secagg!.serverMs);
    }
    say(`| ${K} | ${graph} | ${kb(4 * params)} | ${ms(median(plainMs))} | ${kb(median(secure.map((s) => s.bytes)))} | ${ms(median(secure.map((s) => s.client)))} | ${ms(median(secure.map((s) => s.server)))} | ${ms(median(droppedMs))} (${drop.length} of ${K}) |`);
  }
  say();
}

/** The smallest noise multiplier whose `rounds` rounds at sampling rate q stay within eps (bisection on the accountant). */
function noiseFor(eps: number, q: number, rounds: number, delta: number): number {
  const spent = (sigma: number) => {
    const a = new RdpAccountant(delta);
    for (let r = 0; r < rounds; r++) a.record(q, sigma);
    return a.spent().epsilon;
  };
  let lo = 0.3;
  let hi = 50;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (spent(mid) > eps) lo = mid;
    else hi = mid;
  }
  return hi;
}

async function accuracy(): Promise<void> {
  const rounds = Number(values.rounds);
  const clients = Number(values.clients);
  const fraction = Number(values.fraction);
  const clip = Number(values.clip);
  const localEpochs = Number(values['local-epochs']);
  const common = `--clients ${clients} --fraction ${fraction} --limit 60000 --test-limit 2000 --partition iid --strategy fedavg --rounds ${rounds} --local-epochs ${localEpochs} --seed ${Number(values.seed)} --backend wasm`;
  say(`## MNIST accuracy under client-level DP (delta 1e-5), with secure aggregation`);
  say();
  say(`${clients} clients holding the 60,000 MNIST training images (iid), ${Math.round(fraction * clients)} asked per round (sampling rate ${fraction}), ${rounds} rounds of FedAvg`);
  say(`(${localEpochs} local epochs, the MLP, the simulator's other defaults),`);
  say(`test accuracy on 2,000 test images; every DP client clips its update to L2 norm ${clip} and adds its share of the noise.`);
  say('"eps (aggregator)" is the guarantee towards the aggregating tab itself, which knows who was asked (no amplification');
  say('by sampling). Command: `npm run sim -- ' + common + ' --secagg --dp-clip ' + clip + ' --dp-noise S`.');
  say();
  say('| run | noise multiplier | eps spent | eps (aggregator) | final accuracy | best accuracy | seconds |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  const run = async (label: string, extra: string): Promise<SimResult> => {
    const { config } = parseSimArgs(`${common} ${extra}`.trim().split(/\s+/));
    const r = await runSimulation(config);
    const p = r.privacy;
    say(`| ${label} | ${p?.settings.noiseMultiplier ?? '-'} | ${p?.epsilon == null ? '-' : p.epsilon.toFixed(2)} | ${p?.epsilonAggregator == null ? '-' : p.epsilonAggregator.toFixed(2)} | ${r.final.accuracy.toFixed(4)} | ${r.final.bestAccuracy.toFixed(4)} | ${(r.resources.wallMs / 1000).toFixed(0)} |`);
    return r;
  };
  for (const row of String(values.eps).split(',')) {
    if (row === 'none') {
      await run('no DP (plain FedAvg, robust off)', '--robust off');
      continue;
    }
    if (row === 'clip') {
      await run(`secure aggregation, clip ${clip}, no noise`, `--secagg --dp-clip ${clip}`);
      continue;
    }
    const eps = Number(row);
    const sigma = noiseFor(eps, fraction, rounds, 1e-5);
    await run(`eps ~ ${eps}`, `--secagg --dp-clip ${clip} --dp-noise ${sigma.toFixed(3)}`);
  }
  say();
}

if (!values.only || values.only === 'cost') await cost();
if (!values.only || values.only === 'accuracy') await accuracy();
if (values.out) {
  writeFileSync(values.out, `${lines.join('\n')}\n`);
  process.stdout.write(`wrote ${values.out}\n`);
}
