/** The WireCodec of src/fl/transport.ts: Message -> frames -> Message, with byte counters. */
import type { Message } from '../protocol';
import type { Decoded, WireCodec, WireDecoder, WireDecoderOptions } from '../transport';
import { FrameAssembler, splitIntoFrames, FRAME_HEADER_BYTES, type AssemblerResult } from './frames';
import { WIRE_LIMITS, wireLimits, type WireLimits } from './limits';
import { encodeMessage, tryDecodeMessage, type DecodeResult } from './message-codec';
import { isWeightCodecName, type WeightCodecName } from './weight-codec';

export interface WireCodecOptions {
  /** Largest frame sent, header included (default and maximum: limits.maxFrameBytes). */
  maxFrameBytes?: number;
  /** Bounds for decoding and validation (default WIRE_LIMITS). */
  limits?: WireLimits;
  /** Id of the first message sent; later ones count up. Default: random, so a restarted sender cannot collide. */
  firstMessageId?: number;
}

export interface EncoderStats {
  messages: number;
  frames: number;
  /** Bytes of all frames, headers included. */
  bytes: number;
}

export interface DecoderStats {
  frames: number;
  bytes: number;
  messages: number;
  /** Frames rejected or messages dropped, one per reported error. */
  errors: number;
}

/**
 * Decodes assembled messages away from the thread that received them (in the browser, a Web Worker), so that
 * decoding a large model update does not hold that thread up.
 */
export interface DecodeOffload {
  /** Assembled messages of at least this many bytes are decoded by `decode`; smaller ones where they arrived. */
  readonly minBytes: number;
  /**
   * What tryDecodeMessage(bytes, limits) returns, worked out elsewhere. May take `bytes` over (transfer its buffer).
   * A rejection is reported as that message's decode error.
   */
  decode(bytes: Uint8Array, limits: WireLimits): Promise<DecodeResult>;
}

/**
 * A decoder whose push runs as two steps that can be taken apart: frame assembly (cheap, bounded byte copies) and
 * decoding of each assembled message (the costly part), which may then run elsewhere through a DecodeOffload.
 * push(frame) is assemble(frame) followed by decodeAssembled of each assembled message, counted alike.
 */
export interface AssemblingWireDecoder extends WireDecoder {
  /** Frame assembly only: the bytes of the messages this frame completed. Never throws. */
  assemble(frame: Uint8Array): AssemblerResult;
  /** Decodes one message that assemble() returned. Never throws. */
  decodeAssembled(bytes: Uint8Array): Decoded;
  /** decodeAssembled through `offload`, under this decoder's limits at the time of the call. Never rejects. */
  decodeAssembledWith(offload: DecodeOffload, bytes: Uint8Array): Promise<Decoded>;
}

export function isAssemblingDecoder(decoder: WireDecoder): decoder is AssemblingWireDecoder {
  const d = decoder as Partial<AssemblingWireDecoder>;
  return typeof d.assemble === 'function' && typeof d.decodeAssembled === 'function' && typeof d.decodeAssembledWith === 'function';
}

export interface CountingWireDecoder extends AssemblingWireDecoder {
  stats(): DecoderStats;
  setMaxMessageBytes(bytes: number, maxObjects?: number): void;
}

export interface CountingWireCodec extends WireCodec {
  readonly weightCodec: WeightCodecName;
  readonly maxFrameBytes: number;
  createDecoder(options?: WireDecoderOptions): CountingWireDecoder;
  stats(): EncoderStats;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fromDecodeResult(result: DecodeResult): Decoded {
  return result.ok ? { messages: [result.message], errors: [] } : { messages: [], errors: [`message rejected: ${result.reason}`] };
}

/** The codec's limits narrowed to one decoder's message limit (which also bounds what it buffers) and object limit. */
function decoderLimits(limits: WireLimits, maxMessageBytes: number | undefined, maxObjects: number | undefined): WireLimits {
  if (maxMessageBytes === undefined && maxObjects === undefined) return limits;
  for (const [name, value] of [['maxMessageBytes', maxMessageBytes], ['maxObjects', maxObjects]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const bytes = Math.min(maxMessageBytes ?? limits.maxMessageBytes, limits.maxMessageBytes);
  return wireLimits({
    ...limits,
    maxMessageBytes: bytes,
    maxBufferedBytes: Math.min(bytes, limits.maxBufferedBytes),
    maxObjects: Math.min(maxObjects ?? limits.maxObjects, limits.maxObjects),
  });
}

export function createWireCodec(weightCodec: WeightCodecName, opts: WireCodecOptions = {}): CountingWireCodec {
  if (!isWeightCodecName(weightCodec)) throw new RangeError(`unknown weight codec ${JSON.stringify(weightCodec)}`);
  const limits = opts.limits ?? WIRE_LIMITS;
  const maxFrameBytes = opts.maxFrameBytes ?? limits.maxFrameBytes;
  if (maxFrameBytes > limits.maxFrameBytes) {
    throw new RangeError(`maxFrameBytes ${maxFrameBytes} exceeds the frame limit ${limits.maxFrameBytes}`);
  }
  let nextId = (opts.firstMessageId ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
  const sent: EncoderStats = { messages: 0, frames: 0, bytes: 0 };

  return {
    weightCodec,
    maxFrameBytes,
    encode(message: Message): Uint8Array[] {
      const frames = splitIntoFrames(encodeMessage(message, weightCodec, limits), nextId, maxFrameBytes);
      nextId = (nextId + 1) >>> 0;
      sent.messages++;
      sent.frames += frames.length;
      for (const f of frames) sent.bytes += f.length;
      return frames;
    },
    createDecoder(options: WireDecoderOptions = {}): CountingWireDecoder {
      let own = decoderLimits(limits, options.maxMessageBytes, options.maxObjects);
      const assembler = new FrameAssembler(own);
      const received: DecoderStats = { frames: 0, bytes: 0, messages: 0, errors: 0 };
      const counted = (decoded: Decoded): Decoded => {
        received.messages += decoded.messages.length;
        received.errors += decoded.errors.length;
        return decoded;
      };
      // These steps must never throw; an exception in them is a bug, reported rather than lost.
      const assemble = (frame: Uint8Array): AssemblerResult => {
        received.frames++;
        received.bytes += frame instanceof Uint8Array ? frame.length : 0;
        try {
          const assembled = assembler.push(frame);
          received.errors += assembled.errors.length;
          return assembled;
        } catch (e) {
          received.errors++;
          return { messages: [], errors: [`internal decoder error: ${describeError(e)}`] };
        }
      };
      const decodeAssembled = (bytes: Uint8Array): Decoded => {
        try {
          return counted(fromDecodeResult(tryDecodeMessage(bytes, own)));
        } catch (e) {
          return counted({ messages: [], errors: [`internal decoder error: ${describeError(e)}`] });
        }
      };
      return {
        push(frame: Uint8Array): Decoded {
          const assembled = assemble(frame);
          const decoded: Decoded = { messages: [], errors: [...assembled.errors] };
          for (const bytes of assembled.messages) {
            const one = decodeAssembled(bytes);
            decoded.messages.push(...one.messages);
            decoded.errors.push(...one.errors);
          }
          return decoded;
        },
        assemble,
        decodeAssembled,
        async decodeAssembledWith(offload: DecodeOffload, bytes: Uint8Array): Promise<Decoded> {
          const limitsNow = own;
          try {
            return counted(fromDecodeResult(await offload.decode(bytes, limitsNow)));
          } catch (e) {
            return counted({ messages: [], errors: [`message rejected: decoding failed: ${describeError(e)}`] });
          }
        },
        stats: () => ({ ...received }),
        setMaxMessageBytes(bytes: number, maxObjects?: number) {
          own = decoderLimits(limits, bytes, maxObjects ?? own.maxObjects);
          received.errors += assembler.setLimits(own).length;
        },
      };
    },
    stats: () => ({ ...sent }),
  };
}

/** Bytes `message` takes on the wire with this codec: all frames, headers included. */
export function encodedSizeOf(
  message: Message,
  codec: WeightCodecName,
  maxFrameBytes: number = WIRE_LIMITS.maxFrameBytes,
  limits: WireLimits = WIRE_LIMITS,
): number {
  const bytes = encodeMessage(message, codec, limits).length;
  const frames = Math.ceil(bytes / (maxFrameBytes - FRAME_HEADER_BYTES));
  return bytes + frames * FRAME_HEADER_BYTES;
}
