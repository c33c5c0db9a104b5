import { choiceSetting } from '../settings';
import type { ClientUpdate } from '../strategies/types';

/**
 * How the aggregator defends a round against hostile updates (see ./README in defend.ts):
 * - 'off': no caps, no clipping; only the safety net (non-finite updates and aggregates are dropped, never thrown).
 * - 'clip' (default): sample counts capped, update norms clipped to a multiple of the round's median norm, updates
 *   pointing against the round's coordinate-wise median dropped; then the strategy aggregates.
 * - 'trimmed-mean' / 'median': 'clip' first, then a coordinate-wise trimmed mean / median of the screened updates
 *   replaces the weighted mean of mean-based strategies (FedAvg, FedProx); other strategies (FedLD) aggregate the
 *   screened updates themselves and the coordinate-wise statistic is their fallback when they fail.
 */
export type RobustMode = 'off' | 'clip' | 'trimmed-mean' | 'median';

export const ROBUST_MODES: readonly RobustMode[] = ['off', 'clip', 'trimmed-mean', 'median'];

export const DEFAULT_ROBUST_MODE = choiceSetting('robust').default as RobustMode;

export function isRobustMode(x: unknown): x is RobustMode {
  return typeof x === 'string' && (ROBUST_MODES as readonly string[]).includes(x);
}

export interface RobustSettings {
  mode: RobustMode;
  /**
   * From 3 updates on, an update whose L2 norm exceeds dropFactor x the round's median norm is dropped: no honest
   * client is that far out, and clipping it would still hand it clipFactor x the median (which, under FedLD, lets one
   * client steer the round's principal direction). Infinity: clip only.
   */
  dropFactor: number;
  /**
   * What happens to such a gross outlier: 'drop' it, or 'shrink' it to the round's median norm (its size carries no
   * information, its direction may: a scaled honest update keeps its data's contribution).
   */
  outliers: 'drop' | 'shrink';
  /** Each tensor of an update is clipped to clipFactor x the round's reference norm of that tensor (median norm). */
  clipFactor: number;
  /** Session maximum of the sample count any one update may claim. */
  maxSamples: number;
  /** An update's sample count is also capped at sampleFactor x the median (already capped) count of the round. */
  sampleFactor: number;
  /**
   * With at least 3 updates, one whose cosine similarity with the round's coordinate-wise median update is below
   * this is dropped (0: it points against the consensus; a sign-flipped update does).
   */
  minCosine: number;
  /**
   * How updates are checked for direction (from 3 updates on for the consensus): 'labels' (default) checks a client
   * whose declared labels differ from the round's mixture against those labels (./label-evidence.ts) and the others
   * against the consensus; 'consensus' checks every update against the coordinate-wise median update; 'off' never
   * drops an update for its direction.
   */
  direction: 'labels' | 'consensus' | 'off';
  /** 'labels': a client whose label distribution is at least this far (total variation) from the round's mixture is checked by its labels. */
  minLabelSkew: number;
  /** 'labels': an update whose centred output-bias change has a cosine below this with its label skew is dropped. */
  minLabelCosine: number;
  /**
   * 'labels', from 3 updates on: the norm bounds of a label-verified minority, a client whose declared labels are at
   * least minLabelSkew from the round's mixture and minoritySkewRatio x as far as the round's median client's, and whose
   * output-bias change points towards them (cosine at least minLabelCosine). Where none of its classes is covered
   * (minorityCoverShare), its update is shrunk only above max(dropFactor, minorityFactor) x the round's median norm,
   * and each tensor is clipped at max(clipFactor, minorityFactor) x its reference norm; in between, in proportion to
   * the share of its labels on uncovered classes. Why wider: a minority's honest update is large for honest reasons (classes
   * the global model does not predict yet; in asynchronous sessions a slow device's stale base on top), up to 8x the
   * median on the async benchmark, where the plain bounds cut the slow devices' classes from 54% to 4%. Why still
   * bounded: an attacker that declares a skewed histogram and trains honestly on it passes the label check, then
   * scales its update; this caps what it gains. 1 (or anything up to clipFactor): no relaxation.
   */
  minorityFactor: number;
  /**
   * How much further from the round's mixture than the round's median client a minority's labels must be (see
   * minorityFactor): the bounds are multiples of the median update, which stands for the typical client, and a client
   * whose labels are as unusual as the typical client's has no reason to send a larger update. Where every client's
   * labels are skewed (Dirichlet splits), no one is a minority, and a scaled attacker with its real histogram gets the
   * plain bounds.
   */
  minoritySkewRatio: number;
  /**
   * A class counts as covered in a round when one of its clients that is not a minority holds at least this share of
   * its labels in it. A minority's bounds widen only by the share of its labels on uncovered classes (all of them: up
   * to minorityFactor; none: the plain bounds): a minority is large because the model does not know its classes yet,
   * which is not so where others train on them too, and an attacker that declares one class and trains honestly on
   * it, then scales its update, poses as a minority of the classes it holds most of. 0: every class is covered (no
   * relaxation); above 1: none is (every verified minority gets minorityFactor).
   */
  minorityCoverShare: number;
  /** 'trimmed-mean': share of the values cut at each end of every coordinate (at least one each end from 3 updates). */
  trimFraction: number;
}

export const ROBUST_DEFAULTS: Readonly<RobustSettings> = {
  mode: DEFAULT_ROBUST_MODE,
  clipFactor: 2,
  dropFactor: 3,
  outliers: 'shrink',
  maxSamples: 1_000_000,
  sampleFactor: 10,
  minCosine: 0,
  direction: 'labels',
  minLabelSkew: 0.1,
  minLabelCosine: 0,
  minorityFactor: 8,
  minoritySkewRatio: 1.5,
  minorityCoverShare: 0.05,
  trimFraction: 0.2,
};

/** Full settings from a mode name, partial settings, or nothing (the default: 'clip'). Throws on bad values. */
export function robustSettings(x?: RobustMode | Partial<RobustSettings>): RobustSettings {
  const s: RobustSettings = typeof x === 'string' ? { ...ROBUST_DEFAULTS, mode: x } : { ...ROBUST_DEFAULTS, ...x };
  if (!isRobustMode(s.mode)) throw new Error(`robust: unknown mode "${String(s.mode)}"`);
  if (!(s.clipFactor >= 1 && Number.isFinite(s.clipFactor))) throw new Error(`robust: clipFactor must be a finite number >= 1, got ${s.clipFactor}`);
  if (!(s.dropFactor >= s.clipFactor)) throw new Error(`robust: dropFactor must be at least clipFactor (${s.clipFactor}), got ${s.dropFactor}`);
  if (s.outliers !== 'drop' && s.outliers !== 'shrink') throw new Error(`robust: outliers must be 'drop' or 'shrink', got ${String(s.outliers)}`);
  if (!(Number.isInteger(s.maxSamples) && s.maxSamples >= 1)) throw new Error(`robust: maxSamples must be a positive integer, got ${s.maxSamples}`);
  if (!(s.sampleFactor >= 1 && Number.isFinite(s.sampleFactor))) throw new Error(`robust: sampleFactor must be a finite number >= 1, got ${s.sampleFactor}`);
  if (!(s.minCosine >= -1 && s.minCosine <= 1)) throw new Error(`robust: minCosine must be in [-1, 1], got ${s.minCosine}`);
  if (!['labels', 'consensus', 'off'].includes(s.direction)) throw new Error(`robust: direction must be 'labels', 'consensus' or 'off', got ${String(s.direction)}`);
  if (!(s.minLabelSkew >= 0 && s.minLabelSkew <= 1)) throw new Error(`robust: minLabelSkew must be in [0, 1], got ${s.minLabelSkew}`);
  if (!(s.minLabelCosine >= -1 && s.minLabelCosine <= 1)) throw new Error(`robust: minLabelCosine must be in [-1, 1], got ${s.minLabelCosine}`);
  if (!(s.minorityFactor >= 1 && Number.isFinite(s.minorityFactor))) throw new Error(`robust: minorityFactor must be a finite number >= 1 (a minority's bound must stay bounded), got ${s.minorityFactor}`);
  if (!(s.minoritySkewRatio >= 0 && Number.isFinite(s.minoritySkewRatio))) throw new Error(`robust: minoritySkewRatio must be a finite number >= 0, got ${s.minoritySkewRatio}`);
  if (!(s.minorityCoverShare >= 0 && Number.isFinite(s.minorityCoverShare))) throw new Error(`robust: minorityCoverShare must be a finite number >= 0, got ${s.minorityCoverShare}`);
  if (!(s.trimFraction >= 0 && s.trimFraction < 0.5)) throw new Error(`robust: trimFraction must be in [0, 0.5), got ${s.trimFraction}`);
  return s;
}

export interface DroppedUpdate {
  clientId: string;
  reason: string;
}

export interface ClippedUpdate {
  clientId: string;
  /** L2 norm as sent. */
  norm: number;
  /** L2 norm after clipping. */
  clippedTo: number;
  /** What was clipped when it is not the delta: the name of a strategy extra (e.g. SCAFFOLD's deltaC). */
  part?: string;
  /** It was held to the wider bounds of a label-verified minority (RobustSettings.minorityFactor). */
  minority?: boolean;
}

export interface CappedSamples {
  clientId: string;
  claimed: number;
  capped: number;
}

/** What screening left of a round's updates, and why the rest is gone or changed. */
export interface ScreenResult {
  kept: ClientUpdate[];
  dropped: DroppedUpdate[];
  clipped: ClippedUpdate[];
  capped: CappedSamples[];
  /** Per tensor, the norm clipping was relative to (null when there was none: 'off', or a single update). */
  referenceNorms: number[] | null;
}
