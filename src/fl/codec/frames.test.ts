import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { crc32 } from './checksum';
import { FRAME_HEADER_BYTES, FrameAssembler, parseFrame, sealFrame, splitIntoFrames, WIRE_FORMAT_VERSION } from './frames';
import { WIRE_LIMITS, wireLimits } from './limits';

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

/** Fast equality for large byte arrays (toEqual walks them element by element). */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

/** A copy of `frame` with a u32/u16 header field changed and the frame CRC recomputed (a consistent but lying sender). */
function editHeader(frame: Uint8Array, offset: number, value: number, bytes: 2 | 4 = 4): Uint8Array {
  const copy = frame.slice();
  const view = new DataView(copy.buffer);
  if (bytes === 4) view.setUint32(offset, value, true);
  else view.setUint16(offset, value, true);
  return sealFrame(copy);
}

const OFFSET = { version: 4, flags: 6, messageId: 8, frameIndex: 12, frameCount: 16, totalLength: 20, messageCrc: 24 } as const;

/** Pushes frames, returns all completed messages and errors. */
function pushAll(assembler: FrameAssembler, frames: Uint8Array[]) {
  const messages: Uint8Array[] = [];
  const errors: string[] = [];
  for (const f of frames) {
    const r = assembler.push(f);
    messages.push(...r.messages);
    errors.push(...r.errors);
  }
  return { messages, errors };
}

describe('splitIntoFrames', () => {
  it('never exceeds maxFrameBytes (header included) and covers the message exactly', () => {
    const message = randomBytes(600 * 1024, 1);
    const frames = splitIntoFrames(message, 7);
    expect(frames.length).toBe(3);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(256 * 1024);
    expect(frames[0].length).toBe(256 * 1024);
    expect(frames.reduce((n, f) => n + f.length - FRAME_HEADER_BYTES, 0)).toBe(message.length);
    const small = splitIntoFrames(message.subarray(0, 1000), 8, 100);
    expect(small.length).toBe(Math.ceil(1000 / (100 - FRAME_HEADER_BYTES)));
    for (const f of small) expect(f.length).toBeLessThanOrEqual(100);
  });

  it('writes the header fields', () => {
    const message = randomBytes(300, 2);
    const [, second] = splitIntoFrames(message, 0xfffffffe, 200);
    const parsed = parseFrame(second);
    expect(parsed.ok && parsed.header).toMatchObject({
      version: WIRE_FORMAT_VERSION,
      flags: 0,
      messageId: 0xfffffffe,
      frameIndex: 1,
      frameCount: 2,
      totalLength: 300,
      messageCrc: crc32(message),
    });
  });

  it('refuses a frame size too small for the header, and empty messages', () => {
    expect(() => splitIntoFrames(randomBytes(10, 3), 1, FRAME_HEADER_BYTES)).toThrow(/maxFrameBytes must be an integer >= 64/);
    expect(() => splitIntoFrames(new Uint8Array(0), 1)).toThrow(/empty message/);
  });
});

describe('FrameAssembler', () => {
  it('reassembles a 600 KB message from frames in any order', () => {
    const message = randomBytes(600 * 1024, 4);
    const frames = splitIntoFrames(message, 1);
    const { messages, errors } = pushAll(new FrameAssembler(), [frames[2], frames[0], frames[1]]);
    expect(errors).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(sameBytes(messages[0], message)).toBe(true);
  });

  it('reassembles interleaved frames of two messages', () => {
    const a = randomBytes(5000, 5);
    const b = randomBytes(3000, 6);
    const fa = splitIntoFrames(a, 10, 1024);
    const fb = splitIntoFrames(b, 11, 1024);
    const interleaved: Uint8Array[] = [];
    for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
      if (fb[i]) interleaved.push(fb[i]);
      if (fa[i]) interleaved.push(fa[i]);
    }
    const assembler = new FrameAssembler();
    const { messages, errors } = pushAll(assembler, interleaved);
    expect(errors).toEqual([]);
    expect(messages).toEqual([b, a]);
    expect(assembler.pendingMessages).toBe(0);
    expect(assembler.pendingBytes).toBe(0);
  });

  it('does not keep a reference to the caller buffer', () => {
    const message = randomBytes(500, 7);
    const frames = splitIntoFrames(message, 3, 300);
    const assembler = new FrameAssembler();
    assembler.push(frames[0]);
    frames[0].fill(0);
    expect(assembler.push(frames[1]).messages[0]).toEqual(message);
  });

  it('rejects wrong magic, unknown version, flags, truncation and oversized frames with reasons', () => {
    const [frame] = splitIntoFrames(randomBytes(100, 8), 1);
    const a = () => new FrameAssembler();
    const wrongMagic = frame.slice();
    wrongMagic[0] = 0x47;
    expect(a().push(wrongMagic).errors).toEqual(['frame rejected: bad magic: not a fedtab frame']);
    expect(a().push(editHeader(frame, OFFSET.version, 2, 2)).errors).toEqual([
      'frame rejected: unsupported wire format version 2 (this build reads 1)',
    ]);
    expect(a().push(editHeader(frame, OFFSET.flags, 1, 2)).errors[0]).toMatch(/unknown frame flags 0x1/);
    expect(a().push(frame.subarray(0, 20)).errors[0]).toMatch(/truncated frame: 20 bytes/);
    expect(a().push(frame.subarray(0, frame.length - 1)).errors[0]).toMatch(/frame checksum mismatch/);
    expect(a().push(new Uint8Array(0)).errors[0]).toMatch(/truncated frame: 0 bytes/);
    const small = new FrameAssembler(wireLimits({ maxFrameBytes: 100 }));
    expect(small.push(frame).errors[0]).toMatch(/frame of 132 bytes exceeds the 100-byte frame limit/);
  });

  it('rejects a corrupted payload at the frame and a corrupted message at reassembly', () => {
    const message = randomBytes(1000, 9);
    const frames = splitIntoFrames(message, 4, 400);
    const flipped = frames[1].slice();
    flipped[FRAME_HEADER_BYTES + 5] ^= 1;
    const assembler = new FrameAssembler();
    expect(assembler.push(flipped).errors[0]).toMatch(/frame checksum mismatch/);
    // The damaged frame spoiled nothing: the intact frames still make the message.
    expect(pushAll(assembler, frames).messages).toEqual([message]);

    // A sender that seals a wrong payload: caught by the message checksum.
    const forged = frames.map((f) => f.slice());
    forged[1][FRAME_HEADER_BYTES + 5] ^= 1;
    sealFrame(forged[1]);
    const result = pushAll(new FrameAssembler(), forged);
    expect(result.messages).toEqual([]);
    expect(result.errors).toEqual(['message 4 dropped: message checksum mismatch after reassembly']);
  });

  it('rejects out-of-range indices, impossible counts, oversized totals and header disagreement', () => {
    const frames = splitIntoFrames(randomBytes(1000, 10), 5, 400);
    const a = () => new FrameAssembler();
    expect(a().push(editHeader(frames[0], OFFSET.frameIndex, 3)).errors[0]).toMatch(/message 5: frame index 3 out of range \(frame count 3\)/);
    expect(a().push(editHeader(frames[0], OFFSET.frameCount, 0)).errors[0]).toMatch(/frame count 0 impossible/);
    expect(a().push(editHeader(frames[0], OFFSET.totalLength, 65 * 1024 * 1024)).errors[0]).toMatch(
      /total length 68157440 exceeds the 67108864-byte message limit/,
    );
    expect(a().push(editHeader(frames[0], OFFSET.frameCount, 1001)).errors[0]).toMatch(/frame count 1001 impossible for 1000 bytes/);
    expect(a().push(editHeader(frames[0], OFFSET.totalLength, 10)).errors[0]).toMatch(/frame payload of 368 bytes exceeds total length 10/);
    const assembler = a();
    assembler.push(frames[0]);
    expect(assembler.push(editHeader(frames[1], OFFSET.totalLength, 999)).errors[0]).toMatch(/frame 1 header disagrees with earlier frames/);
    expect(assembler.push(editHeader(frames[1], OFFSET.messageCrc, 1)).errors[0]).toMatch(/disagrees/);
  });

  it('rejects duplicate frames, including frames of completed messages', () => {
    const message = randomBytes(1000, 11);
    const frames = splitIntoFrames(message, 6, 400);
    const assembler = new FrameAssembler();
    assembler.push(frames[0]);
    expect(assembler.push(frames[0]).errors).toEqual(['frame rejected: message 6: duplicate frame 0']);
    expect(pushAll(assembler, frames.slice(1)).messages).toEqual([message]);
    expect(assembler.push(frames[2]).errors).toEqual(['frame rejected: message 6 was already completed (duplicate frame)']);
  });

  it('rejects length mismatches', () => {
    const [single] = splitIntoFrames(randomBytes(100, 12), 7);
    expect(new FrameAssembler().push(editHeader(single, OFFSET.totalLength, 101)).errors[0]).toMatch(
      /length mismatch, single frame holds 100 bytes, header says 101/,
    );
    // Three frames claiming 1001 bytes but holding 1000.
    const frames = splitIntoFrames(randomBytes(1000, 13), 8, 400).map((f) => editHeader(f, OFFSET.totalLength, 1001));
    expect(pushAll(new FrameAssembler(), frames).errors).toEqual([
      'message 8 dropped: length mismatch, frames hold 1000 bytes, header says 1001',
    ]);
    // Frames holding more than the claimed total.
    const over = splitIntoFrames(randomBytes(1000, 14), 9, 400).map((f) => editHeader(f, OFFSET.totalLength, 700));
    const result = pushAll(new FrameAssembler(), over);
    expect(result.errors).toContain('frame rejected: message 9: frames hold more than the total length 700');
  });

  it('drops the oldest incomplete message past the in-flight limit', () => {
    const limits = wireLimits({ maxMessagesInFlight: 2 });
    const assembler = new FrameAssembler(limits);
    const msgs = [1, 2, 3].map((id) => ({ bytes: randomBytes(500, 20 + id), frames: splitIntoFrames(randomBytes(500, 20 + id), id, 300) }));
    expect(assembler.push(msgs[0].frames[0]).errors).toEqual([]);
    expect(assembler.push(msgs[1].frames[0]).errors).toEqual([]);
    expect(assembler.push(msgs[2].frames[0]).errors).toEqual([
      'message 1 dropped incomplete (1/2 frames) to stay within 2 messages in flight',
    ]);
    expect(assembler.pendingMessages).toBe(2);
    expect(assembler.push(msgs[0].frames[1]).messages).toEqual([]); // its first half is gone
    expect(assembler.push(msgs[2].frames[1]).messages).toEqual([msgs[2].bytes]);
  });

  it('bounds buffered bytes, dropping the oldest incomplete messages', () => {
    const assembler = new FrameAssembler(wireLimits({ maxBufferedBytes: 1000 }));
    const a = splitIntoFrames(randomBytes(1200, 30), 1, 700);
    const b = splitIntoFrames(randomBytes(1200, 31), 2, 700);
    assembler.push(a[0]);
    const r = assembler.push(b[0]);
    expect(r.errors[0]).toMatch(/message 1 dropped incomplete \(1\/2 frames\) to stay within 1000 buffered bytes/);
    expect(assembler.pendingBytes).toBe(668);
    const alone = new FrameAssembler(wireLimits({ maxBufferedBytes: 1000 }));
    alone.push(a[0]);
    expect(alone.push(a[1]).errors).toEqual(['message 1 dropped: it alone exceeds 1000 buffered bytes']);
    expect(alone.pendingBytes).toBe(0);
  });

  it('reports a message over the size limit once, however many frames it came in, and each other one again', () => {
    const assembler = new FrameAssembler(wireLimits({ maxMessageBytes: 1000 }));
    const big = splitIntoFrames(randomBytes(3000, 40), 7, 700);
    const first = pushAll(assembler, big);
    expect(first).toEqual({ messages: [], errors: ['frame rejected: message 7: total length 3000 exceeds the 1000-byte message limit'] });
    expect(pushAll(assembler, big).errors).toEqual([]); // replayed: still dropped, already reported
    expect(pushAll(assembler, splitIntoFrames(randomBytes(3000, 41), 8, 700)).errors).toHaveLength(1);
    const small = randomBytes(900, 42);
    expect(pushAll(assembler, splitIntoFrames(small, 9, 700)).messages).toEqual([small]);
  });

  it('uses 256 KB frames and a 64 MB message limit by default', () => {
    expect(WIRE_LIMITS.maxFrameBytes).toBe(256 * 1024);
    expect(WIRE_LIMITS.maxMessageBytes).toBe(64 * 1024 * 1024);
  });
});
