/**
 * The one part of a message a declarative schema cannot express well: weight tensors. A tensor's value count
 * must match its shape, its values (a Float32Array) must be finite, and names must be unique in a set; reasons
 * name the tensor ('update.delta[1] "fc1/bias": shape [65] holds 65 values but 64 were sent').
 */
import * as v from 'valibot';
import { firstNonFinite, type NamedTensor, type WeightSet } from '../weights';
import type { WireLimits } from './limits';
import { describe, isRecord, RELATIVE } from './schema-primitives';

/** Thrown by the checks below with a reason relative to the checked value's path ('[2] "w": ...' or ': ...'). */
class TensorProblem extends Error {}

const problem = (at: string, what: string): never => {
  throw new TensorProblem(`${at}: ${what}`);
};

function checkShape(x: unknown, at: string, maxRank: number): number[] {
  if (!Array.isArray(x)) problem(at, `expected an array, got ${describe(x)}`);
  const shape = x as unknown[];
  if (shape.length > maxRank) problem(at, `array of ${shape.length} entries exceeds ${maxRank}`);
  let size = 1;
  shape.forEach((d, k) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d)) problem(`${at}[${k}]`, `expected an integer, got ${describe(d)}`);
    if ((d as number) < 0) problem(`${at}[${k}]`, `${d} is outside [0, ${Number.MAX_SAFE_INTEGER}]`);
    size *= d as number;
    if (!Number.isSafeInteger(size)) problem(at, `shape [${shape}] is too large`);
  });
  return shape as number[];
}

function checkTensor(x: unknown, at: string, limits: WireLimits): NamedTensor {
  if (!isRecord(x)) problem(at, `expected an object, got ${describe(x)}`);
  const t = x as Record<string, unknown>;
  if (typeof t.name !== 'string') problem(`${at}.name`, `expected a string, got ${describe(t.name)}`);
  const name = t.name as string;
  if (name.length > limits.maxTensorNameLength) problem(`${at}.name`, `string of ${name.length} characters exceeds ${limits.maxTensorNameLength}`);
  if (name.length === 0) problem(`${at}.name`, 'empty tensor name');
  const where = `${at} "${name}"`;
  const shape = checkShape(t.shape, `${where}.shape`, limits.maxTensorRank);
  if (!(t.values instanceof Float32Array)) problem(`${where}.values`, `expected a Float32Array, got ${describe(t.values)}`);
  const values = t.values as Float32Array;
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) problem(where, `shape [${shape}] holds ${size} values but ${values.length} were sent`);
  const bad = firstNonFinite(values);
  if (bad >= 0) problem(where, `non-finite value ${values[bad]} at index ${bad}`);
  return { name, shape: [...shape], values };
}

function checkWeightSet(x: unknown, limits: WireLimits): WeightSet {
  if (!Array.isArray(x)) problem('', `expected an array, got ${describe(x)}`);
  const list = x as unknown[];
  if (list.length > limits.maxTensorsPerWeightSet) problem('', `array of ${list.length} entries exceeds ${limits.maxTensorsPerWeightSet}`);
  const tensors = list.map((t, i) => checkTensor(t, `[${i}]`, limits));
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) problem('', `tensor name "${t.name}" appears twice`);
    seen.add(t.name);
  }
  return tensors;
}

/** A schema for a WeightSet within these limits (tensor values are shared, not copied). */
export const weightSetSchema = (limits: WireLimits) =>
  v.pipe(
    v.unknown(),
    v.rawTransform<unknown, WeightSet>(({ dataset, addIssue, NEVER }) => {
      try {
        return checkWeightSet(dataset.value, limits);
      } catch (e) {
        if (!(e instanceof TensorProblem)) throw e;
        addIssue({ message: RELATIVE + e.message });
        return NEVER;
      }
    }),
  );

/** Checks a tensor shape (rank, non-negative integer dimensions, a safe size); throws an Error naming `path`. */
export function validateShape(x: unknown, path: string, limits: WireLimits): number[] {
  try {
    return checkShape(x, path, limits.maxTensorRank);
  } catch (e) {
    if (e instanceof TensorProblem) throw new Error(e.message);
    throw e;
  }
}
