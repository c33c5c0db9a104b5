/**
 * The host settings form: its editable values (strings, as typed), the defaults, and the validation that turns
 * them into SessionSettings with one message per bad field.
 */
import type { SessionSettings } from '../session/types';
import type { DecompositionMode } from '../fl/protocol';
import type { WeightCodecName } from '../fl/codec';
import type { PartitionKind, PartitionSpec } from '../fl/data/partition';
import { DEFAULT_ROBUST_MODE, type RobustMode } from '../fl/robust/types';
import { DEFAULT_STRATEGY_PARAMS, strategyConfig, type StrategyName } from '../fl/strategies/types';
import { UI_CONFIG } from './config';

export interface HostFormValues {
  name: string;
  model: SessionSettings['model'];
  strategy: StrategyName;
  lambda: string;
  rho: string;
  mu: string;
  rounds: string;
  localEpochs: string;
  batchSize: string;
  learningRate: string;
  minClients: string;
  fraction: string;
  deadlineSeconds: string;
  decomposition: DecompositionMode;
  decompositionEvery: string;
  codec: WeightCodecName;
  robust: RobustMode;
  partition: PartitionKind;
  alpha: string;
  shardsPerClient: string;
  demoClients: string;
  seed: string;
  hostTrains: boolean;
}

export type HostFormField = keyof HostFormValues;
export type HostFormErrors = Partial<Record<HostFormField, string>>;

export const DEFAULT_HOST_FORM: HostFormValues = {
  name: 'Host',
  model: 'mlp',
  strategy: 'fedld',
  lambda: String(DEFAULT_STRATEGY_PARAMS.lambda),
  rho: String(DEFAULT_STRATEGY_PARAMS.rho),
  mu: String(DEFAULT_STRATEGY_PARAMS.mu),
  rounds: '10',
  localEpochs: '1',
  batchSize: '32',
  learningRate: '0.05',
  minClients: '2',
  fraction: '1',
  deadlineSeconds: '60',
  decomposition: 'exact',
  decompositionEvery: '1',
  codec: 'float16',
  robust: DEFAULT_ROBUST_MODE,
  partition: 'dirichlet',
  alpha: '0.5',
  shardsPerClient: '2',
  demoClients: '10',
  seed: '1',
  hostTrains: true,
};

export const HOST_FORM_LIMITS = {
  rounds: [1, 1000],
  localEpochs: [1, 100],
  batchSize: [1, 4096],
  learningRate: [1e-6, 10],
  minClients: [1, 256],
  deadlineSeconds: [1, 3600],
  decompositionEvery: [1, 1000],
  demoClients: [1, 1000],
  shardsPerClient: [1, 100],
} as const;

type Check = { ok: true; value: number } | { ok: false; error: string };

function parseNumber(raw: string): number | null {
  const t = raw.trim();
  if (t === '') return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

function integerIn(raw: string, [min, max]: readonly [number, number]): Check {
  const x = parseNumber(raw);
  if (x === null || !Number.isInteger(x)) return { ok: false, error: `Enter a whole number from ${min} to ${max}.` };
  if (x < min || x > max) return { ok: false, error: `Must be from ${min} to ${max}.` };
  return { ok: true, value: x };
}

function numberWhere(raw: string, test: (x: number) => boolean, what: string): Check {
  const x = parseNumber(raw);
  if (x === null || !test(x)) return { ok: false, error: `Enter ${what}.` };
  return { ok: true, value: x };
}

export type HostFormResult = { ok: true; settings: SessionSettings; name: string } | { ok: false; errors: HostFormErrors };

export function hostFormToSettings(v: HostFormValues): HostFormResult {
  const errors: HostFormErrors = {};
  const take = (field: HostFormField, check: Check): number => {
    if (check.ok) return check.value;
    errors[field] = check.error;
    return NaN;
  };
  const L = HOST_FORM_LIMITS;

  const name = v.name.trim();
  if (name === '') errors.name = 'Enter a name the others will see.';
  else if (name.length > UI_CONFIG.displayNameMaxLength) errors.name = `At most ${UI_CONFIG.displayNameMaxLength} characters.`;

  let strategy: SessionSettings['strategy'];
  if (v.strategy === 'fedld') {
    const lambda = take('lambda', numberWhere(v.lambda, (x) => x >= 0 && x <= 100, 'a number from 0 to 100 (0 turns margin control off)'));
    const rho = take('rho', numberWhere(v.rho, (x) => x > 0 && x <= 1, 'a share above 0 and at most 1'));
    strategy = strategyConfig('fedld', { lambda, rho });
  } else if (v.strategy === 'fedprox') {
    const mu = take('mu', numberWhere(v.mu, (x) => x >= 0 && x <= 100, 'a number from 0 to 100'));
    strategy = strategyConfig('fedprox', { mu });
  } else {
    strategy = strategyConfig('fedavg');
  }

  const rounds = take('rounds', integerIn(v.rounds, L.rounds));
  const localEpochs = take('localEpochs', integerIn(v.localEpochs, L.localEpochs));
  const batchSize = take('batchSize', integerIn(v.batchSize, L.batchSize));
  const learningRate = take('learningRate', numberWhere(v.learningRate, (x) => x >= L.learningRate[0] && x <= L.learningRate[1], `a learning rate from ${L.learningRate[0]} to ${L.learningRate[1]}`));
  const minClients = take('minClients', integerIn(v.minClients, L.minClients));
  const fraction = take('fraction', numberWhere(v.fraction, (x) => x > 0 && x <= 1, 'a share above 0 and at most 1'));
  const deadlineSeconds = take('deadlineSeconds', numberWhere(v.deadlineSeconds, (x) => x >= L.deadlineSeconds[0] && x <= L.deadlineSeconds[1], `seconds from ${L.deadlineSeconds[0]} to ${L.deadlineSeconds[1]}`));
  const decompositionEvery = take('decompositionEvery', integerIn(v.decompositionEvery, L.decompositionEvery));
  const demoClients = take('demoClients', integerIn(v.demoClients, L.demoClients));
  const seed = take('seed', numberWhere(v.seed, (x) => Number.isInteger(x) && x >= 0 && x <= 2 ** 31 - 1, 'a whole number from 0 to 2147483647'));

  let demoPartition: PartitionSpec;
  if (v.partition === 'dirichlet') {
    const alpha = take('alpha', numberWhere(v.alpha, (x) => x > 0 && x <= 10_000, 'a concentration above 0 (0.1 = very skewed, 100 = almost IID)'));
    demoPartition = { kind: 'dirichlet', alpha };
  } else if (v.partition === 'shards') {
    const shardsPerClient = take('shardsPerClient', integerIn(v.shardsPerClient, L.shardsPerClient));
    demoPartition = { kind: 'shards', shardsPerClient };
  } else {
    demoPartition = { kind: 'iid' };
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    name,
    settings: {
      model: v.model,
      strategy,
      rounds,
      localEpochs,
      batchSize,
      learningRate,
      minClients,
      fraction,
      roundDeadlineMs: Math.round(deadlineSeconds * 1000),
      decomposition: v.decomposition,
      decompositionEvery,
      codec: v.codec,
      robust: v.robust,
      demoPartition,
      demoClients,
      seed,
      hostTrains: v.hostTrains,
    },
  };
}

/** One-line description of settings, for the dashboard header (e.g. "FedLD (λ 0.1, ρ 0.8) · MLP · float16"). */
export function describeStrategy(strategy: SessionSettings['strategy']): string {
  switch (strategy.name) {
    case 'fedld':
      return `FedLD (λ ${strategy.lambda}, ρ ${strategy.rho})`;
    case 'fedprox':
      return `FedProx (μ ${strategy.mu})`;
    case 'fedavg':
      return 'FedAvg';
  }
}

export function describePartition(p: PartitionSpec): string {
  switch (p.kind) {
    case 'iid':
      return 'IID';
    case 'dirichlet':
      return `Dirichlet α ${p.alpha}`;
    case 'shards':
      return `shards (${p.shardsPerClient ?? 'default'} per client)`;
  }
}
