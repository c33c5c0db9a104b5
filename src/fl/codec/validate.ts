/**
 * The trust boundary for everything a peer sends. validateMessage runs the message's schema (./schema.ts, the one
 * definition of every message) and returns a fresh message holding only the known fields, or a path-based reason.
 * What it returns is trusted downstream; the one check left to the round engine is the current model's layout,
 * which only it knows (checkUpdateAgainstLayout helps).
 */
import * as v from 'valibot';
import type { ModelSpec } from '../model-spec';
import { PROTOCOL_VERSION, type Message, type MessageType, type UpdateMessage } from '../protocol';
import type { StrategyConfig } from '../strategies/types';
import type { TensorLayout, WeightSet } from '../weights';
import { quoteForReason } from './errors';
import { WIRE_LIMITS, type WireLimits } from './limits';
import { messageSchemas, strategyConfigSchema } from './schema';
import { describe, reasonOf } from './schema-primitives';
import { weightSetSchema } from './tensor-schema';

export { MAX_EXTRAS_PER_MESSAGE } from './schema';
export { validateShape } from './tensor-schema';

export type ValidationResult = { ok: true; message: Message } | { ok: false; reason: string };

export const MESSAGE_TYPES = Object.keys(messageSchemas().messages) as readonly MessageType[];

export function isMessageType(x: unknown): x is MessageType {
  return typeof x === 'string' && (MESSAGE_TYPES as readonly string[]).includes(x);
}

/**
 * Checks the parts every message shares: an object with a known `type` and `v === PROTOCOL_VERSION`.
 * Returns a reason, or null when fine.
 */
export function checkEnvelope(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || ArrayBuffer.isView(x)) {
    return `message: expected an object, got ${describe(x)}`;
  }
  const m = x as Record<string, unknown>;
  if (!isMessageType(m.type)) return `message.type: unknown message type ${quoteForReason(m.type)}`;
  if (m.v !== PROTOCOL_VERSION) {
    return `${m.type}.v: unsupported protocol version ${quoteForReason(m.v)} (this build speaks ${PROTOCOL_VERSION})`;
  }
  return null;
}

/** Runs `schema` on `x`: the output, or an Error whose message is the first issue's reason under `path`. */
function parse<S extends v.GenericSchema>(schema: S, x: unknown, path: string): v.InferOutput<S> {
  const result = v.safeParse(schema, x, { abortEarly: true });
  if (!result.success) throw new Error(reasonOf(path, result.issues[0]));
  return result.output;
}

/**
 * Validates anything claiming to be a Message. On success the returned message is a fresh object with only
 * the known fields (tensor values are shared, not copied).
 */
export function validateMessage(x: unknown, limits: WireLimits = WIRE_LIMITS): ValidationResult {
  const envelope = checkEnvelope(x);
  if (envelope) return { ok: false, reason: envelope };
  const type = (x as { type: MessageType }).type;
  const result = v.safeParse(messageSchemas(limits).messages[type] as v.GenericSchema<unknown, Message>, x, { abortEarly: true });
  if (!result.success) return { ok: false, reason: reasonOf(type, result.issues[0]) };
  const message = result.output;
  validated.add(message);
  return { ok: true, message };
}

/** The messages validateMessage returned (weakly held): their tensors were found finite then. */
const validated = new WeakSet<Message>();

/**
 * Whether `message` is an object validateMessage returned: then its tensors were already scanned for finiteness
 * and need not be again (the round engine's acceptance uses this; anything else is checked in full).
 */
export function wasValidated(message: Message): boolean {
  return validated.has(message);
}

/**
 * Marks `message` as validated. Only for a message that validateMessage (this same code) returned in a worker, the
 * decode worker, and that came back by structured clone, which loses the mark: anything else must go through
 * validateMessage.
 */
export function markValidated(message: Message): void {
  validated.add(message);
}

/** Checks a weight set on its own; throws an Error naming `path`. */
export function validateWeightSet(x: unknown, path: string, limits: WireLimits = WIRE_LIMITS): WeightSet {
  return parse(weightSetSchema(limits), x, path);
}

/** Checks a model spec on its own; throws an Error naming `path`. */
export function validateModelSpec(x: unknown, path: string, limits: WireLimits = WIRE_LIMITS): ModelSpec {
  return parse(messageSchemas(limits).modelSpec, x, path);
}

/** Hyper-parameters checked against the strategy's declaration in the registry; throws an Error naming `path`. */
export function validateStrategyConfig(x: unknown, path: string): StrategyConfig {
  return parse(strategyConfigSchema, x, path);
}

/**
 * Reason why an update's delta does not fit the current model layout (names, order, shapes), or null.
 * Meant for the round engine, after validateMessage.
 */
export function checkUpdateAgainstLayout(update: Pick<UpdateMessage, 'delta'>, layout: readonly TensorLayout[]): string | null {
  const delta = update.delta;
  if (delta.length !== layout.length) return `update.delta: expected ${layout.length} tensors, got ${delta.length}`;
  for (let i = 0; i < layout.length; i++) {
    const want = layout[i];
    const got = delta[i];
    if (got.name !== want.name) return `update.delta[${i}]: tensor is named "${got.name}", expected "${want.name}"`;
    if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k])) {
      return `update.delta[${i}] "${want.name}": shape [${got.shape}], expected [${want.shape}]`;
    }
    const size = want.shape.reduce((a, b) => a * b, 1);
    if (got.values.length !== size) return `update.delta[${i}] "${want.name}": ${got.values.length} values, expected ${size}`;
  }
  return null;
}
