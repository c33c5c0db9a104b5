/**
 * Clipping of what a strategy's clients send beside their delta (SCAFFOLD's control-variate change delta-c): the
 * server folds it into its state, so one client sending an outsized one would move that state for every later round.
 * Each tensor of each named extra is clipped to clipFactor x the round's reference norm of that tensor, as the deltas
 * are (median from 3 updates on, the smaller norm with 2, none with 1). An extra that not every update carries is left
 * alone (the strategy reports the one missing it).
 */
import type { ClientUpdate } from '../strategies/types';
import type { WeightSet } from '../weights';
import { median, scaleDelta, sumOfSquares } from './stats';
import type { ClippedUpdate } from './types';

export function clipExtras(kept: ClientUpdate[], clipFactor: number, clipped: ClippedUpdate[]): ClientUpdate[] {
  if (kept.length < 2) return kept;
  const names = Object.keys(kept[0].extras ?? {}).filter((name) => kept.every((u) => u.extras?.[name]?.length === kept[0].extras![name].length));
  for (const name of names) {
    const tensors = kept[0].extras![name].length;
    const norms = kept.map((u) => u.extras![name].map((t) => Math.sqrt(sumOfSquares(t.values))));
    const reference = Array.from({ length: tensors }, (_, ti) => {
      const column = norms.map((n) => n[ti]);
      return kept.length >= 3 ? median(column) : Math.min(...column);
    });
    kept = kept.map((u, i) => {
      const extra = u.extras![name];
      if (extra.every((_, ti) => norms[i][ti] <= clipFactor * reference[ti])) return u;
      const before = Math.sqrt(norms[i].reduce((s, n) => s + n * n, 0));
      const clippedExtra = extra.map((t, ti) => (norms[i][ti] <= clipFactor * reference[ti] ? t : scaleDelta([t], (clipFactor * reference[ti]) / norms[i][ti])[0]));
      const after = Math.sqrt(clippedExtra.reduce((s, t) => s + sumOfSquares(t.values), 0));
      clipped.push({ clientId: u.clientId, norm: before, clippedTo: after, part: name });
      return { ...u, extras: { ...u.extras, [name]: clippedExtra } };
    });
  }
  return kept;
}

/**
 * Whether a control-variate change follows from the delta it came with, for strategies whose extra is tied to the
 * delta the way SCAFFOLD's option II ties them: delta-c = -c - delta-w / (K * lr), so delta-c + c points exactly
 * along -delta-w (K * lr > 0 is the client's own, the direction is not). Returns why not (the cosine of
 * delta-c + c with -delta-w is below minCosine, or delta-c moves while delta-w is zero), or null when it does.
 * A forged delta-c (a fixed direction, a scaled one with c != 0) fails; only its length along -delta-w is the
 * client's to choose, and that length is clipped like every extra (clipExtras).
 */
export function controlVariateProblem(delta: WeightSet, deltaC: WeightSet, c: WeightSet, minCosine: number): string | null {
  const fits = (w: WeightSet) => w.length === delta.length && w.every((t, ti) => t.values.length === delta[ti].values.length);
  if (!fits(deltaC) || !fits(c)) return 'does not have the layout of delta-w';
  let dot = 0;
  let vv = 0;
  let ww = 0;
  let cc = 0;
  let moved = false;
  delta.forEach((t, ti) => {
    const d = t.values;
    const dc = deltaC[ti].values;
    const cv = c[ti].values;
    for (let i = 0; i < d.length; i++) {
      const v = dc[i] + cv[i];
      dot -= v * d[i];
      vv += v * v;
      ww += d[i] * d[i];
      cc += cv[i] * cv[i];
      if (dc[i] !== 0) moved = true;
    }
  });
  if (ww === 0) {
    // No local step: an honest client keeps c_k (delta-c 0); one that stepped without moving has delta-c = -c.
    return !moved || vv <= 1e-12 * cc ? null : 'is not zero while delta-w is';
  }
  const cosine = vv === 0 ? 0 : dot / Math.sqrt(vv * ww);
  return cosine >= minCosine ? null : `does not follow from delta-w: the cosine of delta-c + c with -delta-w is ${cosine.toFixed(3)} (1 when honest), below ${minCosine}`;
}
