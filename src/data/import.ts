/**
 * Bring-your-own data: an image folder (one subfolder per class), a CSV with a label column, or a
 * MedMNIST-style .npz. Everything is read and decoded locally; nothing is uploaded anywhere.
 * A bad file is reported in `problems` and the rest still loads.
 */
import type { ImageDataset, TabularDataset } from '../fl/data/dataset';
import type { CsvOptions } from '../fl/data/csv';
import { parseCsvDataset, standardizeFeatures } from '../fl/data/csv';
import type { NpzSplit } from '../fl/data/npz';
import { parseNpzDataset } from '../fl/data/npz';
import { DATA_CONFIG } from './config';
import { decodeImageFile } from './decode';
import type { PlanOptions } from './image-folder';
import { planImageFolder } from './image-folder';
import type { LocalFile } from './pickers';
import type { ImageShape } from './resize';
import { assertImageShape, resizeImages } from './resize';

export interface ImportResult<T> {
  /** Null when nothing could be loaded (the problems say why). */
  dataset: T | null;
  problems: string[];
}

export interface ImageImportOptions extends PlanOptions {
  /** Model input shape the images are scaled to. Default DATA_CONFIG.defaultImageShape (28x28 grayscale). */
  targetShape?: ImageShape;
  /** Called after each decoded file. */
  onProgress?: (done: number, total: number) => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Decodes a picked folder into an ImageDataset, label = class subfolder. */
export async function importImageFolder(files: LocalFile[], opts: ImageImportOptions = {}): Promise<ImportResult<ImageDataset>> {
  const target = opts.targetShape ?? DATA_CONFIG.defaultImageShape;
  assertImageShape(target, 'target shape');
  const plan = planImageFolder(files, opts);
  const problems = [...plan.problems];
  const per = target[0] * target[1] * target[2];
  const decoded: (Uint8Array | null)[] = new Array(plan.entries.length).fill(null);
  let next = 0;
  let done = 0;
  const workerLoop = async () => {
    for (let i = next++; i < plan.entries.length; i = next++) {
      const e = plan.entries[i];
      try {
        decoded[i] = await decodeImageFile(e.file, e.path, target);
      } catch (err) {
        problems.push(`${message(err)}; skipped`);
      }
      opts.onProgress?.(++done, plan.entries.length);
    }
  };
  await Promise.all(Array.from({ length: DATA_CONFIG.decodeConcurrency }, workerLoop));
  const kept = plan.entries.map((e, i) => ({ label: e.label, pixels: decoded[i] })).filter((k): k is { label: number; pixels: Uint8Array } => k.pixels !== null);
  if (kept.length === 0) return { dataset: null, problems };
  const images = new Uint8Array(kept.length * per);
  const labels = new Int32Array(kept.length);
  kept.forEach((k, i) => {
    images.set(k.pixels, i * per);
    labels[i] = k.label;
  });
  return {
    dataset: { kind: 'image', images, shape: [...target], labels, numClasses: plan.classNames.length, classNames: plan.classNames },
    problems,
  };
}

export interface CsvImportOptions extends CsvOptions {
  /** Z-score the features with this file's own statistics (default true: raw features of very different scales make SGD diverge). */
  standardize?: boolean;
}

/** Reads a CSV (header row, numeric features, one label column). */
export async function importCsvFile(file: File, opts: CsvImportOptions = {}): Promise<ImportResult<TabularDataset>> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
  } catch (err) {
    return { dataset: null, problems: [`${file.name}: not UTF-8 text (${message(err)})`] };
  }
  try {
    const ds = parseCsvDataset(text, file.name, opts);
    return { dataset: opts.standardize === false ? ds : standardizeFeatures(ds).train, problems: [] };
  } catch (err) {
    return { dataset: null, problems: [message(err)] };
  }
}

export interface NpzImportOptions {
  /** Which arrays of the archive: train_images/train_labels (default) or test_*. */
  split?: NpzSplit;
  /** Images are converted and resized to this shape. Default DATA_CONFIG.defaultImageShape. */
  targetShape?: ImageShape;
}

/** Reads a MedMNIST-style .npz (uint8 images NxHxW[xC], labels N or Nx1). */
export async function importNpzFile(file: File, opts: NpzImportOptions = {}): Promise<ImportResult<ImageDataset>> {
  const target = opts.targetShape ?? DATA_CONFIG.defaultImageShape;
  assertImageShape(target, 'target shape');
  try {
    const ds = parseNpzDataset(new Uint8Array(await file.arrayBuffer()), file.name, opts.split ?? 'train');
    const images = resizeImages(ds.images, ds.labels.length, ds.shape, target);
    return { dataset: { ...ds, images, shape: [...target] }, problems: [] };
  } catch (err) {
    return { dataset: null, problems: [message(err)] };
  }
}

export type LocalDataKind = 'image-folder' | 'csv' | 'npz';

/** Picks the importer from the files: one .csv, one .npz, or else an image folder. */
export function detectLocalDataKind(files: LocalFile[]): LocalDataKind {
  if (files.length === 1) {
    const name = files[0].file.name.toLowerCase();
    if (name.endsWith('.csv')) return 'csv';
    if (name.endsWith('.npz')) return 'npz';
  }
  return 'image-folder';
}
