/**
 * The few pieces of WebAssembly's binary format that the hand-assembled kernels (median-simd.ts, jacobi-simd.ts)
 * share: LEB128 numbers, sections, names, value types and the opcodes they use. No toolchain: each kernel is
 * written as a list of instructions in TypeScript and validated (WebAssembly.validate) before it is compiled.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
/** The empty block type. */
export const VOID = 0x40;

/** Scalar and control opcodes. */
export const op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f64Load: 0x2b, f64Store: 0x39,
  i32Const: 0x41, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtU: 0x49, i32GeU: 0x4f,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Or: 0x72, i32Shl: 0x74, i32ShrU: 0x76,
  f64Abs: 0x99, f64Neg: 0x9a, f64Sqrt: 0x9f, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
  select: 0x1b,
} as const;

/** A SIMD (0xfd-prefixed) opcode. */
export function simd(code: number): number[] {
  return [0xfd, ...uleb(code)];
}

export const simdOp = {
  v128Load: simd(0x00),
  v128Store: simd(0x0b),
  /** Loads 8 bytes into the low half, zeroing the high half. */
  v128Load64Zero: simd(0x5d),
  /** Followed by the 16 bytes of the constant. */
  v128Const: simd(0x0c),
  f64x2Splat: simd(0x14),
  /** Followed by the lane index byte. */
  f64x2ExtractLane: simd(0x21),
  /** Followed by 16 lane-index bytes. */
  i8x16Shuffle: simd(0x0d),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLowF32x4: simd(0x5f),
  f32x4Add: simd(0xe4),
  f32x4Pmin: simd(0xea),
  f32x4Pmax: simd(0xeb),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
} as const;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** An f64 immediate (little-endian IEEE 754). */
export function f64Bytes(x: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([x]).buffer));
}

export function section(id: number, content: number[]): number[] {
  return concat([id], uleb(content.length), content);
}

/** The parts one after the other (a loop, not spread: kernel bodies run to several thousand bytes). */
export function concat(...parts: number[][]): number[] {
  const out: number[] = [];
  for (const part of parts) for (let i = 0; i < part.length; i++) out.push(part[i]);
  return out;
}

export function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

export const get = (i: number): number[] => [op.localGet, ...uleb(i)];
export const set = (i: number): number[] => [op.localSet, ...uleb(i)];
/** A memory argument: alignment exponent (a hint) and static byte offset. */
export const memarg = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

/** One function body of the code section: local declarations as [count, type] groups, then the instructions. */
export function functionBody(locals: ReadonlyArray<readonly [number, number]>, body: number[]): number[] {
  const fn = concat(uleb(locals.length), ...locals.map(([count, type]) => [...uleb(count), type]), body, [op.end]);
  return concat(uleb(fn.length), fn);
}

/**
 * A module with one exported memory ("mem", 1 page to start) and the given functions, all exported by name.
 * Each function has its own type: parameter types, result types.
 */
export function moduleBytes(functions: ReadonlyArray<{ name: string; params: number[]; results: number[]; body: number[] }>): Uint8Array<ArrayBuffer> {
  const types = functions.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results]);
  const exports = [...functions.flatMap((f, i) => [...name(f.name), 0, ...uleb(i)]), ...name('mem'), 2, 0];
  return Uint8Array.from(
    concat(
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      section(1, concat(uleb(functions.length), types)),
      section(3, concat(uleb(functions.length), ...functions.map((_, i) => uleb(i)))),
      section(5, [1, 0, 1]),
      section(7, concat(uleb(functions.length + 1), exports)),
      section(10, concat(uleb(functions.length), ...functions.map((f) => f.body))),
    ),
  );
}

/** Compiles and instantiates a module; null where WebAssembly (or an instruction it uses, such as SIMD) is missing. */
export function instantiate(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Instance | null {
  try {
    // Compiling validates (and throws on an instruction the runtime lacks, e.g. SIMD): no separate validate pass.
    if (typeof WebAssembly === 'undefined') return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes));
  } catch {
    return null;
  }
}

/** Grows a memory to at least `bytes`. */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): void {
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
}

export interface KernelFunction {
  name: string;
  params: number[];
  results: number[];
  body: number[];
}

/**
 * A kernel module assembled and compiled on first use, then kept: `load()` gives its exported functions and its
 * memory (`Exports` names them), or null where WebAssembly (SIMD) is missing.
 */
export function kernelLoader<Exports extends object>(functions: () => ReadonlyArray<KernelFunction>): () => (Exports & { memory: WebAssembly.Memory }) | null {
  let kernel: (Exports & { memory: WebAssembly.Memory }) | null | undefined;
  return () => {
    if (kernel === undefined) {
      const exports = instantiate(moduleBytes(functions()))?.exports;
      kernel = exports ? ({ ...exports, memory: exports.mem as WebAssembly.Memory } as unknown as Exports & { memory: WebAssembly.Memory }) : null;
    }
    return kernel;
  };
}
