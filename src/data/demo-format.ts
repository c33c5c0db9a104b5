/**
 * The built-in demo data as served from public/data/: a small JSON manifest plus raw uint8 files
 * (image bytes sample-major, one label byte per sample). Written by scripts/prepare-data.ts.
 */
import type { ImageDataset } from '../fl/data/dataset';
import { combineImagesAndLabels } from '../fl/data/idx';

export const DEMO_FORMAT = 'fedtab-demo-v1';

export type DemoSplitName = 'train' | 'test';

export interface DemoSplitFiles {
  count: number;
  /** File names relative to the manifest. */
  images: string;
  labels: string;
}

export interface DemoManifest {
  format: typeof DEMO_FORMAT;
  name: string;
  /** Where the samples come from (shown to users). */
  source: string;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  numClasses: number;
  classNames: string[];
  splits: Record<DemoSplitName, DemoSplitFiles>;
}

function isSplitFiles(v: unknown): v is DemoSplitFiles {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return Number.isInteger(s.count) && (s.count as number) > 0 && isFileName(s.images) && isFileName(s.labels);
}

/** A plain file name: no folders, so a manifest cannot point the client anywhere else. */
function isFileName(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) && !v.startsWith('.');
}

export function isDemoManifest(value: unknown): value is DemoManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const shape = m.shape;
  const splits = m.splits as Record<string, unknown> | undefined;
  return (
    m.format === DEMO_FORMAT &&
    typeof m.name === 'string' &&
    typeof m.source === 'string' &&
    Array.isArray(shape) &&
    shape.length === 3 &&
    shape.every((d) => Number.isInteger(d) && d > 0) &&
    Number.isInteger(m.numClasses) &&
    (m.numClasses as number) > 1 &&
    Array.isArray(m.classNames) &&
    m.classNames.length === m.numClasses &&
    m.classNames.every((c) => typeof c === 'string') &&
    typeof splits === 'object' &&
    splits !== null &&
    isSplitFiles(splits.train) &&
    isSplitFiles(splits.test)
  );
}

/** Parses manifest JSON text; the error names the file and what is wrong. */
export function parseDemoManifest(text: string, fileName: string): DemoManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName}: not valid JSON (${(err as Error).message})`);
  }
  if (!isDemoManifest(value)) {
    const format = (value as { format?: unknown } | null)?.format;
    const hint = format !== DEMO_FORMAT ? ` (format is ${JSON.stringify(format)}, expected "${DEMO_FORMAT}"; run \`npm run data\`)` : '';
    throw new Error(`${fileName}: not a fedtab demo manifest${hint}`);
  }
  return value;
}

export function bytesPerImage(manifest: DemoManifest): number {
  const [h, w, c] = manifest.shape;
  return h * w * c;
}

/** Builds one split from its two files' bytes, checking their sizes against the manifest. */
export function demoSplitDataset(manifest: DemoManifest, split: DemoSplitName, imageBytes: Uint8Array, labelBytes: Uint8Array): ImageDataset {
  const files = manifest.splits[split];
  const expectedImageBytes = files.count * bytesPerImage(manifest);
  if (imageBytes.length !== expectedImageBytes) {
    throw new Error(`${files.images}: ${imageBytes.length} bytes, expected ${expectedImageBytes} (${files.count} images of [${manifest.shape}]); run \`npm run data\` again`);
  }
  if (labelBytes.length !== files.count) {
    throw new Error(`${files.labels}: ${labelBytes.length} bytes, expected ${files.count} (one label per image); run \`npm run data\` again`);
  }
  return combineImagesAndLabels(
    {
      images: imageBytes,
      count: files.count,
      shape: manifest.shape,
      labels: Int32Array.from(labelBytes),
      numClasses: manifest.numClasses,
      classNames: manifest.classNames,
    },
    files.labels,
  );
}
