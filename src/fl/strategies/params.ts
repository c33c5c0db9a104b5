import type { HyperParam, ParamValue, ResolvedParams } from './types';

/** Why a hyper-parameter value is unacceptable, or null when it is fine. */
export function checkParam(p: HyperParam, value: unknown): string | null {
  if (p.kind === 'choice') {
    if (typeof value !== 'string' || !p.options.some((o) => o.value === value)) {
      return `expected one of ${p.options.map((o) => o.value).join(', ')}`;
    }
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'expected a finite number';
  if (p.integer && !Number.isInteger(value)) return 'expected a whole number';
  if (value < p.min || value > p.max || (p.minExclusive && value === p.min)) return `must be in ${rangeText(p)}`;
  return null;
}

/** "[0, 100]" or "(0, 1]". */
export function rangeText(p: HyperParam): string {
  if (p.kind === 'choice') return p.options.map((o) => o.value).join('|');
  return `${p.minExclusive ? '(' : '['}${p.min}, ${p.max}]`;
}

/** Parses a typed string (form field, CLI flag) into the parameter's value; returns a reason on failure. */
export function parseParam(p: HyperParam, raw: string): { ok: true; value: ParamValue } | { ok: false; error: string } {
  const text = raw.trim();
  const value: ParamValue = p.kind === 'number' ? (text === '' ? NaN : Number(text)) : text;
  const problem = checkParam(p, value);
  return problem ? { ok: false, error: problem } : { ok: true, value };
}

/**
 * The declared parameters with values: given ones checked, missing ones defaulted. Unknown fields are an error,
 * so a typo never silently runs the default.
 */
export function resolveParams(declared: readonly HyperParam[], given: Readonly<Record<string, unknown>>, where: string): ResolvedParams {
  const out: Record<string, ParamValue> = {};
  const known = new Set(declared.map((p) => p.name));
  for (const key of Object.keys(given)) {
    if (key !== 'name' && !known.has(key)) throw new Error(`${where}: unknown parameter "${key}"`);
  }
  for (const p of declared) {
    const v = given[p.name];
    if (v === undefined) {
      out[p.name] = p.default;
      continue;
    }
    const problem = checkParam(p, v);
    if (problem) throw new Error(`${where}.${p.name}: ${problem}, got ${JSON.stringify(v)}`);
    out[p.name] = v as ParamValue;
  }
  return out;
}

export function numberParam(params: ResolvedParams, name: string): number {
  const v = params[name];
  if (typeof v !== 'number') throw new Error(`strategy parameter "${name}" is not a number`);
  return v;
}

export function choiceParam<T extends string>(params: ResolvedParams, name: string): T {
  const v = params[name];
  if (typeof v !== 'string') throw new Error(`strategy parameter "${name}" is not a choice`);
  return v as T;
}

/** CLI flag of a hyper-parameter: its name in kebab case (serverLr -> server-lr). */
export function paramFlag(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
