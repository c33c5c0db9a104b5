import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { splitIntoFrames } from './frames';
import { WIRE_LIMITS, maxArrayEntries } from './limits';
import { tryDecodeMessage, encodeMessage } from './message-codec';
import { msgpackBounds, scanMsgpack } from './msgpack-scan';
import { concatBytes, DECODER_BOMBS, mutateMessage, mutationSources } from './test-bombs';
import { sampleMessages } from './test-messages';
import { createWireCodec } from './wire-codec';

const bounds = msgpackBounds(WIRE_LIMITS);

// How fast and with how little memory each bomb is refused: `npm run bench:hostile` (docs/benchmarks/hostile.md).
describe('decoder bombs', () => {
  for (const [name, bytes] of Object.entries(DECODER_BOMBS)) {
    it(`rejects ${name}`, () => {
      expect(tryDecodeMessage(bytes)).toMatchObject({ ok: false, reason: expect.stringMatching(/^message is not valid msgpack: msgpack[: ]/) });
    });
  }

  it('rejects a bomb sent as frames through the wire decoder, and the decoder still works', () => {
    const codec = createWireCodec('float32');
    const decoder = codec.createDecoder();
    let id = 1;
    for (const bytes of Object.values(DECODER_BOMBS)) {
      for (const frame of splitIntoFrames(bytes, id++)) {
        const r = decoder.push(frame);
        expect(r.messages).toEqual([]);
        for (const e of r.errors) expect(e).toMatch(/^message rejected: message is not valid msgpack: msgpack[: ]/);
      }
    }
    expect(decoder.stats().errors).toBe(Object.keys(DECODER_BOMBS).length);
    const hello = sampleMessages()[0];
    expect(codec.encode(hello).flatMap((f) => decoder.push(f).messages)).toEqual([hello]);
  });
});

describe('scanMsgpack', () => {
  it('accepts every protocol message, which needs at most 6 levels of nesting (a checkpoint with server state)', () => {
    for (const m of sampleMessages()) {
      const bytes = encodeMessage(m, 'int8');
      expect(scanMsgpack(bytes, bounds), m.type).toBeNull();
      expect(scanMsgpack(bytes, { ...bounds, maxDepth: 6 }), m.type).toBeNull();
    }
    expect(WIRE_LIMITS.maxNestingDepth).toBeGreaterThan(6);
  });

  it('accepts nesting exactly at the limit and refuses one more level', () => {
    const atLimit = concatBytes(new Uint8Array(bounds.maxDepth).fill(0x91), [0xc0]);
    expect(scanMsgpack(atLimit, bounds)).toBeNull();
    expect(scanMsgpack(concatBytes([0x91], atLimit), bounds)).toBe(`msgpack nesting deeper than ${bounds.maxDepth}`);
  });

  it('accepts lists up to the longest protocol list and refuses longer ones', () => {
    const max = maxArrayEntries(WIRE_LIMITS);
    expect(max).toBe(WIRE_LIMITS.maxClasses);
    expect(scanMsgpack(encode(new Array(max).fill(1)), bounds)).toBeNull();
    expect(scanMsgpack(encode(new Array(max + 1).fill(1)), bounds)).toBe(`msgpack array of ${max + 1} entries exceeds ${max}`);
    const wide = Object.fromEntries(Array.from({ length: WIRE_LIMITS.maxMapEntries + 1 }, (_, i) => [`k${i}`, i]));
    expect(scanMsgpack(encode(wide), bounds)).toMatch(/^msgpack map of 65 entries exceeds 64$/);
  });

  it('checks declared sizes against the bytes left, counting the elements every open container still owes', () => {
    // [[1, 2], x]: the outer array owes one more element after the inner one, so [0x92, 0x92, 1, 2] is one byte short.
    expect(scanMsgpack(Uint8Array.of(0x92, 0x92, 1, 2, 3), bounds)).toBeNull();
    expect(scanMsgpack(Uint8Array.of(0x92, 0x92, 1, 2), bounds)).toBe('msgpack array declares 2 entries, only 2 bytes left');
    expect(scanMsgpack(Uint8Array.of(0x92, 0xcd, 1, 2), bounds)).toBe('msgpack truncated at byte 4');
    expect(scanMsgpack(Uint8Array.of(0x92, 0x93, 1, 2), bounds)).toBe('msgpack array declares 3 entries, only 2 bytes left');
    expect(scanMsgpack(Uint8Array.of(0xa5, 0x61, 0x62), bounds)).toBe('msgpack str declares 5 bytes, only 2 left');
    expect(scanMsgpack(Uint8Array.of(0xcb, 0, 0), bounds)).toBe('msgpack truncated at byte 1');
    expect(scanMsgpack(Uint8Array.of(0xc0, 0xc0), bounds)).toBe('msgpack: 1 extra bytes after the message');
    expect(scanMsgpack(Uint8Array.of(0xc1), bounds)).toBe('msgpack: reserved byte 0xc1 at byte 0');
    expect(scanMsgpack(new Uint8Array(0), bounds)).toBe('msgpack truncated at byte 0');
    expect(scanMsgpack(Uint8Array.of(0xd4, 1, 2), bounds)).toMatch(/ext value/);
  });

  it('refuses every truncation of a valid message and never throws on random bytes', () => {
    const bytes = encodeMessage(sampleMessages()[2], 'int8');
    for (let cut = 0; cut < bytes.length; cut += 97) expect(scanMsgpack(bytes.subarray(0, cut), bounds)).not.toBeNull();
    const rng = new Rng(11);
    for (let i = 0; i < 20_000; i++) {
      const junk = new Uint8Array(1 + rng.int(64));
      for (let k = 0; k < junk.length; k++) junk[k] = rng.int(256);
      const verdict = scanMsgpack(junk, bounds);
      // Whatever the scanner lets through, the decoder handles without escaping exceptions.
      if (verdict === null) expect(() => tryDecodeMessage(junk)).not.toThrow();
    }
  });

  it('survives 20,000 mutated messages (flipped bits, forged length headers, cuts) without throwing', () => {
    const rng = new Rng(77);
    const sources = mutationSources();
    expect(sources.length).toBeGreaterThan(5);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const r = tryDecodeMessage(mutateMessage(rng, sources));
      if (r.ok) accepted++;
      else expect(r.reason).not.toMatch(/internal/);
    }
    // Some flips leave a valid message (a different number, say). How long the 20,000 take: npm run bench:hostile.
    expect(accepted).toBeLessThan(20_000 * 0.2);
  });
});
