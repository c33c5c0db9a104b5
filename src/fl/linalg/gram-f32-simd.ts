/**
 * The fast Gram matrix G G^T of float32 rows: float32 products summed in float32 over a short run (f32x4 lanes,
 * CHUNK_VECTORS products per lane), each run's sum then added in float64. Twice the arithmetic per instruction of
 * the exact kernel (gram-simd.ts: every product exact in float64), and half the bytes per block.
 *
 * Accuracy: each entry's error is at most about (CHUNK_VECTORS + 2) float32 roundings (~1e-6) of sum_t |a_t b_t|,
 * which is at most ||a|| ||b||: smaller than the rounding of the float32 updates themselves to their eigen-directions,
 * and far below what the FedLD authors' own float32 matrix products accumulate.
 *
 * Range: float32 products of very large or very small values overflow or lose their bits. Every partial sum is
 * bounded by ||a|| ||b|| (Cauchy-Schwarz), so when every squared row norm (the diagonal) is finite and within
 * [MIN_SQUARED_NORM, MAX_SQUARED_NORM] no sum overflowed and underflow cost at most d * 2^-150 absolute per entry;
 * otherwise gramMatrixF32Simd returns null and the caller uses the exact kernel (this includes any all-zero row).
 * Also null without WebAssembly SIMD.
 */
import { concat, ensureMemory, functionBody, get, I32, kernelLoader, memarg, op, set, simd, simdOp, sleb, V128, VOID } from './wasm-asm';

export const GRAM_F32_CONFIG = {
  /** Columns per block (a multiple of 4): the block's padded rows (K * 8 KB at K = 50) stay in L2. */
  blockElements: 2048,
  /** Products per lane summed in float32 before they are added in float64. */
  chunkVectors: 32,
  /** The diagonal (squared row norms) must lie in this range for the float32 sums to be trusted. */
  minSquaredNorm: 2 ** -80,
  maxSquaredNorm: 2 ** 100,
} as const;

const F32X4_MUL = simd(0xe6);
const I32_GT_U = 0x4b;
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const ZERO_V128 = [...simdOp.v128Const, ...new Array<number>(16).fill(0)];

/**
 * gram(buf, Kp, nBytes, acc): buf holds one block, row r at buf + r * blockElements * 4 (Kp rows, a multiple of 4;
 * rows past K zero), nBytes = 4 x its column count (a multiple of 16, zero-padded). For every 4 x 2 tile (i, j) of the
 * upper triangle, adds a_r . b_c over the block to the Kp x Kp float64 matrix at acc.
 */
function gramBody(): number[] {
  const [buf, Kp, nBytes, acc] = [0, 1, 2, 3];
  const [i, j, o, chunkEnd, addr] = [4, 5, 6, 7, 8];
  const a = [9, 10, 11, 12];
  const b = [13, 14];
  const x = [15, 16, 17, 18];
  const y = [19, 20];
  const s32 = (r: number, c: number) => 21 + 2 * r + c;
  const s64 = (r: number, c: number) => 29 + 2 * r + c;
  const rowBytes = GRAM_F32_CONFIG.blockElements * 4;
  const chunkBytes = GRAM_F32_CONFIG.chunkVectors * 16;
  const i32 = (k: number) => [op.i32Const, ...sleb(k)];
  const load = (base: number, into: number) => [...get(base), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, 0), ...set(into)];
  const tiles: Array<[number, number]> = [];
  for (let r = 0; r < 4; r++) for (let c = 0; c < 2; c++) tiles.push([r, c]);
  const promoteHigh = (v: number) => [...get(v), ...get(v), ...simdOp.i8x16Shuffle, ...HIGH_HALF, ...simdOp.f64x2PromoteLowF32x4];
  return concat(
    i32(0), set(i),
    [op.block, VOID, op.loop, VOID], get(i), get(Kp), [op.i32GeU, op.brIf, 1],
    get(buf), get(i), i32(rowBytes), [op.i32Mul, op.i32Add], set(a[0]),
    ...[1, 2, 3].map((r) => concat(get(a[r - 1]), i32(rowBytes), [op.i32Add], set(a[r]))),
    get(i), set(j),
    [op.block, VOID, op.loop, VOID], get(j), get(Kp), [op.i32GeU, op.brIf, 1],
    get(buf), get(j), i32(rowBytes), [op.i32Mul, op.i32Add], set(b[0]), get(b[0]), i32(rowBytes), [op.i32Add], set(b[1]),
    ...tiles.map(([r, c]) => concat(ZERO_V128, set(s64(r, c)))),
    i32(0), set(o),
    // Runs of chunkBytes: float32 sums, then into the float64 sums.
    [op.block, VOID, op.loop, VOID], get(o), get(nBytes), [op.i32GeU, op.brIf, 1],
    get(o), i32(chunkBytes), [op.i32Add], set(chunkEnd),
    get(nBytes), get(chunkEnd), get(chunkEnd), get(nBytes), [I32_GT_U, op.select], set(chunkEnd),
    ...tiles.map(([r, c]) => concat(ZERO_V128, set(s32(r, c)))),
    [op.block, VOID, op.loop, VOID], get(o), get(chunkEnd), [op.i32GeU, op.brIf, 1],
    ...b.map((p, c) => load(p, y[c])),
    ...a.map((p, r) => load(p, x[r])),
    ...tiles.map(([r, c]) => concat(get(s32(r, c)), get(x[r]), get(y[c]), F32X4_MUL, simdOp.f32x4Add, set(s32(r, c)))),
    get(o), i32(16), [op.i32Add], set(o), [op.br, 0, op.end, op.end],
    ...tiles.map(([r, c]) => concat(get(s64(r, c)), get(s32(r, c)), simdOp.f64x2PromoteLowF32x4, simdOp.f64x2Add, promoteHigh(s32(r, c)), simdOp.f64x2Add, set(s64(r, c)))),
    [op.br, 0, op.end, op.end],
    // acc[(i + r) * Kp + j + c] += lane 0 + lane 1
    ...tiles.map(([r, c]) =>
      concat(
        get(acc), get(i), i32(r), [op.i32Add], get(Kp), [op.i32Mul], get(j), [op.i32Add], i32(c), [op.i32Add], i32(3), [op.i32Shl, op.i32Add], set(addr),
        get(addr), get(addr), [op.f64Load], memarg(3, 0), get(s64(r, c)), simdOp.f64x2ExtractLane, [0], get(s64(r, c)), simdOp.f64x2ExtractLane, [1], [op.f64Add, op.f64Add, op.f64Store], memarg(3, 0),
      ),
    ),
    get(j), i32(2), [op.i32Add], set(j), [op.br, 0, op.end, op.end],
    get(i), i32(4), [op.i32Add], set(i), [op.br, 0, op.end, op.end],
  );
}

interface Kernel {
  gram: (buf: number, Kp: number, nBytes: number, acc: number) => void;
  memory: WebAssembly.Memory;
}

const loadKernel = kernelLoader<Kernel>(() => [
  { name: 'gram', params: [I32, I32, I32, I32], results: [], body: functionBody([[5 + 4 + 2, I32], [4 + 2 + 8 + 8, V128]], gramBody()) },
]);

/** Whether this runtime runs the kernel. */
export function gramF32SimdAvailable(): boolean {
  return loadKernel() !== null;
}

/** Row-major K x K Gram matrix of the rows (all of one length); null without WebAssembly SIMD or out of range (see above). */
export function gramMatrixF32Simd(rows: readonly Float32Array[]): Float64Array | null {
  const k = loadKernel();
  if (!k) return null;
  const K = rows.length;
  const d = rows[0].length;
  const B = GRAM_F32_CONFIG.blockElements;
  const Kp = Math.ceil(K / 4) * 4;
  const accOffset = Kp * B * 4;
  ensureMemory(k.memory, accOffset + Kp * Kp * 8);
  const block = new Float32Array(k.memory.buffer, 0, Kp * B);
  const acc = new Float64Array(k.memory.buffer, accOffset, Kp * Kp);
  acc.fill(0);
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const n4 = (n + 3) & ~3;
    for (let r = 0; r < K; r++) {
      block.set(rows[r].subarray(t0, t0 + n), r * B);
      if (n4 !== n) block.fill(0, r * B + n, r * B + n4);
    }
    for (let r = K; r < Kp; r++) block.fill(0, r * B, r * B + n4);
    k.gram(0, Kp, n4 * 4, accOffset);
  }
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    const squaredNorm = acc[i * Kp + i];
    if (!(squaredNorm >= GRAM_F32_CONFIG.minSquaredNorm && squaredNorm <= GRAM_F32_CONFIG.maxSquaredNorm)) return null;
    for (let j = i; j < K; j++) gram[i * K + j] = gram[j * K + i] = acc[i * Kp + j];
  }
  return gram;
}
