import { parseArgs } from 'node:util';
import { isBackendPreference } from '../fl/backend/node-backend';
import { isWeightCodecName } from '../fl/codec';
import type { PartitionSpec } from '../fl/data/partition';
import { STRATEGY_NAMES, strategyConfig, type StrategyName } from '../fl/strategies/types';
import { parseStaleness } from '../fl/async/staleness';
import { CLOCK_DEFAULTS, type ClockOptions } from './async-simulation';
import { parseDevices } from './devices';
import { SIM_DEFAULTS, type SimConfig } from './simulation';

export const USAGE = `Usage: npm run sim -- [options]

  --data mnist|PATH.npz|PATH.csv   training data (default mnist; npz in the MedMNIST layout; csv with a label column)
  --limit N           use the first N training samples (default ${SIM_DEFAULTS.limit}; 0 = all)
  --test-limit N      evaluate on at most N test samples (default ${SIM_DEFAULTS.testLimit})
  --model mlp|cnn     model (default ${SIM_DEFAULTS.model})
  --clients K         number of clients (default ${SIM_DEFAULTS.clients})
  --partition iid|dirichlet|shards   how data is split (default dirichlet)
  --alpha A           Dirichlet concentration (default 0.5; small = strongly non-IID)
  --strategy fedavg|fedprox|fedld    (default fedld)
  --rounds R          (default ${SIM_DEFAULTS.rounds})
  --local-epochs E    (default ${SIM_DEFAULTS.localEpochs})
  --batch B           (default ${SIM_DEFAULTS.batch})
  --lr LR             learning rate of local SGD with momentum 0.5 (default ${SIM_DEFAULTS.lr})
  --lambda L          FedLD margin-control weight (default 0.1; 0 = off)
  --mu M              FedProx proximal weight (default 0.01)
  --rho P             FedLD share of principal directions kept (default 0.8)
  --fraction F        share of clients per round, in (0, 1] (default ${SIM_DEFAULTS.fraction})
  --seed S            (default ${SIM_DEFAULTS.seed}); same seed, same numbers
  --backend auto|wasm|cpu   tfjs backend (default auto: a short timed probe on the model)
  --codec float32|float16|int8   send every message through the real wire format with this weight codec
  --mode sync|async   sync rounds (default) or asynchronous buffered aggregation on a simulated clock
  --devices uniform|classroom|lognormal:SIGMA   simulated device speeds (classroom: ~30% of devices 5x slower)
  --intertwined       the slow devices are the ones holding particular classes
  --deadline S        sync: a round aggregates what arrived within S simulated seconds
  --buffer M          async: an aggregation step every M updates (default ${CLOCK_DEFAULTS.async.bufferSize})
  --staleness constant|poly:A|hinge:A:B   async: weight of an update tau steps stale (default poly:0.5)
  --max-staleness T   async: drop updates more than T steps stale
  --participation none|duration   async: also weight each update by its client's time for it (default none)
  --sim-time S        stop after S simulated seconds (then --rounds does not apply)
  --eval-every N      async: evaluate every N steps (default 1)
  Any of these runs the simulator on a simulated clock; the table then shows simulated seconds.
  --out FILE.json     write the full result as JSON
  --quiet             only the final summary
  --help`;

export class UsageError extends Error {}

function num(name: string, raw: string | undefined, fallback: number, check: (x: number) => boolean, what: string): number {
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`--${name} must be ${what}, got "${raw}"`);
  return x;
}

const positiveInt = (x: number) => Number.isInteger(x) && x > 0;
const nonNegativeInt = (x: number) => Number.isInteger(x) && x >= 0;

export interface CliOptions {
  config: SimConfig;
  /** The simulated-clock options, when any of them was given (else the plain round simulator runs). */
  clock: ClockOptions | null;
  out?: string;
  quiet: boolean;
  help: boolean;
}

export function parseSimArgs(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' }, limit: { type: 'string' }, 'test-limit': { type: 'string' }, model: { type: 'string' },
        clients: { type: 'string' }, partition: { type: 'string' }, alpha: { type: 'string' }, strategy: { type: 'string' },
        rounds: { type: 'string' }, 'local-epochs': { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
        lambda: { type: 'string' }, mu: { type: 'string' }, rho: { type: 'string' }, fraction: { type: 'string' },
        mode: { type: 'string' }, devices: { type: 'string' }, intertwined: { type: 'boolean' }, deadline: { type: 'string' },
        buffer: { type: 'string' }, staleness: { type: 'string' }, 'max-staleness': { type: 'string' }, participation: { type: 'string' },
        'sim-time': { type: 'string' }, 'eval-every': { type: 'string' },
        seed: { type: 'string' }, backend: { type: 'string' }, codec: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const d = SIM_DEFAULTS;
  const model = v.model ?? d.model;
  if (model !== 'mlp' && model !== 'cnn') throw new UsageError(`--model must be mlp or cnn, got "${model}"`);
  const strategyName = (v.strategy ?? d.strategy.name) as StrategyName;
  if (!STRATEGY_NAMES.includes(strategyName)) throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}, got "${v.strategy}"`);
  const alpha = num('alpha', v.alpha, 0.5, (x) => x > 0, 'a positive number');
  const partitionKind = v.partition ?? 'dirichlet';
  let partition: PartitionSpec;
  if (partitionKind === 'iid') partition = { kind: 'iid' };
  else if (partitionKind === 'dirichlet') partition = { kind: 'dirichlet', alpha };
  else if (partitionKind === 'shards') partition = { kind: 'shards' };
  else throw new UsageError(`--partition must be iid, dirichlet or shards, got "${partitionKind}"`);
  const backend = v.backend ?? d.backend;
  if (!isBackendPreference(backend)) throw new UsageError(`--backend must be auto, wasm or cpu, got "${backend}"`);
  const config: SimConfig = {
    data: v.data ?? d.data,
    limit: num('limit', v.limit, d.limit, nonNegativeInt, 'a non-negative integer'),
    testLimit: num('test-limit', v['test-limit'], d.testLimit, positiveInt, 'a positive integer'),
    model,
    clients: num('clients', v.clients, d.clients, positiveInt, 'a positive integer'),
    partition,
    strategy: strategyConfig(strategyName, {
      lambda: num('lambda', v.lambda, 0.1, (x) => x >= 0, 'a non-negative number'),
      mu: num('mu', v.mu, 0.01, (x) => x >= 0, 'a non-negative number'),
      rho: num('rho', v.rho, 0.8, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    }),
    rounds: num('rounds', v.rounds, d.rounds, positiveInt, 'a positive integer'),
    localEpochs: num('local-epochs', v['local-epochs'], d.localEpochs, positiveInt, 'a positive integer'),
    batch: num('batch', v.batch, d.batch, positiveInt, 'a positive integer'),
    lr: num('lr', v.lr, d.lr, (x) => x > 0, 'a positive number'),
    fraction: num('fraction', v.fraction, d.fraction, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    seed: num('seed', v.seed, d.seed, nonNegativeInt, 'a non-negative integer'),
    backend,
    evalFraction: d.evalFraction,
    evalMax: d.evalMax,
    codec: v.codec !== undefined && isWeightCodecName(v.codec) ? v.codec : null,
  };
  if (v.codec !== undefined && !isWeightCodecName(v.codec)) throw new UsageError(`--codec must be float32, float16 or int8, got "${v.codec}"`);
  if (v.out !== undefined && !v.out.endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${v.out}"`);
  return { config, clock: parseClock(v), out: v.out, quiet: v.quiet ?? false, help: v.help ?? false };
}

type ClockArgs = Partial<Record<'mode' | 'devices' | 'deadline' | 'buffer' | 'staleness' | 'max-staleness' | 'participation' | 'sim-time' | 'eval-every', string>> & { intertwined?: boolean };

function parseClock(v: ClockArgs): ClockOptions | null {
  const given = ['mode', 'devices', 'deadline', 'buffer', 'staleness', 'max-staleness', 'participation', 'sim-time', 'eval-every', 'intertwined'].some((k) => v[k as keyof ClockArgs] !== undefined);
  if (!given) return null;
  const d = CLOCK_DEFAULTS;
  const mode = v.mode ?? 'sync';
  if (mode !== 'sync' && mode !== 'async') throw new UsageError(`--mode must be sync or async, got "${mode}"`);
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const devices = wrap(() => parseDevices(v.devices ?? 'uniform'));
  const staleness = wrap(() => parseStaleness(v.staleness ?? 'poly:0.5'));
  const participation = v.participation ?? 'none';
  if (participation !== 'none' && participation !== 'duration') throw new UsageError(`--participation must be none or duration, got "${participation}"`);
  const positive = (x: number) => x > 0;
  const deadline = v.deadline === undefined ? null : num('deadline', v.deadline, 0, positive, 'a positive number of simulated seconds');
  if (mode === 'async' && deadline !== null) throw new UsageError('--deadline applies to --mode sync only');
  const asyncOnly = (['buffer', 'staleness', 'max-staleness', 'participation', 'eval-every'] as const).filter((k) => v[k] !== undefined);
  if (mode === 'sync' && asyncOnly.length > 0) throw new UsageError(`--${asyncOnly[0]} applies to --mode async only`);
  return {
    mode,
    devices,
    intertwined: v.intertwined ?? false,
    deadline,
    async: {
      bufferSize: num('buffer', v.buffer, d.async.bufferSize, positiveInt, 'a positive integer'),
      staleness,
      maxStaleness: v['max-staleness'] === undefined ? null : num('max-staleness', v['max-staleness'], 0, nonNegativeInt, 'a non-negative integer'),
      participation,
    },
    simTime: v['sim-time'] === undefined ? null : num('sim-time', v['sim-time'], 0, positive, 'a positive number of simulated seconds'),
    evalEvery: num('eval-every', v['eval-every'], d.evalEvery, positiveInt, 'a positive integer'),
    validationSize: d.validationSize,
  };
}
