/**
 * Valibot building blocks for the message schemas (./schema.ts): numbers, strings, lists and objects whose issue
 * messages read like "12 is outside [0, 10]" and, joined with the issue's path by reasonOf, give reasons such as
 * "update.metrics.evalAccuracy: 1.2 is outside [0, 1]". Every schema here checks a bound before it iterates.
 */
import * as v from 'valibot';
import { quoteForReason } from './errors';

/**
 * An issue message that starts with this character continues the path itself (a tensor's `[2] "name": ...`, a
 * strategy parameter's `.mu: ...`) instead of being joined to it with ": ".
 */
export const RELATIVE = '\u0001';

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Uint8Array) return 'binary data';
  if (typeof x === 'string') return `a string`;
  if (typeof x === 'number') return `${x}`;
  return `a value of type ${typeof x}`;
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

const got = (expected: string) => (issue: v.BaseIssue<unknown>) => `${expected}, got ${describe(issue.input)}`;

export const finite = () => v.custom<number>((x) => typeof x === 'number' && Number.isFinite(x), got('expected a finite number'));

export const inRange = (lo: number, hi: number) =>
  v.pipe(finite(), v.check((n) => n >= lo && n <= hi, (issue) => `${issue.input} is outside [${lo}, ${hi}]`));

export const integer = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.custom<number>((x) => typeof x === 'number' && Number.isSafeInteger(x), got('expected an integer')),
    v.check((n) => n >= min && n <= max, (issue) => `${issue.input} is outside [${min}, ${max}]`),
  );

export const boolean = () => v.custom<boolean>((x) => typeof x === 'boolean', got('expected true or false'));

export const string = (maxLength: number) =>
  v.pipe(
    v.custom<string>((x) => typeof x === 'string', got('expected a string')),
    v.check((s) => s.length <= maxLength, (issue) => `string of ${(issue.input as string).length} characters exceeds ${maxLength}`),
  );

export const nonEmptyString = (maxLength: number, emptyMessage: string) => v.pipe(string(maxLength), v.check((s) => s.length > 0, emptyMessage));

/** Exactly `length` lowercase hex characters (auth nonces and proofs). */
export const hex = (length: number) =>
  v.pipe(
    v.custom<string>((x) => typeof x === 'string', got('expected a string')),
    v.check((s) => s.length === length && /^[0-9a-f]*$/.test(s), `expected ${length} lowercase hex characters`),
  );

/** Binary data (a msgpack bin) of `min` to `max` bytes, checked before anything reads it. */
export const bytes = (min: number, max = min) =>
  v.pipe(
    v.custom<Uint8Array>((x) => x instanceof Uint8Array, got('expected binary data')),
    v.check((b) => b.byteLength >= min && b.byteLength <= max, (issue) => `${(issue.input as Uint8Array).byteLength} bytes, expected ${min === max ? min : `${min} to ${max}`}`),
  );

/** One of the given strings. */
export const oneOf = <const T extends string>(options: readonly T[]) =>
  v.custom<T>((x) => typeof x === 'string' && (options as readonly string[]).includes(x), (issue) => `expected one of ${options.join(', ')}, got ${quoteForReason(issue.input)}`);

/** An array of at most maxLength entries, checked before any entry is. */
export const list = <S extends v.GenericSchema>(item: S, maxLength: number) =>
  v.pipe(
    v.custom<unknown[]>((x) => Array.isArray(x), got('expected an array')),
    v.check((a) => a.length <= maxLength, (issue) => `array of ${(issue.input as unknown[]).length} entries exceeds ${maxLength}`),
    v.array(item),
  );

export const integerList = (maxLength: number, min: number, max = Number.MAX_SAFE_INTEGER) => list(integer(min, max), maxLength);

/** The first issue message `schema` gives for `x` (a missing field is checked as the value undefined). */
function firstMessage(schema: v.GenericSchema, x: unknown): string {
  const result = v.safeParse(schema, x, { abortEarly: true });
  return result.success ? 'invalid value' : result.issues[0].message;
}

/** Optional fields given as undefined are left out, as if absent. */
function withoutUndefined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}

/**
 * A plain object with these fields; other fields are dropped, and so are optional ones given as undefined. A
 * missing required field is reported by its own schema ("expected an integer, got a value of type undefined").
 */
export const record = <E extends v.ObjectEntries>(entries: E) =>
  v.pipe(
    v.custom<Record<string, unknown>>(isRecord, got('expected an object')),
    v.object(entries, (issue) => {
      const key = issue.path?.[0]?.key;
      return typeof key === 'string' && key in entries ? firstMessage(entries[key] as v.GenericSchema, undefined) : `expected an object, got ${describe(issue.input)}`;
    }),
    v.transform(withoutUndefined),
  );

/** A plain object of at most maxEntries values of one schema under names `keyOk` accepts. */
export const namedMap = <S extends v.GenericSchema>(
  value: S,
  maxEntries: number,
  keyProblem: (key: string) => string | null,
) =>
  v.pipe(
    v.custom<Record<string, unknown>>(isRecord, got('expected an object')),
    v.check((r) => Object.keys(r).length <= maxEntries, (issue) => `${Object.keys(issue.input as object).length} entries exceed ${maxEntries}`),
    v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const key of Object.keys(dataset.value)) {
        const problem = keyProblem(key);
        if (problem) return addIssue({ message: problem });
      }
    }),
    v.record(v.string(), value),
  );

/** The reason for one issue: the message type, the issue's path and its message. */
export function reasonOf(type: string, issue: v.BaseIssue<unknown>): string {
  let path = type;
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return issue.message.startsWith(RELATIVE) ? path + issue.message.slice(1) : `${path}: ${issue.message}`;
}
