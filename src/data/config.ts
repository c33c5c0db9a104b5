/** Tunable constants of the browser data layer, in one place. */
export const DATA_CONFIG = {
  demo: {
    /** Folder under the site root (Vite's public/) that holds the demo files. */
    dir: 'data',
    manifestFile: 'mnist-demo.json',
    /** The first this many MNIST training images form the pool that demo shards are cut from. */
    trainCount: 10_000,
    /** The first this many MNIST test images: a common test set (for the host's global evaluation). */
    testCount: 2_000,
    /** Upper bound of the files' total size, checked by scripts/prepare-data.ts. */
    maxTotalBytes: 10_000_000,
  },
  /** Fraction of each client's local data held out as its fixed evaluation split E_k. */
  evalFraction: 0.2,
  /** Mixed into the split seed so the eval split does not correlate with the partition draw. */
  evalSplitSalt: 0x5eed_e7a1,
  /** Model input of the built-in models: 28x28 grayscale. */
  defaultImageShape: [28, 28, 1] as [number, number, number],
  /** Image files decoded at once while importing a folder. */
  decodeConcurrency: 4,
  /** File extensions read as images (lower case, without the dot). */
  imageExtensions: ['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'avif'] as readonly string[],
  /** Files that operating systems drop into folders; skipped without a problem report. */
  ignoredFileNames: ['thumbs.db', 'desktop.ini'] as readonly string[],
  indexedDb: {
    name: 'fedtab-local-data',
    version: 1,
    store: 'datasets',
    /** One local dataset per origin: the latest import replaces the previous one. */
    key: 'current',
  },
} as const;
