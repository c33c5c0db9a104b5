/** Small pure helpers of the strategy benchmark: summaries over seeds and the validation-based choice of a grid point. */
import type { LossDecomposition } from '../fl/decomposition';
import type { SimRound } from './simulation';

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (0 for one value). */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Mean accuracy over the last n rounds: steadier than the final round alone. */
export function tailAccuracy(rounds: readonly SimRound[], n: number): number {
  return mean(rounds.slice(-n).map((r) => r.accuracy));
}

/** Mean of each decomposition term over the last n rounds. */
export function tailDecomposition(rounds: readonly SimRound[], n: number): LossDecomposition {
  const tail = rounds.slice(-n);
  const term = (k: keyof LossDecomposition) => mean(tail.map((r) => r.decomposition?.[k] ?? NaN));
  return { local: term('local'), shift: term('shift'), aggregation: term('aggregation'), global: term('global') };
}

/** Every combination of the given axes, in order (first axis slowest). */
export function grid<T extends Record<string, readonly number[]>>(axes: T): Array<{ [K in keyof T]: number }> {
  let points: Array<Record<string, number>> = [{}];
  for (const [name, values] of Object.entries(axes)) {
    if (values.length === 0) throw new RangeError(`grid axis ${name} is empty`);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points as Array<{ [K in keyof T]: number }>;
}

/** The candidate with the highest score; ties go to the earlier one. Scores must be finite (a diverged run scores -Infinity). */
export function pickBest<T>(candidates: readonly T[], score: (c: T) => number): { best: T; score: number } {
  if (candidates.length === 0) throw new RangeError('pickBest: no candidates');
  let best = candidates[0];
  let bestScore = score(best);
  for (const c of candidates.slice(1)) {
    const s = score(c);
    if (s > bestScore) {
      best = c;
      bestScore = s;
    }
  }
  return { best, score: bestScore };
}

/** "0.01,0.05" -> [0.01, 0.05]; throws on anything that is not a positive finite number. */
export function parseNumberList(text: string, what: string): number[] {
  const xs = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (xs.length === 0 || xs.some((x) => !(Number.isFinite(x) && x > 0))) throw new Error(`${what} must be a comma-separated list of positive numbers, got "${text}"`);
  return xs;
}
