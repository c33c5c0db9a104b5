/**
 * Mixed-device classroom: synchronous rounds with a deadline vs asynchronous buffered aggregation, on a simulated clock.
 * 20 clients, classroom devices (30% 5x slower) holding particular classes (--intertwined), Dirichlet 0.5 MNIST, FedAvg.
 * Usage: npm run bench:async [-- --seeds 3 --limit 3000 --test-limit 1000 --sim-time 10 --deadline 0.6 --out docs/benchmarks/async.md]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { formatStaleness, type StalenessConfig } from '../src/fl/async/staleness';
import { ROBUST_DEFAULTS as D } from '../src/fl/robust';
import { CLOCK_DEFAULTS, runClockedSimulation, timeToAccuracy, type ClockedRecord, type ClockedResult, type ClockOptions } from '../src/sim/async-simulation';
import { SIM_DEFAULTS, type SimConfig } from '../src/sim/simulation';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    limit: { type: 'string', default: '3000' },
    'test-limit': { type: 'string', default: '1000' },
    'sim-time': { type: 'string', default: '10' },
    deadline: { type: 'string', default: '0.6' },
    out: { type: 'string' },
  },
});
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const limit = Number(values.limit);
const testLimit = Number(values['test-limit']);
const simTime = Number(values['sim-time']);
const deadline = Number(values.deadline);
const UPDATES_PER_EVAL = 20; // async runs are evaluated about once per 20 updates, as often as a full sync round

tf.env().set('PROD', true);

interface Variant {
  label: string;
  clock: Partial<ClockOptions>;
  /** The defence, when not the default (to show what the default costs the slow devices' classes). */
  robust?: SimConfig['robust'];
}
const asyncVariant = (bufferSize: number, staleness: StalenessConfig, participation: 'none' | 'duration' = 'none'): Variant => ({
  label: `async M=${bufferSize} ${formatStaleness(staleness)}${participation === 'duration' ? ' + duration weighting' : ''}`,
  clock: { mode: 'async', devices: { kind: 'classroom' }, async: { bufferSize, staleness, maxStaleness: null, participation }, evalEvery: Math.max(1, Math.round(UPDATES_PER_EVAL / bufferSize)) },
});
const REFERENCE: Variant = { label: 'sync, every device fast (reference)', clock: { mode: 'sync', devices: { kind: 'uniform' }, deadline: null } };
const SYNC: Variant = { label: `sync, deadline ${deadline} s`, clock: { mode: 'sync', devices: { kind: 'classroom' }, deadline } };
const ASYNC: Variant[] = [
  asyncVariant(5, { kind: 'constant' }),
  asyncVariant(5, { kind: 'poly', a: 0.5 }),
  asyncVariant(10, { kind: 'constant' }),
  asyncVariant(10, { kind: 'poly', a: 0.5 }),
  asyncVariant(10, { kind: 'poly', a: 0.5 }, 'duration'),
  // What the default defence costs the slow devices' classes, and which part of it does: the default without its
  // wider bounds for label-verified minorities (the default before them), without those and its outlier shrinking
  // (updates over dropFactor x the median norm), without all that and its per-tensor clipping, and with none of it.
  { ...asyncVariant(10, { kind: 'poly', a: 0.5 }, 'duration'), label: 'async M=10 poly:0.5 + duration weighting, clip without minority bounds', robust: { mode: 'clip', minorityFactor: 1 } },
  { ...asyncVariant(10, { kind: 'poly', a: 0.5 }, 'duration'), label: 'async M=10 poly:0.5 + duration weighting, clip without minority bounds or outlier shrinking', robust: { mode: 'clip', minorityFactor: 1, dropFactor: 1e6 } },
  { ...asyncVariant(10, { kind: 'poly', a: 0.5 }, 'duration'), label: 'async M=10 poly:0.5 + duration weighting, clip without shrinking or per-tensor clipping', robust: { mode: 'clip', clipFactor: 1e6, dropFactor: 1e6 } },
  { ...asyncVariant(10, { kind: 'poly', a: 0.5 }, 'duration'), label: 'async M=10 poly:0.5 + duration weighting, --robust off', robust: 'off' },
];
const VARIANTS = [REFERENCE, SYNC, ...ASYNC];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
const pm = (xs: number[], f: (x: number) => string) => (xs.every(Number.isFinite) ? `${f(mean(xs))} ± ${f(sd(xs))}` : xs.map(f).join(' / '));
const secs = (x: number | null) => (x === null ? 'never' : x.toFixed(2));

/** Seed 1's slow devices' updates that went in, and how many of them screening clipped or shrank. */
function slowClipped(r: ClockedResult): { used: number; clipped: number } {
  const slow = new Set(r.devices.map((d, k) => (d.slow ? k : -1)).filter((k) => k >= 0));
  const used = r.records.reduce((n, x) => n + x.clients.filter((k) => slow.has(k)).length, 0);
  const clipped = r.records.reduce((n, x) => n + x.screening.filter((v) => v.action === 'clipped' && slow.has(Number.parseInt(v.clientId, 10))).length, 0);
  return { used, clipped };
}

/** Mean slow-class accuracy over the last quarter of the evaluated records (async accuracy oscillates step to step). */
function tailSlowAccuracy(r: ClockedResult): number {
  const ev = r.records.filter((x) => x.perClass !== null);
  const tail = ev.slice(Math.floor(ev.length * 0.75));
  return mean(tail.map((x) => mean(r.slowClasses.map((c) => x.perClass![c]))));
}

function syncReach(records: readonly ClockedRecord[], target: number): number | null {
  return timeToAccuracy(records, target);
}

async function main() {
  const started = Date.now();
  const runs = new Map<string, ClockedResult[]>();
  for (const seed of seeds) {
    for (const v of VARIANTS) {
      const config: SimConfig = { ...SIM_DEFAULTS, limit, testLimit, clients: 20, model: 'mlp', partition: { kind: 'dirichlet', alpha: 0.5 }, strategy: { name: 'fedavg' }, seed, backend: 'wasm', ...(v.robust ? { robust: v.robust } : {}) };
      // No decomposition here (validationSize 0): it is not reported, and it would cost more than the training.
      const clock: ClockOptions = { ...CLOCK_DEFAULTS, intertwined: true, simTime, deadline: null, validationSize: 0, ...v.clock };
      const t0 = Date.now();
      const r = await runClockedSimulation(config, clock);
      runs.set(v.label, [...(runs.get(v.label) ?? []), r]);
      process.stderr.write(`seed ${seed} ${v.label}: final ${pct(r.final.accuracy)}%, slow classes ${pct(r.final.slowClassAccuracy)}%, ${r.records.length} aggregations (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  }
  const wall = (Date.now() - started) / 1000;
  const ref = runs.get(REFERENCE.label)!;
  const sync = runs.get(SYNC.label)!;
  const targets = sync.map((r) => r.final.accuracy);
  const syncTimes = sync.map((r, i) => syncReach(r.records, targets[i]));
  const refSlow = ref.map((r) => r.final.slowClassAccuracy);
  const refSlowTail = ref.map(tailSlowAccuracy);

  const lines: string[] = [];
  const first = sync[0];
  const fastTimes = first.devices.filter((d) => !d.slow).map((d) => d.seconds);
  const slowTimes = first.devices.filter((d) => d.slow).map((d) => d.seconds);
  lines.push('# Mixed-device sessions: sync with a deadline vs asynchronous buffered aggregation', '');
  lines.push(`Generated by \`npm run bench:async\` (scripts/bench-async.ts) on ${new Date().toISOString().slice(0, 10)}; ${seeds.length} seeds, ${wall.toFixed(0)} s of wall time on this machine.`, '');
  lines.push('## Setup', '');
  lines.push(`- Real MNIST, first ${limit} training images, Dirichlet alpha 0.5 split over **20 clients**, MLP 784-64-10, **FedAvg**, 1 local epoch, batch 32, lr 0.05; test accuracy (and per-class accuracy) on the first ${testLimit} test images.`);
  lines.push(`- Devices \`classroom\`: 30% of the devices (6 of 20) are 5x slower in compute and link; \`--intertwined\`: those 6 hold all the images of classes ${first.slowClasses.join(', ')} and nothing else, the other 14 hold classes 0-${first.slowClasses[0] - 1}.`);
  lines.push(`- Simulated time per assignment = samples / speed + 2 x model bytes / bandwidth (base device 1000 samples/s, 2 MB/s). Seed 1: fast devices ${Math.min(...fastTimes).toFixed(2)}-${Math.max(...fastTimes).toFixed(2)} s, slow devices ${Math.min(...slowTimes).toFixed(2)}-${Math.max(...slowTimes).toFixed(2)} s.`);
  lines.push(`- Every run gets **${simTime} simulated seconds**. Sync: deadline ${deadline} s (every fast device makes it, no slow one does). Reference: sync, same intertwined data, every device fast, no deadline. Async: buffer M, staleness constant or poly:0.5 ((1+tau)^-0.5), evaluated every ${UPDATES_PER_EVAL} updates; the rows "+ duration weighting" also weight each update by its device's time for it (\`--participation duration\`, after FedAU), under the default defence and then under parts of it.`);
  lines.push('', '## Results (mean ± sd over seeds)', '');
  lines.push('| run | final accuracy % | sim s to reach the sync run\'s final accuracy | x sync | slow-device classes, final % | slow classes, mean of last quarter % | slow classes vs every-device-fast (final / last quarter) | aggregations | mean staleness |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const verdicts: string[] = [];
  for (const v of VARIANTS) {
    const rs = runs.get(v.label)!;
    const reach = rs.map((r, i) => timeToAccuracy(r.records, targets[i]));
    const ratio = reach.map((t, i) => (t === null || syncTimes[i] === null ? NaN : t / syncTimes[i]!));
    const slow = rs.map((r) => r.final.slowClassAccuracy);
    const slowTail = rs.map(tailSlowAccuracy);
    const relFinal = slow.map((x, i) => x / refSlow[i]);
    const relTail = slowTail.map((x, i) => x / refSlowTail[i]);
    const taus = rs.flatMap((r) => r.records.flatMap((x) => x.staleness));
    lines.push(`| ${v.label} | ${pm(rs.map((r) => r.final.accuracy), pct)} | ${reach.map(secs).join(' / ')} | ${pm(ratio, (x) => x.toFixed(2))} | ${pm(slow, pct)} | ${pm(slowTail, pct)} | ${pm(relFinal, (x) => x.toFixed(2))} / ${pm(relTail, (x) => x.toFixed(2))} | ${mean(rs.map((r) => r.records.length)).toFixed(0)} | ${mean(taus).toFixed(2)} |`);
    if (v.clock.mode === 'async') {
      const timeOk = ratio.every((x) => x <= 0.6);
      const slowOk = relFinal.every((x) => x >= 0.8);
      const slowTailOk = relTail.every((x) => x >= 0.8);
      verdicts.push(`- ${v.label}: time target (<= 0.6x sync, every seed) **${timeOk ? 'met' : 'missed'}** (${ratio.map((x) => x.toFixed(2)).join(', ')}); slow-class target (>= 0.8x every-device-fast, every seed) **${slowOk ? 'met' : 'missed'}** on the final model (${relFinal.map((x) => x.toFixed(2)).join(', ')}), **${slowTailOk ? 'met' : 'missed'}** on the last-quarter mean (${relTail.map((x) => x.toFixed(2)).join(', ')}).`);
    }
  }
  lines.push('', `The sync run reaches its own final accuracy at ${syncTimes.map(secs).join(' / ')} simulated s (per seed); "x sync" divides each run's time by that.`);
  lines.push('', '## Targets', '', ...verdicts);
  const slowFinal = (label: string) => mean(runs.get(label)!.map((r) => r.final.slowClassAccuracy));
  const withDefence = slowFinal(ASYNC[4].label);
  const before = slowFinal(ASYNC[5].label);
  const withoutDefence = slowFinal(ASYNC[ASYNC.length - 1].label);
  const clipsNow = slowClipped(runs.get(ASYNC[4].label)![0]);
  const clipsBefore = slowClipped(runs.get(ASYNC[5].label)![0]);
  lines.push(
    '',
    "## What the default defence costs the slow devices' classes",
    '',
    `With duration weighting, the slow devices' classes reach ${pct(withDefence)}% on the final model with the default defence ('clip') and ${pct(withoutDefence)}% without any defence (\`--robust off\`). ` +
      "The slow devices train from stale models on classes the fast ones never show, so their honest updates are several times the buffer's median norm: the plain norm bounds treat them as outliers. " +
      `Without the default's wider bounds for label-verified minorities (the default before them) those classes reach ${pct(before)}%; without those and the outlier shrinking ${pct(slowFinal(ASYNC[6].label))}%, without all that and the per-tensor clipping ${pct(slowFinal(ASYNC[7].label))}%. ` +
      `A minority here is a client whose declared labels are at least ${D.minoritySkewRatio}x as far from the buffer's label mixture as the median client's and whose output layer moved towards them (the direction check's label evidence): its update is shrunk only above up to ${Math.max(D.dropFactor, D.minorityFactor)}x the median norm and each tensor clipped at up to ${Math.max(D.clipFactor, D.minorityFactor)}x its reference, instead of ${D.dropFactor}x and ${D.clipFactor}x, by the share of its labels on classes that no other client of the buffer (minorities aside) holds ${100 * D.minorityCoverShare}% of its labels in: here all of them, as only slow devices hold classes ${first.slowClasses.join(', ')}. ` +
      `In seed 1, screening clipped or shrank ${clipsNow.clipped} of the ${clipsNow.used} slow-device updates that went in with the default, ${clipsBefore.clipped} of ${clipsBefore.used} without the minority bounds. ` +
      'Screening judges updates as sent (the staleness and duration weights apply after it), and every clipped update is reported with how much of it went in. What the wider bounds cost against attackers is measured in docs/benchmarks/robust.md.',
  );
  lines.push('', '## Staleness (seed 1)', '');
  for (const v of ASYNC) {
    const r = runs.get(v.label)![0];
    const slowIds = r.devices.map((d, k) => (d.slow ? k : -1)).filter((k) => k >= 0);
    const slowShare = slowIds.reduce((s, k) => s + r.final.contributions[k], 0) / Math.max(1, r.final.contributions.reduce((a, b) => a + b, 0));
    lines.push(`- ${v.label}: histogram tau:count ${r.final.stalenessHistogram.map((n, t) => (n ? `${t}:${n}` : '')).filter(Boolean).join(' ')}; slow devices sent ${pct(slowShare)}% of the updates used.`);
  }
  lines.push('', '## Accuracy against simulated time (seed 1)', '');
  const marks = [...new Set([1, 2, 3, 4, 6, 8, simTime].filter((t) => t <= simTime))];
  lines.push('| run | ' + marks.map((t) => `${t} s`).join(' | ') + ' |');
  lines.push('|---|' + marks.map(() => '---').join('|') + '|');
  for (const v of VARIANTS) {
    const r = runs.get(v.label)![0];
    const at = (t: number) => {
      const ev = r.records.filter((x) => x.accuracy !== null && x.simTime <= t);
      return ev.length ? pct(ev[ev.length - 1].accuracy!) : '-';
    };
    lines.push(`| ${v.label} | ${marks.map(at).join(' | ')} |`);
  }
  const text = `${lines.join('\n')}\n`;
  if (values.out) writeFileSync(values.out, text);
  process.stdout.write(text);
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
