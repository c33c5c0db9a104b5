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
import { ensureMemory, functionBody, get, I32, instantiate, memarg, moduleBytes, op, set, simdOp, V128, VOID } from './wasm-asm';

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
 * median(src, count, dstLo, dstHi): for each group of 4 columns o < count (count a multiple of 4) of the K rows at
 * src + k * blockElements * 4 (bytes), the lower-middle value goes to dstLo and, for an even K, the upper-middle
 * value to dstHi. Locals: 4 o (byte offset), 5 limit, then one v128 per row.
 */
function kernelBytes(K: number): Uint8Array<ArrayBuffer> {
  const m = K >> 1;
  const { comparators, outputs } = medianNetwork(K, K % 2 === 1 ? [m] : [m - 1, m]);
  const rowStride = MEDIAN_SIMD_CONFIG.blockElements * 4;
  const o = 4;
  const limit = 5;
  const row = (k: number) => 6 + k;
  const body: number[] = [...get(1), op.i32Const, 2, op.i32Shl, ...set(limit)];
  body.push(op.block, VOID, op.loop, VOID, ...get(o), ...get(limit), op.i32GeU, op.brIf, 1);
  for (let k = 0; k < K; k++) body.push(...get(0), ...get(o), op.i32Add, ...simdOp.v128Load, ...memarg(4, k * rowStride), ...set(row(k)));
  for (const c of comparators) {
    if (c.emitLo) body.push(...get(row(c.lo)), ...get(row(c.hi)), ...simdOp.f32x4Pmin);
    if (c.emitHi) body.push(...get(row(c.lo)), ...get(row(c.hi)), ...simdOp.f32x4Pmax, ...set(row(c.hi)));
    if (c.emitLo) body.push(...set(row(c.lo)));
  }
  body.push(...get(2), ...get(o), op.i32Add, ...get(row(outputs[0])), ...simdOp.v128Store, ...memarg(4, 0));
  if (outputs.length === 2) body.push(...get(3), ...get(o), op.i32Add, ...get(row(outputs[1])), ...simdOp.v128Store, ...memarg(4, 0));
  body.push(...get(o), op.i32Const, 16, op.i32Add, ...set(o), op.br, 0, op.end, op.end);
  return moduleBytes([{ name: 'median', params: [I32, I32, I32, I32], results: [], body: functionBody([[2, I32], [K, V128]], body) }]);
}

interface Kernel {
  median: (src: number, count: number, dstLo: number, dstHi: number) => void;
  memory: WebAssembly.Memory;
}

const kernels = new Map<number, Kernel | null>();

function kernelFor(K: number): Kernel | null {
  let k = kernels.get(K);
  if (k === undefined) {
    const instance = instantiate(kernelBytes(K));
    k = instance ? { median: instance.exports.median as Kernel['median'], memory: instance.exports.mem as WebAssembly.Memory } : null;
    kernels.set(K, k);
  }
  return k;
}

/**
 * The coordinate-wise median of K finite float32 rows of one length, in float64 (see the file comment), or null when
 * the SIMD kernel does not run here or K is out of its range.
 */
export function coordinateMedianSimd(rows: readonly Float32Array[]): Float64Array | null {
  const K = rows.length;
  if (K < MEDIAN_SIMD_CONFIG.minClients || K > MEDIAN_SIMD_CONFIG.maxClients) return null;
  const kernel = kernelFor(K);
  if (!kernel) return null;
  const d = rows[0].length;
  const B = MEDIAN_SIMD_CONFIG.blockElements;
  const loOffset = K * B * 4;
  const hiOffset = loOffset + B * 4;
  ensureMemory(kernel.memory, hiOffset + B * 4);
  const block = new Float32Array(kernel.memory.buffer, 0, K * B);
  const lo = new Float32Array(kernel.memory.buffer, loOffset, B);
  const hi = new Float32Array(kernel.memory.buffer, hiOffset, B);
  const out = new Float64Array(d);
  const odd = K % 2 === 1;
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const n4 = (n + 3) & ~3;
    for (let k = 0; k < K; k++) {
      block.set(rows[k].subarray(t0, t0 + n), k * B);
      if (n4 !== n) block.fill(0, k * B + n, k * B + n4);
    }
    kernel.median(0, n4, loOffset, hiOffset);
    if (odd) for (let i = 0; i < n; i++) out[t0 + i] = lo[i];
    else for (let i = 0; i < n; i++) out[t0 + i] = (lo[i] + hi[i]) / 2;
  }
  return out;
}

/** Whether the kernel for K rows runs here. */
export function medianSimdAvailable(K = 50): boolean {
  return K >= MEDIAN_SIMD_CONFIG.minClients && K <= MEDIAN_SIMD_CONFIG.maxClients && kernelFor(K) !== null;
}
