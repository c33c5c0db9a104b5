/**
 * Two element-wise float32 loops of FedLD's aggregation on a WebAssembly SIMD kernel: the new model
 * (global + update) and the history update (decay h + (1 - decay) u). Each runs once per tensor per round, so in
 * JS they would run cold (interpreted) for the first rounds of a session: ~3-5 ms per 50k-value tensor on the
 * loaded 2-core machine, against ~0.1 ms here whatever the JIT has done so far.
 *
 * Same values as the JS loops: a float32 sum computed in float64 and rounded to float32 equals the float32 sum
 * (float64 has more than 2 x 24 + 2 bits, so the double rounding is innocuous), and the history is computed in
 * float64 with the same operations in the same order, then rounded once to float32.
 * The functions return null / false where WebAssembly SIMD is unavailable: callers then run their JS loops.
 */
import { ensureMemory, F64, functionBody, get, I32, instantiate, memarg, moduleBytes, op, set, simdOp, V128, VOID } from './wasm-asm';

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

interface Kernel {
  add: (a: number, b: number, out: number, nBytes: number) => void;
  decay: (h: number, u: number, nBytes: number, d: number, e: number) => void;
  memory: WebAssembly.Memory;
}

let kernel: Kernel | null | undefined;

function loadKernel(): Kernel | null {
  if (kernel === undefined) {
    const instance = instantiate(
      moduleBytes([
        { name: 'add', params: [I32, I32, I32, I32], results: [], body: functionBody([[1, I32]], addBody()) },
        { name: 'decay', params: [I32, I32, I32, F64, F64], results: [], body: functionBody([[1, I32], [4, V128]], decayBody()) },
      ]),
    );
    kernel = instance ? { add: instance.exports.add as Kernel['add'], decay: instance.exports.decay as Kernel['decay'], memory: instance.exports.mem as WebAssembly.Memory } : null;
  }
  return kernel;
}

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
