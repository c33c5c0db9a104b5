/**
 * Element-wise loops of the aggregation on a WebAssembly SIMD kernel: FedLD's new model (global + update), history
 * update (decay h + (1 - decay) u) and combination of the client updates (axpy), global + delta for the proxy
 * decomposition's local models, and the robust screening's sums of squares (sumsq). Each runs once per tensor per round, so in
 * JS they would run cold (interpreted) for the first rounds of a session: ~3-5 ms per 50k-value tensor on the
 * loaded 2-core machine, against ~0.1 ms here whatever the JIT has done so far.
 *
 * Same values as the JS loops: a float32 sum computed in float64 and rounded to float32 equals the float32 sum
 * (float64 has more than 2 x 24 + 2 bits, so the double rounding is innocuous), and the history is computed in
 * float64 with the same operations in the same order, then rounded once to float32.
 * The functions return null / false where WebAssembly SIMD is unavailable: callers then run their JS loops.
 */
import { ensureMemory, F64, functionBody, get, I32, kernelLoader, memarg, op, set, simdOp, V128, VOID } from './wasm-asm';

const v128Load = [...simdOp.v128Load, ...memarg(4, 0)];
const v128Store = [...simdOp.v128Store, ...memarg(4, 0)];
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Lanes 0-1 of the first operand, then lanes 0-1 of the second (two demoted f64x2 into one f32x4). */
const JOIN_LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** add(a, b, out, nBytes): out = a + b over nBytes (a multiple of 16) of float32. Local 4: o. */
function addBody(): number[] {
  const o = 4;
  return [
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(3), op.i32GeU, op.brIf, 1,
    ...get(2), ...get(o), op.i32Add,
    ...get(0), ...get(o), op.i32Add, ...v128Load,
    ...get(1), ...get(o), op.i32Add, ...v128Load,
    ...simdOp.f32x4Add, ...v128Store,
    ...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
  ];
}

/**
 * decay(h, u, nBytes, d, e): h = d h + e u over nBytes (a multiple of 16) of float32, in float64 per element, rounded
 * to float32. Locals: 5 o, 6 h4, 7 u4, 8 d splatted, 9 e splatted.
 */
function decayBody(): number[] {
  const [o, h4, u4, dv, ev] = [5, 6, 7, 8, 9];
  const half = (shuffle: boolean) => {
    const promote = (v: number) => [...get(v), ...(shuffle ? [...get(v), ...simdOp.i8x16Shuffle, ...HIGH_HALF] : []), ...simdOp.f64x2PromoteLowF32x4];
    return [...get(dv), ...promote(h4), ...simdOp.f64x2Mul, ...get(ev), ...promote(u4), ...simdOp.f64x2Mul, ...simdOp.f64x2Add, ...simdOp.f32x4DemoteF64x2Zero];
  };
  return [
    ...get(3), ...simdOp.f64x2Splat, ...set(dv),
    ...get(4), ...simdOp.f64x2Splat, ...set(ev),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(2), op.i32GeU, op.brIf, 1,
    ...get(0), ...get(o), op.i32Add, ...v128Load, ...set(h4),
    ...get(1), ...get(o), op.i32Add, ...v128Load, ...set(u4),
    ...get(0), ...get(o), op.i32Add,
    ...half(false), ...half(true), ...simdOp.i8x16Shuffle, ...JOIN_LOW_HALVES,
    ...v128Store,
    ...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
  ];
}

/**
 * sumsq(v, nBytes, out): the four interleaved float64 partial sums of squares of the float32 values at v (nBytes a
 * multiple of 16) to out[0..3]: lane k sums the squares of the elements with index = k mod 4, in index order, exactly
 * as the JS loop in stats.ts (sumOfSquares) does. Locals: 3 o, 4 v4, 5 s01, 6 s23.
 */
function sumsqBody(): number[] {
  const [o, v4, s01, s23] = [3, 4, 5, 6];
  const square = (high: boolean) => [
    ...get(v4), ...(high ? [...get(v4), ...simdOp.i8x16Shuffle, ...HIGH_HALF] : []), ...simdOp.f64x2PromoteLowF32x4,
    ...get(v4), ...(high ? [...get(v4), ...simdOp.i8x16Shuffle, ...HIGH_HALF] : []), ...simdOp.f64x2PromoteLowF32x4,
    ...simdOp.f64x2Mul,
  ];
  return [
    ...simdOp.v128Const, ...new Array<number>(16).fill(0), ...set(s01),
    ...simdOp.v128Const, ...new Array<number>(16).fill(0), ...set(s23),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(1), op.i32GeU, op.brIf, 1,
    ...get(0), ...get(o), op.i32Add, ...v128Load, ...set(v4),
    ...get(s01), ...square(false), ...simdOp.f64x2Add, ...set(s01),
    ...get(s23), ...square(true), ...simdOp.f64x2Add, ...set(s23),
    ...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
    ...get(2), ...get(s01), ...v128Store,
    ...get(2), ...get(s23), ...simdOp.v128Store, ...memarg(4, 16),
  ];
}

/**
 * axpy(acc, g, a, n): acc[t] += a * g[t] for t < n (n even), acc float64 and g float32 (byte offsets). Per element
 * the same two roundings as the JS loop `acc[t] += a * g[t]` (product, then sum; no fused multiply-add), so the
 * result is bit-identical to it. Locals: 4 o (byte offset into g), 5 limit, 6 a splatted.
 */
function axpyBody(): number[] {
  const [acc, g, a, n, o, limit, as] = [0, 1, 2, 3, 4, 5, 6];
  const accAddr = [...get(acc), ...get(o), op.i32Const, 1, op.i32Shl, op.i32Add];
  return [
    ...get(a), ...simdOp.f64x2Splat, ...set(as),
    ...get(n), op.i32Const, 2, op.i32Shl, ...set(limit),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(limit), op.i32GeU, op.brIf, 1,
    ...accAddr, ...accAddr, ...simdOp.v128Load, ...memarg(3, 0),
    ...get(g), ...get(o), op.i32Add, ...simdOp.v128Load64Zero, ...memarg(3, 0), ...simdOp.f64x2PromoteLowF32x4, ...get(as), ...simdOp.f64x2Mul, ...simdOp.f64x2Add,
    ...simdOp.v128Store, ...memarg(3, 0),
    ...get(o), op.i32Const, 8, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
  ];
}

interface Kernel {
  add: (a: number, b: number, out: number, nBytes: number) => void;
  axpy: (acc: number, g: number, a: number, n: number) => void;
  sumsq: (v: number, nBytes: number, out: number) => void;
  decay: (h: number, u: number, nBytes: number, d: number, e: number) => void;
  memory: WebAssembly.Memory;
}

const loadKernel = kernelLoader<Kernel>(() => [
  { name: 'add', params: [I32, I32, I32, I32], results: [], body: functionBody([[1, I32]], addBody()) },
  { name: 'decay', params: [I32, I32, I32, F64, F64], results: [], body: functionBody([[1, I32], [4, V128]], decayBody()) },
  { name: 'sumsq', params: [I32, I32, I32], results: [], body: functionBody([[1, I32], [3, V128]], sumsqBody()) },
  { name: 'axpy', params: [I32, I32, F64, I32], results: [], body: functionBody([[2, I32], [1, V128]], axpyBody()) },
]);

/** Byte length of n float32 values rounded up to whole 16-byte vectors. */
const paddedBytes = (n: number) => ((n + 3) & ~3) * 4;

/** Copies `values` into the kernel's memory at byte `offset`, zero-padded to whole vectors. */
function put(k: Kernel, values: Float32Array, offset: number): void {
  const view = new Float32Array(k.memory.buffer, offset, paddedBytes(values.length) / 4);
  view.set(values);
  view.fill(0, values.length);
}

/** a + b in float32 (a new array), or null without the kernel. */
export function addF32Simd(a: Float32Array, b: Float32Array): Float32Array | null {
  const k = loadKernel();
  if (!k) return null;
  const bytes = paddedBytes(a.length);
  ensureMemory(k.memory, 3 * bytes);
  put(k, a, 0);
  put(k, b, bytes);
  k.add(0, bytes, 2 * bytes, bytes);
  return new Float32Array(k.memory.buffer, 2 * bytes, a.length).slice();
}

/** h <- decay h + (1 - decay) u in place (float64 per element, as `decay * h + (1 - decay) * u`); false without the kernel. */
export function decayIntoSimd(h: Float32Array, u: Float32Array, decay: number): boolean {
  const k = loadKernel();
  if (!k) return false;
  const bytes = paddedBytes(h.length);
  ensureMemory(k.memory, 2 * bytes);
  put(k, h, 0);
  put(k, u, bytes);
  k.decay(0, bytes, bytes, decay, 1 - decay);
  h.set(new Float32Array(k.memory.buffer, 0, h.length));
  return true;
}

/**
 * The four interleaved float64 partial sums of squares of values[0 .. n - n % 4) (see sumsqBody), or null without
 * the kernel. The caller adds the tail and combines them.
 */
export function sumOfSquaresPartialsSimd(values: Float32Array): Float64Array | null {
  const k = loadKernel();
  if (!k) return null;
  const n4 = values.length - (values.length & 3);
  const bytes = n4 * 4;
  ensureMemory(k.memory, bytes + 32);
  new Float32Array(k.memory.buffer, 0, n4).set(values.subarray(0, n4));
  k.sumsq(0, bytes, bytes);
  return new Float64Array(k.memory.buffer, bytes, 4);
}

/**
 * a + scale * b as a new float32 array, computed in float64 per element and rounded once (the `decay` kernel with
 * d = 1: 1 * a is exact), so the same bits as the JS loop `a[i] + scale * b[i]` into a Float32Array. Null without
 * the kernel.
 */
export function addScaledSimd(a: Float32Array, b: Float32Array, scale: number): Float32Array | null {
  const k = loadKernel();
  if (!k) return null;
  const bytes = paddedBytes(a.length);
  ensureMemory(k.memory, 2 * bytes);
  put(k, a, 0);
  put(k, b, bytes);
  k.decay(0, bytes, bytes, 1, scale);
  return new Float32Array(k.memory.buffer, 0, a.length).slice();
}

/**
 * sum_i alpha_i rows_i accumulated in float64, in row order: bit-identical to the JS loop over rows then elements.
 * Null without the kernel.
 */
export function combineRowsSimd(rows: readonly Float32Array[], alpha: ArrayLike<number>): Float64Array | null {
  const k = loadKernel();
  if (!k) return null;
  const d = rows[0].length;
  const dEven = d + (d & 1);
  const accBytes = dEven * 8;
  ensureMemory(k.memory, accBytes + dEven * 4);
  const acc = new Float64Array(k.memory.buffer, 0, dEven);
  const g = new Float32Array(k.memory.buffer, accBytes, dEven);
  acc.fill(0);
  g[dEven - 1] = 0;
  for (let i = 0; i < rows.length; i++) {
    const a = alpha[i];
    if (a === 0) continue;
    g.set(rows[i]);
    k.axpy(0, accBytes, a, dEven);
  }
  return acc.slice(0, d);
}
