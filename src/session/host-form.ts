/**
 * The host settings form: its editable values (strings, as typed), the defaults, and the validation that turns
 * them into SessionSettings with one message per bad field. The run settings' defaults, bounds and messages come
 * from their declarations (src/fl/settings); a form field has the name of the setting it edits.
 */
import type { SessionSettings } from './types';
import type { DecompositionMode } from '../fl/protocol';
import type { WeightCodecName } from '../fl/codec';
import type { RobustMode } from '../fl/robust/types';
import type { PartitionKind, PartitionSpec } from '../fl/data/partition';
import type { LocalOptimizerName } from '../fl/local-optimizer';
import { choiceValues, formatSetting, getSetting, parseSetting, settingApplies, settingDefault, settingsOn, VALIDATION_DATA, type SettingDecl, type SettingValue, type ValidationData } from '../fl/settings';
import { parseParam } from '../fl/strategies/params';
import { configurableParams, DEFAULT_STRATEGY, describeStrategyConfig, getStrategy, listStrategies, localOptimizerProblem } from '../fl/strategies/registry';
import type { ParamValue, StrategyConfig, StrategyName } from '../fl/strategies/types';
import { DISPLAY_NAME_MAX_LENGTH } from './display-name';
import type { AggregationMode } from '../fl/async/mode';
import { parseStaleness } from '../fl/async/staleness';
import { decompositionAdvice, validationDataFor, type DecompositionAdvice, type TaskFields } from './decomposition-choice';
import { privacyProblem, SUM_STRATEGIES, type PrivacySettings } from '../fl/private-aggregation';

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
  /** Seconds. */
  deadline: string;
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
  /** Private aggregation (on when dpClip is set): 'on' or 'off'. */
  secagg: string;
  /** Empty: no private aggregation. */
  dpClip: string;
  dpNoise: string;
  dpDelta: string;
  /** Empty: no budget. */
  dpBudget: string;
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

/** The form's fields for the declared run settings (src/fl/settings), by setting name. */
export type HostFormSetting = Extract<keyof HostFormValues, string> & ('rounds' | 'localEpochs' | 'batchSize' | 'learningRate' | 'optimizer' | 'momentum' | 'minClients' | 'fraction' | 'deadline' | 'decomposition' | 'decompositionEvery' | 'codec' | 'robust' | 'partition' | 'alpha' | 'shardsPerClient' | 'demoClients' | 'seed' | 'mode' | 'bufferSize' | 'staleness' | 'maxStaleness' | 'secagg' | 'dpClip' | 'dpNoise' | 'dpDelta' | 'dpBudget');

/**
 * Every declared form setting at its default, as the form shows it, for a task whose aggregating tab holds
 * `validation` data (a dependent default follows what it depends on).
 */
function declaredDefaults(validation: ValidationData): Record<string, string> {
  const out: Record<string, string> = {};
  const values: Record<string, SettingValue> = { [VALIDATION_DATA]: validation };
  for (const s of settingsOn('form')) values[s.name] = s.default;
  for (const s of settingsOn('form')) out[s.name] = formatSetting(settingDefault(s, values));
  return out;
}

const DEFAULT_TASK: TaskFields = { task: 'mnist', imageHeight: '28', imageWidth: '28', imageChannels: '1', classes: '10', features: '4' };

export const DEFAULT_HOST_FORM: HostFormValues = {
  name: 'Host',
  ...DEFAULT_TASK,
  hidden: '64',
  model: 'mlp',
  strategy: DEFAULT_STRATEGY,
  strategyParams: defaultStrategyParams(),
  hostTrains: true,
  ...(declaredDefaults(validationDataFor(DEFAULT_TASK)) as Pick<HostFormValues, HostFormSetting>),
};

/** Bounds of the task fields (the run settings' bounds are declared in src/fl/settings). */
export const HOST_FORM_LIMITS = {
  imageSide: [4, 128],
  classes: [2, 1000],
  features: [1, 10_000],
  hiddenUnits: [1, 4096],
  hiddenLayers: [0, 6],
} as const;

/** What the form says under a field whose value the setting's declaration refuses. */
export function settingFieldError(s: SettingDecl, problem: string): string {
  if (s.kind === 'choice') return `Choose one of ${choiceValues(s, 'form').join(', ')}.`;
  if (s.kind === 'text') return `Enter ${problem.replace(/^expected /, '')}.`;
  if (s.kind === 'flag') return 'Turn it on or off.';
  const empty = s.default === null ? ' (or leave it empty)' : '';
  if (s.integer) return `Enter a whole number from ${s.min} to ${s.max}${empty}.`;
  if (s.minExclusive) return `Enter a number above ${s.min} and at most ${s.max}${empty}.`;
  return `Enter a number from ${s.min} to ${s.max}${empty}.`;
}

/**
 * The form with another local optimizer. Its learning rate follows the optimizer's default unless the host typed
 * one (a value other than the previous optimizer's default).
 */
export function withOptimizer(v: HostFormValues, optimizer: LocalOptimizerName): HostFormValues {
  const lr = getSetting('learningRate');
  const previousDefault = formatSetting(settingDefault(lr, { optimizer: v.optimizer }));
  const typed = v.learningRate.trim() !== '' && Number(v.learningRate) !== Number(previousDefault);
  return { ...v, optimizer, learningRate: typed ? v.learningRate : formatSetting(settingDefault(lr, { optimizer })) };
}

/**
 * The form with other task fields. The decomposition mode follows its default for the new task (exact where the
 * aggregating tab holds no validation data for it) unless the host chose another one than the previous default.
 */
export function withTaskFields(v: HostFormValues, patch: Partial<TaskFields>): HostFormValues {
  const d = getSetting('decomposition');
  const next = { ...v, ...patch };
  const previousDefault = settingDefault(d, { [VALIDATION_DATA]: validationDataFor(v) });
  if (v.decomposition !== previousDefault) return next;
  return { ...next, decomposition: settingDefault(d, { [VALIDATION_DATA]: validationDataFor(next) }) as DecompositionMode };
}

/** Whether the form asks for private aggregation: it does when the clip norm is set. */
export function formIsPrivate(v: Pick<HostFormValues, 'dpClip'>): boolean {
  return v.dpClip.trim() !== '';
}

/**
 * Why the form's decomposition mode would measure nothing for its task and aggregation, and what would (null: it
 * measures, or the session is private and measures none).
 */
export function formDecompositionAdvice(v: HostFormValues): DecompositionAdvice | null {
  if (formIsPrivate(v)) return null;
  return decompositionAdvice(v.decomposition, v.mode, validationDataFor(v));
}

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


export type HostFormResult = { ok: true; settings: SessionSettings; name: string } | { ok: false; errors: HostFormErrors };

export function hostFormToSettings(v: HostFormValues): HostFormResult {
  const errors: HostFormErrors = {};
  const take = (field: HostFormField, check: Check): number => {
    if (check.ok) return check.value;
    errors[field] = check.error;
    return NaN;
  };
  const L = HOST_FORM_LIMITS;
  const choices = v as unknown as Readonly<Record<string, unknown>>;
  /** A declared setting's value: as typed when it applies (an error noted when refused), else its default. */
  const setting = (field: HostFormSetting): SettingValue => {
    const s = getSetting(field);
    if (!settingApplies(s, choices)) return settingDefault(s, choices);
    const parsed = parseSetting(s, v[field], 'form');
    if (parsed.ok) return parsed.value;
    errors[field] = settingFieldError(s, parsed.error);
    return s.kind === 'number' ? NaN : null;
  };
  const num = (field: HostFormSetting) => setting(field) as number;

  const name = v.name.trim();
  if (name === '') errors.name = 'Enter a name the others will see.';
  else if (name.length > DISPLAY_NAME_MAX_LENGTH) errors.name = `At most ${DISPLAY_NAME_MAX_LENGTH} characters.`;

  const strategy = strategyFromForm(v, errors);
  const optimizer = setting('optimizer') as LocalOptimizerName;
  const optimizerProblem = optimizer && localOptimizerProblem(strategy.name, optimizer);
  if (optimizerProblem) errors.optimizer = `${optimizerProblem}.`;
  const momentum = num('momentum');
  const rounds = num('rounds');
  const localEpochs = num('localEpochs');
  const batchSize = num('batchSize');
  const learningRate = num('learningRate');
  const minClients = num('minClients');
  const fraction = num('fraction');
  const deadline = num('deadline');
  const decomposition = setting('decomposition') as DecompositionMode;
  const decompositionEvery = num('decompositionEvery');
  const codec = setting('codec') as WeightCodecName;
  const robust = setting('robust') as RobustMode;
  const demoClients = num('demoClients');
  const seed = num('seed');

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
  const partition = setting('partition');
  if (partition === 'dirichlet') demoPartition = { kind: 'dirichlet', alpha: num('alpha') };
  else if (partition === 'shards') demoPartition = { kind: 'shards', shardsPerClient: num('shardsPerClient') };
  else demoPartition = { kind: 'iid' };

  let aggregation: AggregationMode = { mode: 'sync' };
  if (setting('mode') === 'async') {
    const bufferSize = num('bufferSize');
    const staleness = setting('staleness');
    const maxStaleness = setting('maxStaleness') as number | null;
    aggregation = { mode: 'async', bufferSize, staleness: typeof staleness === 'string' ? parseStaleness(staleness) : { kind: 'constant' }, maxStaleness };
  }

  const privacy = privacyFromForm(v, setting, strategy, errors);

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
      roundDeadlineMs: Math.round(deadline * 1000),
      // A private session's aggregating tab sees no local model to decompose, and no update to screen: the clients
      // clip their own.
      decomposition: privacy ? 'off' : decomposition,
      decompositionEvery,
      codec,
      robust: privacy ? 'off' : robust,
      demoPartition,
      demoClients,
      seed,
      hostTrains: v.hostTrains,
      aggregation,
      ...(privacy ? { privacy } : {}),
    },
  };
}

const sentence = (text: string) => `${text[0].toUpperCase()}${text.slice(1)}.`;

/**
 * The privacy settings (undefined: off, the clip norm is empty), with an error on the field at fault for what cannot
 * run: DP fields without a clip norm, a budget without noise, a strategy that needs individual updates, async mode.
 */
function privacyFromForm(v: HostFormValues, setting: (field: HostFormSetting) => SettingValue, strategy: StrategyConfig, errors: HostFormErrors): PrivacySettings | undefined {
  const clipNorm = setting('dpClip') as number | null;
  const p: PrivacySettings = {
    secureAggregation: setting('secagg') === true,
    clipNorm: clipNorm ?? NaN,
    noiseMultiplier: setting('dpNoise') as number,
    delta: setting('dpDelta') as number,
    budget: setting('dpBudget') as number | null,
  };
  if (clipNorm === null) {
    const needsClip = ' needs a clip norm: every client bounds its own update by it.';
    if (p.secureAggregation) errors.secagg ??= `Secure aggregation${needsClip}`;
    if (p.noiseMultiplier > 0) errors.dpNoise ??= `DP noise${needsClip}`;
    if (p.budget !== null) errors.dpBudget ??= `A privacy budget${needsClip}`;
    return undefined;
  }
  const valid = !(['dpClip', 'dpNoise', 'dpDelta', 'dpBudget'] as const).some((f) => errors[f]);
  if (valid) {
    // The values' own problem (a budget without noise), whatever the strategy, then the strategy's.
    const valuesProblem = privacyProblem(p, { name: SUM_STRATEGIES[0] }, 'off');
    if (valuesProblem) errors.dpBudget = sentence(valuesProblem);
    const strategyProblem = privacyProblem({ ...p, budget: null }, strategy, 'off');
    if (strategyProblem) errors.strategy = sentence(strategyProblem);
  }
  if (v.mode === 'async') errors.mode = 'Private aggregation runs in synchronous rounds.';
  return valid ? p : undefined;
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

/** One-line description of the strategy, for the dashboard header (e.g. "FedLD (λ 0.1, ρ 0.8; uniform weighting, mean-norm step)"). */
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
