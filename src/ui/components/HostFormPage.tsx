import { useState, type FormEvent, type ReactNode } from 'react';
import { navigate } from '../hooks';
import { secureAggregationProblem } from '../../session/secure-aggregation-support';
import type { LocalOptimizerName } from '../../fl/local-optimizer';
import { getSetting } from '../../fl/settings';
import { getStrategy, listStrategies } from '../../fl/strategies/registry';
import { SERVER_OPTIMIZER_PARAMS } from '../../fl/strategies/server-optimizer';
import type { HyperParam } from '../../fl/strategies/types';
import { DEFAULT_HOST_FORM, formDecompositionAdvice, formIsPrivate, hostFormToSettings, strategyParamKey, withOptimizer, withTaskFields, type HostFormErrors, type HostFormField, type HostFormSetting, type HostFormValues } from '../../session/host-form';
import type { TaskFields } from '../../session/decomposition-choice';
import { readDisplayName, writeDisplayName } from '../preferences';
import { useSession } from '../store';
import { PrivacyFieldset } from './PrivacyFieldset';

const MODEL_HINT: Record<HostFormValues['model'], string> = {
  mlp: 'small and fast on every backend',
  cnn: 'better on images, slower to train',
};

const PARTITION_HINT: Record<HostFormValues['partition'], string> = {
  iid: 'every slot sees every label about equally',
  dirichlet: 'each slot gets a skewed mix of labels',
  shards: 'each slot gets a few labels only',
};

const ROBUST_HINT: Record<HostFormValues['robust'], string> = {
  clip: 'bounds each update (sample count, norm) and leaves out only those that contradict their own labels; the peers table says who and why',
  'trimmed-mean': 'clip, then a coordinate-wise trimmed mean (FedAvg/FedProx)',
  median: 'clip, then a coordinate-wise median (FedAvg/FedProx)',
  off: 'no defence: one client can ruin the model',
};

type PlainField = Exclude<keyof HostFormValues, 'strategyParams'>;
type Update = <K extends PlainField>(field: K, value: HostFormValues[K]) => void;

const TASK_FIELDS: ReadonlySet<PlainField> = new Set<keyof TaskFields>(['task', 'imageHeight', 'imageWidth', 'imageChannels', 'classes', 'features']);

function initialValues(): HostFormValues {
  const name = readDisplayName();
  return name ? { ...DEFAULT_HOST_FORM, name } : DEFAULT_HOST_FORM;
}

export function HostFormPage() {
  const host = useSession((s) => s.actions.host);
  const pending = useSession((s) => s.pending === 'host');
  const [values, setValues] = useState<HostFormValues>(initialValues);
  const [errors, setErrors] = useState<HostFormErrors>({});
  // A task field goes through withTaskFields: the decomposition mode's default depends on the task.
  const update: Update = (field, value) => setValues((v) => (TASK_FIELDS.has(field) ? withTaskFields(v, { [field]: value }) : { ...v, [field]: value }));
  const updateParam = (key: string, value: string) => setValues((v) => ({ ...v, strategyParams: { ...v.strategyParams, [key]: value } }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = hostFormToSettings(values);
    if (!result.ok) {
      setErrors(result.errors);
      document.getElementById(`host-${Object.keys(result.errors)[0]}`)?.focus();
      return;
    }
    // The form's values are valid; whether this page can run secure aggregation is a property of the page.
    const unsupported = result.settings.privacy?.secureAggregation ? secureAggregationProblem(globalThis, 'host') : null;
    if (unsupported) {
      setErrors({ secagg: unsupported });
      document.getElementById('host-secagg')?.focus();
      return;
    }
    setErrors({});
    writeDisplayName(result.name);
    if (await host(result.settings, result.name)) navigate({ page: 'session' });
  };

  /** A strategy or server-optimizer hyper-parameter, rendered from its declaration in the registry. */
  const param = (p: HyperParam) => {
    const key = strategyParamKey(values.strategy, p.name);
    const field: HostFormField = `param:${key}`;
    const error = errors[field];
    const value = values.strategyParams[key] ?? String(p.default);
    return (
      <Field key={key} field={field} label={p.label} hint={p.help} error={error}>
        {p.kind === 'choice' ? (
          <select id={`host-${field}`} aria-describedby={describedBy(field, p.help, error)} value={value} onChange={(e) => updateParam(key, e.target.value)}>
            {p.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        ) : (
          <input id={`host-${field}`} type="number" inputMode="decimal" step="any" value={value} onChange={(e) => updateParam(key, e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={describedBy(field, p.help, error)} />
        )}
      </Field>
    );
  };
  const strategy = getStrategy(values.strategy);
  const advice = formDecompositionAdvice(values);
  const isPrivate = formIsPrivate(values);

  const num = (field: PlainField, label: string, hint?: string, step = 'any') => (
    <Field field={field} label={label} hint={hint} error={errors[field]}>
      <input
        id={`host-${field}`}
        type="number"
        inputMode="decimal"
        step={step}
        value={values[field] as string}
        onChange={(e) => update(field, e.target.value)}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={describedBy(field, hint, errors[field])}
      />
    </Field>
  );

  /** A declared run setting's field: its label, hint, options, input kind and step come from its declaration. */
  const setting = (name: HostFormSetting, hint: string | null = getSetting(name).help) => {
    const s = getSetting(name);
    const error = errors[name];
    const shown = hint ?? undefined;
    const change = (value: string) => (name === 'optimizer' ? setValues((v) => withOptimizer(v, value as LocalOptimizerName)) : update(name, value as HostFormValues[typeof name]));
    return (
      <Field field={name} label={s.label} hint={shown} error={error} checkbox={s.kind === 'flag'}>
        {s.kind === 'flag' ? (
          <input
            id={`host-${name}`}
            type="checkbox"
            checked={values[name] === 'on'}
            onChange={(e) => change(e.target.checked ? 'on' : 'off')}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(name, shown, error)}
          />
        ) : s.kind === 'choice' ? (
          <select id={`host-${name}`} aria-describedby={describedBy(name, shown, error)} value={values[name]} onChange={(e) => change(e.target.value)}>
            {s.options
              .filter((o) => !o.surfaces || o.surfaces.includes('form'))
              .map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
          </select>
        ) : (
          <input
            id={`host-${name}`}
            type={s.kind === 'number' ? 'number' : 'text'}
            inputMode={s.kind === 'number' ? 'decimal' : undefined}
            step={s.kind === 'number' ? (s.integer ? '1' : 'any') : undefined}
            value={values[name]}
            onChange={(e) => change(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(name, shown, error)}
          />
        )}
      </Field>
    );
  };

  return (
    <form className="host-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="host-form-title">
      <h2 id="host-form-title">Host a session</h2>
      {Object.keys(errors).length > 0 && (
        <p className="field-error" role="alert">
          Some settings need fixing (marked below).
        </p>
      )}
      <div className="form-grid">
        <fieldset>
          <legend>You</legend>
          <Field field="name" label="Your name (shown to the others)" error={errors.name}>
            <input id="host-name" type="text" value={values.name} onChange={(e) => update('name', e.target.value)} aria-invalid={errors.name ? true : undefined} aria-describedby={describedBy('name', undefined, errors.name)} />
          </Field>
          <div className="checkbox">
            <input id="host-hostTrains" type="checkbox" checked={values.hostTrains} onChange={(e) => update('hostTrains', e.target.checked)} />
            <label htmlFor="host-hostTrains">This tab also trains on its own data (besides aggregating)</label>
          </div>
        </fieldset>

        <TaskFieldset values={values} errors={errors} update={update} num={num} />

        <fieldset>
          <legend>Model and algorithm</legend>
          <Field field="model" label="Model" hint={MODEL_HINT[values.model]} error={errors.model}>
            <select id="host-model" aria-describedby="host-model-hint" value={values.model} onChange={(e) => update('model', e.target.value as HostFormValues['model'])}>
              <option value="mlp">MLP</option>
              <option value="cnn">CNN</option>
            </select>
          </Field>
          <Field field="strategy" label="Strategy" hint={strategy.summary} error={errors.strategy}>
            <select id="host-strategy" aria-describedby={describedBy('strategy', strategy.summary, errors.strategy)} aria-invalid={errors.strategy ? true : undefined} value={values.strategy} onChange={(e) => update('strategy', e.target.value)}>
              {listStrategies().map((s) => (
                <option key={s.name} value={s.name}>
                  {s.label}
                </option>
              ))}
            </select>
          </Field>
          {strategy.params.map(param)}
          <details>
            <summary>Server optimizer</summary>
            {SERVER_OPTIMIZER_PARAMS.map(param)}
          </details>
        </fieldset>

        <fieldset>
          <legend>Training</legend>
          {setting('rounds')}
          {setting('localEpochs')}
          {setting('batchSize')}
          {setting('optimizer')}
          {setting('learningRate', 'follows the local optimizer (each has its own default) until you type one')}
          {values.optimizer === 'momentum' && setting('momentum')}
        </fieldset>

        <fieldset>
          <legend>Synchronous or asynchronous</legend>
          {setting('mode', values.mode === 'sync' ? 'rounds: everyone starts together, the round waits for the deadline' : 'no rounds: each device trains again as soon as it has sent; a step every few updates')}
          {values.mode === 'async' && (
            <>
              {setting('bufferSize')}
              {setting('staleness')}
              {setting('maxStaleness')}
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>Rounds and clients</legend>
          {setting('minClients')}
          {setting('fraction')}
          {setting('deadline', 'late updates are left out of the round')}
          {setting('codec', null)}
          {isPrivate ? (
            <Fixed field="robust" label={getSetting('robust').label} value="off: clients clip their own updates" why="private aggregation replaces the aggregator’s screening, which would need each update" />
          ) : (
            setting('robust', ROBUST_HINT[values.robust])
          )}
        </fieldset>

        <PrivacyFieldset setting={setting} active={isPrivate} />

        <fieldset>
          <legend>Loss decomposition</legend>
          {isPrivate ? (
            <Fixed field="decomposition" label={getSetting('decomposition').label} value="off in private sessions" why="the aggregating tab does not see the local models, so nothing measures the terms" />
          ) : (
            <>
              {setting('decomposition', null)}
              <DecompositionNote mode={values.decomposition} />
            </>
          )}
          {advice && (
            <p id="decomposition-advice" className={advice.fix ? 'note warn' : 'note'} role="status">
              {advice.problem}
              {advice.fix && (
                <>
                  {' '}
                  <button type="button" onClick={() => setValues((v) => ({ ...v, ...advice.fix }))}>
                    {advice.fixLabel}
                  </button>
                </>
              )}
            </p>
          )}
          {!isPrivate && values.decomposition !== 'off' && setting('decompositionEvery')}
        </fieldset>

        {values.task !== 'mnist' && (
          <p className="note">
            The demo data (MNIST digits) does not fit this task: everyone imports their own {values.task === 'images' ? 'image folder (one sub-folder per class) or .npz file' : 'CSV file (feature columns and a label column)'}, and each joining
            tab checks its data against the task. There is no common test set, so the dashboard shows no accuracy.
          </p>
        )}
        {values.task === 'mnist' && (
          <fieldset>
            <legend>Demo data</legend>
            {setting('partition', PARTITION_HINT[values.partition])}
            {values.partition === 'dirichlet' && setting('alpha')}
            {values.partition === 'shards' && setting('shardsPerClient')}
            {setting('demoClients')}
            {setting('seed')}
          </fieldset>
        )}
      </div>
      <div className="button-row">
        <button type="submit" className="primary big-button" disabled={pending}>
          {pending ? 'Creating…' : 'Create session'}
        </button>
        <button type="button" onClick={() => setValues(DEFAULT_HOST_FORM)}>
          Reset to defaults
        </button>
        <a className="button" href="#/">
          Back
        </a>
      </div>
    </form>
  );
}

const TASK_HINT: Record<HostFormValues['task'], string> = {
  mnist: 'handwritten digits, 28×28 grayscale, 10 classes; every tab gets a demo shard',
  images: 'your own images, scaled to this size on import',
  tabular: 'rows of numbers from a CSV file with a label column',
};

type NumField = (field: PlainField, label: string, hint?: string, step?: string) => ReactNode;

/** What the session learns, and the layer sizes of its MLP. */
function TaskFieldset({ values, errors, update, num }: { values: HostFormValues; errors: HostFormErrors; update: Update; num: NumField }) {
  return (
    <fieldset>
      <legend>Task</legend>
      <Field field="task" label="What the session learns" hint={TASK_HINT[values.task]}>
        <select id="host-task" aria-describedby="host-task-hint" value={values.task} onChange={(e) => update('task', e.target.value as HostFormValues['task'])}>
          <option value="mnist">MNIST digits (demo data)</option>
          <option value="images">Images (your own)</option>
          <option value="tabular">Table rows (CSV)</option>
        </select>
      </Field>
      {values.task === 'images' && (
        <>
          {num('imageHeight', 'Image height (pixels)', undefined, '1')}
          {num('imageWidth', 'Image width (pixels)', undefined, '1')}
          <Field field="imageChannels" label="Colour">
            <select id="host-imageChannels" value={values.imageChannels} onChange={(e) => update('imageChannels', e.target.value as HostFormValues['imageChannels'])}>
              <option value="1">grayscale (1 channel)</option>
              <option value="3">colour (3 channels)</option>
            </select>
          </Field>
        </>
      )}
      {values.task === 'tabular' && num('features', 'Features per row', 'columns besides the label', '1')}
      {values.task !== 'mnist' && num('classes', 'Classes', 'labels 0 … classes − 1', '1')}
      {values.model === 'mlp' && (
        <Field field="hidden" label="MLP hidden layers" hint="units per layer, e.g. 128, 64 (empty: a linear model)" error={errors.hidden}>
          <input id="host-hidden" type="text" inputMode="numeric" value={values.hidden} onChange={(e) => update('hidden', e.target.value)} aria-invalid={errors.hidden ? true : undefined} aria-describedby={describedBy('hidden', 'hint', errors.hidden)} />
        </Field>
      )}
    </fieldset>
  );
}

function DecompositionNote({ mode }: { mode: HostFormValues['decomposition'] }) {
  return (
    <p id="decomposition-note" className={mode === 'exact' ? 'note warn' : 'note'}>
      {mode === 'exact' &&
        'In EXACT mode the local models travel between peers: every client evaluates the others’ local models on its own held-out data and reports only the loss values. Data never leaves a device, but local models are shared.'}
      {mode === 'proxy' && 'Local models go only to the aggregator, which estimates the terms on its own validation data.'}
      {mode === 'off' && 'No decomposition is measured; rounds are a little faster.'}
    </p>
  );
}

/** A setting another one decides (private aggregation), shown with its value and why instead of a control. */
function Fixed({ field, label, value, why }: { field: HostFormField; label: string; value: string; why: string }) {
  return (
    <div className="field fixed">
      <span className="fixed-label" id={`host-${field}-label`}>
        {label}
      </span>
      <output id={`host-${field}`} aria-labelledby={`host-${field}-label`} aria-describedby={`host-${field}-hint`}>
        {value}
      </output>
      <span id={`host-${field}-hint`} className="hint">
        {why}
      </span>
    </div>
  );
}

function describedBy(field: HostFormField, hint: string | undefined, error: string | undefined): string | undefined {
  const ids = [hint ? `host-${field}-hint` : '', error ? `host-${field}-error` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** A labelled field; `checkbox`: the control before its label, on one line. */
function Field({ field, label, hint, error, checkbox = false, children }: { field: HostFormField; label: string; hint?: string; error?: string; checkbox?: boolean; children: ReactNode }) {
  const labelled = <label htmlFor={`host-${field}`}>{label}</label>;
  return (
    <div className={error ? 'field invalid' : 'field'}>
      {checkbox ? (
        <div className="checkbox">
          {children}
          {labelled}
        </div>
      ) : (
        <>
          {labelled}
          {children}
        </>
      )}
      {hint && (
        <span id={`host-${field}-hint`} className="hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={`host-${field}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}
