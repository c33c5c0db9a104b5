import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Message, type RoundStartMessage, type UpdateMessage } from '../protocol';
import { totalParameters, type WeightSet } from '../weights';
import { wireLimits } from './limits';
import { decodeMessage, encodeMessage, tryDecodeMessage } from './message-codec';
import { LARGE_SHAPES, randomWeights, sampleMessages } from './test-messages';
import { int8Parameters, type WeightCodecName } from './weight-codec';

const CODECS: WeightCodecName[] = ['float32', 'float16', 'int8'];

function weightSetsOf(m: Message): WeightSet[] {
  if (m.type === 'round-start') return [m.weights];
  if (m.type === 'update') return [m.delta];
  if (m.type === 'eval-request') return m.models;
  return [];
}

/** The message's fields other than its WeightSets. */
function withoutWeights(m: Message): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...m };
  delete rest.weights;
  delete rest.delta;
  delete rest.models;
  return rest;
}

/** Largest |decoded - original| / allowed over all values; <= 1 means within the codec's bound. */
function worstErrorRatio(original: WeightSet, decoded: WeightSet, codec: WeightCodecName): number {
  let worst = 0;
  original.forEach((t, i) => {
    const d = decoded[i];
    expect(d.name).toBe(t.name);
    expect(d.shape).toEqual(t.shape);
    expect(d.values).toBeInstanceOf(Float32Array);
    expect(d.values.length).toBe(t.values.length);
    const scale = codec === 'int8' ? int8Parameters(t.values).scale : 0;
    for (let k = 0; k < t.values.length; k++) {
      const x = t.values[k];
      const err = Math.abs(d.values[k] - x);
      const allowed =
        codec === 'float32' ? 0 : codec === 'float16' ? Math.max(Math.abs(x) * 2 ** -11, 2 ** -25) : scale / 2 + Math.abs(x) * 2 ** -24;
      if (err > allowed) return (worst = Infinity);
      if (allowed > 0) worst = Math.max(worst, err / allowed);
    }
  });
  return worst;
}

describe('encodeMessage / decodeMessage', () => {
  it('round-trips every message type in every codec, within the codec error bounds', () => {
    for (const codec of CODECS) {
      for (const m of sampleMessages()) {
        const back = decodeMessage(encodeMessage(m, codec));
        expect(withoutWeights(back)).toEqual(withoutWeights(m));
        const sent = weightSetsOf(m);
        const got = weightSetsOf(back);
        expect(got.length).toBe(sent.length);
        sent.forEach((w, i) => expect(worstErrorRatio(w, got[i], codec)).toBeLessThanOrEqual(1));
      }
    }
  });

  it('float32 round trip is bit-exact', () => {
    for (const m of sampleMessages()) expect(decodeMessage(encodeMessage(m, 'float32'))).toEqual(m);
  });

  it('int8 message is <= 0.27x the float32 message for the 50k-parameter model', () => {
    const [, , roundStart, update] = sampleMessages();
    expect(totalParameters((roundStart as RoundStartMessage).weights)).toBe(50_890);
    for (const m of [roundStart, update]) {
      const f32 = encodeMessage(m, 'float32').length;
      const f16 = encodeMessage(m, 'float16').length;
      const i8 = encodeMessage(m, 'int8').length;
      expect(f32).toBeGreaterThan(50_890 * 4);
      expect(i8 / f32).toBeLessThanOrEqual(0.27);
      expect(f16 / f32).toBeLessThanOrEqual(0.52);
    }
  });

  it('decodes a 600 KB WeightSet', () => {
    const m: UpdateMessage = { ...(sampleMessages()[3] as UpdateMessage), delta: randomWeights(LARGE_SHAPES, 4) };
    const bytes = encodeMessage(m, 'float32');
    expect(bytes.length).toBeGreaterThan(600 * 1024);
    expect(decodeMessage(bytes)).toEqual(m);
  });

  it('refuses to encode an invalid message, naming the field', () => {
    const update = sampleMessages()[3] as UpdateMessage;
    const delta = update.delta.map((t) => ({ ...t, values: new Float32Array(t.values) }));
    delta[0].values[5] = NaN;
    expect(() => encodeMessage({ ...update, delta }, 'int8')).toThrow(/cannot encode update: update.delta\[0\] "fc1\/kernel": non-finite value NaN at index 5/);
    expect(() => encodeMessage({ ...update, assignment: -2 }, 'float32')).toThrow(/update.assignment/);
    expect(() => encodeMessage(update, 'bfloat16' as WeightCodecName)).toThrow(/unknown weight codec "bfloat16"/);
    expect(() => encodeMessage(update, 'float32', wireLimits({ maxMessageBytes: 1000 }))).toThrow(/exceeds the 1000-byte message limit/);
  });

  it('rejects NaN smuggled into the bytes of a float32 blob', () => {
    const update = sampleMessages()[3] as UpdateMessage;
    const delta = update.delta.map((t) => ({ ...t, values: new Float32Array(t.values) }));
    delta[3].values[4] = 1234.5678; // a marker value whose bytes we can find
    const bytes = encodeMessage({ ...update, delta }, 'float32');
    const marker = new Uint8Array(Float32Array.of(1234.5678).buffer);
    let at = -1;
    for (let i = 0; i + 4 <= bytes.length && at < 0; i++) if (marker.every((b, k) => bytes[i + k] === b)) at = i;
    expect(at).toBeGreaterThan(0);
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(at, NaN, true);
    expect(tryDecodeMessage(bytes)).toEqual({ ok: false, reason: 'update.delta[3] "logits/bias": non-finite value NaN at index 4' });
    new DataView(bytes.buffer, bytes.byteOffset).setFloat32(at, Infinity, true);
    expect(() => decodeMessage(bytes)).toThrow(/non-finite value Infinity at index 4/);
  });

  it('rejects a wire tensor whose shape does not match its blob', () => {
    const weights = [{ name: 'w', shape: [2, 3], codec: 'float32', data: new Uint8Array(20) }];
    const start = sampleMessages()[2] as RoundStartMessage;
    const bytes = encode({ ...start, weights });
    expect(tryDecodeMessage(bytes)).toEqual({
      ok: false,
      reason: 'round-start.weights[0] "w": float32 blob of 20 bytes, expected 24 for 6 values',
    });
    const badCodec = encode({ ...start, weights: [{ ...weights[0], codec: 'float8' }] });
    expect(tryDecodeMessage(badCodec)).toEqual({ ok: false, reason: 'round-start.weights[0]: unknown tensor codec "float8"' });
    const notBinary = encode({ ...start, weights: [{ ...weights[0], data: [1, 2, 3] }] });
    expect(tryDecodeMessage(notBinary)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a binary blob/) });
  });

  it('rejects unknown protocol versions before looking at the body', () => {
    const bytes = encode({ type: 'update', v: 99, assignment: 'whatever', delta: 'not tensors' });
    expect(tryDecodeMessage(bytes)).toEqual({
      ok: false,
      reason: `update.v: unsupported protocol version 99 (this build speaks ${PROTOCOL_VERSION})`,
    });
  });

  it('rejects bytes that are not msgpack or carry trailing garbage', () => {
    expect(tryDecodeMessage(Uint8Array.of(0xc1))).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid msgpack/) });
    const good = encodeMessage(sampleMessages()[8], 'float32');
    const trailing = new Uint8Array(good.length + 2);
    trailing.set(good);
    expect(tryDecodeMessage(trailing)).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid msgpack/) });
    expect(tryDecodeMessage(good.subarray(0, good.length - 1))).toMatchObject({ ok: false });
    expect(tryDecodeMessage(encode([1, 2, 3]))).toEqual({ ok: false, reason: 'message: expected an object, got an array' });
    expect(() => decodeMessage(encode({ type: 'hello', v: PROTOCOL_VERSION }))).toThrow(/hello.clientName: expected a string/);
  });
});
