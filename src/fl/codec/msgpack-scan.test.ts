import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { splitIntoFrames } from './frames';
import { WIRE_LIMITS, maxArrayEntries } from './limits';
import { tryDecodeMessage, encodeMessage } from './message-codec';
import { msgpackBounds, scanMsgpack } from './msgpack-scan';
import { sampleMessages } from './test-messages';
import { createWireCodec } from './wire-codec';

const bounds = msgpackBounds(WIRE_LIMITS);

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function repeat(pattern: number[], times: number): Uint8Array {
  const out = new Uint8Array(pattern.length * times);
  for (let i = 0; i < times; i++) out.set(pattern, i * pattern.length);
  return out;
}

/** A valid-looking message map { type: 'hello', v: 1, x: <value> }: the bomb sits in a field. */
function inMessage(value: Uint8Array): Uint8Array {
  return concat([0x83], encode('type'), encode('hello'), encode('v'), [1], encode('x'), value);
}

/**
 * Runs `decodeIt`, returning how long it took and how much the process's resident memory grew.
 * The bombs below made the unguarded decoder allocate gigabytes and block for seconds.
 */
function measure(decodeIt: () => void): { ms: number; rssGrowthMb: number } {
  const before = process.memoryUsage().rss;
  const start = performance.now();
  decodeIt();
  const ms = performance.now() - start;
  return { ms, rssGrowthMb: (process.memoryUsage().rss - before) / 2 ** 20 };
}

const BOMBS: Record<string, Uint8Array> = {
  // 15 KB of array16 headers, each declaring 65,535 elements, nested: the decoder allocated 2.7 GB from these.
  'nested array16 headers (15 KB)': repeat([0xdc, 0xff, 0xff], 5000),
  'nested map16 headers (15 KB)': repeat([0xde, 0xff, 0xff], 5000),
  'nested array32 headers': repeat([0xdd, 0xff, 0xff, 0xff, 0xff], 3000),
  'array32 declaring 2^32-1 elements': concat([0xdd, 0xff, 0xff, 0xff, 0xff], [0xc0]),
  'map32 declaring 2^32-1 entries': concat([0xdf, 0xff, 0xff, 0xff, 0xff], [0xc0, 0xc0]),
  'str32 declaring 4 GB': concat([0xdb, 0xff, 0xff, 0xff, 0xff], [0x61]),
  'bin32 declaring 4 GB': concat([0xc6, 0xff, 0xff, 0xff, 0xff], [0x61]),
  'bin32 declaring 60 MB, in a message field': inMessage(concat([0xc6, 0x03, 0x93, 0x87, 0x00], [1, 2, 3])),
  'ext32 declaring 4 GB': concat([0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0x61]),
  'array16 of 65,535 nils (more than any protocol list)': concat([0xdc, 0xff, 0xff], new Uint8Array(65535).fill(0xc0)),
  'deep nesting of one-element arrays (1,000 levels)': concat(new Uint8Array(1000).fill(0x91), [0xc0]),
  'nesting one level deeper than the limit, in a message field': inMessage(
    concat(new Uint8Array(WIRE_LIMITS.maxNestingDepth).fill(0x91), [0xc0]),
  ),
  // A 256 KB frame (the largest a DataChannel carries) of nested array16 headers: it aborted the tab.
  '256 KB of nested array16 headers': repeat([0xdc, 0xff, 0xff], Math.floor((256 * 1024 - 32) / 3)),
};

describe('decoder bombs', () => {
  for (const [name, bytes] of Object.entries(BOMBS)) {
    it(`rejects ${name} in under 50 ms without growing memory`, () => {
      let result: ReturnType<typeof tryDecodeMessage> | undefined;
      const { ms, rssGrowthMb } = measure(() => {
        result = tryDecodeMessage(bytes);
      });
      expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^message is not valid msgpack: msgpack[: ]/) });
      expect(ms).toBeLessThan(50);
      expect(rssGrowthMb).toBeLessThan(200);
    });
  }

  it('rejects a bomb sent as frames through the wire decoder, and the decoder still works', () => {
    const codec = createWireCodec('float32');
    const decoder = codec.createDecoder();
    const { ms, rssGrowthMb } = measure(() => {
      let id = 1;
      for (const bytes of Object.values(BOMBS)) {
        for (const frame of splitIntoFrames(bytes, id++)) {
          const r = decoder.push(frame);
          expect(r.messages).toEqual([]);
          for (const e of r.errors) expect(e).toMatch(/^message rejected: message is not valid msgpack: msgpack[: ]/);
        }
      }
    });
    expect(ms).toBeLessThan(50 * Object.keys(BOMBS).length);
    expect(rssGrowthMb).toBeLessThan(200);
    expect(decoder.stats().errors).toBe(Object.keys(BOMBS).length);
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
    const atLimit = concat(new Uint8Array(bounds.maxDepth).fill(0x91), [0xc0]);
    expect(scanMsgpack(atLimit, bounds)).toBeNull();
    expect(scanMsgpack(concat([0x91], atLimit), bounds)).toBe(`msgpack nesting deeper than ${bounds.maxDepth}`);
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

  it('survives 20,000 mutated messages (flipped bits, forged length headers, cuts) without throwing or stalling', () => {
    const rng = new Rng(77);
    const small = sampleMessages()
      .filter((m) => !['round-start', 'update', 'eval-request', 'checkpoint'].includes(m.type))
      .map((m) => encodeMessage(m, 'int8'));
    expect(small.length).toBeGreaterThan(5);
    const HEADERS = [0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xc7, 0xc8, 0xc9, 0x9f, 0x8f, 0xbf];
    let accepted = 0;
    const start = performance.now();
    for (let i = 0; i < 20_000; i++) {
      const original = small[rng.int(small.length)];
      let bytes: Uint8Array = original.slice();
      switch (rng.int(4)) {
        case 0:
          for (let k = 1 + rng.int(4); k > 0; k--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
          break;
        case 1: {
          // A container or string header with a large length, written over the message somewhere.
          const at = rng.int(bytes.length);
          bytes[at] = HEADERS[rng.int(HEADERS.length)];
          for (let k = 1; k <= 4 && at + k < bytes.length; k++) bytes[at + k] = rng.next() < 0.5 ? 0xff : rng.int(256);
          break;
        }
        case 2:
          bytes = bytes.subarray(0, rng.int(bytes.length));
          break;
        default: {
          const at = rng.int(bytes.length);
          bytes = concat(bytes.subarray(0, at), repeat([0xdc, 0xff, 0xff], 1 + rng.int(50)), bytes.subarray(at));
        }
      }
      const r = tryDecodeMessage(bytes);
      if (r.ok) accepted++;
      else expect(r.reason).not.toMatch(/internal/);
    }
    // Some flips leave a valid message (a different number, say); none may take long.
    expect(accepted).toBeLessThan(20_000 * 0.2);
    expect(performance.now() - start).toBeLessThan(20_000);
  });
});
