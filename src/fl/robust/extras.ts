/**
 * Clipping of what a strategy's clients send beside their delta (SCAFFOLD's control-variate change delta-c): the
 * server folds it into its state, so one client sending an outsized one would move that state for every later round.
 * Each tensor of each named extra is clipped to clipFactor x the round's reference norm of that tensor, as the deltas
 * are (median from 3 updates on, the smaller norm with 2, none with 1). An extra that not every update carries is left
 * alone (the strategy reports the one missing it).
 */
import type { ClientUpdate } from '../strategies/types';
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
