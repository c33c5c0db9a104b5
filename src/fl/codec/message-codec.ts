/**
 * One Message <-> one byte string. The message is a msgpack map with the protocol fields; every WeightSet
 * (round-start.weights, update.delta, eval-request.models[m]) is replaced by an array of wire tensors
 * { name, shape, codec, data } whose `data` is a msgpack binary blob in that tensor's codec (weight-codec.ts).
 * Decoding always yields Float32Array tensors and a message that passed validateMessage.
 */
import { decode, encode } from '@msgpack/msgpack';
import { assertNever } from '../exhaustive';
import type { Message } from '../protocol';
import type { WeightSet } from '../weights';
import { quoteForReason, WireFormatError } from './errors';
import { WIRE_LIMITS, type WireLimits } from './limits';
import { msgpackBounds, scanMsgpack } from './msgpack-scan';
import { checkEnvelope, MAX_EXTRAS_PER_MESSAGE, validateMessage, validateShape } from './validate';
import { decodeValues, encodeScannedTensor, isWeightCodecName, type EncodedTensor, type WeightCodecName } from './weight-codec';

export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: string };

/** Only for weight sets of a message that passed validateMessage (its values were scanned for NaN and Infinity). */
function encodeWeightSet(weights: WeightSet, codec: WeightCodecName): EncodedTensor[] {
  return weights.map((t) => encodeScannedTensor(t, codec));
}

/** Strategy extras (named WeightSets) in wire form, or nothing when there are none. */
function encodeExtras(extras: Record<string, WeightSet> | undefined, codec: WeightCodecName): { extras?: Record<string, EncodedTensor[]> } {
  if (!extras) return {};
  return { extras: Object.fromEntries(Object.entries(extras).map(([k, w]) => [k, encodeWeightSet(w, codec)])) };
}

function wireExtras(x: unknown, path: string, limits: WireLimits): { extras?: unknown } {
  if (x === undefined) return {};
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new WireFormatError(`${path}: expected a map of weight sets`);
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length > MAX_EXTRAS_PER_MESSAGE) throw new WireFormatError(`${path}: ${entries.length} entries exceed ${MAX_EXTRAS_PER_MESSAGE}`);
  return { extras: Object.fromEntries(entries.map(([k, w]) => [k, wireWeightSet(w, `${path}.${k}`, limits)])) };
}

/** Room for everything in a message besides its binary blobs (names, shapes, config, roster). */
const ENCODER_HEADROOM_BYTES = 16 * 1024;

/** Total bytes of the Uint8Arrays (tensor data) in a wire-form message. */
function binaryBytes(x: unknown, depth: number): number {
  if (x instanceof Uint8Array) return x.byteLength;
  if (typeof x !== 'object' || x === null || depth > 6) return 0;
  let n = 0;
  for (const v of Array.isArray(x) ? x : Object.values(x)) n += binaryBytes(v, depth + 1);
  return n;
}

/** The message with its WeightSets in wire form, ready for msgpack. */
function toWireForm(message: Message, codec: WeightCodecName): object {
  switch (message.type) {
    case 'round-start':
      return { ...message, weights: encodeWeightSet(message.weights, codec), ...encodeExtras(message.extras, codec) };
    case 'update':
      return { ...message, delta: encodeWeightSet(message.delta, codec), ...encodeExtras(message.extras, codec) };
    case 'checkpoint':
      return {
        ...message,
        weights: encodeWeightSet(message.weights, codec),
        // Server state (FedLD's history, optimiser moments) is kept exact: float32 whatever the codec.
        serverState: message.serverState && {
          ...message.serverState,
          tensors: Object.fromEntries(Object.entries(message.serverState.tensors).map(([k, w]) => [k, encodeWeightSet(w, 'float32')])),
        },
      };
    case 'eval-request':
      return { ...message, models: message.models.map((w) => encodeWeightSet(w, codec)) };
    case 'hello':
    case 'welcome':
    case 'redirect':
    case 'roster':
    case 'vote-request':
    case 'vote':
    case 'session-state':
    case 'reclaim':
    case 'handback':
    case 'progress':
    case 'eval-result':
    case 'round-result':
    case 'bye':
    case 'error':
    case 'auth-hello':
    case 'auth-challenge':
    case 'auth-proof':
    case 'secagg':
    case 'secagg-round':
      return message; // no weights (a masked input is ring elements, sent as they are)
    default:
      return assertNever(message, 'message');
  }
}

/**
 * Encodes a message. Throws WireFormatError when the message itself is invalid (the reason names the field):
 * a sender must never put something on the wire that the receiver would reject.
 */
export function encodeMessage(message: Message, codec: WeightCodecName, limits: WireLimits = WIRE_LIMITS): Uint8Array {
  if (!isWeightCodecName(codec)) throw new WireFormatError(`unknown weight codec ${quoteForReason(codec)}`);
  const checked = validateMessage(message, limits);
  if (!checked.ok) throw new WireFormatError(`cannot encode ${message?.type ?? 'message'}: ${checked.reason}`);
  const wire = toWireForm(checked.message, codec);
  // Sized for the tensors from the start: msgpack's encoder otherwise grows its buffer by doubling, copying each time.
  const bytes = encode(wire, { ignoreUndefined: true, initialBufferSize: binaryBytes(wire, 0) + ENCODER_HEADROOM_BYTES });
  if (bytes.length > limits.maxMessageBytes) {
    throw new WireFormatError(
      `cannot encode ${message.type}: ${bytes.length} bytes exceeds the ${limits.maxMessageBytes}-byte message limit`,
    );
  }
  return bytes;
}

function wireTensor(x: unknown, path: string, limits: WireLimits): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new WireFormatError(`${path}: expected a wire tensor`);
  const t = x as Record<string, unknown>;
  if (!isWeightCodecName(t.codec)) throw new WireFormatError(`${path}: unknown tensor codec ${quoteForReason(t.codec)}`);
  if (!(t.data instanceof Uint8Array)) throw new WireFormatError(`${path}: tensor data is not a binary blob`);
  let shape: number[];
  try {
    shape = validateShape(t.shape, `${path}.shape`, limits);
  } catch (e) {
    throw new WireFormatError(e instanceof Error ? e.message : `${path}.shape: invalid shape`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const what = typeof t.name === 'string' ? `${path} ${quoteForReason(t.name, limits.maxTensorNameLength + 2)}` : path;
  // Name and value checks are repeated by validateMessage; here only what decoding needs.
  return { name: t.name, shape, values: decodeValues(t.codec, t.data, count, what) };
}

function wireWeightSet(x: unknown, path: string, limits: WireLimits): unknown {
  if (!Array.isArray(x)) throw new WireFormatError(`${path}: expected an array of wire tensors`);
  if (x.length > limits.maxTensorsPerWeightSet) {
    throw new WireFormatError(`${path}: ${x.length} tensors exceeds ${limits.maxTensorsPerWeightSet}`);
  }
  return x.map((t, i) => wireTensor(t, `${path}[${i}]`, limits));
}

function fromWireForm(m: Record<string, unknown>, limits: WireLimits): Record<string, unknown> {
  switch (m.type) {
    case 'round-start':
      return { ...m, weights: wireWeightSet(m.weights, 'round-start.weights', limits), ...wireExtras(m.extras, 'round-start.extras', limits) };
    case 'update':
      return { ...m, delta: wireWeightSet(m.delta, 'update.delta', limits), ...wireExtras(m.extras, 'update.extras', limits) };
    case 'checkpoint': {
      const state = m.serverState;
      if (state === null || state === undefined) return { ...m, weights: wireWeightSet(m.weights, 'checkpoint.weights', limits) };
      if (typeof state !== 'object' || Array.isArray(state)) throw new WireFormatError('checkpoint.serverState: expected an object or null');
      const tensors = (state as Record<string, unknown>).tensors;
      if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) throw new WireFormatError('checkpoint.serverState.tensors: expected an object');
      return {
        ...m,
        weights: wireWeightSet(m.weights, 'checkpoint.weights', limits),
        serverState: {
          ...state,
          tensors: Object.fromEntries(Object.entries(tensors).map(([k, w]) => [k, wireWeightSet(w, `checkpoint.serverState.tensors.${k}`, limits)])),
        },
      };
    }
    case 'eval-request': {
      if (!Array.isArray(m.models)) throw new WireFormatError('eval-request.models: expected an array');
      if (m.models.length > limits.maxModelsPerEvalRequest) {
        throw new WireFormatError(`eval-request.models: ${m.models.length} models exceeds ${limits.maxModelsPerEvalRequest}`);
      }
      return { ...m, models: m.models.map((w, i) => wireWeightSet(w, `eval-request.models[${i}]`, limits)) };
    }
    default:
      return m;
  }
}

/** Decodes and validates one message; never throws. */
export function tryDecodeMessage(bytes: Uint8Array, limits: WireLimits = WIRE_LIMITS): DecodeResult {
  if (bytes.length > limits.maxMessageBytes) {
    return { ok: false, reason: `message of ${bytes.length} bytes exceeds the ${limits.maxMessageBytes}-byte limit` };
  }
  // Structure first: @msgpack/msgpack allocates from declared lengths before reading what they promise.
  const bounds = msgpackBounds(limits);
  const malformed = scanMsgpack(bytes, bounds);
  if (malformed) return { ok: false, reason: `message is not valid msgpack: ${malformed}` };
  let raw: unknown;
  try {
    raw = decode(bytes, {
      maxStrLength: bounds.maxStrBytes,
      maxBinLength: bounds.maxBinBytes,
      maxArrayLength: bounds.maxArrayLength,
      maxMapLength: bounds.maxMapEntries,
      maxExtLength: 0,
    });
  } catch (e) {
    return { ok: false, reason: `message is not valid msgpack: ${e instanceof Error ? e.message : String(e)}` };
  }
  const envelope = checkEnvelope(raw);
  if (envelope) return { ok: false, reason: envelope };
  let plain: Record<string, unknown>;
  try {
    plain = fromWireForm(raw as Record<string, unknown>, limits);
  } catch (e) {
    if (e instanceof WireFormatError) return { ok: false, reason: e.message };
    throw e;
  }
  return validateMessage(plain, limits);
}

/** Decodes and validates one message; throws WireFormatError with the reason. */
export function decodeMessage(bytes: Uint8Array, limits: WireLimits = WIRE_LIMITS): Message {
  const result = tryDecodeMessage(bytes, limits);
  if (!result.ok) throw new WireFormatError(result.reason);
  return result.message;
}
