/**
 * Test double of WireCodec for transport tests: JSON text (Float32Arrays as plain number lists),
 * split into frames of at most `maxFrameBytes`. Frame layout: 1 byte (1 = more frames follow,
 * 0 = last frame of the message), then a slice of the UTF-8 JSON. Frames of one message arrive
 * in order on one ordered DataChannel, so no message id is needed.
 */
import type { Message } from '../../fl/protocol';
import type { WireCodec, WireDecoder, WireDecoderOptions } from '../../fl/transport';

const MORE = 1;
const LAST = 0;
const F32_TAG = '$f32';
/** Without a limit from the caller: far more than any test message. */
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Float32Array ? { [F32_TAG]: Array.from(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[F32_TAG];
    if (Array.isArray(tagged) && Object.keys(value).length === 1) return Float32Array.from(tagged as number[]);
  }
  return value;
}

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

class JsonWireDecoder implements WireDecoder {
  private parts: Uint8Array[] = [];
  private buffered = 0;

  constructor(private maxMessageBytes: number) {}

  setMaxMessageBytes(bytes: number): void {
    this.maxMessageBytes = bytes;
    if (this.buffered > bytes) this.reset();
  }

  private reset(): void {
    this.parts = [];
    this.buffered = 0;
  }

  push(frame: Uint8Array): { messages: Message[]; errors: string[] } {
    if (frame.byteLength === 0) return { messages: [], errors: ['json codec: empty frame'] };
    const flag = frame[0];
    if (flag !== MORE && flag !== LAST) {
      this.reset();
      return { messages: [], errors: [`json codec: unknown frame flag ${flag}`] };
    }
    if (this.buffered + frame.byteLength - 1 > this.maxMessageBytes) {
      this.reset();
      return { messages: [], errors: [`json codec: message exceeds ${this.maxMessageBytes} bytes`] };
    }
    // Copy: the caller may reuse the frame's buffer.
    this.parts.push(frame.slice(1));
    this.buffered += frame.byteLength - 1;
    if (flag === MORE) return { messages: [], errors: [] };
    const total = this.buffered;
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of this.parts) {
      joined.set(part, offset);
      offset += part.byteLength;
    }
    this.reset();
    try {
      const value: unknown = JSON.parse(new TextDecoder().decode(joined), reviver);
      if (!isMessage(value)) return { messages: [], errors: ['json codec: decoded value has no string "type"'] };
      return { messages: [value], errors: [] };
    } catch (error) {
      return { messages: [], errors: [`json codec: ${error instanceof Error ? error.message : String(error)}`] };
    }
  }
}

export function createJsonWireCodec(maxFrameBytes = 256 * 1024): WireCodec {
  if (maxFrameBytes < 2) throw new Error(`json codec: maxFrameBytes must be at least 2, got ${maxFrameBytes}`);
  const payloadPerFrame = maxFrameBytes - 1;
  return {
    encode(message: Message): Uint8Array[] {
      const bytes = new TextEncoder().encode(JSON.stringify(message, replacer));
      const frames: Uint8Array[] = [];
      for (let start = 0; start < bytes.byteLength || frames.length === 0; start += payloadPerFrame) {
        const slice = bytes.subarray(start, start + payloadPerFrame);
        const frame = new Uint8Array(slice.byteLength + 1);
        frame[0] = start + payloadPerFrame < bytes.byteLength ? MORE : LAST;
        frame.set(slice, 1);
        frames.push(frame);
      }
      return frames;
    },
    createDecoder: (options: WireDecoderOptions = {}) => new JsonWireDecoder(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
  };
}
