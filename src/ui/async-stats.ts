/** What the dashboard shows of an asynchronous session: updates used per peer, and how stale they were. */
import type { PeerView, RoundView } from '../session/types';

export const STALENESS_BINS = 10; // taus 0..9 each get a bar; larger ones share the last, "10+"

export interface AsyncStats {
  perPeer: Array<{ id: string; name: string; updates: number; meanStaleness: number }>;
  /** histogram[i] = updates with tau = i, the last entry counting every tau >= STALENESS_BINS. */
  histogram: number[];
  updates: number;
  meanStaleness: number;
}

export function asyncStats(rounds: readonly RoundView[], peers: readonly PeerView[]): AsyncStats {
  const histogram = new Array<number>(STALENESS_BINS + 1).fill(0);
  const byPeer = new Map<string, { updates: number; tauSum: number }>();
  let updates = 0;
  let tauSum = 0;
  for (const r of rounds) {
    const taus = r.staleness ?? [];
    taus.forEach((tau, i) => {
      histogram[Math.min(tau, STALENESS_BINS)]++;
      updates++;
      tauSum += tau;
      const id = r.participants[i];
      if (id === undefined) return;
      const p = byPeer.get(id) ?? { updates: 0, tauSum: 0 };
      p.updates++;
      p.tauSum += tau;
      byPeer.set(id, p);
    });
  }
  const names = new Map(peers.map((p) => [p.id, p.name]));
  const perPeer = [...byPeer.entries()]
    .map(([id, p]) => ({ id, name: names.get(id) ?? id, updates: p.updates, meanStaleness: p.tauSum / p.updates }))
    .sort((a, b) => b.updates - a.updates || a.name.localeCompare(b.name));
  return { perPeer, histogram, updates, meanStaleness: updates ? tauSum / updates : NaN };
}
