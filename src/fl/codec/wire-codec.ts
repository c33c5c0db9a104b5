/** The WireCodec of src/fl/transport.ts: Message -> frames -> Message, with byte counters. */
import type { Message } from '../protocol';
import type { WireCodec, WireDecoder, WireDecoderOptions } from '../transport';
import { FrameAssembler, splitIntoFrames, FRAME_HEADER_BYTES } from './frames';
import { WIRE_LIMITS, wireLimits, type WireLimits } from './limits';
import { encodeMessage, tryDecodeMessage } from './message-codec';
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

export interface CountingWireDecoder extends WireDecoder {
  stats(): DecoderStats;
  setMaxMessageBytes(bytes: number): void;
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

/** The codec's limits narrowed to one decoder's message limit, which also bounds what it buffers. */
function decoderLimits(limits: WireLimits, maxMessageBytes: number | undefined): WireLimits {
  if (maxMessageBytes === undefined) return limits;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
  const bytes = Math.min(maxMessageBytes, limits.maxMessageBytes);
  return wireLimits({ ...limits, maxMessageBytes: bytes, maxBufferedBytes: Math.min(bytes, limits.maxBufferedBytes) });
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
      let own = decoderLimits(limits, options.maxMessageBytes);
      const assembler = new FrameAssembler(own);
      const received: DecoderStats = { frames: 0, bytes: 0, messages: 0, errors: 0 };
      return {
        push(frame: Uint8Array) {
          const messages: Message[] = [];
          const errors: string[] = [];
          try {
            received.frames++;
            received.bytes += frame instanceof Uint8Array ? frame.length : 0;
            const assembled = assembler.push(frame);
            errors.push(...assembled.errors);
            for (const bytes of assembled.messages) {
              const decoded = tryDecodeMessage(bytes, own);
              if (decoded.ok) messages.push(decoded.message);
              else errors.push(`message rejected: ${decoded.reason}`);
            }
          } catch (e) {
            // push must never throw; an exception here is a bug, reported rather than lost.
            errors.push(`internal decoder error: ${describeError(e)}`);
          }
          received.messages += messages.length;
          received.errors += errors.length;
          return { messages, errors };
        },
        stats: () => ({ ...received }),
        setMaxMessageBytes(bytes: number) {
          own = decoderLimits(limits, bytes);
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
