/**
 * The sparse neighbour graph of SecAgg+ (Bell et al., 2020): the round's clients, shuffled by the round's public
 * seed, sit on a ring and each is joined to the `degree / 2` nearest on either side (a Harary graph). A client masks
 * only with its neighbours and shares its secrets only with them, so a round costs about K log K, not K^2.
 */
import { Rng } from '../rng';

export interface NeighbourGraph {
  /** Every client of the round, sorted. */
  clients: string[];
  degree: number;
  /** Shares a client needs back from its neighbours to recover its secrets. */
  threshold: number;
  neighbours: Map<string, string[]>;
}

/** The most clients one round may hold (every party walks the whole list). */
export const MAX_ROUND_CLIENTS = 10_000;

/** Even degree about 2 log2 K (at least 4), or everyone else for small rounds. */
export function defaultDegree(clientCount: number): number {
  const target = 2 * Math.ceil(Math.log2(Math.max(2, clientCount)));
  return Math.min(clientCount - 1, Math.max(4, target));
}

/** A strict majority of the neighbours: fewer cannot recover a secret, so no minority can reveal both of a client's. */
export function defaultThreshold(degree: number): number {
  return Math.floor(degree / 2) + 1;
}

export function neighbourGraph(clients: readonly string[], roundSeed: number, degree = defaultDegree(clients.length), threshold = defaultThreshold(degree)): NeighbourGraph {
  const sorted = [...clients].sort();
  if (new Set(sorted).size !== sorted.length) throw new Error('secagg: a client appears twice in the round');
  if (sorted.length < 2) throw new Error('secagg: a round needs at least 2 clients');
  if (sorted.length > MAX_ROUND_CLIENTS) throw new Error(`secagg: ${sorted.length} clients in one round, at most ${MAX_ROUND_CLIENTS}`);
  if (!(Number.isInteger(degree) && degree >= 1 && degree <= sorted.length - 1)) throw new Error(`secagg: degree ${degree} for ${sorted.length} clients`);
  if (!(Number.isInteger(threshold) && threshold >= 1 && threshold <= degree)) throw new Error(`secagg: threshold ${threshold} for degree ${degree}`);
  const ring = new Rng(roundSeed).shuffle([...sorted]);
  const n = ring.length;
  const neighbours = new Map<string, string[]>(sorted.map((c) => [c, []]));
  const link = (a: string, b: string) => {
    const list = neighbours.get(a)!;
    if (a !== b && !list.includes(b)) list.push(b);
  };
  const half = Math.floor(degree / 2);
  for (let i = 0; i < n; i++) {
    for (let s = 1; s <= half; s++) {
      link(ring[i], ring[(i + s) % n]);
      link(ring[(i + s) % n], ring[i]);
    }
    // Odd degree: each client also joins the one opposite it on the ring.
    if (degree % 2 === 1) {
      const opposite = ring[(i + Math.floor(n / 2)) % n];
      link(ring[i], opposite);
      link(opposite, ring[i]);
    }
  }
  for (const list of neighbours.values()) list.sort();
  return { clients: sorted, degree, threshold, neighbours };
}
