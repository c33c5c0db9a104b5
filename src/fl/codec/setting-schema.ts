/**
 * Wire schemas for run settings, built from their declarations (src/fl/settings): the bounds a session config is
 * checked against are the ones the host form and the CLI enforce, scaled to the wire's unit (seconds -> ms).
 */
import * as v from 'valibot';
import { getSetting, settingProblem } from '../settings';
import { finite, integer } from './schema-primitives';

/** The named number setting as the wire carries it (an integer setting, or one sent scaled, is an integer there). */
export function numberSettingSchema(name: string): v.GenericSchema<unknown, number> {
  const s = getSetting(name);
  if (s.kind !== 'number') throw new Error(`run setting "${name}" is not a number`);
  const scale = s.wire?.scale ?? 1;
  if (s.integer || scale !== 1) {
    const lo = s.minExclusive ? Math.floor(s.min * scale) + 1 : Math.ceil(s.min * scale);
    return integer(lo, Math.floor(s.max * scale));
  }
  return v.pipe(finite(), v.check((x) => settingProblem(s, x) === null, (issue) => `${issue.input} is outside ${s.minExclusive ? '(' : '['}${s.min}, ${s.max}]`));
}
