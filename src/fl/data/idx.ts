/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzipped. Pure byte parsing: works in the
 * browser, in workers and in Node.
 *
 * Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then one
 * big-endian uint32 per dimension, then the data.
 */
import { gunzipSync } from 'fflate';
import type { ImageDataset } from './dataset';
import { classCountFromLabels, DataFormatError } from './errors';

const IDX_UBYTE = 0x08;
const IMAGE_MAGIC = 0x00000803;
const LABEL_MAGIC = 0x00000801;

export interface IdxImages {
  /** count * rows * cols bytes, image-major. */
  images: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface IdxParseOptions {
  /** Keep only the first `limit` samples (the whole file is still validated). */
  limit?: number;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Returns the bytes unchanged, or decompressed when they are gzip. */
export function maybeGunzip(bytes: Uint8Array, fileName: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataFormatError(fileName, `corrupt gzip data (${errorMessage(err)})`);
  }
}

export function parseIdxImages(bytes: Uint8Array, fileName: string, opts: IdxParseOptions = {}): IdxImages {
  const data = maybeGunzip(bytes, fileName);
  const dims = readIdxHeader(data, fileName, IMAGE_MAGIC, 'image');
  const [count, rows, cols] = dims;
  if (rows === 0 || cols === 0) throw new DataFormatError(fileName, `images have size ${rows}x${cols}`);
  const offset = headerLength(dims.length);
  checkDataLength(data, offset, count * rows * cols, fileName);
  const kept = keptCount(count, opts.limit);
  return { images: data.slice(offset, offset + kept * rows * cols), count: kept, rows, cols };
}

export function parseIdxLabels(bytes: Uint8Array, fileName: string, opts: IdxParseOptions = {}): Int32Array {
  const data = maybeGunzip(bytes, fileName);
  const dims = readIdxHeader(data, fileName, LABEL_MAGIC, 'label');
  const count = dims[0];
  const offset = headerLength(dims.length);
  checkDataLength(data, offset, count, fileName);
  return Int32Array.from(data.subarray(offset, offset + keptCount(count, opts.limit)));
}

/** An IDX image file and its label file as one dataset (MNIST: shape [28, 28, 1], 10 classes). */
export function parseIdxDataset(
  imageBytes: Uint8Array,
  imageFileName: string,
  labelBytes: Uint8Array,
  labelFileName: string,
  opts: IdxParseOptions & { classNames?: string[] } = {},
): ImageDataset {
  const img = parseIdxImages(imageBytes, imageFileName, opts);
  const labels = parseIdxLabels(labelBytes, labelFileName, opts);
  if (labels.length !== img.count) {
    throw new DataFormatError(
      labelFileName,
      `has ${labels.length} labels but ${imageFileName} has ${img.count} images`,
    );
  }
  return combineImagesAndLabels(
    {
      images: img.images,
      count: img.count,
      shape: [img.rows, img.cols, 1],
      labels,
      classNames: opts.classNames,
    },
    labelFileName,
  );
}

export interface ImageParts {
  images: Uint8Array;
  count: number;
  /** [height, width, channels] */
  shape: [number, number, number];
  labels: Int32Array;
  /** Defaults to max label + 1 (or classNames.length when given). */
  numClasses?: number;
  classNames?: string[];
}

/** Validates sizes and labels and builds an ImageDataset. `fileName` is named in errors. */
export function combineImagesAndLabels(parts: ImageParts, fileName: string): ImageDataset {
  const { images, count, shape, labels, classNames } = parts;
  const per = shape[0] * shape[1] * shape[2];
  if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new DataFormatError(fileName, `invalid image shape [${shape.join(', ')}]`);
  }
  if (images.length !== count * per) {
    throw new DataFormatError(fileName, `expected ${count * per} image bytes for ${count} images, got ${images.length}`);
  }
  if (labels.length !== count) {
    throw new DataFormatError(fileName, `${count} images but ${labels.length} labels`);
  }
  const seen = classCountFromLabels(labels, fileName);
  const numClasses = parts.numClasses ?? classNames?.length ?? seen;
  if (seen > numClasses) {
    throw new DataFormatError(fileName, `label ${seen - 1} is out of range for ${numClasses} classes`);
  }
  if (classNames && classNames.length !== numClasses) {
    throw new DataFormatError(fileName, `${classNames.length} class names for ${numClasses} classes`);
  }
  const ds: ImageDataset = { kind: 'image', images, shape: [...shape], labels, numClasses };
  if (classNames) ds.classNames = [...classNames];
  return ds;
}

function readIdxHeader(data: Uint8Array, fileName: string, magic: number, what: 'image' | 'label'): number[] {
  if (data.length < 4) throw new DataFormatError(fileName, `too short for an IDX file (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const found = view.getUint32(0);
  if (found !== magic) {
    const hint =
      found === IMAGE_MAGIC
        ? ' (this is an IDX image file)'
        : found === LABEL_MAGIC
          ? ' (this is an IDX label file)'
          : data[0] !== 0 || data[1] !== 0
            ? ' (not an IDX file at all)'
            : data[2] !== IDX_UBYTE
              ? ` (element type 0x${data[2].toString(16)}; only unsigned bytes are supported)`
              : ` (${data[3]} dimensions; ${what} files have ${magic & 0xff})`;
    throw new DataFormatError(
      fileName,
      `not an IDX ${what} file: magic number 0x${hex(found)}, expected 0x${hex(magic)}${hint}`,
    );
  }
  const ndims = data[3];
  if (data.length < headerLength(ndims)) {
    throw new DataFormatError(fileName, `truncated IDX header: ${ndims} dimensions need ${headerLength(ndims)} bytes`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i));
  return dims;
}

function headerLength(ndims: number): number {
  return 4 + 4 * ndims;
}

function checkDataLength(data: Uint8Array, offset: number, expected: number, fileName: string): void {
  const actual = data.length - offset;
  if (actual < expected) {
    throw new DataFormatError(fileName, `truncated: header promises ${expected} data bytes, file has ${actual}`);
  }
  if (actual > expected) {
    throw new DataFormatError(fileName, `${actual - expected} unexpected bytes after the ${expected} data bytes`);
  }
}

function keptCount(count: number, limit: number | undefined): number {
  if (limit === undefined) return count;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, count);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
