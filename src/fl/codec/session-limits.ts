/**
 * The largest message a session's peers legitimately send each other, from its config alone: every tab works out
 * the same limit (src/session applies it to its transport) and refuses anything larger before buffering it.
 *
 * Sized for the largest of:
 *  - round-start and update: the model's weights or delta plus the strategy's extras (SCAFFOLD's c and delta-c);
 *  - checkpoint: the weights plus the strategy's server state and the server optimizer's moments, always float32;
 *  - eval-request: `evalModels` models (exact decomposition: one local model per participant and the new global);
 *    the host may switch to exact decomposition during a run, so this counts whatever the config's mode;
 *  - the messages without tensors (welcome, roster, hello): CONTROL_MESSAGE_BYTES.
 * Tensors are counted at float32 size in float16 sessions: a tensor that overflows half precision travels as float32.
 */
import { modelLayout } from '../model-layout';
import type { SessionConfig } from '../protocol';
import { strategyWireSets } from '../strategies/wire-sets';
import { sizeOfShape, type TensorLayout } from '../weights';
import { WIRE_LIMITS, type WireLimits } from './limits';
import { INT8_HEADER_BYTES, type WeightCodecName } from './weight-codec';

/**
 * Room for the messages that carry no tensors: a welcome with its full history (1,000 rounds take about 160 KB),
 * a roster of several hundred tabs, a hello with a label histogram of thousands of classes.
 */
export const CONTROL_MESSAGE_BYTES = 1024 * 1024;

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

/** Bytes of the largest message of a session with this config (see the top of this file), within the protocol's bound. */
export function sessionMessageLimit(config: SessionConfig, sizing: SessionMessageSizing, limits: WireLimits = WIRE_LIMITS): number {
  const layout = modelLayout(config.model);
  const inCodec = weightSetWireBytes(layout, config.codec);
  const exact = weightSetWireBytes(layout, 'float32');
  const sets = strategyWireSets(config.strategy);
  const evalModels = Math.min(Math.max(1, sizing.evalModels), limits.maxModelsPerEvalRequest);
  const largestTensorMessage = Math.max((1 + sets.extras) * inCodec, inCodec + sets.serverState * exact, evalModels * inCodec);
  return Math.min(limits.maxMessageBytes, Math.max(CONTROL_MESSAGE_BYTES, largestTensorMessage + ENVELOPE_BYTES));
}
