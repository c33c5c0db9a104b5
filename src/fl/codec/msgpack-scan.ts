/**
 * Checks the structure of msgpack bytes before anything is decoded, allocating nothing that depends on them.
 * @msgpack/msgpack trusts a declared array/map length and allocates from it before reading the elements, so a
 * few kilobytes of nested array16 headers can make it allocate gigabytes. This scanner walks every header once
 * (O(bytes), a stack of at most maxDepth counters) and refuses:
 *  - a str/bin/ext length, or an array/map element count, larger than the bytes left (each element takes at
 *    least one byte, so the elements still owed by all open containers must fit in what is left);
 *  - nesting deeper than maxDepth, more elements or entries than the protocol's limits, any ext value, the
 *    never-used byte 0xc1, and bytes after the one top-level value;
 *  - more objects (maps, arrays, strings, binaries) than maxObjects: each costs the decoder tens of bytes of memory
 *    even when it took one byte on the wire (an 8 MB message of empty maps made it build 8 million objects).
 */
import { maxArrayEntries, maxObjectsPerMessage, maxStringBytes, type WireLimits } from './limits';

/** The bounds one scan (and the msgpack Decoder behind it) applies. */
export interface MsgpackBounds {
  maxDepth: number;
  maxArrayLength: number;
  maxMapEntries: number;
  maxStrBytes: number;
  maxBinBytes: number;
  /** Maps, arrays, strings and binaries in the whole message, counted at any depth. */
  maxObjects: number;
}

/** The msgpack bounds a message under `limits` needs: the one place they are derived from the wire limits. */
export function msgpackBounds(limits: WireLimits): MsgpackBounds {
  return {
    maxDepth: limits.maxNestingDepth,
    maxArrayLength: maxArrayEntries(limits),
    maxMapEntries: limits.maxMapEntries,
    maxStrBytes: maxStringBytes(limits),
    maxBinBytes: limits.maxMessageBytes,
    maxObjects: Math.min(limits.maxObjects, maxObjectsPerMessage(limits)),
  };
}

/** Big-endian unsigned integer of `size` (1, 2 or 4) bytes at `at`; the caller checked the bytes exist. */
function readUint(bytes: Uint8Array, at: number, size: number): number {
  if (size === 1) return bytes[at];
  if (size === 2) return (bytes[at] << 8) | bytes[at + 1];
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

/** Size in bytes of the value after a fixed-size format byte (nil, bool, numbers); -1 if not one of those. */
function fixedPayload(b: number): number {
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return 0;
  switch (b) {
    case 0xcc:
    case 0xd0:
      return 1;
    case 0xcd:
    case 0xd1:
      return 2;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 4;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8;
    default:
      return -1;
  }
}

/**
 * Null when `bytes` hold exactly one msgpack value within `bounds`; otherwise why not.
 * Never throws and never allocates in proportion to anything the bytes declare.
 */
export function scanMsgpack(bytes: Uint8Array, bounds: MsgpackBounds): string | null {
  const n = bytes.length;
  // remaining[d]: elements still to read in the container open at depth d (depth 0: the top-level value).
  const remaining = new Float64Array(bounds.maxDepth + 1);
  remaining[0] = 1;
  let depth = 0;
  // Elements owed by all open containers; each takes at least one byte.
  let owed = 1;
  let objects = 0;
  let pos = 0;
  for (;;) {
    while (depth > 0 && remaining[depth] === 0) depth--;
    if (remaining[depth] === 0) break;
    remaining[depth]--;
    owed--;
    if (pos >= n) return `msgpack truncated at byte ${pos}`;
    const b = bytes[pos++];
    const fixed = fixedPayload(b);
    if (fixed >= 0) {
      if (fixed > n - pos) return `msgpack truncated at byte ${pos}`;
      pos += fixed;
      continue;
    }
    let kind: 'str' | 'bin' | 'array' | 'map';
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) {
      kind = 'str';
      length = b & 0x1f;
    } else if (b >= 0x90 && b <= 0x9f) {
      kind = 'array';
      length = b & 0x0f;
    } else if (b >= 0x80 && b <= 0x8f) {
      kind = 'map';
      length = b & 0x0f;
    } else {
      let sizeBytes: number;
      switch (b) {
        case 0xd9:
        case 0xda:
        case 0xdb:
          kind = 'str';
          sizeBytes = 1 << (b - 0xd9);
          break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
          kind = 'bin';
          sizeBytes = 1 << (b - 0xc4);
          break;
        case 0xdc:
        case 0xdd:
          kind = 'array';
          sizeBytes = b === 0xdc ? 2 : 4;
          break;
        case 0xde:
        case 0xdf:
          kind = 'map';
          sizeBytes = b === 0xde ? 2 : 4;
          break;
        case 0xc1:
          return `msgpack: reserved byte 0xc1 at byte ${pos - 1}`;
        default:
          // 0xc7-0xc9, 0xd4-0xd8: no message carries ext values.
          return `msgpack: ext value (0x${b.toString(16)}) at byte ${pos - 1}, not allowed`;
      }
      if (sizeBytes > n - pos) return `msgpack truncated at byte ${pos}`;
      length = readUint(bytes, pos, sizeBytes);
      pos += sizeBytes;
    }
    if (++objects > bounds.maxObjects) return `msgpack holds more than ${bounds.maxObjects} objects (maps, arrays, strings, binaries)`;
    const left = n - pos;
    if (kind === 'str' || kind === 'bin') {
      const max = kind === 'str' ? bounds.maxStrBytes : bounds.maxBinBytes;
      if (length > max) return `msgpack ${kind} of ${length} bytes exceeds ${max}`;
      if (length > left) return `msgpack ${kind} declares ${length} bytes, only ${left} left`;
      pos += length;
      continue;
    }
    const max = kind === 'array' ? bounds.maxArrayLength : bounds.maxMapEntries;
    if (length > max) return `msgpack ${kind} of ${length} entries exceeds ${max}`;
    const elements = kind === 'map' ? 2 * length : length;
    if (owed + elements > left) return `msgpack ${kind} declares ${length} entries, only ${left} bytes left`;
    if (elements === 0) continue;
    if (depth + 1 > bounds.maxDepth) return `msgpack nesting deeper than ${bounds.maxDepth}`;
    depth++;
    remaining[depth] = elements;
    owed += elements;
  }
  if (pos !== n) return `msgpack: ${n - pos} extra bytes after the message`;
  return null;
}
