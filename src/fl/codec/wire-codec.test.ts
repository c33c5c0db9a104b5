import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Message, type UpdateMessage } from '../protocol';
import { Rng } from '../rng';
import { FRAME_HEADER_BYTES, sealFrame, splitIntoFrames } from './frames';
import { wireLimits, type WireLimits } from './limits';
import { encodeMessage, tryDecodeMessage } from './message-codec';
import { LARGE_SHAPES, randomWeights, sampleMessages } from './test-messages';
import { validateMessage } from './validate';
import type { WeightCodecName } from './weight-codec';
import { createWireCodec, encodedSizeOf, isAssemblingDecoder, type CountingWireDecoder, type DecodeOffload } from './wire-codec';

function feed(decoder: CountingWireDecoder, frames: Uint8Array[]) {
  const messages: Message[] = [];
  const errors: string[] = [];
  for (const f of frames) {
    const r = decoder.push(f);
    messages.push(...r.messages);
    errors.push(...r.errors);
  }
  return { messages, errors };
}

const largeUpdate = (seed: number): UpdateMessage => ({
  ...(sampleMessages()[3] as UpdateMessage),
  assignment: seed,
  delta: randomWeights(LARGE_SHAPES, seed),
});

describe('createWireCodec', () => {
  it('carries every message type through encode -> frames -> decoder in every codec', () => {
    for (const codecName of ['float32', 'float16', 'int8'] as WeightCodecName[]) {
      const codec = createWireCodec(codecName, { maxFrameBytes: 16 * 1024 });
      const decoder = codec.createDecoder();
      const sent = sampleMessages();
      const { messages, errors } = feed(decoder, sent.flatMap((m) => codec.encode(m)));
      expect(errors).toEqual([]);
      expect(messages.map((m) => m.type)).toEqual(sent.map((m) => m.type));
      if (codecName === 'float32') expect(messages).toEqual(sent);
      messages.forEach((m, i) => {
        if (m.type !== 'update') return;
        const original = (sent[i] as UpdateMessage).delta[0].values;
        const got = m.delta[0].values;
        expect(got).toBeInstanceOf(Float32Array);
        const tolerance = codecName === 'int8' ? 0.01 : 1e-5; // deltas are N(0, 0.01)
        for (let k = 0; k < got.length; k += 97) expect(Math.abs(got[k] - original[k])).toBeLessThan(tolerance);
      });
    }
  });

  it('sends a 600 KB WeightSet as several frames of at most 256 KB', () => {
    const codec = createWireCodec('float32');
    const message = largeUpdate(1);
    const frames = codec.encode(message);
    expect(frames.length).toBe(3);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(256 * 1024);
    const { messages, errors } = feed(codec.createDecoder(), frames);
    expect(errors).toEqual([]);
    expect(messages).toEqual([message]);
  });

  it('decodes interleaved frames of two large messages', () => {
    const codec = createWireCodec('float16', { maxFrameBytes: 64 * 1024 });
    const a = codec.encode(largeUpdate(2));
    const b = codec.encode(largeUpdate(3));
    const interleaved = a.flatMap((f, i) => (b[i] ? [f, b[i]] : [f]));
    const { messages, errors } = feed(codec.createDecoder(), interleaved);
    expect(errors).toEqual([]);
    expect(messages.map((m) => m.type === 'update' && m.assignment)).toEqual([2, 3]);
  });

  it('respects a custom maxFrameBytes and refuses one above the limit', () => {
    const codec = createWireCodec('int8', { maxFrameBytes: 1000 });
    for (const f of codec.encode(sampleMessages()[2])) expect(f.length).toBeLessThanOrEqual(1000);
    expect(() => createWireCodec('float32', { maxFrameBytes: 300 * 1024 })).toThrow(/exceeds the frame limit 262144/);
    expect(() => createWireCodec('float64' as WeightCodecName)).toThrow(/unknown weight codec "float64"/);
  });

  it('counts bytes, and encodedSizeOf matches the frames', () => {
    const codec = createWireCodec('float32', { firstMessageId: 1 });
    const message = largeUpdate(4);
    const frames = codec.encode(message);
    const total = frames.reduce((n, f) => n + f.length, 0);
    expect(encodedSizeOf(message, 'float32')).toBe(total);
    expect(codec.stats()).toEqual({ messages: 1, frames: 3, bytes: total });
    const decoder = codec.createDecoder();
    feed(decoder, [...frames, frames[0]]);
    expect(decoder.stats()).toEqual({ frames: 4, bytes: total + frames[0].length, messages: 1, errors: 1 });
    expect(encodedSizeOf(message, 'int8') / total).toBeLessThan(0.27);
  });

  it('rejects bad messages inside well-formed frames with a clear reason', () => {
    const decoder = createWireCodec('float32').createDecoder();
    const push = (bytes: Uint8Array, id: number) => feed(decoder, splitIntoFrames(bytes, id)).errors;

    const unknownVersion = encode({ type: 'bye', v: PROTOCOL_VERSION + 1, reason: 'x' });
    expect(push(unknownVersion, 1)).toEqual([`message rejected: bye.v: unsupported protocol version 2 (this build speaks 1)`]);

    const update = sampleMessages()[3] as UpdateMessage;
    const delta = update.delta.map((t) => ({ ...t, values: new Float32Array(t.values) }));
    delta[1].values[0] = 4242.25;
    const bytes = encodeMessage({ ...update, delta }, 'float32');
    const marker = new Uint8Array(Float32Array.of(4242.25).buffer);
    const at = bytes.findIndex((_, i) => marker.every((b, k) => bytes[i + k] === b));
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(at, NaN, true);
    expect(push(bytes, 2)).toEqual(['message rejected: update.delta[1] "fc1/bias": non-finite value NaN at index 0']);

    const wrongShape = encode({ ...update, delta: [{ name: 'w', shape: [3, 3], codec: 'float16', data: new Uint8Array(16) }] });
    expect(push(wrongShape, 3)).toEqual(['message rejected: update.delta[0] "w": float16 blob of 16 bytes, expected 18 for 9 values']);

    const tooBig = createWireCodec('float32', { limits: wireLimits({ maxMessageBytes: 100_000 }) }).createDecoder();
    const big = splitIntoFrames(encodeMessage(update, 'float32'), 4);
    expect(tooBig.push(big[0]).errors[0]).toMatch(/total length \d+ exceeds the 100000-byte message limit/);
  });

  it('bounds one decoder by its own message limit, which a later call can raise or lower', () => {
    const codec = createWireCodec('float32');
    const update = largeUpdate(5); // ~600 KB: three frames
    const frames = codec.encode(update);
    const size = frames.reduce((n, f) => n + f.length - FRAME_HEADER_BYTES, 0);
    const small = codec.createDecoder({ maxMessageBytes: 4096 });
    expect(small.push(frames[0]).errors).toEqual([expect.stringMatching(`total length ${size} exceeds the 4096-byte message limit`)]);
    small.setMaxMessageBytes(size);
    expect(feed(small, codec.encode(update))).toEqual({ messages: [update], errors: [] });

    // Lowering the limit drops a message already partly buffered beyond it.
    const again = codec.encode(update);
    const lowered = codec.createDecoder({ maxMessageBytes: size });
    expect(lowered.push(again[0]).errors).toEqual([]);
    lowered.setMaxMessageBytes(size - 1);
    expect(lowered.stats().errors).toBe(1);
    expect(feed(lowered, again.slice(1)).messages).toEqual([]);
    expect(() => codec.createDecoder({ maxMessageBytes: 0 })).toThrow(RangeError);
  });

  it('splits push into assembly and decoding, which an offload may do under the limits in force at the call', async () => {
    const codec = createWireCodec('float16', { maxFrameBytes: 16 * 1024 });
    const frames = codec.encode(sampleMessages()[3]);
    const whole = feed(codec.createDecoder(), frames);

    const split = codec.createDecoder({ maxMessageBytes: 1_000_000 });
    const assembled = frames.map((f) => split.assemble(f));
    expect(assembled.flatMap((a) => a.errors)).toEqual([]);
    const bytes = assembled.flatMap((a) => a.messages);
    expect(bytes).toHaveLength(1);
    const seen: WireLimits[] = [];
    const offload: DecodeOffload = {
      minBytes: 1,
      decode: async (b, limits) => {
        seen.push(limits);
        return tryDecodeMessage(b, limits);
      },
    };
    expect(await split.decodeAssembledWith(offload, bytes[0])).toEqual(whole);
    expect(seen.map((l) => l.maxMessageBytes)).toEqual([1_000_000]);
    expect(split.decodeAssembled(bytes[0])).toEqual(whole);
    expect(split.stats()).toEqual({ frames: frames.length, bytes: frames.reduce((n, f) => n + f.length, 0), messages: 2, errors: 0 });
    expect(isAssemblingDecoder(split)).toBe(true);
  });

  it('reports an offload that fails or rejects a message like a message rejected here, and counts it', async () => {
    const codec = createWireCodec('float32');
    const decoder = codec.createDecoder();
    const bytes = decoder.assemble(codec.encode(largeUpdate(9))[0]);
    expect(bytes.messages).toEqual([]);
    const [message] = decoder.assemble(codec.encode(sampleMessages()[0])[0]).messages;
    const rejecting: DecodeOffload = { minBytes: 1, decode: async () => ({ ok: false, reason: 'update.round: bad' }) };
    const failing: DecodeOffload = { minBytes: 1, decode: () => Promise.reject(new Error('the decode worker died')) };
    expect(await decoder.decodeAssembledWith(rejecting, message)).toEqual({ messages: [], errors: ['message rejected: update.round: bad'] });
    expect(await decoder.decodeAssembledWith(failing, message)).toEqual({
      messages: [],
      errors: ['message rejected: decoding failed: the decode worker died'],
    });
    expect(decoder.stats()).toMatchObject({ messages: 0, errors: 2 });
  });

  it('never throws on non-binary input', () => {
    const decoder = createWireCodec('float32').createDecoder();
    for (const junk of [null, undefined, new ArrayBuffer(40), 'frame', 42, {}] as unknown as Uint8Array[]) {
      const r = decoder.push(junk);
      expect(r.messages).toEqual([]);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).not.toMatch(/internal decoder error/);
    }
  });
});

describe('decoder fuzz', () => {
  const rng = new Rng(2024);
  const randomBytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.int(256);
    return out;
  };
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  const HEADER_FIELDS = [4, 6, 8, 12, 16, 20, 24, 28];
  const EDGE_VALUES = [0, 1, 2, 3, 0xffff, 0x7fffffff, 0xffffffff, 256 * 1024, 64 * 1024 * 1024 + 1];

  /** A damaged copy of `frame` (or of two frames) that a correct decoder must reject at the frame. */
  function damaged(frame: Uint8Array, other: Uint8Array): Uint8Array {
    const copy = frame.slice();
    switch (rng.int(6)) {
      case 0: {
        const flips = 1 + rng.int(8);
        for (let i = 0; i < flips; i++) copy[rng.int(copy.length)] ^= 1 << rng.int(8);
        return copy;
      }
      case 1:
        return copy.subarray(0, rng.int(copy.length));
      case 2: {
        const out = new Uint8Array(copy.length + 1 + rng.int(64));
        out.set(copy);
        out.set(randomBytes(out.length - copy.length), copy.length);
        return out;
      }
      case 3: {
        // Splice: a prefix of one frame, the rest of another.
        const cut = 1 + rng.int(Math.min(copy.length, other.length) - 1);
        const out = new Uint8Array(cut + other.length - cut);
        out.set(copy.subarray(0, cut));
        out.set(other.subarray(cut), cut);
        return out;
      }
      case 4: {
        // Header field edit without fixing the frame checksum.
        const view = new DataView(copy.buffer);
        view.setUint32(8 + 4 * rng.int(5), pick(EDGE_VALUES) + rng.int(3), true);
        return copy;
      }
      default: {
        const out = randomBytes(rng.int(600));
        if (out.length >= 4 && rng.next() < 0.5) out.set(frame.subarray(0, 8).subarray(0, Math.min(8, out.length)));
        return out;
      }
    }
  }

  /** A header edit with a recomputed frame checksum: a consistent but lying sender. */
  function forged(frame: Uint8Array): Uint8Array {
    const copy = frame.slice();
    const view = new DataView(copy.buffer);
    const offset = pick(HEADER_FIELDS.slice(0, 7));
    const value = rng.next() < 0.5 ? pick(EDGE_VALUES) : view.getUint32(offset, true) + rng.int(5) - 2;
    if (offset < 8) view.setUint16(offset, value & 0xffff, true);
    else view.setUint32(offset, value >>> 0, true);
    return sealFrame(copy);
  }

  it('survives thousands of random and mutated frames; whatever it emits is a valid message', () => {
    const codec = createWireCodec('int8', { maxFrameBytes: 2048, firstMessageId: 100 });
    const pool = sampleMessages().flatMap((m) => codec.encode(m));
    const decoder = codec.createDecoder();
    let errors = 0;
    for (let i = 0; i < 4000; i++) {
      const frame = pick(pool);
      const junk = i % 3 === 0 ? forged(frame) : damaged(frame, pick(pool));
      const r = decoder.push(junk);
      for (const e of r.errors) expect(e).not.toMatch(/internal decoder error/);
      for (const m of r.messages) expect(validateMessage(m).ok).toBe(true);
      errors += r.errors.length;
    }
    expect(errors).toBeGreaterThan(3000);
    expect(decoder.stats().frames).toBe(4000);
  });

  it('still decodes valid messages exactly, in order, with damaged frames interleaved', () => {
    const codec = createWireCodec('float32', { maxFrameBytes: 2048, firstMessageId: 1 });
    // Junk comes from two other, many-frame messages (round 9999): a splice that happens to rebuild one of their
    // frames is not ours, and they cannot complete by chance.
    const junkCodec = createWireCodec('float16', { maxFrameBytes: 2048, firstMessageId: 5000 });
    const junkSource = sampleMessages(7)
      .filter((m) => m.type === 'update' || m.type === 'round-start')
      .flatMap((m) => junkCodec.encode({ ...m, assignment: 9999 } as Message));
    expect(junkSource.length).toBeGreaterThan(40);
    const sent = sampleMessages(3);
    const valid: Uint8Array[][] = sent.map((m) => codec.encode(m));
    // Two messages at a time, frames alternating.
    const stream: Uint8Array[] = [];
    for (let i = 0; i < valid.length; i += 2) {
      const a = valid[i];
      const b = valid[i + 1] ?? [];
      for (let k = 0; k < Math.max(a.length, b.length); k++) {
        if (a[k]) stream.push(a[k]);
        if (b[k]) stream.push(b[k]);
      }
    }
    const decoder = codec.createDecoder();
    const received: Message[] = [];
    let junkFed = 0;
    let junkRejected = 0;
    for (const frame of stream) {
      for (let j = rng.int(6); j > 0; j--) {
        const r = decoder.push(damaged(pick(junkSource), pick(junkSource)));
        junkFed++;
        if (r.errors.length > 0) junkRejected++;
        expect(r.messages).toEqual([]);
      }
      const r = decoder.push(frame);
      expect(r.errors).toEqual([]);
      received.push(...r.messages);
    }
    expect(junkFed).toBeGreaterThan(500);
    expect(junkRejected).toBeGreaterThan(junkFed * 0.95);
    const expectedOrder = [];
    for (let i = 0; i < sent.length; i += 2) {
      // The shorter message of a pair completes first.
      const pair = [i, i + 1].filter((k) => k < sent.length).sort((x, y) => valid[x].length - valid[y].length || x - y);
      expectedOrder.push(...pair.map((k) => sent[k]));
    }
    expect(received).toEqual(expectedOrder);
  });
});
