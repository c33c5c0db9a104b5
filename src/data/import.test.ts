/** The file importers that need no canvas (CSV, .npz), run on Node's File. Image folders are tested in e2e/worker.e2e.ts. */
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { loadMnistNode } from '../fl/data/node-loaders';
import { detectLocalDataKind, importCsvFile, importNpzFile } from './import';
import { splitLocalDataset } from './split';

/** An .npy file as numpy writes it (v1 header padded to 64 bytes). */
function npy(descr: string, shape: number[], data: Uint8Array): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

describe('importNpzFile', () => {
  it('reads a MedMNIST-style archive and scales RGB 56x56 images to 28x28 gray', async () => {
    // Real digits, upscaled 2x to RGB, so the expected 28x28 gray result is the original image.
    const mnist = loadMnistNode('test', 6);
    const rgb = new Uint8Array(6 * 56 * 56 * 3);
    for (let i = 0; i < 6; i++) {
      for (let y = 0; y < 56; y++) {
        for (let x = 0; x < 56; x++) {
          const v = mnist.images[i * 784 + (y >> 1) * 28 + (x >> 1)];
          rgb.set([v, v, v], ((i * 56 + y) * 56 + x) * 3);
        }
      }
    }
    const bytes = zipSync({
      'train_images.npy': npy('|u1', [6, 56, 56, 3], rgb),
      'train_labels.npy': npy('|u1', [6, 1], Uint8Array.from(mnist.labels)),
    });
    const r = await importNpzFile(new File([bytes], 'digits.npz'));
    expect(r.problems).toEqual([]);
    expect(r.dataset!.shape).toEqual([28, 28, 1]);
    expect(r.dataset!.labels).toEqual(mnist.labels);
    expect(r.dataset!.images).toEqual(mnist.images);
  });

  it('returns no dataset and the parser message for a file that is not an archive', async () => {
    const r = await importNpzFile(new File(['hello'], 'bad.npz'));
    expect(r.dataset).toBeNull();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^bad\.npz/);
  });
});

describe('importCsvFile', () => {
  it('reads features and the label column, standardized by default', async () => {
    const csv = 'height,weight,label\n1,10,0\n2,20,1\n3,30,1\n';
    const r = await importCsvFile(new File([csv], 'people.csv'));
    expect(r.problems).toEqual([]);
    expect(r.dataset!.features).toBe(2);
    expect(Array.from(r.dataset!.labels)).toEqual([0, 1, 1]);
    const col0 = [0, 2, 4].map((i) => r.dataset!.rows[i]);
    expect(col0.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 5);
    const raw = await importCsvFile(new File([csv], 'people.csv'), { standardize: false });
    expect(Array.from(raw.dataset!.rows)).toEqual([1, 10, 2, 20, 3, 30]);
  });

  it('names the file and line of a bad value', async () => {
    const r = await importCsvFile(new File(['a,label\n1,0\nx,1\n'], 'bad.csv'));
    expect(r.dataset).toBeNull();
    expect(r.problems[0]).toMatch(/^bad\.csv, line 3/);
  });

  it('reports a file that is not UTF-8 text', async () => {
    const r = await importCsvFile(new File([Uint8Array.from([0xff, 0xfe, 0x00, 0xd8])], 'binary.csv'));
    expect(r.problems).toEqual([expect.stringMatching(/^binary\.csv: not UTF-8 text/)]);
  });
});

describe('detectLocalDataKind and splitLocalDataset', () => {
  it('picks the importer from the files', () => {
    const f = (name: string) => ({ path: name, file: new File([], name) });
    expect(detectLocalDataKind([f('x.CSV')])).toBe('csv');
    expect(detectLocalDataKind([f('x.npz')])).toBe('npz');
    expect(detectLocalDataKind([f('a/1.png'), f('b/2.png')])).toBe('image-folder');
  });

  it('holds out a deterministic eval split and refuses data too small to train on', () => {
    const ds = loadMnistNode('test', 100);
    const a = splitLocalDataset(ds, 0.2, 9);
    expect(a.train.labels.length + a.eval.labels.length).toBe(100);
    expect(a.eval.labels.length).toBeGreaterThanOrEqual(15);
    expect(splitLocalDataset(ds, 0.2, 9).eval.images).toEqual(a.eval.images);
    const one = { ...ds, images: ds.images.slice(0, 784), labels: ds.labels.slice(0, 1) };
    expect(splitLocalDataset(one, 0.2, 1).train.labels.length).toBe(1);
    expect(() => splitLocalDataset(one, 0.99, 1)).toThrow(/nothing left to train on/);
  });
});
