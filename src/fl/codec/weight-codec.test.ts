import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import type { NamedTensor } from '../weights';
import {
  decodeTensor,
  decodeValues,
  encodeTensor,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  int8Parameters,
  INT8_HEADER_BYTES,
} from './weight-codec';

const tensor = (values: number[] | Float32Array, shape = [values.length]): NamedTensor => ({
  name: 't',
  shape,
  values: values instanceof Float32Array ? values : Float32Array.from(values),
});

/** Values spread over many magnitudes, both signs, all normal in half precision. */
function spreadValues(n: number, seed: number, minExp: number, maxExp: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const e = minExp + rng.next() * (maxExp - minExp);
    out[i] = (rng.next() < 0.5 ? -1 : 1) * 2 ** e;
  }
  return out;
}

describe('float16 conversion', () => {
  it('encodes known values bit-exactly', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0)).toBe(0x0000);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
  });

  it('rounds to nearest, ties to even, in normal and subnormal range', () => {
    // 1 + 2^-11 lies halfway between 1 (even mantissa) and 1 + 2^-10: goes to 1.
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3*2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): goes up.
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // halfway to the smallest subnormal: even is 0
    expect(float32ToFloat16Bits(1.5 * 2 ** -24)).toBe(0x0002); // halfway between 1 and 2 subnormal ulps
    expect(float32ToFloat16Bits(2 ** -25 + 2 ** -35)).toBe(0x0001);
    expect(float32ToFloat16Bits(2 ** -30)).toBe(0x0000);
    // Largest subnormal + carry into the smallest normal.
    expect(float32ToFloat16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400);
  });

  it('follows IEEE for overflow and special values', () => {
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff); // below the rounding boundary
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to Infinity
    expect(float32ToFloat16Bits(-1e9)).toBe(0xfc00);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
  });

  it('round-trips every finite half value exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const x = float16BitsToFloat32(h);
      if (Math.fround(x) !== x || float32ToFloat16Bits(x) !== h) throw new Error(`half 0x${h.toString(16)} -> ${x} -> 0x${float32ToFloat16Bits(x).toString(16)}`);
    }
  });
});

describe('weight codecs', () => {
  it('float32 is exact, including -0 and extreme finite values', () => {
    const values = Float32Array.from([0, -0, 1.5, -3.4028234663852886e38, 1.401298464324817e-45, Math.PI]);
    const back = decodeTensor(encodeTensor(tensor(values), 'float32'));
    expect(back.values).toEqual(values);
    expect(Object.is(back.values[1], -0)).toBe(true);
  });

  it('float16 relative error <= 2^-11 across the normal range', () => {
    const values = spreadValues(20_000, 5, -14, 15.99);
    const back = decodeTensor(encodeTensor(tensor(values, [100, 200]), 'float16'));
    expect(back.shape).toEqual([100, 200]);
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(back.values[i] - values[i]) / Math.abs(values[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -13); // it does round
  });

  it('float16 absolute error <= 2^-25 below the normal range', () => {
    const values = spreadValues(5_000, 6, -40, -14);
    const back = decodeTensor(encodeTensor(tensor(values), 'float16')).values;
    for (let i = 0; i < values.length; i++) expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(2 ** -25);
  });

  it('float16 sends a tensor as float32 when a value would overflow half, nothing clipped', () => {
    const values = Float32Array.from([0.5, 70_000, -1]);
    const encoded = encodeTensor(tensor(values), 'float16');
    expect(encoded.codec).toBe('float32');
    expect(decodeTensor(encoded).values).toEqual(values);
    const fits = encodeTensor(tensor([0.5, 65504, -1]), 'float16');
    expect(fits.codec).toBe('float16');
    expect(fits.data.length).toBe(6);
  });

  it('int8 error <= scale/2 per value (plus float32 rounding), 1 byte per value', () => {
    const rng = new Rng(9);
    const values = new Float32Array(10_000);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal() * 0.3 + 0.1;
    const encoded = encodeTensor(tensor(values), 'int8');
    expect(encoded.data.length).toBe(INT8_HEADER_BYTES + values.length);
    const { min, scale } = int8Parameters(values);
    const back = decodeTensor(encoded).values;
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const allowed = scale / 2 + Math.abs(values[i]) * 2 ** -24 + 1e-12;
      const err = Math.abs(back[i] - values[i]);
      worst = Math.max(worst, err);
      if (err > allowed) throw new Error(`value ${values[i]} decoded as ${back[i]}: error ${err} > ${allowed}`);
    }
    expect(worst).toBeGreaterThan(scale / 4); // quantisation really happened
    expect(Math.min(...back)).toBeCloseTo(min, 6);
  });

  it('int8 keeps min and max within the bound and handles a wide range', () => {
    const values = Float32Array.from([-3e38, 3e38, 0, 1, -1]);
    const { scale } = int8Parameters(values);
    const back = decodeTensor(encodeTensor(tensor(values), 'int8')).values;
    for (let i = 0; i < values.length; i++) expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(scale / 2 * (1 + 1e-6));
  });

  it('int8 handles empty and constant tensors exactly', () => {
    const empty = encodeTensor(tensor([], [0, 5]), 'int8');
    expect(empty.data.length).toBe(INT8_HEADER_BYTES);
    expect(decodeTensor(empty)).toEqual({ name: 't', shape: [0, 5], values: new Float32Array(0) });
    const constant = decodeTensor(encodeTensor(tensor([0.37, 0.37, 0.37]), 'int8')).values;
    expect(constant).toEqual(Float32Array.from([0.37, 0.37, 0.37]));
    const scalar = decodeTensor(encodeTensor(tensor([-2.5], []), 'int8'));
    expect(scalar.shape).toEqual([]);
    expect(scalar.values).toEqual(Float32Array.from([-2.5]));
  });

  it('rejects NaN and Infinity at encode time in every codec', () => {
    for (const codec of ['float32', 'float16', 'int8'] as const) {
      expect(() => encodeTensor(tensor([1, NaN]), codec)).toThrow(/non-finite value NaN at index 1/);
      expect(() => encodeTensor(tensor([-Infinity]), codec)).toThrow(/non-finite/);
    }
  });

  it('rejects blobs of the wrong length and int8 blobs with a bad header', () => {
    expect(() => decodeValues('float32', new Uint8Array(7), 2)).toThrow(/float32 blob of 7 bytes, expected 8/);
    expect(() => decodeValues('float16', new Uint8Array(3), 2)).toThrow(/expected 4/);
    expect(() => decodeValues('int8', new Uint8Array(2), 2)).toThrow(/expected 10/);
    const badScale = new Uint8Array(INT8_HEADER_BYTES + 1);
    new DataView(badScale.buffer).setFloat32(4, -1, true);
    expect(() => decodeValues('int8', badScale, 1)).toThrow(/invalid min 0 \/ scale -1/);
    new DataView(badScale.buffer).setFloat32(4, NaN, true);
    expect(() => decodeValues('int8', badScale, 1)).toThrow(/scale NaN/);
  });
});
