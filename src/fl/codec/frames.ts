/**
 * Splits message bytes into DataChannel-sized frames and reassembles them per peer.
 *
 * Frame layout (little-endian), FRAME_HEADER_BYTES = 32:
 *   0  magic "FTAB"        4 bytes
 *   4  format version      u16 (WIRE_FORMAT_VERSION)
 *   6  flags               u16 (must be 0)
 *   8  message id          u32
 *  12  frame index         u32 (0-based)
 *  16  frame count         u32
 *  20  total length        u32 (bytes of the whole message)
 *  24  message CRC-32      u32 (of the whole message)
 *  28  frame CRC-32        u32 (of header bytes 0..27 and this frame's payload)
 *  32  payload             >= 1 byte
 * The frame CRC rejects a damaged frame on arrival, so it cannot spoil the message it claims to belong to;
 * the message CRC checks the reassembly.
 */
import { crc32 } from './checksum';
import { WIRE_LIMITS, type WireLimits } from './limits';

export const FRAME_MAGIC = Uint8Array.of(0x46, 0x54, 0x41, 0x42); // "FTAB"
export const WIRE_FORMAT_VERSION = 1;
export const FRAME_HEADER_BYTES = 32;
/** Smallest maxFrameBytes a sender may use (header plus a useful payload). */
export const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + 32;

export interface FrameHeader {
  version: number;
  flags: number;
  messageId: number;
  frameIndex: number;
  frameCount: number;
  totalLength: number;
  messageCrc: number;
  frameCrc: number;
}

export type ParsedFrame =
  | { ok: true; header: FrameHeader; payload: Uint8Array }
  /** `oversizedMessage`: the id of a message refused for its declared total length (its other frames say the same). */
  | { ok: false; reason: string; oversizedMessage?: number };

function writeHeader(frame: Uint8Array, h: Omit<FrameHeader, 'frameCrc'>): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame.set(FRAME_MAGIC, 0);
  view.setUint16(4, h.version, true);
  view.setUint16(6, h.flags, true);
  view.setUint32(8, h.messageId, true);
  view.setUint32(12, h.frameIndex, true);
  view.setUint32(16, h.frameCount, true);
  view.setUint32(20, h.totalLength, true);
  view.setUint32(24, h.messageCrc, true);
}

/** Frame CRC over header bytes 0..27 and the payload. */
export function computeFrameCrc(frame: Uint8Array): number {
  return crc32(frame.subarray(FRAME_HEADER_BYTES), crc32(frame.subarray(0, 28)));
}

/** Recomputes and stores the frame CRC (after editing a header field). */
export function sealFrame(frame: Uint8Array): Uint8Array {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(28, computeFrameCrc(frame), true);
  return frame;
}

/** Splits `message` into frames of at most `maxFrameBytes` bytes each, header included. */
export function splitIntoFrames(message: Uint8Array, messageId: number, maxFrameBytes: number = WIRE_LIMITS.maxFrameBytes): Uint8Array[] {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < MIN_FRAME_BYTES) {
    throw new RangeError(`maxFrameBytes must be an integer >= ${MIN_FRAME_BYTES}, got ${maxFrameBytes}`);
  }
  if (message.length === 0) throw new RangeError('cannot frame an empty message');
  if (message.length > 0xffffffff) throw new RangeError(`message of ${message.length} bytes is too long to frame`);
  const chunk = maxFrameBytes - FRAME_HEADER_BYTES;
  const frameCount = Math.ceil(message.length / chunk);
  const messageCrc = crc32(message);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) {
    const payload = message.subarray(i * chunk, Math.min(message.length, (i + 1) * chunk));
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
    writeHeader(frame, {
      version: WIRE_FORMAT_VERSION,
      flags: 0,
      messageId: messageId >>> 0,
      frameIndex: i,
      frameCount,
      totalLength: message.length,
      messageCrc,
    });
    frame.set(payload, FRAME_HEADER_BYTES);
    frames.push(sealFrame(frame));
  }
  return frames;
}

/** Checks one frame on its own: size, magic, version, flags, frame CRC and header consistency. */
export function parseFrame(frame: Uint8Array, limits: WireLimits = WIRE_LIMITS): ParsedFrame {
  if (!(frame instanceof Uint8Array)) return { ok: false, reason: 'frame is not binary data' };
  if (frame.length > limits.maxFrameBytes) {
    return { ok: false, reason: `frame of ${frame.length} bytes exceeds the ${limits.maxFrameBytes}-byte frame limit` };
  }
  if (frame.length <= FRAME_HEADER_BYTES) {
    return { ok: false, reason: `truncated frame: ${frame.length} bytes, a frame needs more than ${FRAME_HEADER_BYTES}` };
  }
  for (let i = 0; i < FRAME_MAGIC.length; i++) {
    if (frame[i] !== FRAME_MAGIC[i]) return { ok: false, reason: 'bad magic: not a fedtab frame' };
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const header: FrameHeader = {
    version: view.getUint16(4, true),
    flags: view.getUint16(6, true),
    messageId: view.getUint32(8, true),
    frameIndex: view.getUint32(12, true),
    frameCount: view.getUint32(16, true),
    totalLength: view.getUint32(20, true),
    messageCrc: view.getUint32(24, true),
    frameCrc: view.getUint32(28, true),
  };
  if (header.version !== WIRE_FORMAT_VERSION) {
    return { ok: false, reason: `unsupported wire format version ${header.version} (this build reads ${WIRE_FORMAT_VERSION})` };
  }
  if (header.flags !== 0) return { ok: false, reason: `unknown frame flags 0x${header.flags.toString(16)}` };
  const actualCrc = computeFrameCrc(frame);
  if (actualCrc !== header.frameCrc) {
    return { ok: false, reason: `frame checksum mismatch (damaged or truncated frame of message ${header.messageId})` };
  }
  const payload = frame.subarray(FRAME_HEADER_BYTES);
  const id = `message ${header.messageId}`;
  if (header.totalLength > limits.maxMessageBytes) {
    return {
      ok: false,
      reason: `${id}: total length ${header.totalLength} exceeds the ${limits.maxMessageBytes}-byte message limit`,
      oversizedMessage: header.messageId,
    };
  }
  if (header.frameCount === 0 || header.frameCount > header.totalLength) {
    return { ok: false, reason: `${id}: frame count ${header.frameCount} impossible for ${header.totalLength} bytes` };
  }
  if (header.frameIndex >= header.frameCount) {
    return { ok: false, reason: `${id}: frame index ${header.frameIndex} out of range (frame count ${header.frameCount})` };
  }
  if (payload.length > header.totalLength) {
    return { ok: false, reason: `${id}: frame payload of ${payload.length} bytes exceeds total length ${header.totalLength}` };
  }
  if (header.frameCount === 1 && payload.length !== header.totalLength) {
    return { ok: false, reason: `${id}: length mismatch, single frame holds ${payload.length} bytes, header says ${header.totalLength}` };
  }
  return { ok: true, header, payload };
}

interface PartialMessage {
  id: number;
  frameCount: number;
  totalLength: number;
  messageCrc: number;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
}

export interface AssemblerResult {
  /** Reassembled, checksum-verified message bytes, in completion order. */
  messages: Uint8Array[];
  errors: string[];
}

/**
 * Reassembles one peer's frames. Messages may interleave. Holds at most limits.maxMessagesInFlight incomplete
 * messages and limits.maxBufferedBytes of payload; past either limit the oldest incomplete message is dropped
 * (and reported). Buffers only bytes actually received, never a claimed total length.
 */
export class FrameAssembler {
  private readonly inFlight = new Map<number, PartialMessage>();
  private readonly completed = new Set<number>();
  /** Messages refused for their declared size: their later frames are dropped without another report. */
  private readonly oversized = new Set<number>();
  private bufferedBytes = 0;

  constructor(private limits: WireLimits = WIRE_LIMITS) {}

  /** Applies new limits; incomplete messages that no longer fit are dropped (and reported). */
  setLimits(limits: WireLimits): string[] {
    this.limits = limits;
    const errors: string[] = [];
    for (const partial of [...this.inFlight.values()]) {
      if (partial.totalLength > limits.maxMessageBytes) {
        this.forget(partial);
        errors.push(`message ${partial.id} dropped incomplete: ${partial.totalLength} bytes exceeds the new ${limits.maxMessageBytes}-byte limit`);
      }
    }
    this.makeRoom(0, 0, errors);
    return errors;
  }

  /** Incomplete messages currently held. */
  get pendingMessages(): number {
    return this.inFlight.size;
  }

  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  push(frame: Uint8Array): AssemblerResult {
    const errors: string[] = [];
    const parsed = parseFrame(frame, this.limits);
    if (!parsed.ok) {
      // One refused message is one report, however many frames it came in.
      if (parsed.oversizedMessage !== undefined && !remember(this.oversized, parsed.oversizedMessage, this.limits.rememberedCompletedIds)) {
        return { messages: [], errors: [] };
      }
      return { messages: [], errors: [`frame rejected: ${parsed.reason}`] };
    }
    const { header, payload } = parsed;
    const id = header.messageId;
    if (this.completed.has(id)) {
      return { messages: [], errors: [`frame rejected: message ${id} was already completed (duplicate frame)`] };
    }
    let partial = this.inFlight.get(id);
    if (partial) {
      if (
        partial.frameCount !== header.frameCount ||
        partial.totalLength !== header.totalLength ||
        partial.messageCrc !== header.messageCrc
      ) {
        return { messages: [], errors: [`frame rejected: message ${id}: frame ${header.frameIndex} header disagrees with earlier frames`] };
      }
      if (partial.chunks[header.frameIndex]) {
        return { messages: [], errors: [`frame rejected: message ${id}: duplicate frame ${header.frameIndex}`] };
      }
      if (partial.bytes + payload.length > partial.totalLength) {
        return { messages: [], errors: [`frame rejected: message ${id}: frames hold more than the total length ${partial.totalLength}`] };
      }
    } else {
      partial = {
        id,
        frameCount: header.frameCount,
        totalLength: header.totalLength,
        messageCrc: header.messageCrc,
        chunks: [],
        received: 0,
        bytes: 0,
      };
      this.makeRoom(1, payload.length, errors);
      this.inFlight.set(id, partial);
    }
    this.makeRoom(0, payload.length, errors, id);
    if (this.bufferedBytes + payload.length > this.limits.maxBufferedBytes) {
      this.forget(partial);
      errors.push(`message ${id} dropped: it alone exceeds ${this.limits.maxBufferedBytes} buffered bytes`);
      return { messages: [], errors };
    }
    // Copy: the caller may reuse the frame's buffer.
    partial.chunks[header.frameIndex] = payload.slice();
    partial.received++;
    partial.bytes += payload.length;
    this.bufferedBytes += payload.length;
    if (partial.received < partial.frameCount) return { messages: [], errors };

    this.forget(partial);
    this.remember(id);
    if (partial.bytes !== partial.totalLength) {
      errors.push(`message ${id} dropped: length mismatch, frames hold ${partial.bytes} bytes, header says ${partial.totalLength}`);
      return { messages: [], errors };
    }
    const message = new Uint8Array(partial.totalLength);
    let offset = 0;
    for (const chunk of partial.chunks) {
      message.set(chunk!, offset);
      offset += chunk!.length;
    }
    if (crc32(message) !== partial.messageCrc) {
      errors.push(`message ${id} dropped: message checksum mismatch after reassembly`);
      return { messages: [], errors };
    }
    return { messages: [message], errors };
  }

  /** Drops the oldest incomplete messages (other than `keep`) until the new message/bytes fit. */
  private makeRoom(newMessages: number, newBytes: number, errors: string[], keep?: number): void {
    for (const oldest of this.inFlight.values()) {
      const tooMany = this.inFlight.size + newMessages > this.limits.maxMessagesInFlight;
      const tooBig = this.bufferedBytes + newBytes > this.limits.maxBufferedBytes;
      if (!tooMany && !tooBig) return;
      if (oldest.id === keep) continue;
      this.forget(oldest);
      errors.push(
        `message ${oldest.id} dropped incomplete (${oldest.received}/${oldest.frameCount} frames) to stay within ` +
          (tooMany ? `${this.limits.maxMessagesInFlight} messages in flight` : `${this.limits.maxBufferedBytes} buffered bytes`),
      );
    }
  }

  private forget(partial: PartialMessage): void {
    this.inFlight.delete(partial.id);
    this.bufferedBytes -= partial.bytes;
  }

  private remember(id: number): void {
    remember(this.completed, id, this.limits.rememberedCompletedIds);
  }
}

/** Adds `id` to `ids`, forgetting the oldest beyond `max`; false when it was there already. */
function remember(ids: Set<number>, id: number, max: number): boolean {
  if (ids.has(id)) return false;
  ids.add(id);
  if (ids.size > max) ids.delete(ids.values().next().value as number);
  return true;
}
