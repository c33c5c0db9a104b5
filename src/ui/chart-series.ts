/**
 * Rounds -> uPlot's column data. Rounds are sorted and de-duplicated (the latest report of a round wins);
 * a value that was not measured (null, NaN, infinite) becomes null, which the chart draws as a gap.
 */
import type { RoundView } from '../session/types';

/** [x, ...series], each the same length; matches uPlot.AlignedData. */
export type ChartColumns = [number[], ...(number | null)[][]];

const orNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function orderedRounds(rounds: readonly RoundView[]): RoundView[] {
  const byRound = new Map<number, RoundView>();
  for (const r of rounds) byRound.set(r.round, r);
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}

export const DECOMPOSITION_TERMS = ['local', 'shift', 'aggregation', 'global'] as const;
export type DecompositionTerm = (typeof DECOMPOSITION_TERMS)[number];

/** Columns: round, local, shift, aggregation, global. */
export function decompositionColumns(rounds: readonly RoundView[]): ChartColumns {
  const rs = orderedRounds(rounds);
  return [rs.map((r) => r.round), ...DECOMPOSITION_TERMS.map((term) => rs.map((r) => orNull(r.decomposition?.[term])))];
}

/** Columns: round, accuracy in percent, test loss. */
export function accuracyColumns(rounds: readonly RoundView[]): ChartColumns {
  const rs = orderedRounds(rounds);
  return [rs.map((r) => r.round), rs.map((r) => {
    const a = orNull(r.accuracy);
    return a === null ? null : a * 100;
  }), rs.map((r) => orNull(r.loss))];
}

/** Whether any series (every column after x) has at least one value to draw. */
export function hasValues(columns: ChartColumns): boolean {
  return columns.slice(1).some((col) => col.some((v) => v !== null));
}

export interface DecompositionCoverage {
  measured: number;
  total: number;
}

export function decompositionCoverage(rounds: readonly RoundView[]): DecompositionCoverage {
  const rs = orderedRounds(rounds);
  return { measured: rs.filter((r) => r.decomposition !== null).length, total: rs.length };
}
