/**
 * One call for the UI: read the user's files (image folder, CSV or .npz), hold out the fixed eval split,
 * and keep the result in IndexedDB for the training worker.
 */
import type { Dataset } from '../fl/data/dataset';
import { DATA_CONFIG } from './config';
import type { CsvImportOptions, ImageImportOptions, LocalDataKind, NpzImportOptions } from './import';
import { detectLocalDataKind, importCsvFile, importImageFolder, importNpzFile } from './import';
import type { LocalFile } from './pickers';
import { evalSplitSeed, splitLocalDataset } from './split';
import type { StoredLocalDataSummary } from './store';
import { saveLocalData, summarizeLocalData } from './store';

export interface LocalDataImportOptions {
  /** Default: detected from the files (see detectLocalDataKind). */
  kind?: LocalDataKind;
  /** Shown in the UI; default the first file's folder or name. */
  name?: string;
  image?: ImageImportOptions;
  csv?: CsvImportOptions;
  npz?: NpzImportOptions;
  evalFraction?: number;
  /** Seed of the eval split (fixed per import, so E_k never changes afterwards). */
  splitSeed?: number;
  /**
   * Checks the loaded data before it is stored (e.g. against the session's task). Problems it returns refuse the
   * import: nothing is stored, and the result's `refused` lists them.
   */
  check?: (dataset: Dataset) => string[];
}

export interface LocalDataImportResult {
  /** Null when nothing could be loaded; then nothing was stored. */
  summary: StoredLocalDataSummary | null;
  problems: string[];
  /** Why the data was refused by `check` (then nothing was stored). */
  refused?: string[];
}

/** Imports, splits and stores. Returns the problems of every skipped file. */
export async function importLocalData(files: LocalFile[], opts: LocalDataImportOptions = {}): Promise<LocalDataImportResult> {
  if (files.length === 0) return { summary: null, problems: ['no files selected'] };
  const kind = opts.kind ?? detectLocalDataKind(files);
  let result: { dataset: Dataset | null; problems: string[] };
  switch (kind) {
    case 'csv':
      result = await importCsvFile(files[0].file, opts.csv);
      break;
    case 'npz':
      result = await importNpzFile(files[0].file, opts.npz);
      break;
    case 'image-folder':
      result = await importImageFolder(files, opts.image);
      break;
  }
  if (!result.dataset) return { summary: null, problems: result.problems };
  const refused = opts.check?.(result.dataset) ?? [];
  if (refused.length > 0) return { summary: null, problems: result.problems, refused };
  let split;
  try {
    split = splitLocalDataset(result.dataset, opts.evalFraction ?? DATA_CONFIG.evalFraction, opts.splitSeed ?? evalSplitSeed(Date.now() & 0x7fffffff));
  } catch (err) {
    return { summary: null, problems: [...result.problems, err instanceof Error ? err.message : String(err)] };
  }
  const name = opts.name ?? defaultName(files, kind);
  const stored = await saveLocalData({ name, kind, train: split.train, eval: split.eval, problems: result.problems });
  return { summary: summarizeLocalData(stored), problems: result.problems };
}

function defaultName(files: LocalFile[], kind: LocalDataKind): string {
  if (kind !== 'image-folder') return files[0].file.name;
  const rel = files[0].file.webkitRelativePath;
  return rel && rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : `${files.length} images`;
}
