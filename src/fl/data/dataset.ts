/**
 * Local datasets as compact typed arrays. Images stay uint8 until a batch is fed to the model.
 * A Dataset never crosses the transport: only weights and metrics do.
 */
export interface ImageDataset {
  kind: 'image';
  /** N * height * width * channels bytes, sample-major, channels last. */
  images: Uint8Array;
  /** [height, width, channels] */
  shape: [number, number, number];
  labels: Int32Array;
  numClasses: number;
  /** Human-readable class names, index = label. Optional. */
  classNames?: string[];
}

export interface TabularDataset {
  kind: 'tabular';
  /** N * features float32 values, row-major. */
  rows: Float32Array;
  features: number;
  labels: Int32Array;
  numClasses: number;
  featureNames?: string[];
  classNames?: string[];
}

export type Dataset = ImageDataset | TabularDataset;

export function datasetSize(ds: Dataset): number {
  return ds.labels.length;
}

/** Number of input values per sample. */
export function sampleSize(ds: Dataset): number {
  return ds.kind === 'image' ? ds.shape[0] * ds.shape[1] * ds.shape[2] : ds.features;
}

/** A new dataset holding the given sample indices, in that order. */
export function subsetDataset<T extends Dataset>(ds: T, indices: ArrayLike<number>): T {
  const n = indices.length;
  const per = sampleSize(ds);
  const labels = new Int32Array(n);
  if (ds.kind === 'image') {
    const images = new Uint8Array(n * per);
    for (let i = 0; i < n; i++) {
      const src = indices[i];
      images.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
      labels[i] = ds.labels[src];
    }
    return { ...ds, images, labels } as T;
  }
  const rows = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const src = indices[i];
    rows.set(ds.rows.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = ds.labels[src];
  }
  return { ...ds, rows, labels } as T;
}

/** The first n samples (or all, if fewer). */
export function takeFirst<T extends Dataset>(ds: T, n: number): T {
  const count = Math.min(n, datasetSize(ds));
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  return subsetDataset(ds, idx);
}

export function labelHistogram(labels: ArrayLike<number>, numClasses: number): number[] {
  const h = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]]++;
  return h;
}

/**
 * The samples of the listed classes only, relabelled 0..classes.length-1 in the order given (e.g. MNIST digits 3
 * and 5 as a binary task). Throws on an empty, repeated or out-of-range class list.
 */
export function selectClasses<T extends Dataset>(ds: T, classes: readonly number[]): T {
  if (classes.length < 2) throw new Error(`a class selection needs at least 2 classes, got ${classes.length}`);
  const relabel = new Map<number, number>();
  for (const c of classes) {
    if (!(Number.isInteger(c) && c >= 0 && c < ds.numClasses)) throw new Error(`class ${c} is not one of the data's ${ds.numClasses} classes`);
    if (relabel.has(c)) throw new Error(`class ${c} is listed twice`);
    relabel.set(c, relabel.size);
  }
  const indices: number[] = [];
  for (let i = 0; i < ds.labels.length; i++) if (relabel.has(ds.labels[i])) indices.push(i);
  const subset = subsetDataset(ds, indices);
  const labels = subset.labels.map((l) => relabel.get(l)!);
  const classNames = ds.classNames ? classes.map((c) => ds.classNames![c]) : undefined;
  return { ...subset, labels, numClasses: classes.length, ...(classNames ? { classNames } : {}) };
}
