/**
 * The built-in demo data: a pool of real MNIST images, partitioned across the session's clients
 * exactly like the simulator does (partitionIndices), so a classroom sees real non-IID effects.
 * Every client computes the same partition from the same seed and keeps only its own slot.
 */
import type { ImageDataset } from '../fl/data/dataset';
import { labelHistogram, subsetDataset } from '../fl/data/dataset';
import type { PartitionSpec } from '../fl/data/partition';
import { isPartitionSpec, partitionIndices } from '../fl/data/partition';
import { DATA_CONFIG } from './config';
import type { DemoManifest, DemoSplitName } from './demo-format';
import { demoSplitDataset, parseDemoManifest } from './demo-format';
import type { LocalSplit } from './split';
import { evalSplitSeed, splitTrainEvalIndices } from './split';

/** Which shard of the demo pool this client trains on (assigned by the session). */
export interface DemoShardSpec {
  partition: PartitionSpec;
  seed: number;
  numClients: number;
  /** This client's index in 0..numClients-1. */
  slot: number;
  /** Fraction held out as the eval split; default DATA_CONFIG.evalFraction. */
  evalFraction?: number;
}

export interface DemoShard extends LocalSplit<ImageDataset> {
  /** Pool positions of this client's train and eval samples (ascending; disjoint). */
  trainIndices: Int32Array;
  evalIndices: Int32Array;
  /** Label counts of the whole shard (train + eval). */
  histogram: number[];
}

export function isDemoShardSpec(value: unknown): value is DemoShardSpec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    isPartitionSpec(v.partition) &&
    Number.isInteger(v.seed) &&
    Number.isInteger(v.numClients) &&
    (v.numClients as number) >= 1 &&
    Number.isInteger(v.slot) &&
    (v.slot as number) >= 0 &&
    (v.slot as number) < (v.numClients as number) &&
    (v.evalFraction === undefined || typeof v.evalFraction === 'number')
  );
}

/** Cuts this client's shard from the pool and splits it into train and a fixed eval part. Pure and deterministic. */
export function demoShard(pool: ImageDataset, spec: DemoShardSpec): DemoShard {
  if (!isDemoShardSpec(spec)) {
    throw new RangeError(`invalid demo shard spec ${JSON.stringify(spec)} (need partition, integer seed, numClients >= 1, 0 <= slot < numClients)`);
  }
  const { clients } = partitionIndices(pool.labels, pool.numClasses, spec.numClients, spec.partition, spec.seed);
  const mine = clients[spec.slot];
  const parts = splitTrainEvalIndices(mine, pool.labels, spec.evalFraction ?? DATA_CONFIG.evalFraction, evalSplitSeed(spec.seed, spec.slot));
  if (parts.train.length === 0) throw new RangeError(`demo shard ${spec.slot} of ${spec.numClients} has only ${mine.length} samples: nothing to train on`);
  return {
    train: subsetDataset(pool, parts.train),
    eval: subsetDataset(pool, parts.eval),
    trainIndices: parts.train,
    evalIndices: parts.eval,
    histogram: labelHistogram(Array.from(mine, (i) => pool.labels[i]), pool.numClasses),
  };
}

export interface DemoData {
  manifest: DemoManifest;
  /** The pool demo shards are cut from. */
  train: ImageDataset;
  /** A common test set (for global evaluation by the host). */
  test: ImageDataset;
}

/** URL of the demo folder on this site (ends with '/'). `base` is the page's or worker's base URL. */
export function demoDataUrl(base: string): string {
  return new URL(`${DATA_CONFIG.demo.dir}/`, base).href;
}

async function fetchBytes(url: string, fetchFn: typeof fetch): Promise<Uint8Array> {
  const res = await fetchFn(url);
  if (!res.ok) throw new Error(`could not load demo data ${url}: HTTP ${res.status}${res.status === 404 ? ' (run `npm run data`)' : ''}`);
  // Dev servers answer a missing file with the app's index.html (SPA fallback) instead of a 404.
  if (res.headers.get('content-type')?.includes('text/html')) throw new Error(`could not load demo data ${url}: the server sent an HTML page, so the file is missing (run \`npm run data\`)`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches the manifest and the requested splits from `dataUrl` (see demoDataUrl). */
export async function fetchDemoData(dataUrl: string, splits: DemoSplitName[] = ['train', 'test'], fetchFn: typeof fetch = fetch): Promise<Partial<DemoData> & { manifest: DemoManifest }> {
  const manifestUrl = new URL(DATA_CONFIG.demo.manifestFile, dataUrl).href;
  const manifestText = new TextDecoder().decode(await fetchBytes(manifestUrl, fetchFn));
  const manifest = parseDemoManifest(manifestText, manifestUrl);
  const out: Partial<DemoData> & { manifest: DemoManifest } = { manifest };
  await Promise.all(
    splits.map(async (split) => {
      const files = manifest.splits[split];
      const [images, labels] = await Promise.all([
        fetchBytes(new URL(files.images, dataUrl).href, fetchFn),
        fetchBytes(new URL(files.labels, dataUrl).href, fetchFn),
      ]);
      out[split] = demoSplitDataset(manifest, split, images, labels);
    }),
  );
  return out;
}
