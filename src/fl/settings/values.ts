/** Reading, checking and describing run settings by their declaration (./declarations.ts). */
import { RUN_SETTINGS } from './declarations';
import type { ChoiceSetting, NumberSetting, SettingDecl, SettingSurface, SettingValue, TextSetting } from './types';

const BY_NAME = new Map(RUN_SETTINGS.map((s) => [s.name, s]));

export function getSetting(name: string): SettingDecl {
  const s = BY_NAME.get(name);
  if (!s) throw new Error(`unknown run setting "${name}"`);
  return s;
}

export function numberSetting(name: string): NumberSetting {
  const s = getSetting(name);
  if (s.kind !== 'number') throw new Error(`run setting "${name}" is not a number`);
  return s;
}

/** The default of a number setting that always has one. */
export function numberDefault(name: string): number {
  const d = numberSetting(name).default;
  if (d === null) throw new Error(`run setting "${name}" has no default`);
  return d;
}

export function choiceSetting(name: string): ChoiceSetting {
  const s = getSetting(name);
  if (s.kind !== 'choice') throw new Error(`run setting "${name}" is not a choice`);
  return s;
}

export function textSetting(name: string): TextSetting {
  const s = getSetting(name);
  if (s.kind !== 'text') throw new Error(`run setting "${name}" is not a text`);
  return s;
}

/** The settings a surface offers, in declaration order. */
export function settingsOn(surface: SettingSurface): SettingDecl[] {
  return RUN_SETTINGS.filter((s) => s.surfaces.includes(surface));
}

/** The option values a surface offers for a choice. */
export function choiceValues(s: ChoiceSetting, surface?: SettingSurface): string[] {
  return s.options.filter((o) => !surface || !o.surfaces || o.surfaces.includes(surface)).map((o) => o.value);
}

/**
 * The setting's default, given the values of the settings (or task facts) it depends on: the learning rate for Adam,
 * the decomposition mode without validation data.
 */
export function settingDefault(s: SettingDecl, others: Readonly<Record<string, unknown>> = {}): SettingValue {
  if ((s.kind === 'number' || s.kind === 'choice') && s.defaultBy) {
    const by = others[s.defaultBy.setting];
    if (typeof by === 'string' && Object.hasOwn(s.defaultBy.values, by)) return s.defaultBy.values[by];
  }
  return s.default;
}

/** "[1, 1000]", "(0, 1]"; a choice's values joined by "|"; a text's syntax. */
export function settingRangeText(s: SettingDecl, surface?: SettingSurface): string {
  if (s.kind === 'choice') return choiceValues(s, surface).join('|');
  if (s.kind === 'text') return s.syntax;
  if (s.kind === 'flag') return 'on|off';
  return `${s.minExclusive ? '(' : '['}${s.min}, ${s.max}${s.maxExclusive ? ')' : ']'}`;
}

/** Why a value is not acceptable for the setting (null: it is). `null` is acceptable only where the default is none. */
export function settingProblem(s: SettingDecl, value: unknown, surface?: SettingSurface): string | null {
  if (s.kind === 'choice') {
    const values = choiceValues(s, surface);
    return typeof value === 'string' && values.includes(value) ? null : `expected one of ${values.join(', ')}`;
  }
  if (s.kind === 'text') return typeof value === 'string' ? s.problem(value.trim()) : `expected ${s.syntax}`;
  if (s.kind === 'flag') return typeof value === 'boolean' ? null : 'expected on or off';
  if (value === null && s.default === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) return s.integer ? `expected a whole number in ${settingRangeText(s)}` : `expected a number in ${settingRangeText(s)}`;
  if (s.integer && !Number.isInteger(value)) return `expected a whole number in ${settingRangeText(s)}`;
  if (value < s.min || value > s.max || (s.minExclusive && value === s.min) || (s.maxExclusive && value === s.max)) return `must be in ${settingRangeText(s)}`;
  return null;
}

export type SettingParse = { ok: true; value: SettingValue } | { ok: false; error: string };

/** A typed string (form field, CLI flag) as the setting's value; empty means none where the default is none. */
export function parseSetting(s: SettingDecl, raw: string, surface?: SettingSurface): SettingParse {
  const text = raw.trim();
  let value: SettingValue = text;
  if (s.kind === 'number') value = text === '' ? (s.default === null ? null : NaN) : Number(text);
  if (s.kind === 'flag' && (text === 'on' || text === 'off')) value = text === 'on';
  const problem = settingProblem(s, value, surface);
  return problem ? { ok: false, error: problem } : { ok: true, value };
}

/** The setting's value as a form field shows it ("" for none). */
export function formatSetting(value: SettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return value === null ? '' : String(value);
}

/** Whether the setting applies given the others' values (a setting without a condition always does). */
export function settingApplies(s: SettingDecl, others: Readonly<Record<string, unknown>>): boolean {
  return !s.appliesWhen || s.appliesWhen.oneOf.includes(String(others[s.appliesWhen.setting]));
}

/** The CLI flag of a setting (learningRate -> learning-rate). */
export function settingFlag(s: SettingDecl): string {
  return s.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
