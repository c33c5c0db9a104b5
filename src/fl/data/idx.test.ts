import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from './errors';
import { combineImagesAndLabels, parseIdxDataset, parseIdxImages, parseIdxLabels } from './idx';

/** Builds an IDX file: 0, 0, type 0x08, ndims, big-endian dims, data. */
function idxFile(dims: number[], data: ArrayLike<number>, typeCode = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const COUNT = 3;
const ROWS = 2;
const COLS = 4;
const PIXELS = Array.from({ length: COUNT * ROWS * COLS }, (_, i) => (i * 37) % 256);
const LABELS = [7, 0, 2];
const imagesBytes = () => idxFile([COUNT, ROWS, COLS], PIXELS);
const labelsBytes = () => idxFile([COUNT], LABELS);

describe('parseIdxImages / parseIdxLabels', () => {
  it('reads dimensions, pixels and labels', () => {
    const img = parseIdxImages(imagesBytes(), 'imgs');
    expect({ count: img.count, rows: img.rows, cols: img.cols }).toEqual({ count: 3, rows: 2, cols: 4 });
    expect(Array.from(img.images)).toEqual(PIXELS);
    expect(Array.from(parseIdxLabels(labelsBytes(), 'lbls'))).toEqual(LABELS);
  });

  it('reads gzipped files the same as plain ones', () => {
    const img = parseIdxImages(gzipSync(imagesBytes()), 'imgs.gz');
    expect(Array.from(img.images)).toEqual(PIXELS);
    expect(Array.from(parseIdxLabels(gzipSync(labelsBytes()), 'lbls.gz'))).toEqual(LABELS);
  });

  it('keeps only the first `limit` samples', () => {
    const img = parseIdxImages(imagesBytes(), 'imgs', { limit: 2 });
    expect(img.count).toBe(2);
    expect(Array.from(img.images)).toEqual(PIXELS.slice(0, 2 * ROWS * COLS));
    expect(Array.from(parseIdxLabels(labelsBytes(), 'lbls', { limit: 2 }))).toEqual([7, 0]);
    expect(() => parseIdxLabels(labelsBytes(), 'lbls', { limit: 0 })).toThrow(/limit/);
  });

  it('returns images that own their buffer (safe to transfer to a worker)', () => {
    const img = parseIdxImages(imagesBytes(), 'imgs');
    expect(img.images.byteOffset).toBe(0);
    expect(img.images.buffer.byteLength).toBe(img.images.byteLength);
  });

  it('rejects a label file passed as images, and vice versa, naming the file', () => {
    expect(() => parseIdxImages(labelsBytes(), 'train-labels')).toThrow(/train-labels.*not an IDX image file.*label file/);
    expect(() => parseIdxLabels(imagesBytes(), 'train-images')).toThrow(/train-images.*not an IDX label file.*image file/);
  });

  it('rejects bad magic numbers and element types', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
    expect(() => parseIdxImages(png, 'photo.png')).toThrow(/photo\.png.*not an IDX file at all/);
    const floats = idxFile([1, 1, 1], [0, 0, 0, 0], 0x0d);
    expect(() => parseIdxImages(floats, 'f.idx')).toThrow(/element type 0xd/);
    expect(() => parseIdxImages(new Uint8Array([0, 0]), 'tiny')).toThrow(DataFormatError);
  });

  it('rejects truncated headers and truncated data', () => {
    expect(() => parseIdxImages(imagesBytes().subarray(0, 10), 'imgs')).toThrow(/imgs.*truncated IDX header/);
    const short = imagesBytes().subarray(0, imagesBytes().length - 1);
    expect(() => parseIdxImages(short, 'imgs')).toThrow(/imgs.*truncated: header promises 24 data bytes, file has 23/);
    expect(() => parseIdxLabels(labelsBytes().subarray(0, 9), 'lbls')).toThrow(/lbls.*truncated/);
    // A gzip stream cut in half is not silently accepted either.
    const gz = gzipSync(imagesBytes());
    expect(() => parseIdxImages(gz.subarray(0, gz.length >> 1), 'imgs.gz')).toThrow(/imgs\.gz/);
  });

  it('rejects trailing bytes after the data', () => {
    const long = new Uint8Array([...labelsBytes(), 1]);
    expect(() => parseIdxLabels(long, 'lbls')).toThrow(/1 unexpected bytes/);
  });

  it('rejects corrupt gzip data', () => {
    const broken = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]);
    expect(() => parseIdxImages(broken, 'x.gz')).toThrow(/x\.gz.*corrupt gzip/);
  });
});

describe('parseIdxDataset / combineImagesAndLabels', () => {
  it('builds an ImageDataset with shape [rows, cols, 1] and numClasses = max label + 1', () => {
    const ds = parseIdxDataset(imagesBytes(), 'imgs', labelsBytes(), 'lbls');
    expect(ds.kind).toBe('image');
    expect(ds.shape).toEqual([2, 4, 1]);
    expect(ds.numClasses).toBe(8);
    expect(Array.from(ds.labels)).toEqual(LABELS);
  });

  it('uses class names to fix the class count', () => {
    const names = Array.from({ length: 10 }, (_, i) => `digit ${i}`);
    const ds = parseIdxDataset(imagesBytes(), 'imgs', labelsBytes(), 'lbls', { classNames: names });
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(names);
  });

  it('rejects image and label files of different lengths', () => {
    const twoLabels = idxFile([2], [1, 2]);
    expect(() => parseIdxDataset(imagesBytes(), 'imgs', twoLabels, 'lbls')).toThrow(/lbls.*2 labels but imgs has 3 images/);
  });

  it('rejects labels outside the declared classes and size mismatches', () => {
    const base = { images: new Uint8Array(4), count: 2, shape: [2, 1, 1] as [number, number, number] };
    expect(() => combineImagesAndLabels({ ...base, labels: Int32Array.from([0, 5]), numClasses: 3 }, 'f')).toThrow(
      /label 5 is out of range for 3 classes/,
    );
    expect(() => combineImagesAndLabels({ ...base, labels: Int32Array.from([0, -1]) }, 'f')).toThrow(/negative/);
    expect(() => combineImagesAndLabels({ ...base, labels: Int32Array.from([0]) }, 'f')).toThrow(/2 images but 1 labels/);
  });
});
