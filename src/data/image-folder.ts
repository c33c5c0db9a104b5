/**
 * Turning a picked folder of images into labelled entries: one subfolder per class.
 * Pure path logic (no DOM): works on paths relative to the folder the user picked.
 */
import { DATA_CONFIG } from './config';

export interface ImageFolderEntry<F> {
  /** Path relative to the dataset root, '/'-separated. */
  path: string;
  label: number;
  file: F;
}

export interface ImageFolderPlan<F> {
  /** Class names in label order (sorted naturally: "2" before "10"). */
  classNames: string[];
  entries: ImageFolderEntry<F>[];
  /** Files that will not load, each with the reason. */
  problems: string[];
}

export interface PlanOptions {
  /**
   * Fixed class list (e.g. the session's classes): folders map to these labels by name, and a folder
   * not in the list is reported. Default: the folders found, sorted naturally.
   */
  classNames?: string[];
}

function splitPath(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
}

export function fileExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Hidden files and operating-system clutter: skipped without a problem report. */
export function isIgnoredFile(name: string): boolean {
  return name.startsWith('.') || DATA_CONFIG.ignoredFileNames.includes(name.toLowerCase());
}

export function isImageFileName(name: string): boolean {
  return DATA_CONFIG.imageExtensions.includes(fileExtension(name));
}

/**
 * Drops leading folders that every path shares while the class folders are still below them, so picking
 * "mnist/" that holds "training/0..9/" works like picking "training/".
 */
export function stripCommonRoot(paths: string[][]): string[][] {
  let parts = paths;
  while (parts.length > 0 && parts.every((p) => p.length >= 3 && p[0] === parts[0][0])) {
    parts = parts.map((p) => p.slice(1));
  }
  return parts;
}

const naturalOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Maps each file to a class: the first folder below the root names the class (deeper folders belong to it).
 * Files directly in the root, non-image files and folders outside a fixed class list become problems.
 */
export function planImageFolder<F>(files: { path: string; file: F }[], opts: PlanOptions = {}): ImageFolderPlan<F> {
  const problems: string[] = [];
  const candidates: { path: string; parts: string[]; file: F }[] = [];
  for (const f of files) {
    const parts = splitPath(f.path);
    const name = parts[parts.length - 1] ?? '';
    if (name === '' || parts.some((p) => isIgnoredFile(p))) continue;
    if (!isImageFileName(name)) {
      problems.push(`${f.path}: skipped, not an image file (.${fileExtension(name) || '(no extension)'}; expected ${DATA_CONFIG.imageExtensions.join(', ')})`);
      continue;
    }
    candidates.push({ path: f.path, parts, file: f.file });
  }
  const stripped = stripCommonRoot(candidates.map((c) => c.parts));
  const found = new Set<string>();
  const placed: { path: string; cls: string; file: F; rel: string }[] = [];
  candidates.forEach((c, i) => {
    const parts = stripped[i];
    if (parts.length < 2) {
      problems.push(`${c.path}: skipped, not inside a class folder (put each class's images in a subfolder named after the class)`);
      return;
    }
    found.add(parts[0]);
    placed.push({ path: c.path, cls: parts[0], file: c.file, rel: parts.join('/') });
  });
  const classNames = opts.classNames ? [...opts.classNames] : [...found].sort(naturalOrder.compare);
  const labelOf = new Map(classNames.map((name, i) => [name, i]));
  const unknown = new Set<string>();
  const entries: ImageFolderEntry<F>[] = [];
  for (const p of placed) {
    const label = labelOf.get(p.cls);
    if (label === undefined) {
      unknown.add(p.cls);
      continue;
    }
    entries.push({ path: p.rel, label, file: p.file });
  }
  for (const cls of unknown) {
    problems.push(`folder "${cls}": skipped, not one of the session's classes (${classNames.join(', ')})`);
  }
  if (entries.length === 0 && files.length > 0) {
    problems.push('no images found: pick a folder that holds one subfolder per class, each with image files');
  }
  return { classNames, entries, problems };
}
