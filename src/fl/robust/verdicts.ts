/**
 * What robust aggregation did to each client's update in one round, in words a user can act on: who was left out
 * and why, whose update was scaled down and by how much, whose sample count was capped. One list per round, shown
 * in the simulator's table and JSON and in the host's peers table, so a defence never silences anyone unseen.
 */
import type { CappedSamples, ClippedUpdate, DroppedUpdate } from './types';

export type ScreeningAction = 'left-out' | 'clipped' | 'capped';

export interface ScreeningVerdict {
  clientId: string;
  action: ScreeningAction;
  /** E.g. "its output layer moved against the labels it declared (cosine -0.41 ...)", "norm 3.2 clipped to 1.1 (34% of it went in)". */
  reason: string;
}

export interface ScreeningDetails {
  dropped: readonly DroppedUpdate[];
  clipped: readonly ClippedUpdate[];
  capped: readonly CappedSamples[];
}

const digits = (x: number) => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : Number(x.toPrecision(3)).toString());

/** One verdict per drop, clip and cap, in that order; an update left out gets no other verdict. */
export function screeningVerdicts(details: ScreeningDetails): ScreeningVerdict[] {
  const leftOut = new Set(details.dropped.map((d) => d.clientId));
  return [
    ...details.dropped.map((d): ScreeningVerdict => ({ clientId: d.clientId, action: 'left-out', reason: d.reason })),
    ...details.clipped.filter((c) => !leftOut.has(c.clientId)).map((c): ScreeningVerdict => ({
      clientId: c.clientId,
      action: 'clipped',
      reason: `${c.part ? `its ${c.part}` : 'update'} norm ${digits(c.norm)} clipped to ${digits(c.clippedTo)} (${share(c.clippedTo, c.norm)} of it went in${c.minority ? "; a wider bound than others get, as its update follows labels unlike the others'" : ''})`,
    })),
    ...details.capped.filter((c) => !leftOut.has(c.clientId)).map((c): ScreeningVerdict => ({ clientId: c.clientId, action: 'capped', reason: `sample count ${digits(c.claimed)} capped to ${digits(c.capped)} (its weight in the mean)` })),
  ];
}

function share(part: number, whole: number): string {
  if (!(whole > 0)) return '100%';
  const pct = (100 * part) / whole;
  return pct >= 1 ? `${Math.round(pct)}%` : `${pct.toPrecision(2)}%`;
}

/** "2 left out, 1 clipped" (empty when nothing happened). */
export function verdictSummary(verdicts: readonly ScreeningVerdict[]): string {
  const count = (a: ScreeningAction) => verdicts.filter((v) => v.action === a).length;
  return [
    [count('left-out'), 'left out'],
    [count('clipped'), 'clipped'],
    [count('capped'), 'capped'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
}
