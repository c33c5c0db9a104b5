/**
 * What the dashboard says about a private session: the privacy spent (epsilon of the budget, delta), what the
 * aggregating tab learned, and what the peers table cannot show. Display only; the numbers come from RoundView.privacy.
 */
import type { PrivacySettings } from '../fl/private-aggregation';
import type { RoundPrivacyView, RoundView } from '../session/types';
import { orderedRounds, type ChartColumns } from './chart-series';

/** The newest round that reports privacy (the epsilon spent only grows), or null. */
export function latestPrivacy(rounds: readonly RoundView[]): (RoundPrivacyView & { round: number }) | null {
  const r = orderedRounds(rounds)
    .reverse()
    .find((x) => x.privacy);
  return r?.privacy ? { ...r.privacy, round: r.round } : null;
}

/** An epsilon with 2 decimals: "2.31". */
export function formatEpsilon(epsilon: number): string {
  return epsilon.toFixed(2);
}

/** A delta as people write it: "1e-5", "0.001". */
export function formatDelta(delta: number): string {
  return delta < 1e-3 ? delta.toExponential() : String(delta);
}

/** "epsilon 2.31 of 4 (delta 1e-5)"; without a budget "epsilon 2.31 (delta 1e-5), no budget"; without noise, why none. */
export function privacySpentText(p: Pick<RoundPrivacyView, 'epsilon' | 'delta' | 'budget'>): string {
  if (p.epsilon === null) return 'no DP noise: no epsilon guarantee';
  const of = p.budget !== null ? ` of ${p.budget}` : '';
  return `epsilon ${formatEpsilon(p.epsilon)}${of} (delta ${formatDelta(p.delta)})${p.budget === null ? ', no budget' : ''}`;
}

/** "secure aggregation: the aggregating tab saw only the sum of 5 contributions" (null without secure aggregation). */
export function secureSumText(p: Pick<RoundPrivacyView, 'secure' | 'survivors'>): string | null {
  if (!p.secure) return null;
  return `secure aggregation: the aggregating tab saw only the sum of ${p.survivors} contribution${p.survivors === 1 ? '' : 's'}`;
}

/** One line for the session settings summary: "private: secure aggregation, clip norm 1, DP noise 1.1, budget epsilon 4". */
export function describePrivacy(s: PrivacySettings): string {
  const parts = [s.secureAggregation ? 'secure aggregation' : null, `clip norm ${s.clipNorm}`, s.noiseMultiplier > 0 ? `DP noise ${s.noiseMultiplier} (delta ${formatDelta(s.delta)})` : 'no DP noise', s.budget !== null ? `budget epsilon ${s.budget}` : null];
  return `private: ${parts.filter((x) => x !== null).join(', ')}`;
}

/** What the peers table cannot show in a private session, and why. */
export function peersPrivacyNote(s: PrivacySettings): string {
  return s.secureAggregation
    ? 'Per-peer updates are not visible: every client clips its own update and the aggregating tab sees only the sum, so there are no update norms, clipping or screening verdicts to show.'
    : 'Every client clips its own update (and adds its share of the DP noise) before sending: the aggregator screens nothing, so there are no update norms, clipping or screening verdicts to show.';
}

/** What each part of a private session protects (the privacy panel's explanation). */
export function privacyProtects(s: PrivacySettings): string[] {
  return [
    s.secureAggregation
      ? 'Secure aggregation: the aggregating tab learns only the sum of the updates, never one participant’s.'
      : 'No secure aggregation: the aggregating tab sees each clipped update.',
    s.noiseMultiplier > 0
      ? 'DP noise: the models reveal little about any one participant; epsilon (smaller is more private) grows with every round.'
      : 'No DP noise: the models carry no epsilon guarantee.',
  ];
}

/** Columns: round, epsilon spent after it. */
export function epsilonColumns(rounds: readonly RoundView[]): ChartColumns {
  const rs = orderedRounds(rounds);
  return [rs.map((r) => r.round), rs.map((r) => r.privacy?.epsilon ?? null)];
}
