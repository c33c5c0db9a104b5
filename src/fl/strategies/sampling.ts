import { Rng } from '../rng';
import type { RoundPlanContext } from './types';

/**
 * The default client sampling: everyone when fraction * N rounds up to all of them, else a seeded random
 * ceil(fraction * N) of the candidates (at least minClients), the same for the same seed and round.
 */
export function sampleClients(ctx: Pick<RoundPlanContext, 'round' | 'candidates' | 'fraction' | 'minClients' | 'seed'>): string[] {
  const ids = ctx.candidates.map((c) => c.id);
  const count = Math.min(ids.length, Math.max(ctx.minClients, Math.ceil(ctx.fraction * ids.length)));
  if (count === ids.length) return ids;
  return new Rng(ctx.seed * 7919 + ctx.round).shuffle(ids).slice(0, count).sort();
}
