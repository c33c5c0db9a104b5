import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDemoData } from '../scripts/prepare-data';
import { DATA_CONFIG } from '../src/data/config';
import { fetchDemoData } from '../src/data/demo';
import { loadMnistNode } from '../src/fl/data/node-loaders';

describe('prepared demo files (scripts/prepare-data.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedtab-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pool = loadMnistNode('train', 2000);

  it('are written within budget, skipped when up to date, and load back as the MNIST subset', async () => {
    const first = prepareDemoData({ outDir: dir });
    expect(first.skipped).toBe(false);
    expect(first.totalBytes).toBeLessThanOrEqual(DATA_CONFIG.demo.maxTotalBytes);
    expect(prepareDemoData({ outDir: dir }).skipped).toBe(true);

    const fileFetch = (async (url: string | URL | Request) => {
      const path = decodeURIComponent(new URL(String(url)).pathname);
      return new Response(readFileSync(path), { headers: { 'content-type': 'application/octet-stream' } });
    }) as typeof fetch;
    const demo = await fetchDemoData(`file://${dir}/`, ['train', 'test'], fileFetch);
    const mnistTest = loadMnistNode('test', DATA_CONFIG.demo.testCount);
    expect(demo.train!.labels.length).toBe(DATA_CONFIG.demo.trainCount);
    expect(demo.train!.images.subarray(0, 2000 * 784)).toEqual(pool.images);
    expect(demo.test!.labels).toEqual(mnistTest.labels);
    expect(demo.manifest.classNames).toHaveLength(10);

    // A truncated file is caught and named, and rewritten by the next run.
    const images = join(dir, demo.manifest.splits.test.images);
    writeFileSync(images, readFileSync(images).subarray(0, 100));
    await expect(fetchDemoData(`file://${dir}/`, ['test'], fileFetch)).rejects.toThrow(/mnist-test-images\.u8: 100 bytes, expected 1568000/);
    expect(prepareDemoData({ outDir: dir }).skipped).toBe(false);
    expect(statSync(images).size).toBe(1568000);
  });
});
