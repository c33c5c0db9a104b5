/** When a global model predicts (almost) one class only: the warning FedLD's unweighted aggregation can need. */
export const COLLAPSE_CONFIG = {
  /** Warn when one class gets at least this share of all predictions. */
  dominantShare: 0.9,
} as const;

export interface ClassBalance {
  /** Accuracy on each class's samples; null for a class without evaluated samples. */
  perClassAccuracy: (number | null)[];
  /** Share of the evaluated samples assigned to the most predicted class. */
  predictedShare: number;
  /** The most predicted class. */
  predictedClass: number;
  /** Why the model looks collapsed, or null. */
  collapse: string | null;
}

export function classBalance(perClassAccuracy: (number | null)[], predictionCounts: readonly number[]): ClassBalance {
  const total = predictionCounts.reduce((a, b) => a + b, 0);
  let top = 0;
  for (let c = 1; c < predictionCounts.length; c++) if (predictionCounts[c] > predictionCounts[top]) top = c;
  const predictedShare = total > 0 ? predictionCounts[top] / total : 0;
  const never = perClassAccuracy.flatMap((acc, c) => (acc !== null && predictionCounts[c] === 0 ? [c] : []));
  const reasons: string[] = [];
  if (total > 0 && predictedShare >= COLLAPSE_CONFIG.dominantShare) {
    reasons.push(`the global model predicts class ${top} for ${(100 * predictedShare).toFixed(1)}% of the evaluated samples`);
  }
  if (never.length > 0) reasons.push(`class${never.length > 1 ? 'es' : ''} ${never.join(', ')} never predicted`);
  return { perClassAccuracy, predictedShare, predictedClass: top, collapse: reasons.length > 0 ? `collapse: ${reasons.join('; ')}` : null };
}
