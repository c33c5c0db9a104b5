/**
 * The largest message a session's peers legitimately send each other, from its config alone: every tab works out
 * the same limit (src/session applies it to its transport) and refuses anything larger before buffering it.
 *
 * Sized for the largest of:
 *  - round-start and update: the model's weights or delta plus the strategy's extras (SCAFFOLD's c and delta-c);
 *  - checkpoint: the weights plus the strategy's server state and the server optimizer's moments, always float32;
 *  - eval-request: `evalModels` models (exact decomposition: one local model per participant and the new global);
 *    the host may switch to exact decomposition during a run, so this counts whatever the config's mode;
 *  - the messages without tensors (welcome, roster, hello): CONTROL_MESSAGE_LIMIT.
 * Tensors are counted at float32 size in float16 sessions: a tensor that overflows half precision travels as float32.
 * The same messages bound the objects (maps, arrays, strings, binaries) one message may hold: tensors travel as binary
 * blobs, so a session's messages hold a few per tensor, far fewer than the protocol allows for the largest models.
 */
import { modelLayout } from '../model-layout';
import type { SessionConfig } from '../protocol';
import { strategyWireSets } from '../strategies/wire-sets';
import { sizeOfShape, type TensorLayout } from '../weights';
import { ENVELOPE_OBJECTS, OBJECTS_PER_ROSTER_ENTRY, OBJECTS_PER_WIRE_TENSOR, WIRE_LIMITS, type WireLimits } from './limits';
import { WELCOME_HISTORY_MAX } from './schema';
import { INT8_HEADER_BYTES, type WeightCodecName } from './weight-codec';

/** The largest message a peer may send: its bytes, and its objects (maps, arrays, strings, binaries). */
export interface MessageLimit {
  bytes: number;
  objects: number;
}

/** Objects of one finished round in a welcome's history: its map, five keys, the decomposition's map and four keys. */
const OBJECTS_PER_ROUND_SUMMARY = 11;

/**
 * Room for the messages that carry no tensors: a welcome with its full history (1,000 rounds take about 160 KB),
 * a roster of several hundred tabs (of the protocol's most, in objects), a hello with a label histogram of thousands
 * of classes.
 */
export const CONTROL_MESSAGE_LIMIT: Readonly<MessageLimit> = Object.freeze({
  bytes: 1024 * 1024,
  objects: Math.max(WIRE_LIMITS.maxPeers * OBJECTS_PER_ROSTER_ENTRY, WELCOME_HISTORY_MAX * OBJECTS_PER_ROUND_SUMMARY) + ENVELOPE_OBJECTS,
});

/** Room for a tensor message's other fields: type, round, metrics, model spec, strategy and training config, ids. */
const ENVELOPE_BYTES = 64 * 1024;

/** A wire tensor's bytes besides its name, shape entries and data: map header, four keys, codec string, bin header. */
const TENSOR_FRAMING_BYTES = 48;
/** Largest msgpack integer header: a shape entry or a length. */
const MAX_UINT_BYTES = 9;

const utf8 = new TextEncoder();

function dataBytes(values: number, codec: WeightCodecName): number {
  if (codec === 'int8') return INT8_HEADER_BYTES + values;
  return 4 * values; // float16 falls back to float32 per tensor
}

/** msgpack bytes of one weight set of this layout in this codec (an upper bound). */
export function weightSetWireBytes(layout: readonly TensorLayout[], codec: WeightCodecName): number {
  let bytes = MAX_UINT_BYTES;
  for (const t of layout) {
    bytes += TENSOR_FRAMING_BYTES + MAX_UINT_BYTES + utf8.encode(t.name).length;
    bytes += MAX_UINT_BYTES * (1 + t.shape.length) + dataBytes(sizeOfShape(t.shape), codec);
  }
  return bytes;
}

export interface SessionMessageSizing {
  /** Models one eval-request of the session may carry (exact decomposition: participants + 1). */
  evalModels: number;
}

/** The largest message of a session with this config (see the top of this file), within the protocol's bounds. */
export function sessionMessageLimit(config: SessionConfig, sizing: SessionMessageSizing, limits: WireLimits = WIRE_LIMITS): MessageLimit {
  const layout = modelLayout(config.model);
  const inCodec = weightSetWireBytes(layout, config.codec);
  const exact = weightSetWireBytes(layout, 'float32');
  const sets = strategyWireSets(config.strategy);
  const evalModels = Math.min(Math.max(1, sizing.evalModels), limits.maxModelsPerEvalRequest);
  const largestTensorMessage = Math.max((1 + sets.extras) * inCodec, inCodec + sets.serverState * exact, evalModels * inCodec);
  const mostSets = Math.max(1 + sets.extras, 1 + sets.serverState, evalModels);
  const mostObjects = mostSets * (1 + layout.length * OBJECTS_PER_WIRE_TENSOR) + ENVELOPE_OBJECTS;
  return {
    bytes: Math.min(limits.maxMessageBytes, Math.max(CONTROL_MESSAGE_LIMIT.bytes, largestTensorMessage + ENVELOPE_BYTES)),
    objects: Math.min(limits.maxObjects, Math.max(CONTROL_MESSAGE_LIMIT.objects, mostObjects)),
  };
}
