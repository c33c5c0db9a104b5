/** The shape of a run setting's declaration (./declarations.ts holds them all). */

/** Where a setting is offered: the host form, the simulator's command line. The wire is described by `wire`. */
export type SettingSurface = 'form' | 'cli';

/** Another setting's value under which this one applies (the form shows it, the CLI accepts it). */
export interface SettingCondition {
  setting: string;
  /** Applies when the other setting has one of these values. */
  oneOf: readonly string[];
}

interface SettingBase {
  /** camelCase; the form field, the session config field and (kebab-cased) the CLI flag. */
  name: string;
  /** The form's label. */
  label: string;
  /** One line for the form's hint, `--help` and the README. */
  help: string;
  surfaces: readonly SettingSurface[];
  /** Older CLI spellings still accepted (e.g. --lr for --learning-rate). */
  cliAliases?: readonly string[];
  /** Placeholder after the flag in `--help` (number settings; default X). */
  cliValue?: string;
  /**
   * The simulator leaves this setting unset unless given (null), where the app always has a value. Why goes in help.
   */
  cliUnsetByDefault?: boolean;
  appliesWhen?: SettingCondition;
  /**
   * Where the session config a host sends carries this setting (e.g. ['train', 'learningRate']), and the factor from
   * the declared unit to the wire's (1000: seconds declared, milliseconds sent). Absent: not on the wire.
   */
  wire?: { path: readonly string[]; scale?: number };
}

export interface NumberSetting extends SettingBase {
  kind: 'number';
  integer?: boolean;
  min: number;
  max: number;
  /** The range excludes min: (min, max]. */
  minExclusive?: boolean;
  /** The range excludes max: [min, max). */
  maxExclusive?: boolean;
  /** null: none unless given (the field may be left empty). */
  default: number | null;
  /** A default that depends on another setting (e.g. the learning rate per local optimizer); `default` is the fallback. */
  defaultBy?: { setting: string; values: Readonly<Record<string, number>> };
}

export interface ChoiceOption {
  value: string;
  label: string;
  /** Surfaces offering this option, when not all of the setting's. */
  surfaces?: readonly SettingSurface[];
}

export interface ChoiceSetting extends SettingBase {
  kind: 'choice';
  options: readonly ChoiceOption[];
  /** The fallback where `defaultBy` names no other value. */
  default: string;
  /**
   * A default that depends on another setting or on a fact of the task (e.g. the decomposition mode on whether the
   * aggregating tab holds validation data: see VALIDATION_DATA in ./declarations.ts).
   */
  defaultBy?: { setting: string; values: Readonly<Record<string, string>> };
}

/** A small textual spec such as a staleness function "poly:0.5"; `problem` says why a text is not one. */
export interface TextSetting extends SettingBase {
  kind: 'text';
  /** What the value looks like, e.g. "constant|poly:A|hinge:A:B". */
  syntax: string;
  default: string;
  problem: (text: string) => string | null;
}

/** A switch, off unless given (the simulator's flags without a value, such as --secagg). */
export interface FlagSetting extends SettingBase {
  kind: 'flag';
  default: false;
}

export type SettingDecl = NumberSetting | ChoiceSetting | TextSetting | FlagSetting;

export type SettingValue = number | string | boolean | null;
