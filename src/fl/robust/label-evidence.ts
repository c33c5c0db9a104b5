/**
 * Checks an update against the labels its client declared, instead of against the other clients.
 *
 * Training with softmax cross-entropy moves the output layer's bias by -lr x sum over steps of (p - y): the logits of
 * the classes a client holds more of than the model predicts go up, the others go down. Over a round that bias change
 * points along (q_k - p), the client's label distribution minus what the model predicted on its data; at the start of
 * a round p is about the label mixture the global model was trained on. So for a client whose labels differ from the
 * round's mixture, the centred bias change should have a positive cosine with q_k - q_mix, whichever way its update
 * points relative to the other clients. An honest minority (a client holding the one class no one else has) passes,
 * however far its update is from the others'; a sign-flipped update, or one trained on labels it did not declare
 * (label flipping), moves its bias against its declared labels and fails.
 *
 * The check abstains where it cannot speak: no 1-D output tensor with one entry per class, no declared histogram, or a
 * client whose labels are close to the round's mixture (label skew below minSkew), where the bias change is small and
 * noisy. screen.ts checks those clients against the round's consensus instead.
 */
import type { ClientUpdate } from '../strategies/types';
import type { TensorLayout } from '../weights';

/** What the check found for one update: the cosine, and how far its declared labels are from the round's mixture. */
export interface LabelVerdict {
  clientId: string;
  /** Cosine between the centred output-bias change and q_k - q_mix; null when either is zero. */
  cosine: number | null;
  /** Total variation distance between the client's declared label distribution and the round's mixture, in [0, 1]. */
  skew: number;
  /** The client's declared label distribution (its histogram over its total). */
  labels: readonly number[];
}

/** The declared label histogram of a client (its hello), or undefined when it declared none. */
export type DeclaredLabels = (clientId: string) => readonly number[] | undefined;

/**
 * The index of the output layer's bias in the layout: the last rank-1 tensor with one entry per class (a model's
 * last layer is its classifier), or -1 when there is none.
 */
export function outputBiasIndex(layout: readonly TensorLayout[], numClasses: number): number {
  for (let i = layout.length - 1; i >= 0; i--) {
    const shape = layout[i].shape;
    if (shape.length === 1 && shape[0] === numClasses) return i;
  }
  return -1;
}

/**
 * One verdict per update that has a usable declared histogram, or an empty list when the check cannot run this round
 * (fewer than 2 such updates, histograms of different lengths, or no output bias in the layout). The mixture is the
 * unweighted mean of the clients' label distributions: each client one voice, so a client claiming a huge histogram
 * cannot define the mixture alone.
 */
export function labelVerdicts(layout: readonly TensorLayout[], updates: readonly ClientUpdate[], declared: DeclaredLabels): LabelVerdict[] {
  const withLabels = updates.flatMap((u) => {
    const h = declared(u.clientId);
    if (!h || h.length < 2) return [];
    const total = h.reduce((s, x) => s + (Number.isFinite(x) && x > 0 ? x : 0), 0);
    if (!(total > 0)) return [];
    return [{ update: u, q: h.map((x) => (Number.isFinite(x) && x > 0 ? x / total : 0)) }];
  });
  if (withLabels.length < 2) return [];
  const classes = withLabels[0].q.length;
  if (withLabels.some((c) => c.q.length !== classes)) return [];
  const bias = outputBiasIndex(layout, classes);
  if (bias < 0) return [];
  const mix = new Array<number>(classes).fill(0);
  for (const c of withLabels) c.q.forEach((x, i) => (mix[i] += x / withLabels.length));
  const kernel = outputKernelIndex(layout, bias, classes);
  return withLabels.map(({ update, q }) => {
    const expected = q.map((x, i) => x - mix[i]);
    const skew = expected.reduce((s, x) => s + Math.abs(x), 0) / 2;
    const onBias = centredCosine(update.delta[bias].values, expected);
    // The classifier's kernel moves the same way, row by row (each row scaled by a non-negative activation), so its
    // column sums must agree too: an update cannot keep its bias honest and flip the rest of the output layer.
    const onKernel = kernel < 0 ? null : centredCosine(columnSums(update.delta[kernel].values, classes), expected);
    const cosine = onBias === null ? onKernel : onKernel === null ? onBias : Math.min(onBias, onKernel);
    return { clientId: update.clientId, cosine, skew, labels: q };
  });
}

/**
 * The classifier's kernel: the [inputs, classes] tensor just before its bias, when a hidden layer feeds it (fedtab's
 * hidden layers end in a ReLU, so its inputs are non-negative); -1 otherwise (a model that is only a classifier sees
 * raw features, which may be negative, and its kernel's column sums say nothing about the labels).
 */
function outputKernelIndex(layout: readonly TensorLayout[], bias: number, classes: number): number {
  const k = bias - 1;
  if (k < 2) return -1;
  const shape = layout[k].shape;
  return shape.length === 2 && shape[1] === classes ? k : -1;
}

function columnSums(values: Float32Array, columns: number): Float32Array {
  const sums = new Float32Array(columns);
  for (let i = 0; i < values.length; i++) sums[i % columns] += values[i];
  return sums;
}

/** Cosine of (b - mean(b)) with e (e sums to zero already, so centring b is all the softmax's shift invariance asks). */
function centredCosine(b: Float32Array, e: readonly number[]): number | null {
  let mean = 0;
  for (let i = 0; i < b.length; i++) mean += b[i] / b.length;
  let dot = 0;
  let bb = 0;
  let ee = 0;
  for (let i = 0; i < b.length; i++) {
    const x = b[i] - mean;
    dot += x * e[i];
    bb += x * x;
    ee += e[i] * e[i];
  }
  if (!(bb > 0 && ee > 0)) return null;
  return dot / Math.sqrt(bb * ee);
}
