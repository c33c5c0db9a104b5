export { crc32 } from './checksum';
export { WireFormatError } from './errors';
export {
  FrameAssembler,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  MIN_FRAME_BYTES,
  WIRE_FORMAT_VERSION,
  parseFrame,
  splitIntoFrames,
  type AssemblerResult,
  type FrameHeader,
} from './frames';
export { WIRE_LIMITS, wireLimits, type WireLimits } from './limits';
export { decodeMessage, encodeMessage, tryDecodeMessage, type DecodeResult } from './message-codec';
export {
  checkEnvelope,
  checkUpdateAgainstLayout,
  isMessageType,
  markValidated,
  MESSAGE_TYPES,
  validateMessage,
  validateModelSpec,
  validateStrategyConfig,
  validateWeightSet,
  wasValidated,
  type ValidationResult,
} from './validate';
export {
  decodeTensor,
  encodeTensor,
  FLOAT16_MAX,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  isWeightCodecName,
  WEIGHT_CODEC_NAMES,
  type EncodedTensor,
  type WeightCodecName,
} from './weight-codec';
export {
  createWireCodec,
  encodedSizeOf,
  isAssemblingDecoder,
  type AssemblingWireDecoder,
  type CountingWireCodec,
  type CountingWireDecoder,
  type DecodeOffload,
  type DecoderStats,
  type EncoderStats,
  type WireCodecOptions,
} from './wire-codec';
