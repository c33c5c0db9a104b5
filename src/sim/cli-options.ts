import { parseArgs } from 'node:util';
import { isBackendPreference } from '../fl/backend/node-backend';
import type { WeightCodecName } from '../fl/codec';
import type { PartitionSpec } from '../fl/data/partition';
import type { LocalOptimizerName } from '../fl/local-optimizer';
import { getSetting, settingFlag, settingsOn } from '../fl/settings';
import { paramFlag, parseParam, rangeText } from '../fl/strategies/params';
import { configurableParams, defaultStrategyConfig, findStrategy, listStrategies, localOptimizerProblem, strategyNames } from '../fl/strategies/registry';
import { SERVER_OPTIMIZER_PARAMS } from '../fl/strategies/server-optimizer';
import type { HyperParam, ParamValue } from '../fl/strategies/types';
import { parseStaleness } from '../fl/async/staleness';
import { CLOCK_DEFAULTS, type ClockOptions } from './async-simulation';
import { parseDevices } from './devices';
import type { RobustMode } from '../fl/robust/types';
import { ATTACK_SYNTAX, attackProblem, parseAttacks, type AttackConfig } from './attacks';
import { SIM_DEFAULTS, type SimConfig } from './simulation';
import { privacyProblem, type PrivacySettings } from '../fl/private-aggregation';
import { robustSettings } from '../fl/robust';
import { readCliSettings, settingArgOptions, settingUsage, UsageError, type CliSettings } from './cli-settings';

export { UsageError } from './cli-settings';

function paramUsage(p: HyperParam): string {
  const value = p.kind === 'choice' ? p.options.map((o) => o.value).join('|') : 'X';
  return `  --${paramFlag(p.name)} ${value}`.padEnd(34) + ` ${p.help} (default ${p.default}${p.kind === 'number' ? `; ${rangeText(p)}` : ''})`;
}

/** Strategy flags, generated from the registry. */
function strategyUsage(): string {
  const lines: string[] = [];
  for (const s of listStrategies()) {
    lines.push(`  ${s.name}: ${s.summary}`);
    for (const p of s.params) lines.push(`  ${paramUsage(p)}`);
  }
  lines.push('  server optimizer (every strategy):');
  for (const p of SERVER_OPTIMIZER_PARAMS) lines.push(`  ${paramUsage(p)}`);
  return lines.join('\n');
}

/** Every hyper-parameter flag of every registered strategy and of the server optimizer, once. */
function strategyFlags(): Map<string, string> {
  const flags = new Map<string, string>();
  for (const s of listStrategies()) for (const p of configurableParams(s)) flags.set(paramFlag(p.name), p.name);
  return flags;
}

const STRATEGY_USAGE = strategyUsage();

/** The declared settings' flags, in declaration order. */
const SETTINGS_USAGE = settingsOn('cli').map(settingUsage).join('\n');

export const USAGE = `Usage: npm run sim -- [options]

Run settings (declared once in src/fl/settings, with the host form's; the README's list says which the form offers too):
${SETTINGS_USAGE}
  Any of --mode, --deadline, --buffer-size, --staleness, --max-staleness, --participation, --eval-every, --sim-time, --intertwined
  (or --devices below) runs on a simulated clock: one job at a time (not with --workers), the table in simulated seconds.

Strategy (${strategyNames().join('|')}; default ${SIM_DEFAULTS.strategy.name}) and its hyper-parameters:
  --strategy NAME
${STRATEGY_USAGE}

Simulator:
  --data mnist|mnist:D,D,...|PATH.npz|PATH.csv   training data (default mnist; mnist:3,5 keeps those digits, relabelled 0,1; npz in the MedMNIST layout; csv with a label column)
  --model mlp|cnn     model (default ${SIM_DEFAULTS.model})
  --backend auto|wasm|cpu   tfjs backend (default auto: a short timed probe on the model)
  --devices uniform|classroom|lognormal:SIGMA   simulated device speeds (classroom: ~30% of devices 5x slower)
  --attackers N       N clients, chosen by the seed, poison their updates (default 0); needs --attack
  --attack SPEC       ${ATTACK_SYNTAX}
  --out FILE.json     write the full result as JSON
  --quiet             only the final summary
  --help`;


function num(name: string, raw: string | undefined, fallback: number, check: (x: number) => boolean, what: string): number {
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`--${name} must be ${what}, got "${raw}"`);
  return x;
}

const nonNegativeInt = (x: number) => Number.isInteger(x) && x >= 0;

export interface CliOptions {
  config: SimConfig;
  /** The simulated-clock options, when any of them was given (else the plain round simulator runs). */
  clock: ClockOptions | null;
  out?: string;
  quiet: boolean;
  help: boolean;
}

function attackOption(attackersRaw: string | undefined, spec: string | undefined, clients: number): AttackConfig | null {
  const attackers = num('attackers', attackersRaw, 0, (x) => nonNegativeInt(x) && x <= clients, `an integer from 0 to --clients (${clients})`);
  if (attackers === 0) {
    if (spec !== undefined && attackersRaw === undefined) throw new UsageError('--attack needs --attackers N');
    return null;
  }
  if (spec === undefined) throw new UsageError(`--attackers needs --attack (${ATTACK_SYNTAX})`);
  try {
    return { attackers, attacks: parseAttacks(spec) };
  } catch (e) {
    throw new UsageError(`--attack: ${(e as Error).message}`);
  }
}

export function parseSimArgs(argv: string[]): CliOptions {
  const paramFlags = strategyFlags();
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...settingArgOptions(),
        data: { type: 'string' }, model: { type: 'string' }, strategy: { type: 'string' },
        ...Object.fromEntries([...paramFlags.keys()].map((flag) => [flag, { type: 'string' as const }])),
        devices: { type: 'string' },
        backend: { type: 'string' }, attackers: { type: 'string' }, attack: { type: 'string' },
        out: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const d = SIM_DEFAULTS;
  const settings = readCliSettings(v);
  const set = settings.values;
  const model = v.model ?? d.model;
  if (model !== 'mlp' && model !== 'cnn') throw new UsageError(`--model must be mlp or cnn, got "${model}"`);
  const strategy = findStrategy(v.strategy ?? d.strategy.name);
  if (!strategy) throw new UsageError(`--strategy must be one of ${strategyNames().join(', ')}, got "${v.strategy}"`);
  const own = new Set(configurableParams(strategy).map((p) => p.name));
  const overrides: Record<string, ParamValue> = {};
  for (const [flag, name] of paramFlags) {
    const raw = (v as Record<string, unknown>)[flag];
    if (typeof raw !== 'string') continue;
    if (!own.has(name)) throw new UsageError(`--${flag} does not apply to --strategy ${strategy.name}`);
    const param = configurableParams(strategy).find((p) => p.name === name)!;
    const parsedValue = parseParam(param, raw);
    if (!parsedValue.ok) throw new UsageError(`--${flag} ${parsedValue.error}, got "${raw}"`);
    overrides[name] = parsedValue.value;
  }
  const optimizer = set.optimizer as LocalOptimizerName;
  const optimizerProblem = localOptimizerProblem(strategy.name, optimizer);
  if (optimizerProblem) throw new UsageError(`--optimizer ${optimizer}: ${optimizerProblem}`);
  const alpha = set.alpha as number;
  let partition: PartitionSpec;
  if (set.partition === 'iid') partition = { kind: 'iid' };
  else if (set.partition === 'dirichlet') partition = { kind: 'dirichlet', alpha };
  else if (set.partition === 'shards') partition = { kind: 'shards', shardsPerClient: set.shardsPerClient as number };
  else partition = { kind: 'sizeskew', alpha, sigma: set.sigma as number };
  const evaluateOn = set.evaluateOn as SimConfig['evaluateOn'];
  const validation = set.validation as number;
  if (evaluateOn === 'validation' && validation === 0) throw new UsageError('--evaluate-on validation needs --validation F with F > 0');
  const backend = v.backend ?? d.backend;
  if (!isBackendPreference(backend)) throw new UsageError(`--backend must be auto, wasm or cpu, got "${backend}"`);
  const config: SimConfig = {
    data: v.data ?? d.data,
    limit: set.limit as number,
    testLimit: set.testLimit as number,
    model,
    clients: set.clients as number,
    partition,
    strategy: defaultStrategyConfig(strategy.name, overrides),
    rounds: set.rounds as number,
    localEpochs: set.localEpochs as number,
    batchSize: set.batchSize as number,
    learningRate: set.learningRate as number,
    optimizer,
    momentum: set.momentum as number,
    fraction: set.fraction as number,
    seed: set.seed as number,
    backend,
    evalFraction: d.evalFraction,
    evalMax: d.evalMax,
    codec: set.codec as WeightCodecName | null,
    validation,
    evaluateOn,
    workers: set.workers as number,
    robust: set.robust as RobustMode,
    attack: null,
    privacy: privacyOption(settings),
  };
  // Private rounds replace the aggregator's screening by the clients' own clipping.
  if (config.privacy && !settings.given.has('robust')) config.robust = 'off';
  const privacyIssue = config.privacy && privacyProblem(config.privacy, config.strategy, robustSettings(config.robust).mode);
  if (privacyIssue) throw new UsageError(privacyIssue);
  config.attack = attackOption(v.attackers, v.attack, config.clients);
  const attackIssue = config.attack && attackProblem(config.attack.attacks, config.strategy.name);
  if (attackIssue) throw new UsageError(`--attack: ${attackIssue}`);
  if (v.out !== undefined && !v.out.endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${v.out}"`);
  const clock = parseClock(v, settings);
  // The simulated clock trains one job at a time in event order (participant.ts's in-process runner).
  if (clock && config.privacy) throw new UsageError('--secagg and --dp-* apply to plain sync rounds, not to the simulated clock (--mode, --devices, ...)');
  if (clock && config.workers > 1) throw new UsageError('--workers applies to plain sync rounds, not to the simulated clock (--mode, --devices, ...)');
  return { config, clock, out: v.out, quiet: v.quiet ?? false, help: v.help ?? false };
}

/** Secure aggregation and client-level DP, from the declared --secagg and --dp-* settings (null: neither given). */
function privacyOption(settings: CliSettings): PrivacySettings | null {
  const set = settings.values;
  const secureAggregation = set.secagg as boolean;
  const dpGiven = ['dpNoise', 'dpDelta', 'dpBudget'].filter((name) => settings.given.has(name));
  const clipNorm = set.dpClip as number | null;
  if (!secureAggregation && dpGiven.length === 0 && clipNorm === null) return null;
  if (clipNorm === null) throw new UsageError(`${secureAggregation ? '--secagg' : `--${settingFlag(getSetting(dpGiven[0]))}`} needs --dp-clip C: every client bounds its own update norm`);
  const noiseMultiplier = set.dpNoise as number;
  const needNoise = ['dpBudget', 'dpDelta'].find((name) => settings.given.has(name));
  if (noiseMultiplier === 0 && needNoise) throw new UsageError(`--${settingFlag(getSetting(needNoise))} needs --dp-noise S with S > 0`);
  return { secureAggregation, clipNorm, noiseMultiplier, delta: set.dpDelta as number, budget: set.dpBudget as number | null };
}

type ClockArgs = { devices?: string };

/** The declared settings that run the simulator on its simulated clock when given. */
const CLOCK_SETTINGS = ['mode', 'deadline', 'bufferSize', 'staleness', 'maxStaleness', 'participation', 'evalEvery', 'simTime', 'intertwined'];

/** The simulated clock's options, when any of them was given (the declared mode, deadline, buffer, ... included). */
function parseClock(v: ClockArgs, settings: CliSettings): ClockOptions | null {
  const declared = CLOCK_SETTINGS.some((name) => settings.given.has(name));
  if (!declared && v.devices === undefined) return null;
  const set = settings.values;
  const mode = set.mode as 'sync' | 'async';
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const devices = wrap(() => parseDevices(v.devices ?? 'uniform'));
  const participation = set.participation as ClockOptions['async']['participation'];
  const deadline = set.deadline as number | null;
  if (mode === 'async' && deadline !== null) throw new UsageError('--deadline applies to --mode sync only');
  return {
    mode,
    devices,
    intertwined: set.intertwined as boolean,
    deadline,
    async: {
      bufferSize: set.bufferSize as number,
      staleness: parseStaleness(set.staleness as string),
      maxStaleness: set.maxStaleness as number | null,
      participation,
    },
    simTime: set.simTime as number | null,
    evalEvery: set.evalEvery as number,
    validationSize: CLOCK_DEFAULTS.validationSize,
  };
}
