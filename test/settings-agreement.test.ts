/**
 * Every surface of a run setting agrees with its declaration (src/fl/settings/declarations.ts): the host form's
 * defaults and bounds, the simulator's flags, defaults and bounds, the wire schema's bounds, and the README's list.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatStaleness } from '../src/fl/async/staleness';
import { PROTOCOL_VERSION } from '../src/fl/protocol-constants';
import { validateMessage } from '../src/fl/codec/validate';
import { withSettingsList } from '../src/fl/settings/docs';
import { choiceValues, formatSetting, RUN_SETTINGS, settingDefault, settingFlag, settingsOn, type SettingDecl, type SettingSurface, type SettingValue } from '../src/fl/settings';
import { sessionConfigFromSettings } from '../src/session/controller';
import { parseSimArgs, USAGE, type CliOptions } from '../src/sim/cli-options';
import { DEFAULT_HOST_FORM, hostFormToSettings, type HostFormValues } from '../src/session/host-form';

/** A value inside the declared range other than the default, and values just outside it. */
function inAndOut(s: SettingDecl): { inside: string[]; outside: string[] } {
  if (s.kind === 'choice') return { inside: s.options.map((o) => o.value), outside: ['nope'] };
  if (s.kind === 'text') return { inside: ['constant', 'hinge:10:4'], outside: ['poly:x'] };
  if (s.kind === 'flag') return { inside: ['on'], outside: [] };
  const below = s.minExclusive ? s.min : s.min - (s.integer ? 1 : s.min === 0 ? 0.5 : s.min / 2);
  const above = s.maxExclusive ? s.max : s.integer ? s.max + 1 : s.max * 1.5;
  return { inside: [String(s.maxExclusive ? s.max / 2 : s.max), String(s.minExclusive ? s.max / 2 : s.min)], outside: [String(below), String(above)] };
}

/** The simulator's flags that each of these settings' values needs beyond its declared condition. */
const PRIVATE = ['--strategy', 'fedavg', '--dp-clip', '1'];
const NEEDS: Record<string, string[]> = {
  evaluateOn: ['--validation', '0.2'],
  dpClip: ['--strategy', 'fedavg'],
  secagg: PRIVATE,
  dpNoise: PRIVATE,
  dpDelta: [...PRIVATE, '--dp-noise', '1'],
  dpBudget: [...PRIVATE, '--dp-noise', '1'],
};

/** The host form's fields that each of these settings' values needs beyond its declared condition (as NEEDS). */
const PRIVATE_FORM = { strategy: 'fedavg', dpClip: '1' };
const FORM_NEEDS: Record<string, Record<string, string>> = {
  dpClip: { strategy: 'fedavg' },
  secagg: PRIVATE_FORM,
  dpNoise: PRIVATE_FORM,
  dpDelta: { ...PRIVATE_FORM, dpNoise: '1' },
  dpBudget: { ...PRIVATE_FORM, dpNoise: '1' },
};

/** The other settings' values under which `s` applies. */
function context(s: SettingDecl): Record<string, string> {
  return s.appliesWhen ? { [s.appliesWhen.setting]: s.appliesWhen.oneOf[0] } : {};
}

const offered = (s: SettingDecl, surface: SettingSurface, value: string) => s.kind !== 'choice' || choiceValues(s, surface).includes(value);

describe('the README list of run settings', () => {
  it('is the one generated from the declarations', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withSettingsList(readme)).toBe(readme);
  });
});

describe('the host form', () => {
  const form = (patch: Record<string, string>): HostFormValues => ({ ...DEFAULT_HOST_FORM, ...patch }) as HostFormValues;
  const defaults: Record<string, SettingValue> = Object.fromEntries(settingsOn('form').map((s) => [s.name, s.default]));

  it.each(settingsOn('form').map((s) => [s.name, s] as const))('%s: the declared default and bounds', (_, s) => {
    expect((DEFAULT_HOST_FORM as unknown as Record<string, string>)[s.name]).toBe(formatSetting(settingDefault(s, defaults)));
    const { inside, outside } = inAndOut(s);
    const ctx = { ...FORM_NEEDS[s.name], ...context(s) };
    for (const value of inside.filter((x) => offered(s, 'form', x))) {
      const r = hostFormToSettings(form({ ...ctx, [s.name]: value }));
      expect(r.ok ? null : r.errors, `${s.name} = ${value}`).toBeNull();
    }
    const refused = [...outside, ...(s.kind === 'choice' ? s.options.map((o) => o.value).filter((x) => !offered(s, 'form', x)) : [])];
    for (const value of refused) {
      const r = hostFormToSettings(form({ ...ctx, [s.name]: value }));
      expect(!r.ok && Object.keys(r.errors), `${s.name} = ${value}`).toEqual([s.name]);
    }
  });

  it('has a field for every declared form setting and none for the others', () => {
    const keys = new Set(Object.keys(DEFAULT_HOST_FORM));
    for (const s of RUN_SETTINGS) expect(keys.has(s.name), s.name).toBe(s.surfaces.includes('form'));
  });
});

/** The value the simulator ended up with for a setting. */
function cliValue(name: string, { config, clock }: CliOptions): SettingValue {
  const p = config.partition as Record<string, unknown>;
  const values: Record<string, unknown> = {
    rounds: config.rounds, localEpochs: config.localEpochs, batchSize: config.batchSize, learningRate: config.learningRate, optimizer: config.optimizer,
    momentum: config.momentum, clients: config.clients, fraction: config.fraction, seed: config.seed, codec: config.codec, robust: config.robust,
    partition: p.kind, alpha: p.alpha, shardsPerClient: p.shardsPerClient, sigma: p.sigma,
    mode: clock?.mode ?? 'sync', deadline: clock?.deadline ?? null, bufferSize: clock?.async.bufferSize,
    staleness: clock ? formatStaleness(clock.async.staleness) : undefined, maxStaleness: clock?.async.maxStaleness,
    limit: config.limit, testLimit: config.testLimit, validation: config.validation, evaluateOn: config.evaluateOn, workers: config.workers,
    participation: clock?.async.participation, evalEvery: clock?.evalEvery, simTime: clock ? clock.simTime : null,
    intertwined: clock ? clock.intertwined : false, secagg: config.privacy ? config.privacy.secureAggregation : false,
    dpClip: config.privacy ? config.privacy.clipNorm : null, dpNoise: config.privacy?.noiseMultiplier, dpDelta: config.privacy?.delta, dpBudget: config.privacy?.budget,
  };
  if (!(name in values)) throw new Error(`the test does not know where the simulator keeps "${name}"`);
  return values[name] as SettingValue;
}

describe('the simulator', () => {
  const flags = (o: Record<string, string>) =>
    Object.entries(o).flatMap(([name, value]) => {
      const s = RUN_SETTINGS.find((x) => x.name === name)!;
      return s.kind === 'flag' ? [`--${settingFlag(s)}`] : [`--${settingFlag(s)}`, value];
    });

  it.each(settingsOn('cli').map((s) => [s.name, s] as const))('%s: the declared flag, default and bounds', (_, s) => {
    expect(USAGE).toContain(`--${settingFlag(s)} `);
    const ctx = context(s);
    const args = (o: Record<string, string>) => [...(NEEDS[s.name] ?? []), ...flags(o)];
    const plain = parseSimArgs(args(ctx));
    const contextValues: Record<string, SettingValue> = { ...ctx };
    expect(cliValue(s.name, plain)).toEqual(s.cliUnsetByDefault ? null : settingDefault(s, contextValues));
    const { inside, outside } = inAndOut(s);
    for (const value of inside.filter((x) => offered(s, 'cli', x))) {
      const options = parseSimArgs(args({ ...ctx, [s.name]: value }));
      expect(cliValue(s.name, options), `${s.name} = ${value}`).toEqual(s.kind === 'number' ? Number(value) : s.kind === 'flag' ? true : value);
    }
    for (const value of outside) expect(() => parseSimArgs(args({ ...ctx, [s.name]: value })), `${s.name} = ${value}`).toThrow(`--${settingFlag(s)}`);
  });
});

describe('the wire schema', () => {
  /** A private session runs in sync rounds; every other setting is checked in an async one (its settings on the wire). */
  const base = (privacy = false) => {
    const r = hostFormToSettings({ ...DEFAULT_HOST_FORM, optimizer: 'momentum', ...(privacy ? { ...PRIVATE_FORM, dpNoise: '1', dpBudget: '4' } : { mode: 'async' }) });
    if (!r.ok) throw new Error('the form does not validate');
    return sessionConfigFromSettings(r.settings) as unknown as Record<string, unknown>;
  };
  const welcome = (config: unknown) => ({ type: 'welcome', v: PROTOCOL_VERSION, term: 1, slot: 0, round: 0, config, history: [] });
  const withValue = (path: readonly string[], value: unknown, shards: boolean) => {
    const config = structuredClone(base(path[0] === 'privacy'));
    if (shards) (config.demo as Record<string, unknown>).partition = { kind: 'shards' };
    let at = config as Record<string, unknown>;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path[path.length - 1]] = value;
    return welcome(config);
  };

  it('accepts the session config of the default form, and of a private one', () => {
    expect(validateMessage(welcome(base())).ok).toBe(true);
    expect(validateMessage(welcome(base(true))).ok).toBe(true);
  });

  it.each(RUN_SETTINGS.filter((s) => s.wire).map((s) => [s.name, s] as const))('%s: the declared bounds', (_, s) => {
    const { path, scale = 1 } = s.wire!;
    const shards = s.name === 'shardsPerClient';
    const { inside, outside } = inAndOut(s);
    const toWire = (value: string) => (s.kind === 'number' ? Number(value) * scale : s.kind === 'flag' ? value === 'on' : value);
    for (const value of inside.filter((x) => offered(s, 'form', x))) {
      const r = validateMessage(withValue(path, toWire(value), shards));
      expect(r.ok ? null : r.reason, `${s.name} = ${value}`).toBeNull();
    }
    const refused = [...outside, ...(s.kind === 'choice' ? s.options.map((o) => o.value).filter((x) => !offered(s, 'form', x)) : [])];
    for (const value of refused) {
      const r = validateMessage(withValue(path, toWire(value), shards));
      expect(r.ok, `${s.name} = ${value}`).toBe(false);
    }
  });
});
