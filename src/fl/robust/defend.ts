/**
 * Robust aggregation of one round: screening (./screen.ts), then the combination, behind a safety net that never
 * throws. How the modes combine with the strategy:
 * - 'off' and 'clip': the strategy's own aggregator combines the kept updates.
 * - 'trimmed-mean' and 'median' with a mean-based strategy (FedAvg, FedProx, whose aggregate is the sample-weighted
 *   mean): the coordinate-wise statistic of the screened updates REPLACES that mean (unweighted: sample counts are
 *   claims of the clients, and one liar must not buy the middle of the order).
 * - 'trimmed-mean' and 'median' with any other strategy (FedLD; future stateful ones): the strategy aggregates the
 *   screened updates, since its combination is the point of choosing it (FedLD's principal-gradient step already
 *   calibrates each direction's sign by majority); the coordinate-wise statistic is the fallback when the strategy
 *   throws or returns a non-finite model.
 * Safety net, every mode: when the combination comes out non-finite (or throws saying so), the update with the
 * largest norm is dropped (with the error as its reason) and the combination retried; when no update is left, or the
 * combination fails for another reason (which no update can be blamed for), the round fails with the reason and the
 * caller keeps its global model.
 */
import type { Aggregator, ClientUpdate, StrategyTraits } from '../strategies/types';
import type { WeightSet } from '../weights';
import { layoutOf } from '../weights';
import { screenUpdates, type DeclaredSamples } from './screen';
import type { DeclaredLabels } from './label-evidence';
import { allFinite, coordinateStatistic, normOf } from './stats';
import type { CappedSamples, ClippedUpdate, DroppedUpdate, RobustSettings } from './types';


export interface RobustRoundInput {
  global: WeightSet;
  updates: readonly ClientUpdate[];
  declaredSamples: DeclaredSamples;
  /** The label histogram each client declared (its hello), for the direction check by labels. */
  declaredLabels?: DeclaredLabels;
  settings: RobustSettings;
  aggregator: Aggregator;
  /**
   * The strategy's traits: whether a coordinate-wise statistic may replace its weighted mean, and whether its honest
   * updates point towards their clients' labels (then the direction check by labels applies; else the consensus check).
   */
  traits: StrategyTraits;
  /**
   * The server's own weight of an update (asynchronous steps: its staleness weight, times its participation weight),
   * applied after screening and before combining: screening judges each update as its client sent it, so a weight
   * the server chose (a slow device's update counting 5x) is not mistaken for an outlier. Default 1.
   */
  weightOf?: (update: ClientUpdate) => number;
  /**
   * The caller has scanned the updates' values for NaN/Infinity already (the round engines do, once, on receipt),
   * so screening skips that scan (ScreenOptions.valuesScanned). Default false.
   */
  valuesScanned?: boolean;
}

interface RoundDetails {
  dropped: DroppedUpdate[];
  clipped: ClippedUpdate[];
  capped: CappedSamples[];
}

export type RobustRoundResult =
  | (RoundDetails & {
      ok: true;
      global: WeightSet;
      /** The updates that went into the new model, as they went in (clipped, capped). */
      accepted: ClientUpdate[];
      /** What combined them: 'strategy', 'trimmed-mean', 'median', or '<statistic> (fallback)'. */
      combiner: string;
    })
  | (RoundDetails & { ok: false; reason: string });

type Combiner = { name: string; combine: (global: WeightSet, updates: ClientUpdate[]) => WeightSet };

/** Screens and combines one round. Never throws: every failure is a dropped update or { ok: false }. */
export function robustAggregate(input: RobustRoundInput): RobustRoundResult {
  const { settings } = input;
  let screened;
  try {
    screened = screenUpdates(layoutOf(input.global), input.updates, input.declaredSamples, settings, { valuesScanned: input.valuesScanned === true, ...(input.declaredLabels && input.traits.labelDirected ? { declaredLabels: input.declaredLabels } : {}) });
  } catch (e) {
    return { ok: false, reason: `screening the updates failed: ${message(e)}`, dropped: [], clipped: [], capped: [] };
  }
  const details: RoundDetails = { dropped: [...screened.dropped], clipped: screened.clipped, capped: screened.capped };
  const strategy: Combiner = { name: 'strategy', combine: (g, u) => input.aggregator.aggregate(g, u) };
  const statistic: Combiner | null =
    settings.mode === 'trimmed-mean' || settings.mode === 'median' ? { name: settings.mode, combine: (g, u) => coordinateCombine(g, u, settings) } : null;
  const combiners = statistic === null ? [strategy] : input.traits.weightedMean ? [statistic] : [strategy, { ...statistic, name: `${statistic.name} (fallback)` }];

  let kept = screened.kept;
  while (kept.length > 0) {
    const overflows: string[] = [];
    const weighed = input.weightOf ? kept.map((u) => weighUpdate(u, input.weightOf!(u))) : kept;
    for (const c of combiners) {
      let next: WeightSet;
      try {
        next = c.combine(input.global, weighed);
      } catch (e) {
        // A failure that is not about non-finite numbers cannot be pinned on an update: try the next combiner, or
        // fail the round as it is (the caller keeps its model and may retry).
        if (!NON_FINITE.test(message(e))) {
          if (c === combiners[combiners.length - 1] && overflows.length === 0) return { ok: false, reason: message(e), ...details };
          continue;
        }
        overflows.push(`${c.name}: ${message(e)}`);
        continue;
      }
      if (allFinite(next)) return { ok: true, global: next, accepted: kept, combiner: c.name, ...details };
      overflows.push(`${c.name}: the aggregate is not finite`);
    }
    if (overflows.length === 0) return { ok: false, reason: 'every combination failed', ...details };
    // Non-finite aggregates come from magnitudes: the largest update is the one to go.
    const worst = largestNorm(kept);
    details.dropped.push({ clientId: kept[worst].clientId, reason: `the aggregate is not finite with this update, the largest of the round (${overflows.join('; ')})` });
    kept = kept.filter((_, i) => i !== worst);
  }
  return { ok: false, reason: `no usable update left (${details.dropped.length} dropped)`, ...details };
}

/** The update with its delta scaled by `weight` (extras, such as SCAFFOLD's delta-c, as sent). */
function weighUpdate(u: ClientUpdate, weight: number): ClientUpdate {
  if (weight === 1) return u;
  return { ...u, delta: u.delta.map((t) => ({ name: t.name, shape: t.shape, values: t.values.map((v) => v * weight) })) };
}

/** How the weights module (assertFinite) and the strategies word a non-finite result. */
const NON_FINITE = /non-finite|not finite|overflow/i;

/**
 * global + the coordinate-wise trimmed mean (cutting max(1, floor(trimFraction K)) values at each end from 3 updates
 * on, none below) or median of the updates.
 */
export function coordinateCombine(global: WeightSet, updates: readonly ClientUpdate[], settings: Pick<RobustSettings, 'mode' | 'trimFraction'>): WeightSet {
  const K = updates.length;
  const trim = settings.mode === 'median' ? null : K >= 3 ? Math.min(Math.floor((K - 1) / 2), Math.max(1, Math.floor(settings.trimFraction * K))) : 0;
  const stat = coordinateStatistic(updates.map((u) => u.delta), trim);
  return global.map((t, ti) => {
    const values = new Float32Array(t.values.length);
    for (let i = 0; i < values.length; i++) values[i] = t.values[i] + stat[ti][i];
    return { name: t.name, shape: [...t.shape], values };
  });
}

function largestNorm(updates: readonly ClientUpdate[]): number {
  let best = 0;
  let bestNorm = -1;
  updates.forEach((u, i) => {
    const n = normOf(u.delta);
    // A NaN norm cannot come out of screening, but rank it first if it ever does.
    const key = Number.isNaN(n) ? Infinity : n;
    if (key > bestNorm) {
      best = i;
      bestNorm = key;
    }
  });
  return best;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
