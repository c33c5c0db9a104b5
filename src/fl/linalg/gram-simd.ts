/**
 * Gram matrix G G^T of float32 rows with float64 accumulation, on a tiny hand-assembled WebAssembly SIMD kernel
 * (f64x2 lanes: each product of two float32 values is exact in float64, as in the plain loop). The kernel computes
 * one 4 x 2 tile of dot products over a block of columns; JS walks the blocks and tiles. Every entry is the sum of an
 * even-index and an odd-index partial sum, so it can differ from a sequential sum in the last bits.
 * Returns null where WebAssembly SIMD is unavailable (callers then use their plain-JS path).
 */

export const GRAM_SIMD_CONFIG = {
  /** Columns per block (even): 4 + 2 rows of a tile stay in L1, all padded rows of a block in L2. */
  blockElements: 1024,
} as const;

// --- the kernel, assembled from its instructions (see the layout notes in tileBody) ---
const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  end: 0x0b, block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, localGet: 0x20, localSet: 0x21,
  i32Const: 0x41, i32Add: 0x6a, i32Shl: 0x74, i32GeU: 0x4f, f64Add: 0xa0, f64Store: 0x39, void: 0x40,
};
const simd = (code: number): number[] => [0xfd, ...uleb(code)];
const V128_LOAD64_ZERO = simd(0x5d);
const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
const F64X2_EXTRACT_LANE = simd(0x21);
const F64X2_ADD = simd(0xf0);
const F64X2_MUL = simd(0xf2);
const F64X2_SPLAT = simd(0x14);
const V128_LOAD = simd(0x00);
const V128_STORE = simd(0x0b);
const F64 = 0x7c;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

/**
 * tile(a0, a1, a2, a3, b0, b1, n, out): byte offsets of 4 "a" rows and 2 "b" rows of n float32 values (n even), and
 * of 8 float64 outputs out[2 r + c] = a_r . b_c. Locals: 8 o (byte offset), 9 limit, 10-13 x0-x3, 14-15 y0-y1,
 * 16-23 the 8 f64x2 accumulators (zero-initialised by WebAssembly).
 */
function tileBody(): number[] {
  const get = (i: number) => [op.localGet, i];
  const set = (i: number) => [op.localSet, i];
  const loadPair = (ptr: number, into: number) => [...get(ptr), ...get(8), op.i32Add, ...V128_LOAD64_ZERO, 3, 0, ...F64X2_PROMOTE_LOW_F32X4, ...set(into)];
  const fma = (acc: number, x: number, y: number) => [...get(acc), ...get(x), ...get(y), ...F64X2_MUL, ...F64X2_ADD, ...set(acc)];
  const body: number[] = [...get(6), op.i32Const, 2, op.i32Shl, ...set(9)];
  body.push(op.block, op.void, op.loop, op.void, ...get(8), ...get(9), op.i32GeU, op.brIf, 1);
  body.push(...loadPair(4, 14), ...loadPair(5, 15));
  for (let r = 0; r < 4; r++) body.push(...loadPair(r, 10 + r));
  for (let r = 0; r < 4; r++) for (let c = 0; c < 2; c++) body.push(...fma(16 + 2 * r + c, 10 + r, 14 + c));
  body.push(...get(8), op.i32Const, 8, op.i32Add, ...set(8), op.br, 0, op.end, op.end);
  for (let k = 0; k < 8; k++) {
    body.push(...get(7), ...get(16 + k), ...F64X2_EXTRACT_LANE, 0, ...get(16 + k), ...F64X2_EXTRACT_LANE, 1, op.f64Add, op.f64Store, 3, ...uleb(8 * k));
  }
  body.push(op.end);
  const locals = [2, 2, I32, 14, V128];
  const fn = [...locals, ...body];
  return [...uleb(fn.length), ...fn];
}

/**
 * axpy(acc, g, a, n): acc[t] += a * g[t] for t < n (n even), acc float64 and g float32 (byte offsets). Per element
 * the same two roundings as the JS loop `acc[t] += a * g[t]` (product, then sum; no fused multiply-add), so the
 * result is bit-identical to it. Locals: 4 o (byte offset into g), 5 limit, 6 a splatted.
 */
function axpyBody(): number[] {
  const get = (i: number) => [op.localGet, i];
  const set = (i: number) => [op.localSet, i];
  const accAddr = [...get(0), ...get(4), op.i32Const, 1, op.i32Shl, op.i32Add];
  const body: number[] = [...get(2), ...F64X2_SPLAT, ...set(6), ...get(3), op.i32Const, 2, op.i32Shl, ...set(5)];
  body.push(op.block, op.void, op.loop, op.void, ...get(4), ...get(5), op.i32GeU, op.brIf, 1);
  body.push(...accAddr, ...accAddr, ...V128_LOAD, 3, 0);
  body.push(...get(1), ...get(4), op.i32Add, ...V128_LOAD64_ZERO, 3, 0, ...F64X2_PROMOTE_LOW_F32X4, ...get(6), ...F64X2_MUL, ...F64X2_ADD);
  body.push(...V128_STORE, 3, 0);
  body.push(...get(4), op.i32Const, 8, op.i32Add, ...set(4), op.br, 0, op.end, op.end, op.end);
  const fn = [2, 2, I32, 1, V128, ...body];
  return [...uleb(fn.length), ...fn];
}

function kernelBytes(): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 0, 0x60, 4, I32, I32, F64, I32, 0]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0, 1]),
    ...section(7, [3, ...name('tile'), 0, 0, ...name('axpy'), 0, 1, ...name('mem'), 2, 0]),
    ...section(10, [2, ...tileBody(), ...axpyBody()]),
  ]);
}

interface Kernel {
  tile: (a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, n: number, out: number) => void;
  axpy: (acc: number, g: number, a: number, n: number) => void;
  memory: WebAssembly.Memory;
}

let kernel: Kernel | null | undefined;

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = kernelBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    kernel = { tile: instance.exports.tile as Kernel['tile'], axpy: instance.exports.axpy as Kernel['axpy'], memory: instance.exports.mem as WebAssembly.Memory };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Whether this runtime runs the SIMD kernel. */
export function gramSimdAvailable(): boolean {
  return loadKernel() !== null;
}

function ensureMemory(k: Kernel, bytes: number): void {
  if (k.memory.buffer.byteLength < bytes) k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
}

/**
 * sum_i alpha_i rows_i accumulated in float64, in row order: bit-identical to the JS loop over rows then elements.
 * Null without WebAssembly SIMD.
 */
export function combineRowsSimd(rows: readonly Float32Array[], alpha: ArrayLike<number>): Float64Array | null {
  const k = loadKernel();
  if (!k) return null;
  const d = rows[0].length;
  const dEven = d + (d & 1);
  const accBytes = dEven * 8;
  ensureMemory(k, accBytes + dEven * 4);
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

/** Row-major K x K Gram matrix of the rows (all of one length), or null without WebAssembly SIMD. */
export function gramMatrixSimd(rows: readonly Float32Array[]): Float64Array | null {
  const k = loadKernel();
  if (!k) return null;
  const K = rows.length;
  const d = rows[0].length;
  const B = GRAM_SIMD_CONFIG.blockElements;
  const Kp = Math.ceil(K / 4) * 4;
  const blockBytes = Kp * B * 4;
  const outOffset = blockBytes;
  ensureMemory(k, blockBytes + 64);
  const f32 = new Float32Array(k.memory.buffer, 0, Kp * B);
  const out = new Float64Array(k.memory.buffer, outOffset, 8);
  f32.fill(0); // padding rows K..Kp-1 stay zero
  const acc = new Float64Array(Kp * Kp);
  for (let t0 = 0; t0 < d; t0 += B) {
    const n = Math.min(d - t0, B);
    const nEven = n + (n & 1);
    for (let r = 0; r < K; r++) {
      f32.set(rows[r].subarray(t0, t0 + n), r * B);
      if (nEven !== n) f32[r * B + n] = 0;
    }
    for (let i = 0; i < Kp; i += 4) {
      const a = i * B * 4;
      for (let j = i; j < Kp; j += 2) {
        const b = j * B * 4;
        k.tile(a, a + B * 4, a + 2 * B * 4, a + 3 * B * 4, b, b + B * 4, nEven, outOffset);
        for (let r = 0; r < 4; r++) {
          acc[(i + r) * Kp + j] += out[2 * r];
          acc[(i + r) * Kp + j + 1] += out[2 * r + 1];
        }
      }
    }
  }
  const gram = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) gram[i * K + j] = gram[j * K + i] = acc[i * Kp + j];
  return gram;
}
