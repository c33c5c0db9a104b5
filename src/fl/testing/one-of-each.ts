/** Test fixture: one small, valid message of every type (no tfjs import). */
import { sampleMessages } from '../codec/test-messages';
import { MESSAGE_TYPES } from '../codec/validate';
import type { Message, MessageType } from '../protocol';
import type { WeightSet } from '../weights';

function isWeightSet(x: unknown): x is WeightSet {
  return Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'object' && t !== null && (t as { values?: unknown }).values instanceof Float32Array);
}

/** The value with every WeightSet in it cut to one tensor of two values. */
function shrink(x: unknown): unknown {
  if (isWeightSet(x)) return [{ name: x[0].name, shape: [2], values: new Float32Array([0.25, -0.5]) }];
  if (Array.isArray(x)) return x.map(shrink);
  if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, shrink(v)]));
  return x;
}

/**
 * The codec's first sample of each type with its weights cut to two values, so that every one fits the frame a peer
 * may send before admission. Throws when the samples miss a type.
 */
export function oneSmallMessageOfEachType(): Record<MessageType, Message> {
  const out = new Map<MessageType, Message>();
  for (const m of sampleMessages()) if (!out.has(m.type)) out.set(m.type, shrink(m) as Message);
  const missing = MESSAGE_TYPES.filter((t) => !out.has(t));
  if (missing.length) throw new Error(`sampleMessages has no ${missing.join(', ')}`);
  return Object.fromEntries(out) as Record<MessageType, Message>;
}
