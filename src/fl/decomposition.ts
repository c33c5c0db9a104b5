/**
 * The FedLD loss decomposition (spec section 1):
 *   global = local + shift + aggregation, exactly, for every round.
 */
export interface LossDecomposition {
  local: number;
  shift: number;
  aggregation: number;
  /** L(w_g'; D) under the estimator's stand-in for D. */
  global: number;
}

function normalisedWeights(sampleCounts: readonly number[]): number[] {
  const total = sampleCounts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('decomposition: the sample counts must sum to a positive number');
  return sampleCounts.map((n) => {
    if (!(n >= 0)) throw new Error(`decomposition: invalid sample count ${n}`);
    return n / total;
  });
}

function assertFiniteMatrix(m: readonly (readonly number[])[], rows: number, cols: number, what: string): void {
  if (m.length !== rows) throw new Error(`decomposition: ${what} has ${m.length} rows, expected ${rows}`);
  m.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`decomposition: ${what} row ${i} has ${row.length} entries, expected ${cols}`);
    row.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new Error(`decomposition: ${what}[${i}][${j}] is ${x}`);
    });
  });
}

/**
 * Exact estimator from cross-evaluation.
 * @param crossLoss C[i][j] = L(w_i; E_j): local model i on client j's evaluation data.
 * @param globalLoss G[j] = L(w_g'; E_j).
 * @param sampleCounts n_k, giving p_k = n_k / n.
 */
export function exactDecomposition(crossLoss: number[][], globalLoss: number[], sampleCounts: number[]): LossDecomposition {
  const k = sampleCounts.length;
  assertFiniteMatrix(crossLoss, k, k, 'C');
  assertFiniteMatrix([globalLoss], 1, k, 'G');
  const p = normalisedWeights(sampleCounts);
  let local = 0;
  let mixtureOfLocals = 0; // sum_i p_i sum_j p_j C[i][j]
  for (let i = 0; i < k; i++) {
    local += p[i] * crossLoss[i][i];
    let onMixture = 0;
    for (let j = 0; j < k; j++) onMixture += p[j] * crossLoss[i][j];
    mixtureOfLocals += p[i] * onMixture;
  }
  const global = globalLoss.reduce((s, g, j) => s + p[j] * g, 0);
  return { local, shift: mixtureOfLocals - local, aggregation: global - mixtureOfLocals, global };
}

/**
 * Proxy estimator: a validation set V held by the aggregator stands in for D.
 * @param localOnOwn L(w_k; E_k), reported by each client.
 * @param localOnValidation L(w_k; V), computed by the aggregator.
 * @param globalOnValidation L(w_g'; V).
 */
export function proxyDecomposition(
  localOnOwn: number[],
  localOnValidation: number[],
  globalOnValidation: number,
  sampleCounts: number[],
): LossDecomposition {
  const k = sampleCounts.length;
  assertFiniteMatrix([localOnOwn, localOnValidation], 2, k, 'client losses');
  if (!Number.isFinite(globalOnValidation)) throw new Error(`decomposition: global loss is ${globalOnValidation}`);
  const p = normalisedWeights(sampleCounts);
  let local = 0;
  let onValidation = 0;
  for (let i = 0; i < k; i++) {
    local += p[i] * localOnOwn[i];
    onValidation += p[i] * localOnValidation[i];
  }
  return { local, shift: onValidation - local, aggregation: globalOnValidation - onValidation, global: globalOnValidation };
}
