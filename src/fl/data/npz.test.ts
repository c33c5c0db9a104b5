import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseNpy, parseNpzDataset } from './npz';

/** Writes an .npy file the way numpy does: magic, version, header length, dict padded to 64 bytes. */
function npy(
  descr: string,
  shape: number[],
  data: Uint8Array,
  opts: { version?: 1 | 2 | 3; fortran?: boolean; header?: string } = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = opts.header ?? `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = 6 + 2 + (version === 1 ? 2 : 4);
  const pad = 64 - ((prefix + dict.length + 1) % 64);
  dict = dict + ' '.repeat(pad % 64) + '\n';
  const head = new TextEncoder().encode(dict);
  const out = new Uint8Array(prefix + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, prefix);
  out.set(data, prefix + head.length);
  return out;
}

function int64Le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

function bytesOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 256);
}

function npz(files: Record<string, Uint8Array>, level: 0 | 6 = 6): Uint8Array {
  const z: Zippable = {};
  for (const [name, data] of Object.entries(files)) z[`${name}.npy`] = [data, { level }];
  return zipSync(z);
}

// A MedMNIST-like archive: 5 train / 2 test grayscale 3x4 images, int64 Nx1 labels.
const TRAIN_IMAGES = bytesOf(5 * 3 * 4, 1);
const TEST_IMAGES = bytesOf(2 * 3 * 4, 2);
const TRAIN_LABELS = [3, 0, 1, 3, 2];
const TEST_LABELS = [1, 0];
const grayArchive = () =>
  npz({
    train_images: npy('|u1', [5, 3, 4], TRAIN_IMAGES),
    train_labels: npy('<i8', [5, 1], int64Le(TRAIN_LABELS)),
    test_images: npy('|u1', [2, 3, 4], TEST_IMAGES),
    test_labels: npy('<i8', [2, 1], int64Le(TEST_LABELS)),
  });

describe('parseNpzDataset', () => {
  it('round-trips uint8 NxHxW images with int64 Nx1 labels', () => {
    const ds = parseNpzDataset(grayArchive(), 'pneumonia.npz', 'train');
    expect(ds.shape).toEqual([3, 4, 1]);
    expect(Array.from(ds.images)).toEqual(Array.from(TRAIN_IMAGES));
    expect(Array.from(ds.labels)).toEqual(TRAIN_LABELS);
    expect(ds.numClasses).toBe(4);
  });

  it('reads the test split from the test arrays', () => {
    const ds = parseNpzDataset(grayArchive(), 'pneumonia.npz', 'test');
    expect(Array.from(ds.images)).toEqual(Array.from(TEST_IMAGES));
    expect(Array.from(ds.labels)).toEqual(TEST_LABELS);
  });

  it('round-trips uint8 NxHxWxC images with uint8 N labels from a stored (uncompressed) zip', () => {
    const images = bytesOf(4 * 2 * 2 * 3, 5);
    const file = npz(
      { train_images: npy('|u1', [4, 2, 2, 3], images), train_labels: npy('|u1', [4], Uint8Array.from([0, 6, 2, 1])) },
      0,
    );
    const ds = parseNpzDataset(file, 'blood.npz', 'train');
    expect(ds.shape).toEqual([2, 2, 3]);
    expect(Array.from(ds.images)).toEqual(Array.from(images));
    expect(Array.from(ds.labels)).toEqual([0, 6, 2, 1]);
    expect(ds.numClasses).toBe(7);
  });

  it('reads .npy format versions 2 and 3, big-endian int32 and float labels', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setInt32(0, 2);
    new DataView(be.buffer).setInt32(4, 1);
    const file = npz({
      train_images: npy('|u1', [2, 1, 1], Uint8Array.from([9, 8]), { version: 2 }),
      train_labels: npy('>i4', [2, 1], be, { version: 3 }),
      test_images: npy('|u1', [2, 1, 1], Uint8Array.from([1, 2])),
      test_labels: npy('<f4', [2], new Uint8Array(Float32Array.from([4, 0]).buffer)),
    });
    expect(Array.from(parseNpzDataset(file, 'v.npz', 'train').labels)).toEqual([2, 1]);
    expect(Array.from(parseNpzDataset(file, 'v.npz', 'test').labels)).toEqual([4, 0]);
  });

  it('rejects a file that is not a zip', () => {
    expect(() => parseNpzDataset(new TextEncoder().encode('a,b\n1,2\n'), 'data.csv', 'train')).toThrow(
      /data\.csv.*not an \.npz file/,
    );
  });

  it('rejects a truncated zip', () => {
    const full = grayArchive();
    expect(() => parseNpzDataset(full.subarray(0, full.length - 40), 'cut.npz', 'train')).toThrow(
      /cut\.npz.*corrupt or truncated zip/,
    );
  });

  it('names the missing array and the ones present', () => {
    const file = npz({ train_images: npy('|u1', [1, 1, 1], Uint8Array.from([0])) });
    expect(() => parseNpzDataset(file, 'half.npz', 'train')).toThrow(
      /half\.npz.*missing array 'train_labels'.*present: train_images/,
    );
    expect(() => parseNpzDataset(grayArchive(), 'x.npz', 'valid' as 'train')).toThrow(/split/);
  });

  it('rejects bad .npy headers', () => {
    const good = npy('|u1', [1], Uint8Array.from([0]));
    const noMagic = good.slice();
    noMagic[1] = 0;
    expect(() => parseNpy(noMagic, 'a.npy')).toThrow(/a\.npy.*bad magic/);
    const noShape = npy('', [], Uint8Array.from([0]), { header: "{'descr': '|u1', 'fortran_order': False, }" });
    expect(() => parseNpy(noShape, 'b.npy')).toThrow(/b\.npy.*bad \.npy header \(missing shape\)/);
    const longHeader = good.slice();
    new DataView(longHeader.buffer).setUint16(8, 5000, true);
    expect(() => parseNpy(longHeader, 'c.npy')).toThrow(/c\.npy.*truncated \.npy header/);
    const file = npz({ train_images: noShape, train_labels: npy('|u1', [1], Uint8Array.from([0])) });
    expect(() => parseNpzDataset(file, 'h.npz', 'train')).toThrow(/h\.npz \[train_images\].*bad \.npy header/);
  });

  it('rejects Fortran order, unsupported dtypes and truncated arrays', () => {
    expect(() => parseNpy(npy('|u1', [2, 2], bytesOf(4, 0), { fortran: true }), 'f.npy')).toThrow(/Fortran-ordered/);
    expect(() => parseNpy(npy('<c16', [1], new Uint8Array(16)), 'c.npy')).toThrow(/unsupported dtype '<c16'/);
    expect(() => parseNpy(npy('<i4', [3], new Uint8Array(11)), 't.npy')).toThrow(/truncated array.*needs 12 bytes, has 11/);
    const floatImages = npz({
      train_images: npy('<f4', [1, 1, 1], new Uint8Array(4)),
      train_labels: npy('|u1', [1], Uint8Array.from([0])),
    });
    expect(() => parseNpzDataset(floatImages, 'f.npz', 'train')).toThrow(/images must be uint8, got dtype '<f4'/);
  });

  it('rejects images/labels count mismatch, multi-label and non-integer labels', () => {
    const mismatch = npz({
      train_images: npy('|u1', [3, 1, 1], bytesOf(3, 0)),
      train_labels: npy('|u1', [2, 1], Uint8Array.from([0, 1])),
    });
    expect(() => parseNpzDataset(mismatch, 'm.npz', 'train')).toThrow(/train_images has 3 samples but train_labels has 2/);
    const multi = npz({
      train_images: npy('|u1', [2, 1, 1], bytesOf(2, 0)),
      train_labels: npy('|u1', [2, 14], new Uint8Array(28)),
    });
    expect(() => parseNpzDataset(multi, 'chest.npz', 'train')).toThrow(/multi-label/);
    const half = npz({
      train_images: npy('|u1', [1, 1, 1], bytesOf(1, 0)),
      train_labels: npy('<f8', [1], new Uint8Array(Float64Array.from([0.5]).buffer)),
    });
    expect(() => parseNpzDataset(half, 'h.npz', 'train')).toThrow(/label 0\.5 at sample 0/);
  });
});
