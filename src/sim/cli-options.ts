import { parseArgs } from 'node:util';
import { isBackendPreference } from '../fl/backend/node-backend';
import { isWeightCodecName } from '../fl/codec';
import type { PartitionSpec } from '../fl/data/partition';
import { STRATEGY_NAMES, strategyConfig, type StrategyName } from '../fl/strategies/types';
import { isRobustMode, ROBUST_MODES } from '../fl/robust';
import { ATTACK_SYNTAX, parseAttacks, type AttackConfig } from './attacks';
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
  --robust off|clip|trimmed-mean|median   the aggregator's defence against hostile updates (default ${SIM_DEFAULTS.robust})
  --attackers N       N clients, chosen by the seed, poison their updates (default 0); needs --attack
  --attack SPEC       ${ATTACK_SYNTAX}
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
        seed: { type: 'string' }, backend: { type: 'string' }, codec: { type: 'string' }, robust: { type: 'string' }, attackers: { type: 'string' }, attack: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
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
    robust: d.robust,
    attack: null,
  };
  if (v.robust !== undefined) {
    if (!isRobustMode(v.robust)) throw new UsageError(`--robust must be one of ${ROBUST_MODES.join(', ')}, got "${v.robust}"`);
    config.robust = v.robust;
  }
  config.attack = attackOption(v.attackers, v.attack, config.clients);
  if (v.codec !== undefined && !isWeightCodecName(v.codec)) throw new UsageError(`--codec must be float32, float16 or int8, got "${v.codec}"`);
  if (v.out !== undefined && !v.out.endsWith('.json')) throw new UsageError(`--out must name a .json file, got "${v.out}"`);
  return { config, out: v.out, quiet: v.quiet ?? false, help: v.help ?? false };
}
