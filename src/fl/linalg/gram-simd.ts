/**
 * The exact Gram matrix G G^T of float32 rows with float64 accumulation (the fallback of gram-f32-simd.ts for rows out
 * of its range), on a tiny hand-assembled WebAssembly SIMD kernel
 * (f64x2 lanes: each product of two float32 values is exact in float64, as in the plain loop). `tile` computes
 * one 4 x 2 tile of dot products over a block of columns; `gram` runs all of a block's tiles in one call (JS only
 * walks the blocks, promoting each to float64 once), with the same bits. Every entry is the sum of an
 * even-index and an odd-index partial sum, so it can differ from a sequential sum in the last bits.
 * Returns null where WebAssembly SIMD is unavailable (callers then use their plain-JS path).
 */

import { get, I32, name, op, section, set, simdOp, sleb, uleb, V128, VOID } from './wasm-asm';

export const GRAM_SIMD_CONFIG = {
  /** Columns per block (even): 4 + 2 rows of a tile stay in L1, all padded rows of a block in L2. */
  blockElements: 1024,
  /** Columns of a 4 x C tile (2 or 4; 4 x 4 was not measurably faster on the loaded 2-core machine, and its 16 accumulators leave no x86-64 SIMD register free). */
  tileCols: 2,
} as const;

// --- the kernel, assembled from its instructions (see the layout notes in tileBody) ---
const V128_LOAD64_ZERO = simdOp.v128Load64Zero;
const F64X2_PROMOTE_LOW_F32X4 = simdOp.f64x2PromoteLowF32x4;
const F64X2_EXTRACT_LANE = simdOp.f64x2ExtractLane;
const F64X2_ADD = simdOp.f64x2Add;
const F64X2_MUL = simdOp.f64x2Mul;
const F64X2_SPLAT = simdOp.f64x2Splat;
const V128_LOAD = simdOp.v128Load;

/** Rows of a tile ("a" rows, the i side of the Gram). */
const TILE_ROWS = 4;

/**
 * tile(a_0..a_{R-1}, b_0..b_{C-1}, n, out) with R = TILE_ROWS, C = cols: byte offsets of R "a" rows and C "b" rows
 * of n float32 values (n even), and of R * C float64 outputs out[C r + c] = a_r . b_c. Locals after the parameters:
 * o (byte offset), limit, x_0..x_{R-1}, y_0..y_{C-1}, then the R * C f64x2 accumulators (zero-initialised).
 */
function tileBody(cols: number): number[] {
  const R = TILE_ROWS;
  const C = cols;
  const nParam = R + C;
  const outParam = R + C + 1;
  const o = R + C + 2;
  const limit = o + 1;
  const x = limit + 1;
  const y = x + R;
  const acc = y + C;
  const loadPair = (ptr: number, into: number) => [...get(ptr), ...get(o), op.i32Add, ...V128_LOAD64_ZERO, 3, 0, ...F64X2_PROMOTE_LOW_F32X4, ...set(into)];
  const fma = (a: number, xi: number, yi: number) => [...get(a), ...get(xi), ...get(yi), ...F64X2_MUL, ...F64X2_ADD, ...set(a)];
  const body: number[] = [...get(nParam), op.i32Const, 2, op.i32Shl, ...set(limit)];
  body.push(op.block, VOID, op.loop, VOID, ...get(o), ...get(limit), op.i32GeU, op.brIf, 1);
  for (let c = 0; c < C; c++) body.push(...loadPair(R + c, y + c));
  for (let r = 0; r < R; r++) body.push(...loadPair(r, x + r));
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) body.push(...fma(acc + C * r + c, x + r, y + c));
  body.push(...get(o), op.i32Const, 8, op.i32Add, ...set(o), op.br, 0, op.end, op.end);
  for (let k = 0; k < R * C; k++) {
    body.push(...get(outParam), ...get(acc + k), ...F64X2_EXTRACT_LANE, 0, ...get(acc + k), ...F64X2_EXTRACT_LANE, 1, op.f64Add, op.f64Store, 3, ...uleb(8 * k));
  }
  body.push(op.end);
  const fn = [2, 2, I32, ...uleb(R + C + R * C), V128, ...body];
  return [...uleb(fn.length), ...fn];
}

/**
 * gram(buf, Kp, nBytes, acc): the whole block at once, without a call per tile. buf holds the block promoted to
 * float64 (row r at buf + r * blockElements * 8, Kp rows, rows K..Kp-1 zero), nBytes = 8 x its (even) column count;
 * for every 4 x 2 tile (i, j) of the upper triangle, the same tile as `tile` computes (same lanes, same order of
 * sums) is added to the Kp x Kp float64 matrix at acc, acc[r][c] += lane0 + lane1, as the JS loop over tiles did.
 * Locals: 4 i, 5 j, 6 o, 7-10 a_0..a_3, 11-12 b_0 b_1, 13 addr; 14-17 x_0..x_3, 18-19 y_0 y_1, 20-27 the sums.
 */
function gramBody(): number[] {
  const [buf, Kp, nBytes, acc] = [0, 1, 2, 3];
  const [i, j, o] = [4, 5, 6];
  const a = [7, 8, 9, 10];
  const b = [11, 12];
  const addr = 13;
  const x = [14, 15, 16, 17];
  const y = [18, 19];
  const sum = (r: number, c: number) => 20 + 2 * r + c;
  const rowBytes = GRAM_SIMD_CONFIG.blockElements * 8;
  const i32 = (k: number) => [op.i32Const, ...sleb(k)];
  const load = (base: number, into: number) => [...get(base), ...get(o), op.i32Add, ...V128_LOAD, 4, 0, ...set(into)];
  const body: number[] = [...i32(0), ...set(i), op.block, VOID, op.loop, VOID, ...get(i), ...get(Kp), op.i32GeU, op.brIf, 1];
  body.push(...get(buf), ...get(i), ...i32(rowBytes), op.i32Mul, op.i32Add, ...set(a[0]));
  for (let r = 1; r < 4; r++) body.push(...get(a[r - 1]), ...i32(rowBytes), op.i32Add, ...set(a[r]));
  body.push(...get(i), ...set(j), op.block, VOID, op.loop, VOID, ...get(j), ...get(Kp), op.i32GeU, op.brIf, 1);
  body.push(...get(buf), ...get(j), ...i32(rowBytes), op.i32Mul, op.i32Add, ...set(b[0]), ...get(b[0]), ...i32(rowBytes), op.i32Add, ...set(b[1]));
  for (let r = 0; r < 4; r++) for (let c = 0; c < 2; c++) body.push(op.f64Const, ...ZERO_F64, ...F64X2_SPLAT, ...set(sum(r, c)));
  body.push(...i32(0), ...set(o), op.block, VOID, op.loop, VOID, ...get(o), ...get(nBytes), op.i32GeU, op.brIf, 1);
  for (let c = 0; c < 2; c++) body.push(...load(b[c], y[c]));
  for (let r = 0; r < 4; r++) body.push(...load(a[r], x[r]));
  for (let r = 0; r < 4; r++) for (let c = 0; c < 2; c++) body.push(...get(sum(r, c)), ...get(x[r]), ...get(y[c]), ...F64X2_MUL, ...F64X2_ADD, ...set(sum(r, c)));
  body.push(...get(o), ...i32(16), op.i32Add, ...set(o), op.br, 0, op.end, op.end);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 2; c++) {
      // addr = acc + ((i + r) * Kp + j + c) * 8
      body.push(...get(acc), ...get(i), ...i32(r), op.i32Add, ...get(Kp), op.i32Mul, ...get(j), op.i32Add, ...i32(c), op.i32Add, ...i32(3), op.i32Shl, op.i32Add, ...set(addr));
      body.push(...get(addr), ...get(addr), op.f64Load, 3, 0, ...get(sum(r, c)), ...F64X2_EXTRACT_LANE, 0, ...get(sum(r, c)), ...F64X2_EXTRACT_LANE, 1, op.f64Add, op.f64Add, op.f64Store, 3, 0);
    }
  }
  body.push(...get(j), ...i32(2), op.i32Add, ...set(j), op.br, 0, op.end, op.end);
  body.push(...get(i), ...i32(4), op.i32Add, ...set(i), op.br, 0, op.end, op.end, op.end);
  const fn = [3, 10, I32, 6, V128, 8, V128, ...body];
  return [...uleb(fn.length), ...fn];
}

const ZERO_F64 = [0, 0, 0, 0, 0, 0, 0, 0];

function kernelBytes(cols: number): Uint8Array<ArrayBuffer> {
  const tileParams = TILE_ROWS + cols + 2;
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, tileParams, ...new Array<number>(tileParams).fill(I32), 0, 0x60, 4, I32, I32, I32, I32, 0]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0, 1]),
    ...section(7, [3, ...name('tile'), 0, 0, ...name('gram'), 0, 1, ...name('mem'), 2, 0]),
    ...section(10, [2, ...tileBody(cols), ...gramBody()]),
  ]);
}

interface Kernel {
  /** (a_0..a_3, b_0..b_{cols-1}, n, out) */
  tile: (...offsetsCountOut: number[]) => void;
  /** (buf, Kp, nBytes, acc): every 4 x 2 tile of a float64 block (see gramBody). */
  gram: (buf: number, Kp: number, nBytes: number, acc: number) => void;
  cols: number;
  memory: WebAssembly.Memory;
}

let kernel: Kernel | null | undefined;

/** Compiles the kernel with tiles of 4 x cols; null without WebAssembly SIMD. */
function compileKernel(cols: number): Kernel | null {
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = kernelBytes(cols);
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    return { tile: instance.exports.tile as Kernel['tile'], gram: instance.exports.gram as Kernel['gram'], cols, memory: instance.exports.mem as WebAssembly.Memory };
  } catch {
    return null;
  }
}

function loadKernel(): Kernel | null {
  if (kernel === undefined) kernel = compileKernel(GRAM_SIMD_CONFIG.tileCols);
  return kernel;
}

/** Whether this runtime runs the SIMD kernel. */
export function gramSimdAvailable(): boolean {
  return loadKernel() !== null;
}

function ensureMemory(k: Kernel, bytes: number): void {
  if (k.memory.buffer.byteLength < bytes) k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
}

/** Row-major K x K Gram matrix of the rows (all of one length), or null without WebAssembly SIMD. */
export function gramMatrixSimd(rows: readonly Float32Array[]): Float64Array | null {
  const k = loadKernel();
  return k ? gramWithBlocks(k, rows) : null;
}

/**
 * The Gram one block at a time, all of a block's 4 x 2 tiles in one call (`gram`): the block is promoted to
 * float64 once (the tiles then load without converting), and no JS runs per tile. Same tiles, lanes and order of
 * sums as gramWithKernel with 4 x 2 tiles, so the same bits.
 */
function gramWithBlocks(k: Kernel, rows: readonly Float32Array[]): Float64Array {
  const K = rows.length;
  const d = rows[0].length;
  const B = GRAM_SIMD_CONFIG.blockElements;
  const Kp = Math.ceil(K / TILE_ROWS) * TILE_ROWS;
  const accOffset = Kp * B * 8;
  ensureMemory(k, accOffset + Kp * Kp * 8);
  const f64 = new Float64Array(k.memory.buffer, 0, Kp * B);
  const acc = new Float64Array(k.memory.buffer, accOffset, Kp * Kp);
  f64.fill(0); // padding rows K..Kp-1 stay zero
  acc.fill(0);
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const nEven = n + (n & 1);
    for (let r = 0; r < K; r++) {
      f64.set(rows[r].subarray(t0, t0 + n), r * B);
      if (nEven !== n) f64[r * B + n] = 0;
    }
    k.gram(0, Kp, nEven * 8, accOffset);
  }
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) gram[i * K + j] = gram[j * K + i] = acc[i * Kp + j];
  return gram;
}

/** For the benchmark of tile shapes: the Gram on a kernel with 4 x cols tiles (null without SIMD). */
export function gramMatrixSimdTiles(rows: readonly Float32Array[], cols: number): Float64Array | null {
  const k = compileKernel(cols);
  return k ? gramWithKernel(k, rows) : null;
}

function gramWithKernel(k: Kernel, rows: readonly Float32Array[]): Float64Array {
  const K = rows.length;
  const d = rows[0].length;
  const B = GRAM_SIMD_CONFIG.blockElements;
  const R = TILE_ROWS;
  const C = k.cols;
  const step = Math.max(R, C);
  const Kp = Math.ceil(K / step) * step;
  const blockBytes = Kp * B * 4;
  const outOffset = blockBytes;
  ensureMemory(k, blockBytes + 8 * R * C);
  const f32 = new Float32Array(k.memory.buffer, 0, Kp * B);
  const out = new Float64Array(k.memory.buffer, outOffset, R * C);
  f32.fill(0); // padding rows K..Kp-1 stay zero
  const acc = new Float64Array(Kp * Kp);
  const args = new Array<number>(R + C + 2);
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const nEven = n + (n & 1);
    for (let r = 0; r < K; r++) {
      f32.set(rows[r].subarray(t0, t0 + n), r * B);
      if (nEven !== n) f32[r * B + n] = 0;
    }
    args[R + C] = nEven;
    args[R + C + 1] = outOffset;
    for (let i = 0; i < Kp; i += R) {
      for (let r = 0; r < R; r++) args[r] = (i + r) * B * 4;
      for (let j = i - (i % C); j < Kp; j += C) {
        for (let c = 0; c < C; c++) args[R + c] = (j + c) * B * 4;
        k.tile(...args);
        for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) acc[(i + r) * Kp + j + c] += out[C * r + c];
      }
    }
  }
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) gram[i * K + j] = gram[j * K + i] = acc[i * Kp + j];
  return gram;
}
