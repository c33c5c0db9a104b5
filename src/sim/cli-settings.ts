/**
 * The simulator's flags for the declared run settings (src/fl/settings): their names, aliases, `--help` lines,
 * parsing and defaults all come from the declarations.
 */
import { parseSetting, settingApplies, settingDefault, settingFlag, settingRangeText, settingsOn, type SettingDecl, type SettingValue } from '../fl/settings';

export class UsageError extends Error {}

/** The `parseArgs` option of every declared flag and alias. */
export function settingArgOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of settingsOn('cli')) for (const flag of [settingFlag(s), ...(s.cliAliases ?? [])]) out[flag] = { type: s.kind === 'flag' ? 'boolean' : 'string' };
  return out;
}

function defaultWords(s: SettingDecl): string {
  if (s.kind === 'number' && s.defaultBy) return `default per ${s.defaultBy.setting}: ${Object.entries(s.defaultBy.values).map(([k, x]) => `${k} ${x}`).join(', ')}`;
  if (s.kind === 'flag') return 'default off';
  if (s.cliUnsetByDefault || s.default === null) return 'default unset';
  return `default ${s.default}`;
}

/** `--help` line of a declared setting. */
export function settingUsage(s: SettingDecl): string {
  const value = s.kind === 'number' ? ` ${s.cliValue ?? 'X'}` : s.kind === 'flag' ? '' : ` ${settingRangeText(s, 'cli')}`;
  const aliases = s.cliAliases?.length ? ` (or ${s.cliAliases.map((a) => `--${a}`).join(', ')})` : '';
  const range = s.kind === 'number' ? `; ${settingRangeText(s)}` : '';
  return `  --${settingFlag(s)}${value}${aliases}`.padEnd(34) + ` ${s.help} (${defaultWords(s)}${range})`;
}

/** The raw text given for a setting, under its flag or one alias ("on" for a flag); `used` is the spelling, for messages. */
function given(s: SettingDecl, values: Readonly<Record<string, unknown>>): { raw: string; used: string } | null {
  const spellings = [settingFlag(s), ...(s.cliAliases ?? [])].filter((f) => typeof values[f] === 'string' || values[f] === true);
  if (s.kind === 'flag') return spellings.length > 0 ? { raw: 'on', used: spellings[0] } : null;
  if (spellings.length > 1) throw new UsageError(`--${spellings[0]} and --${spellings[1]} are the same option: give one`);
  return spellings.length === 1 ? { raw: values[spellings[0]] as string, used: spellings[0] } : null;
}

export interface CliSettings {
  /** Every CLI setting's value: given, or its default (null: unset). */
  values: Record<string, SettingValue>;
  /** The names of the settings given on the command line. */
  given: Set<string>;
}

/**
 * The declared settings from parsed arguments, each checked against its declaration; a setting given where it does
 * not apply (e.g. --momentum with --optimizer adam) is refused. Defaults that depend on another setting follow it
 * (--optimizer adam without --learning-rate gets Adam's learning rate).
 */
export function readCliSettings(args: Readonly<Record<string, unknown>>): CliSettings {
  const values: Record<string, SettingValue> = {};
  const givenNames = new Set<string>();
  const declared = settingsOn('cli');
  for (const s of declared) {
    const g = given(s, args);
    if (!g) continue;
    const parsed = parseSetting(s, g.raw, 'cli');
    if (!parsed.ok) throw new UsageError(`--${g.used} ${parsed.error}, got "${g.raw}"`);
    values[s.name] = parsed.value;
    givenNames.add(s.name);
  }
  // Settings without a dependent default first, so that a dependent one sees what it depends on.
  for (const s of [...declared].sort((a, b) => Number(a.kind === 'number' && !!a.defaultBy) - Number(b.kind === 'number' && !!b.defaultBy))) {
    if (givenNames.has(s.name)) continue;
    values[s.name] = s.cliUnsetByDefault ? null : settingDefault(s, values);
  }
  for (const s of declared) {
    if (givenNames.has(s.name) && !settingApplies(s, values)) {
      const w = s.appliesWhen!;
      throw new UsageError(`--${settingFlag(s)} applies to --${w.setting} ${w.oneOf.join(' or ')} only`);
    }
  }
  return { values, given: givenNames };
}
