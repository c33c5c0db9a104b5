/** The buffers behind every typed array in `x` (a message, a weight set, an aggregation outcome), each once: what to transfer. */
export function typedArrayBuffers(x: unknown, into = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer) into.add(x.buffer);
  } else if (Array.isArray(x)) {
    for (const item of x) typedArrayBuffers(item, into);
  } else if (typeof x === 'object' && x !== null) {
    for (const value of Object.values(x)) typedArrayBuffers(value, into);
  }
  return [...into];
}

/**
 * `x` with every typed array copied (a memory copy; one copy for an array that appears several times, as a base model
 * shared by several entries), and the copies' buffers, to post to a worker with a transfer list: cheaper on the
 * sending thread than a structured clone of the same arrays, and the caller keeps its own.
 */
export function copyForTransfer<T>(x: T): { copy: T; buffers: ArrayBuffer[] } {
  const copies = new Map<ArrayBufferView, ArrayBufferView>();
  const walk = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) {
      let c = copies.get(v);
      if (!c) copies.set(v, (c = (v as unknown as { slice(): ArrayBufferView }).slice()));
      return c;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, value]) => [k, walk(value)]));
    return v;
  };
  const copy = walk(x) as T;
  return { copy, buffers: [...new Set([...copies.values()].map((c) => c.buffer as ArrayBuffer))] };
}
