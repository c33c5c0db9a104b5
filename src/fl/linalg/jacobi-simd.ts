/**
 * The cyclic Jacobi sweep of ./jacobi.ts on a hand-assembled WebAssembly kernel: the same rotations in the same
 * order with the same float64 arithmetic (no fused multiply-add), so the eigenvalues and eigenvectors are
 * bit-identical to the JS solver. What makes it faster (4-6x at n = 50): the two rotated rows of A and of V are
 * updated two entries at a time (f64x2), and the columns of A are copied from the new rows instead of being
 * computed again, which needs A to be exactly symmetric (FedLD's Gram matrices are; jacobi.ts checks, else runs
 * the JS loop). One sweep per call; JS checks convergence between sweeps, as before.
 *
 * Layout in the kernel's memory: A at byte 0 and V (stored transposed, as in jacobi.ts) after it, both n x N with
 * the row stride N = n rounded up to even; the padding column stays zero through every rotation.
 */
import { ensureMemory, F64, f64Bytes, functionBody, get, I32, kernelLoader, memarg, op, set, simdOp, V128, VOID } from './wasm-asm';

const tee = (i: number): number[] => [op.localTee, i];
const f64Const = (x: number): number[] => [op.f64Const, ...f64Bytes(x)];
const f64Load = [op.f64Load, ...memarg(3, 0)];
const f64Store = [op.f64Store, ...memarg(3, 0)];
const v128Load = [...simdOp.v128Load, ...memarg(4, 0)];
const v128Store = [...simdOp.v128Store, ...memarg(4, 0)];

/**
 * sweep(a, v, n, N): one cyclic sweep over all pairs p < q of the n x n matrix at byte offset a (row stride N
 * float64) and the eigenvector rows at v.
 */
function sweepBody(): number[] {
  // Parameters.
  const A = 0;
  const Vb = 1;
  const n = 2;
  const N = 3;
  // i32 locals.
  const p = 4;
  const q = 5;
  const r = 6;
  const rowBytes = 7;
  const pRow = 8;
  const qRow = 9;
  const o = 10;
  const addr = 11;
  // f64 locals.
  const apq = 12;
  const app = 13;
  const aqq = 14;
  const theta = 15;
  const t = 16;
  const c = 17;
  const s = 18;
  // v128 locals.
  const cs = 19;
  const ss = 20;
  const x = 21;
  const y = 22;
  const i32c = (k: number): number[] => [op.i32Const, k];
  /** rows at base0 and base1 (byte offsets, rowBytes long each): (x, y) <- (c x - s y, s x + c y), two entries at a time. */
  const rotateRows = (base0: number, base1: number): number[] => [
    ...i32c(0), ...set(o),
    op.loop, VOID,
    ...get(base0), ...get(o), op.i32Add, ...v128Load, ...set(x),
    ...get(base1), ...get(o), op.i32Add, ...v128Load, ...set(y),
    ...get(base0), ...get(o), op.i32Add,
    ...get(cs), ...get(x), ...simdOp.f64x2Mul, ...get(ss), ...get(y), ...simdOp.f64x2Mul, ...simdOp.f64x2Sub, ...v128Store,
    ...get(base1), ...get(o), op.i32Add,
    ...get(ss), ...get(x), ...simdOp.f64x2Mul, ...get(cs), ...get(y), ...simdOp.f64x2Mul, ...simdOp.f64x2Add, ...v128Store,
    ...get(o), ...i32c(16), op.i32Add, ...tee(o), ...get(rowBytes), op.i32LtU, op.brIf, 0,
    op.end,
  ];
  const at = (row: number, col: number): number[] => [...get(row), ...get(col), ...i32c(3), op.i32Shl, op.i32Add];
  return [
    ...get(N), ...i32c(3), op.i32Shl, ...set(rowBytes),
    ...i32c(0), ...set(p),
    op.block, VOID, op.loop, VOID,
    // while (p + 1 < n)
    ...get(p), ...i32c(1), op.i32Add, ...get(n), op.i32GeU, op.brIf, 1,
    ...get(A), ...get(p), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(pRow),
    ...get(p), ...i32c(1), op.i32Add, ...set(q),
    op.block, VOID, op.loop, VOID,
    ...get(q), ...get(n), op.i32GeU, op.brIf, 1,
    op.block, VOID,
    ...get(A), ...get(q), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(qRow),
    ...at(pRow, q), ...f64Load, ...tee(apq), ...f64Const(0), op.f64Eq, op.brIf, 0,
    ...at(pRow, p), ...f64Load, ...set(app),
    ...at(qRow, q), ...f64Load, ...set(aqq),
    // theta = (aqq - app) / (2 * apq)
    ...get(aqq), ...get(app), op.f64Sub, ...f64Const(2), ...get(apq), op.f64Mul, op.f64Div, ...set(theta),
    // t = |theta| > 1e150 ? 1 / (2 theta) : (theta >= 0 ? 1 : -1) / (|theta| + sqrt(theta^2 + 1))
    ...get(theta), op.f64Abs, ...f64Const(1e150), op.f64Gt,
    op.if, F64,
    ...f64Const(1), ...f64Const(2), ...get(theta), op.f64Mul, op.f64Div,
    op.else,
    ...f64Const(1), ...f64Const(-1), ...get(theta), ...f64Const(0), op.f64Ge, op.select,
    ...get(theta), op.f64Abs, ...get(theta), ...get(theta), op.f64Mul, ...f64Const(1), op.f64Add, op.f64Sqrt, op.f64Add, op.f64Div,
    op.end,
    ...set(t),
    // c = 1 / sqrt(t^2 + 1), s = t c
    ...f64Const(1), ...get(t), ...get(t), op.f64Mul, ...f64Const(1), op.f64Add, op.f64Sqrt, op.f64Div, ...tee(c), ...simdOp.f64x2Splat, ...set(cs),
    ...get(t), ...get(c), op.f64Mul, ...tee(s), ...simdOp.f64x2Splat, ...set(ss),
    // Rows p and q of A, whole (the entries at columns p and q are overwritten below).
    ...rotateRows(pRow, qRow),
    // Columns p and q of A from the new rows: a[r][p] = a[p][r], a[r][q] = a[q][r] for every r < n.
    ...i32c(0), ...set(r),
    op.loop, VOID,
    ...get(A), ...get(r), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(addr),
    ...at(addr, p), ...at(pRow, r), ...f64Load, ...f64Store,
    ...at(addr, q), ...at(qRow, r), ...f64Load, ...f64Store,
    ...get(r), ...i32c(1), op.i32Add, ...tee(r), ...get(n), op.i32LtU, op.brIf, 0,
    op.end,
    // a_pp = app - t apq, a_qq = aqq + t apq, a_pq = a_qp = 0
    ...at(pRow, p), ...get(app), ...get(t), ...get(apq), op.f64Mul, op.f64Sub, ...f64Store,
    ...at(qRow, q), ...get(aqq), ...get(t), ...get(apq), op.f64Mul, op.f64Add, ...f64Store,
    ...at(pRow, q), ...f64Const(0), ...f64Store,
    ...at(qRow, p), ...f64Const(0), ...f64Store,
    // Rows p and q of V (eigenvectors p and q).
    ...get(Vb), ...get(p), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(addr),
    ...get(Vb), ...get(q), ...get(rowBytes), op.i32Mul, op.i32Add, ...set(r),
    ...rotateRows(addr, r),
    op.end, // skip
    ...get(q), ...i32c(1), op.i32Add, ...set(q),
    op.br, 0,
    op.end, op.end, // q loop
    ...get(p), ...i32c(1), op.i32Add, ...set(p),
    op.br, 0,
    op.end, op.end, // p loop
  ];
}

/**
 * offdiag(a, n, N) -> 2 sum_{p < q} a_pq^2, summed in jacobi.ts's order (p, then q); symmetric(a, n, N) -> 1 when
 * a_pq === a_qp for all p < q. Locals: 3 p, 4 q, 5 s (f64) / 3 p, 4 q.
 */
function pairsBody(kind: 'offdiag' | 'symmetric'): number[] {
  const [A, n, N, p, q, s] = [0, 1, 2, 3, 4, 5];
  const i32c = (k: number): number[] => [op.i32Const, k];
  // Byte address of a[row][col].
  const at = (row: number, col: number): number[] => [...get(A), ...get(row), ...get(N), op.i32Mul, ...get(col), op.i32Add, ...i32c(3), op.i32Shl, op.i32Add];
  const inner =
    kind === 'offdiag'
      ? [...get(s), ...at(p, q), ...f64Load, ...at(p, q), ...f64Load, op.f64Mul, op.f64Add, ...set(s)]
      : [...at(p, q), ...f64Load, ...at(q, p), ...f64Load, op.f64Ne, op.if, VOID, ...i32c(0), op.return, op.end];
  return [
    ...i32c(0), ...set(p),
    op.block, VOID, op.loop, VOID,
    ...get(p), ...i32c(1), op.i32Add, ...get(n), op.i32GeU, op.brIf, 1,
    ...get(p), ...i32c(1), op.i32Add, ...set(q),
    op.block, VOID, op.loop, VOID,
    ...get(q), ...get(n), op.i32GeU, op.brIf, 1,
    ...inner,
    ...get(q), ...i32c(1), op.i32Add, ...set(q), op.br, 0,
    op.end, op.end,
    ...get(p), ...i32c(1), op.i32Add, ...set(p), op.br, 0,
    op.end, op.end,
    ...(kind === 'offdiag' ? [...f64Const(2), ...get(s), op.f64Mul] : i32c(1)),
  ];
}

interface Kernel {
  sweep: (a: number, v: number, n: number, N: number) => void;
  offdiag: (a: number, n: number, N: number) => number;
  symmetric: (a: number, n: number, N: number) => number;
  memory: WebAssembly.Memory;
}

const loadKernel = kernelLoader<Kernel>(() => [
  { name: 'sweep', params: [I32, I32, I32, I32], results: [], body: functionBody([[8, I32], [7, F64], [4, V128]], sweepBody()) },
  { name: 'offdiag', params: [I32, I32, I32], results: [F64], body: functionBody([[2, I32], [1, F64]], pairsBody('offdiag')) },
  { name: 'symmetric', params: [I32, I32, I32], results: [I32], body: functionBody([[2, I32]], pairsBody('symmetric')) },
]);

/** Whether the kernel runs here. */
export function jacobiSimdAvailable(): boolean {
  return loadKernel() !== null;
}

/**
 * Runs jacobi.ts's sweep loop on the kernel: `a` (n x n) and `v` (transposed eigenvectors) are rotated in place
 * until the off-diagonal sum of squares is at most thresholdSq or maxSweeps sweeps ran. Null (inputs untouched)
 * where the kernel does not run or `a` is not exactly symmetric.
 */
export function jacobiSweepsSimd(a: Float64Array, v: Float64Array, n: number, thresholdSq: number, maxSweeps: number): { sweeps: number; converged: boolean } | null {
  const k = loadKernel();
  if (!k || n < 2) return null;
  const N = n + (n & 1);
  const vOffset = n * N * 8;
  ensureMemory(k.memory, 2 * n * N * 8);
  const ma = new Float64Array(k.memory.buffer, 0, n * N);
  const mv = new Float64Array(k.memory.buffer, vOffset, n * N);
  ma.fill(0);
  mv.fill(0);
  for (let i = 0; i < n; i++) {
    ma.set(a.subarray(i * n, i * n + n), i * N);
    mv.set(v.subarray(i * n, i * n + n), i * N);
  }
  if (!k.symmetric(0, n, N)) return null;
  let sweeps = 0;
  let converged = k.offdiag(0, n, N) <= thresholdSq;
  while (!converged && sweeps < maxSweeps) {
    k.sweep(0, vOffset, n, N);
    sweeps++;
    converged = k.offdiag(0, n, N) <= thresholdSq;
  }
  for (let i = 0; i < n; i++) {
    a.set(ma.subarray(i * N, i * N + n), i * n);
    v.set(mv.subarray(i * N, i * N + n), i * n);
  }
  return { sweeps, converged };
}
