/** Geometry of the tiny per-class bar chart of a label histogram. */
export interface LabelBar {
  label: number;
  count: number;
  /** Bar height as a share of the tallest bar, in [0, 1]. */
  height: number;
}

export function labelBars(counts: readonly number[]): LabelBar[] {
  const clean = counts.map((c) => (Number.isFinite(c) && c > 0 ? c : 0));
  const max = Math.max(0, ...clean);
  return clean.map((count, label) => ({ label, count, height: max > 0 ? count / max : 0 }));
}

/** "0: 134, 1: 7, ..." for screen readers and tooltips. */
export function describeHistogram(counts: readonly number[]): string {
  if (counts.length === 0) return 'no labels';
  return counts.map((c, label) => `${label}: ${c}`).join(', ');
}
