/**
 * The host settings form: its editable values (strings, as typed), the defaults, and the validation that turns
 * them into SessionSettings with one message per bad field.
 */
import type { SessionSettings } from '../session/types';
import type { DecompositionMode } from '../fl/protocol';
import type { WeightCodecName } from '../fl/codec';
import { DEFAULT_ROBUST_MODE, type RobustMode } from '../fl/robust/types';
import type { PartitionKind, PartitionSpec } from '../fl/data/partition';
import { isLocalOptimizerName, LOCAL_OPTIMIZER_DEFAULTS, type LocalOptimizerName } from '../fl/local-optimizer';
import { parseParam } from '../fl/strategies/params';
import { configurableParams, DEFAULT_STRATEGY, describeStrategyConfig, getStrategy, listStrategies, localOptimizerProblem } from '../fl/strategies/registry';
import type { ParamValue, StrategyConfig, StrategyName } from '../fl/strategies/types';
import { UI_CONFIG } from './config';
import type { AggregationMode } from '../fl/async/mode';
import { parseStaleness, type StalenessConfig } from '../fl/async/staleness';

export interface HostFormValues {
  name: string;
  task: NonNullable<SessionSettings['task']>['kind'];
  imageHeight: string;
  imageWidth: string;
  imageChannels: '1' | '3';
  classes: string;
  features: string;
  /** MLP hidden layer sizes, comma-separated ("" = none). */
  hidden: string;
  model: SessionSettings['model'];
  strategy: StrategyName;
  /** Every strategy's hyper-parameters as typed, keyed by strategyParamKey (the registry declares them). */
  strategyParams: Record<string, string>;
  rounds: string;
  localEpochs: string;
  batchSize: string;
  learningRate: string;
  optimizer: LocalOptimizerName;
  momentum: string;
  minClients: string;
  fraction: string;
  deadlineSeconds: string;
  decomposition: DecompositionMode;
  decompositionEvery: string;
  codec: WeightCodecName;
  robust: RobustMode;
  /** The demo data's partitions offered in the form (size skew is a simulator-only partition). */
  partition: Exclude<PartitionKind, 'sizeskew'>;
  alpha: string;
  shardsPerClient: string;
  demoClients: string;
  seed: string;
  hostTrains: boolean;
  /** Synchronous rounds or asynchronous buffered aggregation. */
  mode: AggregationMode['mode'];
  bufferSize: string;
  /** constant, poly:A or hinge:A:B */
  staleness: string;
  /** Empty: no maximum. */
  maxStaleness: string;
}

/** A form field: a plain setting, or a strategy hyper-parameter (see strategyParamKey). */
export type HostFormField = Exclude<keyof HostFormValues, 'strategyParams'> | `param:${string}`;
export type HostFormErrors = Partial<Record<HostFormField, string>>;

/** Key of a hyper-parameter in HostFormValues.strategyParams and in errors: "fedld.rho"; server optimizer: "server.serverLr". */
export function strategyParamKey(strategy: string, param: string): string {
  return getStrategy(strategy).params.some((p) => p.name === param) ? `${strategy}.${param}` : `server.${param}`;
}

function defaultStrategyParams(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of listStrategies()) for (const p of configurableParams(s)) out[strategyParamKey(s.name, p.name)] = String(p.default);
  return out;
}

export const DEFAULT_HOST_FORM: HostFormValues = {
  name: 'Host',
  task: 'mnist',
  imageHeight: '28',
  imageWidth: '28',
  imageChannels: '1',
  classes: '10',
  features: '4',
  hidden: '64',
  model: 'mlp',
  strategy: DEFAULT_STRATEGY,
  strategyParams: defaultStrategyParams(),
  rounds: '10',
  localEpochs: '1',
  batchSize: '32',
  learningRate: '0.05',
  optimizer: LOCAL_OPTIMIZER_DEFAULTS.optimizer,
  momentum: String(LOCAL_OPTIMIZER_DEFAULTS.momentum),
  minClients: '2',
  fraction: '1',
  deadlineSeconds: '60',
  // Private by default: proxy mode never sends a local model to another client (exact mode is an explicit choice).
  decomposition: 'proxy',
  decompositionEvery: '1',
  codec: 'float16',
  robust: DEFAULT_ROBUST_MODE,
  partition: 'dirichlet',
  alpha: '0.5',
  shardsPerClient: '2',
  demoClients: '10',
  seed: '1',
  hostTrains: true,
  mode: 'sync',
  bufferSize: '3',
  staleness: 'poly:0.5',
  maxStaleness: '',
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
  bufferSize: [1, 256],
  maxStaleness: [0, 100_000],
  imageSide: [4, 128],
  classes: [2, 1000],
  features: [1, 10_000],
  hiddenUnits: [1, 4096],
  hiddenLayers: [0, 6],
} as const;

/** "128, 64" -> [128, 64]; an error text for anything else. */
export function parseHiddenLayers(raw: string): { ok: true; value: number[] } | { ok: false; error: string } {
  const parts = raw.split(/[,\s]+/).filter((p) => p !== '');
  const [minUnits, maxUnits] = HOST_FORM_LIMITS.hiddenUnits;
  const units = parts.map(Number);
  if (units.some((u) => !Number.isInteger(u) || u < minUnits || u > maxUnits)) return { ok: false, error: `Enter layer sizes from ${minUnits} to ${maxUnits}, separated by commas (e.g. 128, 64).` };
  if (units.length > HOST_FORM_LIMITS.hiddenLayers[1]) return { ok: false, error: `At most ${HOST_FORM_LIMITS.hiddenLayers[1]} hidden layers.` };
  return { ok: true, value: units };
}

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

  const strategy = strategyFromForm(v, errors);
  const optimizer = isLocalOptimizerName(v.optimizer) ? v.optimizer : LOCAL_OPTIMIZER_DEFAULTS.optimizer;
  const optimizerProblem = localOptimizerProblem(strategy.name, optimizer);
  if (optimizerProblem) errors.optimizer = `${optimizerProblem}.`;
  const momentum = optimizer === 'momentum' ? take('momentum', numberWhere(v.momentum, (x) => x >= 0 && x <= 1, 'a momentum from 0 to 1')) : LOCAL_OPTIMIZER_DEFAULTS.momentum;

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

  let task: NonNullable<SessionSettings['task']>;
  if (v.task === 'images') {
    const height = take('imageHeight', integerIn(v.imageHeight, L.imageSide));
    const width = take('imageWidth', integerIn(v.imageWidth, L.imageSide));
    const classes = take('classes', integerIn(v.classes, L.classes));
    task = { kind: 'images', height, width, channels: v.imageChannels === '3' ? 3 : 1, classes };
  } else if (v.task === 'tabular') {
    const features = take('features', integerIn(v.features, L.features));
    const classes = take('classes', integerIn(v.classes, L.classes));
    task = { kind: 'tabular', features, classes };
    if (v.model === 'cnn') errors.model = 'A CNN needs images: choose MLP for table rows.';
  } else {
    task = { kind: 'mnist' };
  }
  let hidden: number[] | undefined;
  if (v.model === 'mlp') {
    const parsed = parseHiddenLayers(v.hidden);
    if (parsed.ok) hidden = parsed.value;
    else errors.hidden = parsed.error;
  }

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

  let aggregation: AggregationMode = { mode: 'sync' };
  if (v.mode === 'async') {
    const bufferSize = take('bufferSize', integerIn(v.bufferSize, L.bufferSize));
    let staleness: StalenessConfig = { kind: 'constant' };
    try {
      staleness = parseStaleness(v.staleness);
    } catch {
      errors.staleness = 'Enter constant, poly:A (e.g. poly:0.5) or hinge:A:B (e.g. hinge:10:4).';
    }
    const maxStaleness = v.maxStaleness.trim() === '' ? null : take('maxStaleness', integerIn(v.maxStaleness, L.maxStaleness));
    aggregation = { mode: 'async', bufferSize, staleness, maxStaleness };
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    name,
    settings: {
      task,
      model: v.model,
      ...(hidden ? { hidden } : {}),
      strategy,
      rounds,
      localEpochs,
      batchSize,
      learningRate,
      optimizer,
      momentum,
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
      aggregation,
    },
  };
}

/**
 * The chosen strategy's parameters from the form; only the ones that differ from the declared default go into the
 * config (defaults stay implicit). Errors are keyed `param:<key>`.
 */
function strategyFromForm(v: HostFormValues, errors: HostFormErrors): StrategyConfig {
  const strategy = getStrategy(v.strategy);
  const config: StrategyConfig = { name: strategy.name };
  for (const p of configurableParams(strategy)) {
    const key = strategyParamKey(strategy.name, p.name);
    const raw = v.strategyParams[key] ?? String(p.default);
    const parsed = parseParam(p, raw);
    if (!parsed.ok) {
      errors[`param:${key}`] = `${p.label}: ${parsed.error}.`;
      continue;
    }
    if (strategy.params.includes(p) || parsed.value !== p.default) config[p.name] = parsed.value as ParamValue;
  }
  return config;
}

/** One-line description of the strategy, for the dashboard header (e.g. "FedLD (λ 0.1, ρ 0.8; paper-exact)"). */
export function describeStrategy(strategy: SessionSettings['strategy']): string {
  return describeStrategyConfig(strategy);
}

export function describePartition(p: PartitionSpec): string {
  switch (p.kind) {
    case 'iid':
      return 'IID';
    case 'dirichlet':
      return `Dirichlet α ${p.alpha}`;
    case 'shards':
      return `shards (${p.shardsPerClient ?? 'default'} per client)`;
    case 'sizeskew':
      return `size skew σ ${p.sigma ?? 'default'}, Dirichlet α ${p.alpha}`;
  }
}
