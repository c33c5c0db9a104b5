import { writeFileSync } from 'node:fs';
import { parseRunResult } from '../fl/result-schema';
import * as tf from '@tensorflow/tfjs';
import { parseSimArgs, USAGE, UsageError } from './cli-options';
import { runClockedSimulation } from './async-simulation';
import { clockedHeader, clockedRow, clockedSummary } from './clocked-report';
import { runSimulation, type SimResult, type SimRound } from './simulation';
import { verdictSummary, type ScreeningAction } from '../fl/robust';

const SCREENING_WORDS: Record<ScreeningAction, string> = { 'left-out': 'left out of', clipped: 'clipped in', capped: 'capped in' };

const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function header(privacy: boolean): string {
  return ['round', 'accuracy', 'test loss', 'local', 'shift', 'aggregation', 'global', 'seconds', ...(privacy ? ['eps'] : []), 'screened'].map((h) => h.padStart(11)).join(' ');
}

function row(r: SimRound, privacy: boolean): string {
  const d = r.decomposition;
  const seconds = (r.trainMs + r.aggregateMs + r.evalMs) / 1000;
  const eps = privacy ? [r.privacy?.epsilon == null ? '-' : fmt(r.privacy.epsilon, 3)] : [];
  // A private run measures no decomposition (its aggregator holds no local model): its global loss is the test loss.
  const terms = d ? [fmt(d.local), fmt(d.shift), fmt(d.aggregation), fmt(d.global)] : ['-', '-', '-', fmt(r.loss)];
  return [String(r.round), fmt(r.accuracy), fmt(r.loss), ...terms, fmt(seconds, 1), ...eps]
    .map((c) => c.padStart(11))
    .concat(`  ${verdictSummary(r.screening) || '-'}`)
    .join(' ');
}

function privacySummary(p: NonNullable<SimResult['privacy']>): string {
  const s = p.settings;
  const mode = `${s.secureAggregation ? 'secure aggregation, ' : ''}clip ${s.clipNorm}${s.noiseMultiplier > 0 ? `, noise multiplier ${s.noiseMultiplier}` : ''}`;
  const spent = p.epsilon === null ? 'no DP noise: no (eps, delta) guarantee' : `(eps ${fmt(p.epsilon, 3)}, delta ${p.delta}) towards whoever sees the models, eps ${fmt(p.epsilonAggregator ?? NaN, 3)} towards the aggregator`;
  return `privacy: ${mode}; ${spent}${s.budget !== null ? `; budget eps ${s.budget}` : ''}${p.stopped ? `\nstopped early: ${p.stopped}` : ''}`;
}

async function main(): Promise<number> {
  tf.env().set('PROD', true); // silences tfjs's "install tfjs-node" banner; the sim picks wasm or cpu on purpose
  let options;
  try {
    options = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { config, quiet } = options;
  const status = (text: string) => {
    if (!quiet && process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
    else if (!quiet && text.startsWith('backend')) process.stderr.write(`${text}\n`);
  };
  if (options.clock) {
    // Simulated devices and clock (sync with a deadline, or asynchronous buffered aggregation).
    if (!quiet) process.stdout.write(`${clockedHeader()}\n`);
    const clocked = await runClockedSimulation(config, options.clock, {
      onStatus: status,
      onRecord: (r) => {
        if (process.stderr.isTTY && !quiet) process.stderr.write('\r\x1b[2K');
        if (!quiet) process.stdout.write(`${clockedRow(r)}\n`);
        // Refused updates are printed even with --quiet, as collapses are: an attack must never pass unseen.
        for (const x of r.refused) process.stdout.write(`  refused, step ${r.step}: client ${x.client}: ${x.reason}\n`);
        // As in sync rounds: who was left out is printed even with --quiet, what was scaled down unless --quiet.
        for (const v of r.screening) if (v.action === 'clipped' || v.action === 'capped') if (!quiet) process.stdout.write(`  ${SCREENING_WORDS[v.action]} step ${r.step}: client ${v.clientId}: ${v.reason}\n`);
      },
    });
    process.stdout.write(`${clockedSummary(clocked)}\n`);
    if (options.out) {
      writeFileSync(options.out, JSON.stringify(clocked, null, 2));
      process.stdout.write(`wrote ${options.out}\n`);
    }
    return 0;
  }
  const privacy = config.privacy !== null;
  if (!quiet) process.stdout.write(`${header(privacy)}\n`);
  const result = await runSimulation(config, {
    onStatus: status,
    onRound: (r) => {
      if (process.stderr.isTTY && !quiet) process.stderr.write('\r\x1b[2K');
      if (!quiet) process.stdout.write(`${row(r, privacy)}\n`);
      // A collapse is printed even with --quiet: a silently collapsed run looks like a slow one.
      if (r.collapse) process.stdout.write(`  warning, round ${r.round}: ${r.collapse}\n`);
      // Who the defence left out, and why, is printed even with --quiet: no one is silenced unseen. What it scaled
      // down (clipped norms, capped sample counts) is printed unless --quiet.
      for (const v of r.screening) if (v.action === 'left-out' || !quiet) process.stdout.write(`  ${SCREENING_WORDS[v.action]} round ${r.round}: ${v.clientId}: ${v.reason}\n`);
    },
  });
  const strategy = result.rounds[result.rounds.length - 1]?.strategy ?? config.strategy.name;
  process.stdout.write(
    `final accuracy ${fmt(result.final.accuracy)}  best ${fmt(result.final.bestAccuracy)}  ` +
      `(${strategy}, local ${config.optimizer}, ${config.clients} clients, ${config.partition.kind}${'alpha' in config.partition ? ` alpha ${config.partition.alpha}` : ''}, backend ${result.backend.name}, robust ${typeof config.robust === 'string' ? config.robust : config.robust.mode ?? 'clip'}` +
      `${config.attack ? `, ${config.attack.attackers} attacking: ${config.attack.attacks.map((a) => a.kind).join('+')}` : ''})\n` +
      `${result.privacy ? `${privacySummary(result.privacy)}\n` : ''}` +
      `peak RSS ${result.resources.peakRssMb.toFixed(0)} MB, ${(result.resources.wallMs / 1000).toFixed(1)} s, clients ran ${result.resources.runner}\n`,
  );
  if (options.out) {
    // The same schema the browser's metrics download follows.
    writeFileSync(options.out, JSON.stringify(parseRunResult({ source: 'simulator', ...result }), null, 2));
    process.stdout.write(`wrote ${options.out}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
