/**
 * Hostile msgpack for the decoder's tests and for `npm run bench:hostile`, which times what the tests only check for
 * refusal (not used at runtime).
 */
import { encode } from '@msgpack/msgpack';
import type { Rng } from '../rng';
import { WIRE_LIMITS } from './limits';
import { encodeMessage } from './message-codec';
import { sampleMessages } from './test-messages';

export function concatBytes(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `pattern` repeated `times` times. */
export function repeatBytes(pattern: readonly number[], times: number): Uint8Array {
  const out = new Uint8Array(pattern.length * times);
  for (let i = 0; i < times; i++) out.set(pattern, i * pattern.length);
  return out;
}

/** A valid-looking message map { type: 'hello', v: 1, x: <value> }: the bomb sits in a field. */
export function inHelloField(value: Uint8Array): Uint8Array {
  return concatBytes([0x83], encode('type'), encode('hello'), encode('v'), [1], encode('x'), value);
}

/** Messages that made the unguarded decoder allocate gigabytes or block for seconds. */
export const DECODER_BOMBS: Readonly<Record<string, Uint8Array>> = {
  // 15 KB of array16 headers, each declaring 65,535 elements, nested: the decoder allocated 2.7 GB from these.
  'nested array16 headers (15 KB)': repeatBytes([0xdc, 0xff, 0xff], 5000),
  'nested map16 headers (15 KB)': repeatBytes([0xde, 0xff, 0xff], 5000),
  'nested array32 headers': repeatBytes([0xdd, 0xff, 0xff, 0xff, 0xff], 3000),
  'array32 declaring 2^32-1 elements': concatBytes([0xdd, 0xff, 0xff, 0xff, 0xff], [0xc0]),
  'map32 declaring 2^32-1 entries': concatBytes([0xdf, 0xff, 0xff, 0xff, 0xff], [0xc0, 0xc0]),
  'str32 declaring 4 GB': concatBytes([0xdb, 0xff, 0xff, 0xff, 0xff], [0x61]),
  'bin32 declaring 4 GB': concatBytes([0xc6, 0xff, 0xff, 0xff, 0xff], [0x61]),
  'bin32 declaring 60 MB, in a message field': inHelloField(concatBytes([0xc6, 0x03, 0x93, 0x87, 0x00], [1, 2, 3])),
  'ext32 declaring 4 GB': concatBytes([0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0x61]),
  'array16 of 65,535 nils (more than any protocol list)': concatBytes([0xdc, 0xff, 0xff], new Uint8Array(65535).fill(0xc0)),
  'deep nesting of one-element arrays (1,000 levels)': concatBytes(new Uint8Array(1000).fill(0x91), [0xc0]),
  'nesting one level deeper than the limit, in a message field': inHelloField(concatBytes(new Uint8Array(WIRE_LIMITS.maxNestingDepth).fill(0x91), [0xc0])),
  // A 256 KB frame (the largest a DataChannel carries) of nested array16 headers: it aborted the tab.
  '256 KB of nested array16 headers': repeatBytes([0xdc, 0xff, 0xff], Math.floor((256 * 1024 - 32) / 3)),
};

/** The small protocol messages (int8-encoded) that mutateMessage starts from. */
export function mutationSources(): Uint8Array[] {
  return sampleMessages()
    .filter((m) => !['round-start', 'update', 'eval-request', 'checkpoint'].includes(m.type))
    .map((m) => encodeMessage(m, 'int8'));
}

const HEADERS = [0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xc7, 0xc8, 0xc9, 0x9f, 0x8f, 0xbf];

/** One of `sources`, mutated: flipped bits, a forged length header, a cut, or nested array16 headers spliced in. */
export function mutateMessage(rng: Rng, sources: readonly Uint8Array[]): Uint8Array {
  const original = sources[rng.int(sources.length)];
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
      bytes = concatBytes(bytes.subarray(0, at), repeatBytes([0xdc, 0xff, 0xff], 1 + rng.int(50)), bytes.subarray(at));
    }
  }
  return bytes;
}
