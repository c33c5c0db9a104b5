/**
 * The strategy-independent first stage of robust aggregation: checks, sample-count caps, norm clipping and the
 * direction check, applied to the updates that arrived in a round before anything combines them. Pure.
 */
import type { ClientUpdate } from '../strategies/types';
import type { TensorLayout, WeightSet } from '../weights';
import { assertSameLayout } from '../weights';
import { allFinite, cosineFromDot, median, medianConsensus, scaleDelta, sumOfSquares, tensorSquares } from './stats';
import { clipExtras } from './extras';
import { labelVerdicts, type DeclaredLabels, type LabelVerdict } from './label-evidence';
import type { CappedSamples, ClippedUpdate, DroppedUpdate, RobustSettings, ScreenResult } from './types';

/** The sample count a client declared when it joined (its hello), or undefined if it is not known. */
export type DeclaredSamples = (clientId: string) => number | undefined;

export interface ScreenOptions {
  /** The label histogram each client declared (its hello), for the direction check by labels (./label-evidence.ts). */
  declaredLabels?: DeclaredLabels;
  /**
   * The caller has already scanned every update's values for NaN and Infinity (the round engine does, once, at its
   * trust boundary: RoundEngine.acceptUpdate), so screening does not scan them again. Layouts, sample counts and
   * duplicate ids, which cost nothing to check, are checked either way. Default false: a direct caller gets the scan.
   */
  valuesScanned?: boolean;
}

/**
 * Screens one round's updates:
 * 1. always: an update with another layout, a non-finite value (unless options.valuesScanned), a non-positive or
 *    non-integer sample count, or a client id seen before this round is dropped with the reason;
 * 2. unless 'off': the sample count is capped at the client's declared count (hello), the session maximum, and
 *    sampleFactor x the round's median count;
 * 3. unless 'off', from 3 updates on: an update whose whole L2 norm exceeds dropFactor x the round's median norm is
 *    dropped (or shrunk); then, unless 'off': tensor by tensor, every update's L2 norm is clipped to clipFactor x the reference norm of that
 *    tensor (per tensor, because FedLD aggregates per tensor and an update can be outsized in one tensor only).
 *    The reference is the median of the round's norms from 3 updates on; with 2 it is the smaller norm (the median
 *    of two is their mean, which one attacker alone can inflate); with 1 there is nothing to compare, so no clipping;
 *    under direction 'labels', from 3 updates on, a label-verified minority is held to up to minorityFactor instead of
 *    either factor where that is larger, by the share of its labels on classes the round's other clients do not hold
 *    (RobustSettings.minorityFactor and minorityCoverShare say why);
 *    What a strategy's clients send beside the delta (SCAFFOLD's delta-c) is clipped the same way (./extras.ts);
 * 4. unless 'off', from 3 updates on: an update whose cosine with the coordinate-wise median of the clipped updates
 *    is below minCosine is dropped (it points against what most clients agree on, as a sign-flipped update does).
 * Cost at classroom scale (K = 50, d = 50k): each update's values are read once for all its norms (per tensor, the
 * whole norm is their sum) and once by the coordinate-wise median, which takes the cosines' dot products on the way
 * (medianConsensus); only clipped tensors are copied.
 */
export function screenUpdates(layout: readonly TensorLayout[], updates: readonly ClientUpdate[], declared: DeclaredSamples, settings: RobustSettings, options: ScreenOptions = {}): ScreenResult {
  const dropped: DroppedUpdate[] = [];
  const clipped: ClippedUpdate[] = [];
  const capped: CappedSamples[] = [];
  const seen = new Set<string>();
  let kept: ClientUpdate[] = [];
  for (const u of updates) {
    const reason = invalidReason(layout, u, seen, options.valuesScanned === true);
    seen.add(u.clientId);
    if (reason) dropped.push({ clientId: u.clientId, reason });
    else kept.push(u);
  }
  if (settings.mode === 'off' || kept.length === 0) return { kept, dropped, clipped, capped, referenceNorms: null };

  // 2. Sample counts.
  const own = kept.map((u) => Math.min(u.numSamples, declared(u.clientId) ?? Infinity, settings.maxSamples));
  const relativeCap = Math.max(1, Math.floor(settings.sampleFactor * median(own)));
  kept = kept.map((u, i) => {
    const n = Math.min(own[i], relativeCap);
    if (n === u.numSamples) return u;
    capped.push({ clientId: u.clientId, claimed: u.numSamples, capped: n });
    return { ...u, numSamples: n };
  });

  // The label evidence, read once (the cosines do not change under the scaling below): it widens a verified
  // minority's norm bounds here and checks directions in step 4.
  let verdicts = settings.direction === 'labels' && options.declaredLabels ? labelVerdicts(layout, kept, options.declaredLabels) : null;
  const room = kept.length >= 3 ? minorityRoom(verdicts ?? [], settings) : new Map<string, number>();
  const widened = (plain: number, r: number) => plain + Math.max(0, settings.minorityFactor - plain) * r;
  const factors = (u: ClientUpdate) => {
    const r = room.get(u.clientId) ?? 0;
    return { drop: widened(settings.dropFactor, r), clip: widened(settings.clipFactor, r), minority: r > 0 };
  };
  const clippedEntry = (u: ClientUpdate, norm: number, clippedTo: number): ClippedUpdate =>
    factors(u).minority ? { clientId: u.clientId, norm, clippedTo, minority: true } : { clientId: u.clientId, norm, clippedTo };

  // 3. Gross outliers dropped, then norm clipping, tensor by tensor. One pass over each update: its squared norm
  // per tensor, kept beside it (and updated whenever its delta is scaled) until the direction check.
  let squares = kept.map((u) => tensorSquares(u.delta));
  if (kept.length >= 3) {
    const whole = squares.map(wholeNorm);
    const med = median(whole);
    const over = kept.map((u, i) => whole[i] > factors(u).drop * med);
    if (settings.outliers === 'shrink') {
      kept = kept.map((u, i) => {
        if (!over[i]) return u;
        const delta = scaleDelta(u.delta, med / whole[i]);
        squares[i] = tensorSquares(delta);
        clipped.push(clippedEntry(u, whole[i], wholeNorm(squares[i])));
        return { ...u, delta };
      });
    } else if (over.some(Boolean)) {
      kept = kept.filter((u, i) => {
        if (!over[i]) return true;
        dropped.push({ clientId: u.clientId, reason: `update norm ${whole[i].toPrecision(3)} is over ${factors(u).drop} x the round's median norm (${med.toPrecision(3)})` });
        return false;
      });
      squares = squares.filter((_, i) => !over[i]);
      // The mixture the labels are judged against is that of the updates left.
      if (verdicts !== null) verdicts = labelVerdicts(layout, kept, options.declaredLabels!);
    }
  }
  const norms = squares.map((sq) => Array.from(sq, Math.sqrt));
  const referenceNorms = kept.length >= 2 ? layout.map((_, ti) => (kept.length >= 3 ? median : minimum)(norms.map((n) => n[ti]))) : null;
  if (referenceNorms !== null) {
    kept = kept.map((u, i) => {
      const factor = factors(u).clip;
      if (norms[i].every((n, ti) => n <= factor * referenceNorms[ti])) return u;
      const before = wholeNorm(squares[i]);
      const sq = Float64Array.from(squares[i]);
      const delta = u.delta.map((t, ti) => {
        const limit = factor * referenceNorms[ti];
        if (norms[i][ti] <= limit) return t;
        const scaled = scaleDelta([t], limit / norms[i][ti])[0];
        sq[ti] = sumOfSquares(scaled.values);
        return scaled;
      });
      squares[i] = sq;
      clipped.push(clippedEntry(u, before, wholeNorm(sq)));
      return { ...u, delta };
    });
  }

  // Strategy extras (SCAFFOLD's delta-c) feed the server's state: clipped the same way.
  kept = clipExtras(kept, settings.clipFactor, clipped);

  // 4. Direction.
  if (settings.direction !== 'off') kept = checkDirections(kept, squares, settings, verdicts ?? [], dropped);
  return { kept, dropped, clipped, capped, referenceNorms };
}

/**
 * 'labels': a client whose declared labels differ from the round's mixture is checked against its own labels (its
 * output bias must move towards them), never against the others, so an honest minority is kept however far it points
 * from them. Clients whose labels look like everyone's (or who declared none) are checked against the round's
 * consensus, as under 'consensus', where every client is: from 3 updates on, an update whose cosine with the
 * coordinate-wise median of the clipped updates is below minCosine is dropped.
 */
function checkDirections(kept: ClientUpdate[], squares: Float64Array[], settings: RobustSettings, verdicts: readonly LabelVerdict[], dropped: DroppedUpdate[]): ClientUpdate[] {
  const byLabels = new Map(verdicts.filter((v) => v.skew >= settings.minLabelSkew).map((v) => [v.clientId, v]));
  const consensus = kept.length >= 3 && byLabels.size < kept.length ? medianConsensus(kept.map((u) => u.delta)) : null;
  const keep = kept.map((u, i) => {
    const verdict = byLabels.get(u.clientId);
    if (verdict) {
      if (verdict.cosine === null || verdict.cosine >= settings.minLabelCosine) return true;
      dropped.push({
        clientId: u.clientId,
        reason: `its output layer moved against the labels it declared (cosine ${verdict.cosine.toFixed(2)} with its label skew; an honest update's is positive)`,
      });
      return false;
    }
    if (consensus === null) return true;
    const cos = cosineFromDot(consensus.dots[i], wholeNorm(squares[i]), consensus.norm);
    if (cos === null || cos >= settings.minCosine) return true;
    dropped.push({ clientId: u.clientId, reason: `points away from the others (cosine ${cos.toFixed(2)} with the round's median update; its labels are like the others', so it should agree)` });
    return false;
  });
  return kept.filter((_, i) => keep[i]);
}

/**
 * The clients whose large updates the label evidence vouches for, each with how much of the wider bounds it gets (in
 * (0, 1]): labels at least minLabelSkew from the round's mixture and minoritySkewRatio x as far as the round's median
 * client's, and an output layer that moved towards them (a null cosine vouches for nothing). Its room is the share of
 * its labels on classes that none of the round's other clients (minorities aside) holds minorityCoverShare of its own
 * labels in: those classes are why its update is large, and an update posing as a minority for a class the others
 * hold gains nothing (RobustSettings.minorityCoverShare).
 */
function minorityRoom(verdicts: readonly LabelVerdict[], settings: RobustSettings): Map<string, number> {
  const room = new Map<string, number>();
  if (!(settings.minorityFactor > settings.clipFactor) || verdicts.length === 0) return room;
  const atLeast = Math.max(settings.minLabelSkew, settings.minoritySkewRatio * median(verdicts.map((v) => v.skew)));
  const minorities = verdicts.filter((v) => v.skew >= atLeast && v.cosine !== null && v.cosine >= settings.minLabelCosine);
  const others = verdicts.filter((v) => !minorities.includes(v));
  const covered = (c: number) => others.some((v) => v.labels[c] >= settings.minorityCoverShare);
  for (const v of minorities) {
    const r = v.labels.reduce((s, q, c) => (covered(c) ? s : s + q), 0);
    if (r > 0) room.set(v.clientId, r);
  }
  return room;
}

function wholeNorm(squares: Float64Array): number {
  let s = 0;
  for (let i = 0; i < squares.length; i++) s += squares[i];
  return Math.sqrt(s);
}

function minimum(xs: number[]): number {
  return Math.min(...xs);
}

function invalidReason(layout: readonly TensorLayout[], u: ClientUpdate, seen: Set<string>, valuesScanned: boolean): string | null {
  if (seen.has(u.clientId)) return 'a second update in the same round';
  if (!(Number.isInteger(u.numSamples) && u.numSamples > 0)) return `invalid sample count ${u.numSamples}`;
  try {
    assertSameLayout(layout, u.delta as WeightSet, 'update');
  } catch (e) {
    return (e as Error).message;
  }
  if (!valuesScanned && !allFinite(u.delta)) return 'update holds a non-finite value (NaN or Infinity)';
  return null;
}
