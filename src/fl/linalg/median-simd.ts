/**
 * Coordinate-wise median of K float32 rows on a WebAssembly SIMD sorting network: 4 coordinates at a time (f32x4
 * lanes), branch-free, one pass over the rows. Robust screening's direction check needs this median at every
 * round (K = 50, d = 50k at classroom scale), where the JS selection costs ~2 us per coordinate.
 *
 * The network is Batcher's odd-even merge sort for the next power of two, with the padding wires at +Infinity
 * resolved while it is built (a comparator with a +Infinity wire moves no value) and every comparator whose outputs
 * do not reach the middle rank(s) removed; a comparator half of whose outputs is needed keeps only that half
 * (K = 50: 330 of 543 comparators, 612 min/max instructions). One kernel is compiled per K (cached).
 *
 * Same values as sorting each coordinate's K values: the median of an odd K is one of them; for an even K, the mean
 * of the two middle ones, taken here in float64 as by the JS path. f32x4.pmin/pmax compare with `<`, so inputs must
 * be finite (robust screening drops non-finite updates first) and a zero may come out as +0 where a sort gives -0.
 * Returns null where WebAssembly SIMD is unavailable or the kernel cannot be compiled synchronously (e.g. a big K
 * on a browser's main thread), or K is outside [MEDIAN_SIMD_CONFIG.minClients, maxClients]: callers use JS then.
 */
import { ensureMemory, F64, f64Bytes, functionBody, get, I32, instantiate, memarg, moduleBytes, op, set, simdOp, sleb, V128, VOID } from './wasm-asm';

export const MEDIAN_SIMD_CONFIG = {
  /** Below this many rows the JS selection is as fast (and the network trivial). */
  minClients: 3,
  /** Above this many rows the network (and the kernel's locals) grows large; the JS selection takes over. */
  maxClients: 128,
  /** Columns per block (a multiple of 4): K blocks of this many float32 values stay in L2 (K = 50: 200 KB). */
  blockElements: 1024,
} as const;

interface Comparator {
  /** Local (row) that receives the minimum, and the one that receives the maximum. */
  lo: number;
  hi: number;
  emitLo: boolean;
  emitHi: boolean;
}

/** Batcher's odd-even merge sort on n = 2^p wires, as (i, j) comparators with i < j. */
function batcher(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 1; p < n; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      for (let j = k % p; j <= n - 1 - k; j += 2 * k) {
        for (let i = 0; i <= Math.min(k - 1, n - j - k - 1); i++) {
          if (Math.floor((i + j) / (p * 2)) === Math.floor((i + j + k) / (p * 2))) out.push([i + j, i + j + k]);
        }
      }
    }
  }
  return out;
}

/** The pruned network selecting ranks `ranks` of K values held in rows 0..K-1, and which row ends up with each. */
export function medianNetwork(K: number, ranks: readonly number[]): { comparators: Comparator[]; outputs: number[] } {
  let n = 1;
  while (n < K) n *= 2;
  // wire -> row holding its value, or -1 for a +Infinity pad.
  const wire = Array.from({ length: n }, (_, i) => (i < K ? i : -1));
  const live: Array<{ lo: number; hi: number }> = [];
  for (const [i, j] of batcher(n)) {
    const a = wire[i];
    const b = wire[j];
    if (b === -1) continue; // min(a, +Inf) = a stays at i
    if (a === -1) {
      // +Inf moves up to j, b's value down to i: a relabelling, no instruction.
      wire[i] = b;
      wire[j] = -1;
      continue;
    }
    live.push({ lo: a, hi: b });
  }
  const outputs = ranks.map((r) => wire[r]);
  const needed = new Set(outputs);
  const comparators: Comparator[] = [];
  for (let q = live.length - 1; q >= 0; q--) {
    const { lo, hi } = live[q];
    const emitLo = needed.has(lo);
    const emitHi = needed.has(hi);
    if (!emitLo && !emitHi) continue;
    needed.add(lo);
    needed.add(hi);
    comparators.push({ lo, hi, emitLo, emitHi });
  }
  comparators.reverse();
  return { comparators, outputs };
}

/**
 * median(src, count, dst): for each group of 4 columns o < count (count a multiple of 4) of the K rows at
 * src + k * blockElements * 4 (bytes), the median goes to dst as 4 float64: the middle value for an odd K, the mean
 * of the two middle ones for an even K ((lo + hi) * 0.5 in float64: the same as JS's (lo + hi) / 2).
 * Locals: 3 o (byte offset), 4 limit, 5 out (byte offset into dst), then one v128 per row.
 */
function kernelBytes(K: number): Uint8Array<ArrayBuffer> {
  const m = K >> 1;
  const { comparators, outputs } = medianNetwork(K, K % 2 === 1 ? [m] : [m - 1, m]);
  const rowStride = MEDIAN_SIMD_CONFIG.blockElements * 4;
  const o = 3;
  const limit = 4;
  const out = 5;
  const row = (k: number) => 6 + k;
  const body: number[] = [...get(1), op.i32Const, 2, op.i32Shl, ...set(limit)];
  body.push(op.block, VOID, op.loop, VOID, ...get(o), ...get(limit), op.i32GeU, op.brIf, 1);
  for (let k = 0; k < K; k++) body.push(...get(0), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, k * rowStride), ...set(row(k)));
  for (const c of comparators) {
    if (c.emitLo) body.push(...get(row(c.lo)), ...get(row(c.hi)), ...simdOp.f32x4Pmin);
    if (c.emitHi) body.push(...get(row(c.lo)), ...get(row(c.hi)), ...simdOp.f32x4Pmax, ...set(row(c.hi)));
    if (c.emitLo) body.push(...set(row(c.lo)));
  }
  // Lanes 0-1 promoted to float64, then lanes 2-3 (shuffled down first); the mean of the two middle rows if K is even.
  const lowHalf = (k: number) => [...get(row(k)), ...simdOp.f64x2PromoteLowF32x4];
  const highHalf = (k: number) => [...get(row(k)), ...get(row(k)), ...simdOp.i8x16Shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15, ...simdOp.f64x2PromoteLowF32x4];
  const middle = (half: (k: number) => number[]) =>
    outputs.length === 1 ? half(outputs[0]) : [...half(outputs[0]), ...half(outputs[1]), ...simdOp.f64x2Add, ...simdOp.v128Const, ...f64Bytes(0.5), ...f64Bytes(0.5), ...simdOp.f64x2Mul];
  body.push(...get(2), ...get(o), op.i32Const, 1, op.i32Shl, op.i32Add, ...set(out));
  body.push(...get(out), ...middle(lowHalf), ...simdOp.v128Store, ...memarg(4, 0));
  body.push(...get(out), ...middle(highHalf), ...simdOp.v128Store, ...memarg(4, 16));
  body.push(...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0, op.end, op.end);
  return moduleBytes([
    { name: 'median', params: [I32, I32, I32], results: [], body: functionBody([[3, I32], [K, V128]], body) },
    { name: 'dots', params: [I32, I32, I32, I32, I32], results: [], body: functionBody([[4, I32], [3, V128]], dotsBody()) },
    { name: 'squares', params: [I32, I32], results: [F64], body: functionBody([[2, I32], [2, V128]], squaresBody()) },
  ]);
}

const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const zero = (v: number): number[] => [op.f64Const, ...f64Bytes(0), ...simdOp.f64x2Splat, ...set(v)];
/** Both lanes of two f64x2 accumulators, summed: (a0 + a1) + (b0 + b1). */
const lanes = (a: number, b: number): number[] => [
  ...get(a), ...simdOp.f64x2ExtractLane, 0, ...get(a), ...simdOp.f64x2ExtractLane, 1, op.f64Add,
  ...get(b), ...simdOp.f64x2ExtractLane, 0, ...get(b), ...simdOp.f64x2ExtractLane, 1, op.f64Add, op.f64Add,
];

/**
 * dots(src, count, med, out, rows): for each of the `rows` rows of the block at src (as for median), out[k] +=
 * row_k . med over the block's `count` columns (a multiple of 4), in float64; med holds `count` float64 medians.
 * Locals: 5 k, 6 row (byte offset), 7 o, 8 limit, 9-10 two f64x2 sums, 11 x.
 */
function dotsBody(): number[] {
  const [src, count, med, out, rows] = [0, 1, 2, 3, 4];
  const [k, row, o, limit, acc0, acc1, x] = [5, 6, 7, 8, 9, 10, 11];
  const rowStride = MEDIAN_SIMD_CONFIG.blockElements * 4;
  const medAt = (offset: number) => [...get(med), ...get(o), op.i32Const, 1, op.i32Shl, op.i32Add, ...simdOp.v128Load, ...memarg(4, offset)];
  return [
    ...get(count), op.i32Const, 2, op.i32Shl, ...set(limit),
    op.i32Const, 0, ...set(k),
    op.block, VOID, op.loop, VOID,
    ...get(k), ...get(rows), op.i32GeU, op.brIf, 1,
    ...get(src), ...get(k), op.i32Const, ...sleb(rowStride), op.i32Mul, op.i32Add, ...set(row),
    ...zero(acc0), ...zero(acc1),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(limit), op.i32GeU, op.brIf, 1,
    ...get(row), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, 0), ...set(x),
    ...get(acc0), ...get(x), ...simdOp.f64x2PromoteLowF32x4, ...medAt(0), ...simdOp.f64x2Mul, ...simdOp.f64x2Add, ...set(acc0),
    ...get(acc1), ...get(x), ...get(x), ...simdOp.i8x16Shuffle, ...HIGH_HALF, ...simdOp.f64x2PromoteLowF32x4, ...medAt(16), ...simdOp.f64x2Mul, ...simdOp.f64x2Add, ...set(acc1),
    ...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
    // out[k] += the block's dot product
    ...get(out), ...get(k), op.i32Const, 3, op.i32Shl, op.i32Add, ...set(row),
    ...get(row), ...get(row), op.f64Load, ...memarg(3, 0), ...lanes(acc0, acc1), op.f64Add, op.f64Store, ...memarg(3, 0),
    ...get(k), op.i32Const, 1, op.i32Add, ...set(k), op.br, 0,
    op.end, op.end,
  ];
}

/** squares(med, count) -> sum of med[t]^2 over `count` float64 values (a multiple of 4). Locals: 2 o, 3 limit, 4-5 sums. */
function squaresBody(): number[] {
  const [med, count, o, limit, acc0, acc1] = [0, 1, 2, 3, 4, 5];
  const step = (acc: number, offset: number) => [
    ...get(acc), ...get(med), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, offset), ...get(med), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, offset),
    ...simdOp.f64x2Mul, ...simdOp.f64x2Add, ...set(acc),
  ];
  return [
    ...get(count), op.i32Const, 3, op.i32Shl, ...set(limit),
    ...zero(acc0), ...zero(acc1),
    op.i32Const, 0, ...set(o),
    op.block, VOID, op.loop, VOID,
    ...get(o), ...get(limit), op.i32GeU, op.brIf, 1,
    ...step(acc0, 0), ...step(acc1, 16),
    ...get(o), op.i32Const, 32, op.i32Add, ...set(o), op.br, 0,
    op.end, op.end,
    ...lanes(acc0, acc1),
  ];
}

interface Kernel {
  median: (src: number, count: number, dst: number) => void;
  dots: (src: number, count: number, med: number, out: number, rows: number) => void;
  squares: (med: number, count: number) => number;
  memory: WebAssembly.Memory;
}

const kernels = new Map<number, Kernel | null>();

function kernelFor(K: number): Kernel | null {
  let k = kernels.get(K);
  if (k === undefined) {
    const e = instantiate(kernelBytes(K))?.exports;
    k = e ? { median: e.median as Kernel['median'], dots: e.dots as Kernel['dots'], squares: e.squares as Kernel['squares'], memory: e.mem as WebAssembly.Memory } : null;
    kernels.set(K, k);
  }
  return k;
}

/** The median of one tensor's rows, each row's dot product with it, and its sum of squares (float64). */
export interface MedianWithDots {
  median: Float64Array;
  dots: Float64Array;
  squares: number;
}

/**
 * The coordinate-wise median of K finite float32 rows of one length, in float64 (see the file comment), or null when
 * the SIMD kernel does not run here or K is out of its range. With `dots`, also each row's dot product with the
 * median and the median's sum of squares, computed block by block while the block is in cache (no second pass).
 */
export function coordinateMedianSimd(rows: readonly Float32Array[]): Float64Array | null;
export function coordinateMedianSimd(rows: readonly Float32Array[], dots: true): MedianWithDots | null;
export function coordinateMedianSimd(rows: readonly Float32Array[], dots = false): Float64Array | MedianWithDots | null {
  const K = rows.length;
  if (K < MEDIAN_SIMD_CONFIG.minClients || K > MEDIAN_SIMD_CONFIG.maxClients) return null;
  const kernel = kernelFor(K);
  if (!kernel) return null;
  const d = rows[0].length;
  const B = MEDIAN_SIMD_CONFIG.blockElements;
  const medOffset = K * B * 4;
  const dotsOffset = medOffset + B * 8;
  ensureMemory(kernel.memory, dotsOffset + K * 8);
  const block = new Float32Array(kernel.memory.buffer, 0, K * B);
  const medians = new Float64Array(kernel.memory.buffer, medOffset, B);
  const rowDots = new Float64Array(kernel.memory.buffer, dotsOffset, K);
  rowDots.fill(0);
  const out = new Float64Array(d);
  let squares = 0;
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const n4 = (n + 3) & ~3;
    for (let k = 0; k < K; k++) {
      block.set(rows[k].subarray(t0, t0 + n), k * B);
      if (n4 !== n) block.fill(0, k * B + n, k * B + n4);
    }
    kernel.median(0, n4, medOffset);
    if (dots) {
      kernel.dots(0, n4, medOffset, dotsOffset, K);
      squares += kernel.squares(medOffset, n4);
    }
    out.set(n === B ? medians : medians.subarray(0, n), t0);
  }
  return dots ? { median: out, dots: rowDots.slice(), squares } : out;
}

/** Whether the kernel for K rows runs here. */
export function medianSimdAvailable(K = 50): boolean {
  return K >= MEDIAN_SIMD_CONFIG.minClients && K <= MEDIAN_SIMD_CONFIG.maxClients && kernelFor(K) !== null;
}
