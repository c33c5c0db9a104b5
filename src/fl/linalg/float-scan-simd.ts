/**
 * Two per-value loops that every model message passes through, on a WebAssembly SIMD kernel: the scan for NaN and
 * Infinity, and float32 -> float16 rounding (the float16 wire codec). Both run once per tensor per message, so in
 * JS they run cold in a session's first rounds (tens of ms for a 50k-value tensor on the aggregating tab's main
 * thread); here they cost about a copy of the values whatever the JIT has done.
 *
 * Same results as the JS loops (tested bit for bit): the float16 bits are IEEE round-to-nearest-even, as
 * weight-codec.ts's halfBitsFromFloat32Bits, computed with the integer form of F. Giesen's float_to_half_fast3_rtne
 * (the subnormal range through a float32 addition of 0.5, which rounds to nearest even). Null where WebAssembly SIMD
 * is unavailable: callers then run their JS loops.
 */
import { ensureMemory, functionBody, get, I32, kernelLoader, memarg, op, set, simd, simdOp, sleb, V128, VOID } from './wasm-asm';

const v128Load = [...simdOp.v128Load, ...memarg(4, 0)];
const V128_AND = simd(0x4e);
const V128_OR = simd(0x50);
const V128_XOR = simd(0x51);
const V128_BITSELECT = simd(0x52);
const V128_ANY_TRUE = simd(0x53);
const I32X4_SPLAT = simd(0x11);
const I32X4_EQ = simd(0x37);
const I32X4_LT_S = simd(0x39);
const I32X4_GT_S = simd(0x3b);
const I32X4_SHR_U = simd(0xad);
const I32X4_ADD = simd(0xae);
const I32X4_SUB = simd(0xb1);
const I16X8_NARROW_I32X4_U = simd(0x86);
const EXPONENT_MASK = 0x7f800000;

const splat = (x: number): number[] => [op.i32Const, ...sleb(x | 0), ...I32X4_SPLAT];

/**
 * scan(src, nBytes) -> byte offset of the first 16-byte vector holding a NaN or an Infinity, or nBytes if none.
 * Locals: 2 o, 3 mask.
 */
function scanBody(): number[] {
  const [src, nBytes, o, mask] = [0, 1, 2, 3];
  return [
    ...splat(EXPONENT_MASK), ...set(mask),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(nBytes), op.i32GeU, op.brIf, 1,
    ...get(src), ...get(o), op.i32Add, ...v128Load, ...get(mask), ...V128_AND, ...get(mask), ...I32X4_EQ, ...V128_ANY_TRUE, op.brIf, 1,
    ...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
    ...get(o),
  ];
}

/**
 * half(src, dst, nBytes) -> flags: the float16 bits of the float32 values at src (nBytes a multiple of 32) to dst;
 * flag 1: some finite value rounds past float16's largest (to Infinity), flag 2: some value is NaN or Infinity.
 * Locals: 3 o, 4 u, 5 a, 6 sign, 7 overflow mask, 8 non-finite mask, 9 first result.
 */
function halfBody(): number[] {
  const [src, dst, nBytes, o, u, a, sign, overflow, nonFinite, first] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  /** The float16 bits (in i32 lanes) of the 4 float32 values at src + o + offset. */
  const four = (offset: number): number[] => [
    ...get(src), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, offset), ...set(u),
    ...get(u), ...splat(0x80000000), ...V128_AND, ...set(sign),
    ...get(u), ...get(sign), ...V128_XOR, ...set(a),
    ...get(nonFinite), ...get(a), ...splat(0x7f7fffff), ...I32X4_GT_S, ...V128_OR, ...set(nonFinite),
    // Subnormal or zero half: bits(|x| + 0.5f) - bits(0.5f).
    ...get(a), ...splat(0x3f000000), ...simdOp.f32x4Add, ...splat(0x3f000000), ...I32X4_SUB,
    // Normal half: (|x| - (112 << 23) + 0xfff + mantissa-is-odd) >> 13.
    ...get(a), ...splat(0xc8000fff), ...I32X4_ADD, ...get(a), op.i32Const, 13, ...I32X4_SHR_U, ...splat(1), ...V128_AND, ...I32X4_ADD, op.i32Const, 13, ...I32X4_SHR_U,
    ...get(a), ...splat(113 << 23), ...I32X4_LT_S, ...V128_BITSELECT, ...set(u),
    ...get(overflow), ...get(u), ...splat(0x7bff), ...I32X4_GT_S, ...V128_OR, ...set(overflow),
    ...get(u), ...get(sign), op.i32Const, 16, ...I32X4_SHR_U, ...V128_OR,
  ];
  return [
    ...splat(0), ...set(overflow),
    ...splat(0), ...set(nonFinite),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(nBytes), op.i32GeU, op.brIf, 1,
    ...four(0), ...set(first),
    ...get(dst), ...get(o), op.i32Const, 1, op.i32ShrU, op.i32Add,
    ...get(first), ...four(16), ...I16X8_NARROW_I32X4_U,
    ...simdOp.v128Store, ...memarg(4, 0),
    ...get(o), op.i32Const, 32, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
    ...get(overflow), ...V128_ANY_TRUE, ...get(nonFinite), ...V128_ANY_TRUE, op.i32Const, 1, op.i32Shl, op.i32Or,
  ];
}

interface Kernel {
  scan: (src: number, nBytes: number) => number;
  half: (src: number, dst: number, nBytes: number) => number;
  memory: WebAssembly.Memory;
}

const loadKernel = kernelLoader<Kernel>(() => [
  { name: 'scan', params: [I32, I32], results: [I32], body: functionBody([[1, I32], [1, V128]], scanBody()) },
  { name: 'half', params: [I32, I32, I32], results: [I32], body: functionBody([[1, I32], [6, V128]], halfBody()) },
]);

/** Copies values into the kernel's memory at 0, zero-padded to a multiple of `multiple` values; returns the padded byte length. */
function put(k: Kernel, values: Float32Array, multiple: number, extraBytes: number): number {
  const n = Math.ceil(values.length / multiple) * multiple;
  ensureMemory(k.memory, n * 4 + extraBytes);
  const view = new Float32Array(k.memory.buffer, 0, n);
  view.set(values);
  view.fill(0, values.length);
  return n * 4;
}

/** Index of the first NaN or Infinity, -1 if none; null without the kernel. */
export function firstNonFiniteSimd(values: Float32Array): number | null {
  const k = loadKernel();
  if (!k) return null;
  const bytes = put(k, values, 4, 0);
  const at = k.scan(0, bytes);
  if (at >= bytes) return -1;
  for (let i = at / 4; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1; // unreachable: the vector at `at` holds one
}

export interface HalfBits {
  /** The float16 bits, one per value (meaningless where a flag below is set). */
  halves: Uint16Array;
  /** Some finite value rounds past float16's largest finite value (65504). */
  overflow: boolean;
  /** Some value is NaN or Infinity. */
  nonFinite: boolean;
}

/** The float16 bits of each value (round to nearest even), or null without the kernel. */
export function float16BitsSimd(values: Float32Array): HalfBits | null {
  const k = loadKernel();
  if (!k) return null;
  const padded = Math.ceil(values.length / 8) * 8;
  const bytes = put(k, values, 8, padded * 2);
  const flags = k.half(0, bytes, bytes);
  return { halves: new Uint16Array(k.memory.buffer, bytes, values.length).slice(), overflow: (flags & 1) !== 0, nonFinite: (flags & 2) !== 0 };
}
