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
