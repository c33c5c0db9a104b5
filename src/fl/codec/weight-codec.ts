/**
 * How tensor values travel, chosen per session:
 *  - float32: exact, 4 bytes/value, little-endian.
 *  - float16: IEEE binary16, round-to-nearest-even, 2 bytes/value. Relative error <= 2^-11 in the normal range
 *    (|x| >= 2^-14); smaller values become half subnormals (absolute error <= 2^-25) or signed zero.
 *    A tensor holding a value that would overflow half (|x| >= 65520, i.e. it would round to Infinity) is sent
 *    as float32 instead, so nothing is clipped; the blob's codec tag says so.
 *  - int8: per-tensor affine 8-bit quantisation. Blob = min (float32 LE) + scale (float32 LE) + one byte q per
 *    value (0..255), x ~= min + q * scale with scale ~= (max - min) / 255. Error per value <= scale / 2, plus the
 *    float32 rounding of the reconstructed value. Empty tensors have min = scale = 0; constant tensors scale = 0
 *    and decode exactly.
 * Values must be finite: encoding NaN or +-Infinity throws (weights are finite by contract; validate.ts rejects
 * non-finite values arriving from a peer).
 */
import { float16BitsSimd } from '../linalg/float-scan-simd';
import { firstNonFinite, type NamedTensor } from '../weights';
import { WireFormatError } from './errors';

export type WeightCodecName = 'float32' | 'float16' | 'int8';

export const WEIGHT_CODEC_NAMES: readonly WeightCodecName[] = ['float32', 'float16', 'int8'];

export function isWeightCodecName(x: unknown): x is WeightCodecName {
  return typeof x === 'string' && (WEIGHT_CODEC_NAMES as readonly string[]).includes(x);
}

/** Largest finite half value. */
export const FLOAT16_MAX = 65504;
/** Bytes in front of the int8 values: min and scale as float32. */
export const INT8_HEADER_BYTES = 8;

/** One tensor in its wire form. `codec` may differ from the session codec (float16 overflow falls back to float32). */
export interface EncodedTensor {
  name: string;
  shape: number[];
  codec: WeightCodecName;
  data: Uint8Array;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Half bits of the float32 with bit pattern `b` (IEEE: overflow -> Infinity, NaN stays NaN). */
function halfBitsFromFloat32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    let h = sign | (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent (and reaches Infinity at the top).
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return h;
  }
  // Half subnormal: value = h * 2^-24, h = significand * 2^(exp - 126).
  const shift = 14 - e;
  if (shift > 24) return sign;
  const significand = mant | 0x800000;
  let h = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++;
  return sign | h;
}

export function float32ToFloat16Bits(x: number): number {
  scratchF32[0] = x;
  return halfBitsFromFloat32Bits(scratchU32[0]);
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let halfTable: Float32Array | null = null;
function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) halfTable[h] = float16BitsToFloat32(h);
  return halfTable;
}

function nextFloat32Up(x: number): number {
  scratchF32[0] = x;
  scratchU32[0] += 1; // x >= 0 here, so the next bit pattern is the next larger float
  return scratchF32[0];
}

function assertFiniteValues(t: NamedTensor): void {
  const i = firstNonFinite(t.values);
  if (i >= 0) throw new WireFormatError(`cannot encode tensor "${t.name}": non-finite value ${t.values[i]} at index ${i}`);
}

/** Below this many values the JS loop is cheaper than copying into the SIMD kernel's memory. */
const FLOAT16_SIMD_FROM = 256;

/** The wire is little-endian; so is every platform fedtab runs on, where typed arrays can copy bytes as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function encodeFloat32(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.slice().buffer);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Half bits, or null when some value would overflow to Infinity. (The values are finite: checked before.) */
function encodeFloat16(values: Float32Array): Uint8Array | null {
  const simd = LITTLE_ENDIAN && values.length >= FLOAT16_SIMD_FROM ? float16BitsSimd(values) : null;
  if (simd) return simd.overflow ? null : new Uint8Array(simd.halves.buffer);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint8Array(values.length * 2);
  if (LITTLE_ENDIAN) {
    const halves = new Uint16Array(out.buffer);
    for (let i = 0; i < bits.length; i++) {
      const h = halfBitsFromFloat32Bits(bits[i]);
      if ((h & 0x7c00) === 0x7c00) return null;
      halves[i] = h;
    }
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = halfBitsFromFloat32Bits(bits[i]);
    if ((h & 0x7c00) === 0x7c00) return null;
    view.setUint16(i * 2, h, true);
  }
  return out;
}

/** min and scale of the int8 quantisation: float32 numbers with (max - min) / scale <= 255. */
export function int8Parameters(values: Float32Array): { min: number; scale: number } {
  if (values.length === 0) return { min: 0, scale: 0 };
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  if (max === min) return { min, scale: 0 };
  let scale = Math.fround((max - min) / 255);
  while (scale === 0 || (max - min) / scale > 255) scale = nextFloat32Up(scale);
  return { min, scale };
}

function encodeInt8(values: Float32Array): Uint8Array {
  const { min, scale } = int8Parameters(values);
  const out = new Uint8Array(INT8_HEADER_BYTES + values.length);
  const view = new DataView(out.buffer);
  view.setFloat32(0, min, true);
  view.setFloat32(4, scale, true);
  if (scale > 0) {
    for (let i = 0; i < values.length; i++) {
      const q = Math.round((values[i] - min) / scale);
      out[INT8_HEADER_BYTES + i] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
  }
  return out;
}

/** A tensor in a codec; throws on NaN or Infinity. */
export function encodeTensor(tensor: NamedTensor, codec: WeightCodecName): EncodedTensor {
  assertFiniteValues(tensor);
  return encodeScannedTensor(tensor, codec);
}

/** As encodeTensor, for values already scanned for NaN and Infinity (encodeMessage's validateMessage did): no second scan. */
export function encodeScannedTensor(tensor: NamedTensor, codec: WeightCodecName): EncodedTensor {
  const base = { name: tensor.name, shape: [...tensor.shape] };
  switch (codec) {
    case 'float32':
      return { ...base, codec, data: encodeFloat32(tensor.values) };
    case 'float16': {
      const half = encodeFloat16(tensor.values);
      return half ? { ...base, codec, data: half } : { ...base, codec: 'float32', data: encodeFloat32(tensor.values) };
    }
    case 'int8':
      return { ...base, codec, data: encodeInt8(tensor.values) };
  }
}

/** Blob length a codec needs for `count` values. */
export function encodedByteLength(codec: WeightCodecName, count: number): number {
  switch (codec) {
    case 'float32':
      return count * 4;
    case 'float16':
      return count * 2;
    case 'int8':
      return INT8_HEADER_BYTES + count;
  }
}

/**
 * Values of a blob holding `count` values. Throws WireFormatError on a length mismatch or a bad int8 header;
 * it does not check the values for NaN/Infinity (validate.ts does).
 */
export function decodeValues(codec: WeightCodecName, data: Uint8Array, count: number, what = 'tensor'): Float32Array {
  const expected = encodedByteLength(codec, count);
  if (data.length !== expected) {
    throw new WireFormatError(`${what}: ${codec} blob of ${data.length} bytes, expected ${expected} for ${count} values`);
  }
  // A copy: the result never keeps the (larger, peer-supplied) message buffer alive, and is aligned.
  if (codec === 'float32' && LITTLE_ENDIAN) return new Float32Array(data.slice().buffer);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  switch (codec) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'float16': {
      const table = float16Table();
      if (LITTLE_ENDIAN) {
        const halves = data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, count) : new Uint16Array(data.slice().buffer);
        for (let i = 0; i < count; i++) out[i] = table[halves[i]];
        return out;
      }
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)];
      return out;
    }
    case 'int8': {
      const min = view.getFloat32(0, true);
      const scale = view.getFloat32(4, true);
      if (!Number.isFinite(min) || !Number.isFinite(scale) || scale < 0) {
        throw new WireFormatError(`${what}: int8 blob has invalid min ${min} / scale ${scale}`);
      }
      for (let i = 0; i < count; i++) out[i] = min + data[INT8_HEADER_BYTES + i] * scale;
      return out;
    }
  }
}

export function decodeTensor(encoded: EncodedTensor): NamedTensor {
  const count = encoded.shape.reduce((a, b) => a * b, 1);
  return {
    name: encoded.name,
    shape: [...encoded.shape],
    values: decodeValues(encoded.codec, encoded.data, count, `tensor "${encoded.name}"`),
  };
}
