/**
 * Splitting one dataset's sample indices across FL clients: IID, Dirichlet label skew, and
 * label-sorted shards (McMahan et al. 2017). Deterministic under a seed.
 */
import { Rng } from '../rng';
import { numberDefault } from '../settings';

export type PartitionSpec =
  | { kind: 'iid' }
  | {
      kind: 'dirichlet';
      /** Concentration: small (0.1) = each client sees few classes, large (100) = near IID. */
      alpha: number;
      /** Every client gets at least this many samples (default PARTITION_CONFIG.defaultMinPerClient, capped for small N). */
      minPerClient?: number;
    }
  | { kind: 'shards'; shardsPerClient?: number }
  | {
      /**
       * Size and label skew together: client k gets a weight w_k = exp(sigma * z_k), z_k ~ N(0, 1), and each
       * class is split over the clients in proportions Dir(alpha) * w (renormalised), so sizes are unequal
       * (expected size proportional to w_k) and label mixes differ.
       */
      kind: 'sizeskew';
      alpha: number;
      /** Spread of the log client sizes (default PARTITION_CONFIG.defaultSizeSigma; 0 = sizes equal in expectation). */
      sigma?: number;
      minPerClient?: number;
    };

export type PartitionKind = PartitionSpec['kind'];

export interface Partition {
  /** Sample indices per client, ascending. Every index 0..N-1 appears in exactly one client. */
  clients: Int32Array[];
  /** Label counts per client: histograms[client][class]. */
  histograms: number[][];
}

export const PARTITION_CONFIG = {
  /** Dirichlet: minimum samples per client when the spec does not say. */
  defaultMinPerClient: 10,
  /** Dirichlet: the default minimum never asks more than this fraction of an even share (N / clients). */
  defaultMinShareOfEven: 0.5,
  /** Dirichlet: how many full proportion draws to try before giving up on minPerClient. */
  dirichletMaxTries: 1000,
  /** Size skew: standard deviation of the log client weights when the spec does not say. */
  defaultSizeSigma: numberDefault('sigma'),
  /** Shards: shards per client when the spec does not say. */
  defaultShardsPerClient: numberDefault('shardsPerClient'),
} as const;

export function isPartitionSpec(value: unknown): value is PartitionSpec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case 'iid':
      return true;
    case 'dirichlet':
      return typeof v.alpha === 'number' && (v.minPerClient === undefined || typeof v.minPerClient === 'number');
    case 'shards':
      return v.shardsPerClient === undefined || typeof v.shardsPerClient === 'number';
    case 'sizeskew':
      return (
        typeof v.alpha === 'number' &&
        (v.sigma === undefined || typeof v.sigma === 'number') &&
        (v.minPerClient === undefined || typeof v.minPerClient === 'number')
      );
    default:
      return false;
  }
}

export function partitionIndices(
  labels: ArrayLike<number>,
  numClasses: number,
  numClients: number,
  spec: PartitionSpec,
  seed: number,
): Partition {
  const n = labels.length;
  if (!Number.isInteger(numClients) || numClients < 1) {
    throw new RangeError(`numClients must be a positive integer, got ${numClients}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (numClients > n) throw new RangeError(`cannot split ${n} samples across ${numClients} clients (more clients than samples)`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new RangeError(`label ${y} at index ${i} is not a class index in 0..${numClasses - 1}`);
    }
  }
  const rng = new Rng(seed);
  let clients: number[][];
  switch (spec.kind) {
    case 'iid':
      clients = partitionIid(n, numClients, rng);
      break;
    case 'dirichlet':
      clients = partitionDirichlet(labels, numClasses, numClients, spec.alpha, spec.minPerClient, rng);
      break;
    case 'sizeskew': {
      const sigma = spec.sigma ?? PARTITION_CONFIG.defaultSizeSigma;
      if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`sizeskew sigma must be a non-negative number, got ${sigma}`);
      const weights = Array.from({ length: numClients }, () => Math.exp(sigma * rng.normal()));
      clients = partitionDirichlet(labels, numClasses, numClients, spec.alpha, spec.minPerClient, rng, weights);
      break;
    }
    case 'shards':
      clients = partitionShards(labels, numClients, spec.shardsPerClient ?? PARTITION_CONFIG.defaultShardsPerClient, rng);
      break;
    default:
      throw new RangeError(`unknown partition kind '${(spec as { kind: unknown }).kind}'`);
  }
  const sorted = clients.map((idx) => Int32Array.from(idx).sort());
  return {
    clients: sorted,
    histograms: sorted.map((idx) => {
      const h = new Array<number>(numClasses).fill(0);
      for (let j = 0; j < idx.length; j++) h[labels[idx[j]]]++;
      return h;
    }),
  };
}

function partitionIid(n: number, numClients: number, rng: Rng): number[][] {
  const order = rng.shuffle(range(n));
  return evenCuts(n, numClients).map(([a, b]) => order.slice(a, b));
}

/**
 * Label skew: for each class, proportions over clients ~ Dir(alpha) split that class's shuffled
 * indices. Only the per-class counts are redrawn when a client would fall below the minimum,
 * which is cheap (classes x clients per try).
 */
function partitionDirichlet(
  labels: ArrayLike<number>,
  numClasses: number,
  numClients: number,
  alpha: number,
  minPerClient: number | undefined,
  rng: Rng,
  /** Relative client sizes (size skew); undefined = equal in expectation. */
  sizeWeights?: number[],
): number[][] {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`dirichlet alpha must be a positive number, got ${alpha}`);
  const n = labels.length;
  const minSize = resolveMinPerClient(n, numClients, minPerClient);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  for (const idx of byClass) rng.shuffle(idx);

  for (let attempt = 0; attempt < PARTITION_CONFIG.dirichletMaxTries; attempt++) {
    const counts = byClass.map((idx) => splitCounts(idx.length, weighted(rng.dirichlet(numClients, alpha), sizeWeights)));
    const sizes = new Array<number>(numClients).fill(0);
    for (const row of counts) row.forEach((c, k) => (sizes[k] += c));
    if (Math.min(...sizes) < minSize) continue;
    const clients: number[][] = Array.from({ length: numClients }, () => []);
    byClass.forEach((idx, c) => {
      let at = 0;
      counts[c].forEach((cnt, k) => {
        for (let j = 0; j < cnt; j++) clients[k].push(idx[at + j]);
        at += cnt;
      });
    });
    return clients;
  }
  throw new Error(
    `dirichlet partition (alpha ${alpha}) could not give each of ${numClients} clients at least ${minSize} of ` +
      `${n} samples in ${PARTITION_CONFIG.dirichletMaxTries} tries; raise alpha, lower minPerClient or use fewer clients`,
  );
}

/** p * w, renormalised to sum 1 (p itself without weights). */
function weighted(p: number[], w: number[] | undefined): number[] {
  if (!w) return p;
  const q = p.map((x, k) => x * w[k]);
  const s = q.reduce((a, b) => a + b, 0);
  return s > 0 ? q.map((x) => x / s) : p;
}

function resolveMinPerClient(n: number, numClients: number, requested: number | undefined): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 0) {
      throw new RangeError(`minPerClient must be a non-negative integer, got ${requested}`);
    }
    if (requested * numClients > n) {
      throw new RangeError(`minPerClient ${requested} x ${numClients} clients exceeds the ${n} samples`);
    }
    return requested;
  }
  const cap = Math.floor((n / numClients) * PARTITION_CONFIG.defaultMinShareOfEven);
  return Math.max(1, Math.min(PARTITION_CONFIG.defaultMinPerClient, cap));
}

/** Turns proportions into integer counts summing to total (cut points at floor(cumsum * total)). */
function splitCounts(total: number, proportions: number[]): number[] {
  const counts: number[] = [];
  let cum = 0;
  let prevCut = 0;
  proportions.forEach((p, k) => {
    cum += p;
    const cut = k === proportions.length - 1 ? total : Math.min(total, Math.floor(cum * total));
    counts.push(cut - prevCut);
    prevCut = cut;
  });
  return counts;
}

/** Sort by label (random order within a label), cut into equal shards, deal shards out at random. */
function partitionShards(labels: ArrayLike<number>, numClients: number, shardsPerClient: number, rng: Rng): number[][] {
  if (!Number.isInteger(shardsPerClient) || shardsPerClient < 1) {
    throw new RangeError(`shardsPerClient must be a positive integer, got ${shardsPerClient}`);
  }
  const n = labels.length;
  const numShards = numClients * shardsPerClient;
  if (numShards > n) throw new RangeError(`${numShards} shards (${numClients} clients x ${shardsPerClient}) exceed the ${n} samples`);
  // Array.prototype.sort is stable, so the shuffle decides the order within each label.
  const order = rng.shuffle(range(n)).sort((a, b) => labels[a] - labels[b]);
  const shards = evenCuts(n, numShards).map(([a, b]) => order.slice(a, b));
  const deal = rng.shuffle(range(numShards));
  return Array.from({ length: numClients }, (_, k) =>
    deal.slice(k * shardsPerClient, (k + 1) * shardsPerClient).flatMap((s) => shards[s]),
  );
}

/** [start, end) of `parts` contiguous ranges over 0..n whose lengths differ by at most one. */
function evenCuts(n: number, parts: number): Array<[number, number]> {
  return Array.from({ length: parts }, (_, k) => [Math.floor((k * n) / parts), Math.floor(((k + 1) * n) / parts)]);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export interface PartitionSummary {
  numClients: number;
  totalSamples: number;
  minClientSize: number;
  maxClientSize: number;
  /**
   * Mean over non-empty clients of the total-variation distance between the client's label
   * distribution and the global one: 0 = every client looks like the whole, 1 = disjoint.
   */
  meanLabelTv: number;
  maxLabelTv: number;
  /** Mean number of classes a client holds at least one sample of. */
  meanClassesPerClient: number;
}

export function describePartition(histograms: number[][]): PartitionSummary {
  if (histograms.length === 0) throw new RangeError('describePartition: no clients');
  const numClasses = histograms[0].length;
  if (histograms.some((h) => h.length !== numClasses)) throw new RangeError('describePartition: histograms differ in length');
  const global = new Array<number>(numClasses).fill(0);
  for (const h of histograms) h.forEach((c, j) => (global[j] += c));
  const total = global.reduce((a, b) => a + b, 0);
  const sizes = histograms.map((h) => h.reduce((a, b) => a + b, 0));
  let tvSum = 0;
  let tvMax = 0;
  let nonEmpty = 0;
  histograms.forEach((h, k) => {
    if (sizes[k] === 0) return;
    nonEmpty++;
    let tv = 0;
    for (let j = 0; j < numClasses; j++) tv += Math.abs(h[j] / sizes[k] - global[j] / total);
    tv /= 2;
    tvSum += tv;
    tvMax = Math.max(tvMax, tv);
  });
  return {
    numClients: histograms.length,
    totalSamples: total,
    minClientSize: Math.min(...sizes),
    maxClientSize: Math.max(...sizes),
    meanLabelTv: nonEmpty > 0 ? tvSum / nonEmpty : 0,
    maxLabelTv: tvMax,
    meanClassesPerClient: histograms.reduce((a, h) => a + h.filter((c) => c > 0).length, 0) / histograms.length,
  };
}
