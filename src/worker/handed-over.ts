import type { WeightSet } from '../fl/weights';

/**
 * The buffers of the weight sets marked as handed over, each once, that no set kept by the caller shares (a shared
 * buffer must be copied: transferring it would empty the caller's set too).
 */
export function handedOverBuffers(weightSets: readonly WeightSet[], handedOver: readonly boolean[] | undefined): ArrayBuffer[] {
  if (!handedOver) return [];
  const kept = new Set<ArrayBufferLike>();
  weightSets.forEach((ws, i) => {
    if (!handedOver[i]) for (const t of ws) kept.add(t.values.buffer);
  });
  const out = new Set<ArrayBuffer>();
  weightSets.forEach((ws, i) => {
    if (!handedOver[i]) return;
    for (const t of ws) if (t.values.buffer instanceof ArrayBuffer && !kept.has(t.values.buffer)) out.add(t.values.buffer);
  });
  return [...out];
}
