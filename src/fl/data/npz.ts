/**
 * NumPy .npz archives in the MedMNIST layout (train_images, train_labels, test_images, test_labels).
 * An .npz is a zip of .npy files; each .npy is a magic string, a Python-dict header and raw data.
 * Pure byte parsing: works in the browser, in workers and in Node.
 */
import { unzipSync } from 'fflate';
import type { ImageDataset } from './dataset';
import { DataFormatError } from './errors';
import { combineImagesAndLabels } from './idx';

export type NpzSplit = 'train' | 'test';

export type NpyKind = 'u' | 'i' | 'f' | 'b';

export interface NpyDtype {
  kind: NpyKind;
  /** Bytes per element. */
  size: number;
  littleEndian: boolean;
  /** The descr string as written in the header, e.g. '<i8'. */
  descr: string;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Exactly the element bytes, in C order. */
  data: Uint8Array;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04]; // PK\x03\x04
const ZIP_EMPTY_ARCHIVE = [0x50, 0x4b, 0x05, 0x06]; // PK\x05\x06

/** Reads a MedMNIST-style split: `<split>_images` (uint8 NxHxW or NxHxWxC) and `<split>_labels` (N or Nx1). */
export function parseNpzDataset(bytes: Uint8Array, fileName: string, split: NpzSplit): ImageDataset {
  if (split !== 'train' && split !== 'test') throw new RangeError(`split must be 'train' or 'test', got '${split}'`);
  const imagesKey = `${split}_images`;
  const labelsKey = `${split}_labels`;
  const arrays = readNpzArrays(bytes, fileName, [imagesKey, labelsKey]);
  const images = arrays.get(imagesKey)!;
  const labels = arrays.get(labelsKey)!;

  const where = (key: string) => `${fileName} [${key}]`;
  if (images.dtype.kind !== 'u' || images.dtype.size !== 1) {
    throw new DataFormatError(where(imagesKey), `images must be uint8, got dtype '${images.dtype.descr}'`);
  }
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw new DataFormatError(where(imagesKey), `images must be NxHxW or NxHxWxC, got shape (${images.shape.join(', ')})`);
  }
  const [count, height, width] = images.shape;
  const channels = images.shape.length === 4 ? images.shape[3] : 1;

  if (!(labels.shape.length === 1 || (labels.shape.length === 2 && labels.shape[1] === 1))) {
    const multi = labels.shape.length === 2 ? ' (multi-label datasets are not supported)' : '';
    throw new DataFormatError(where(labelsKey), `labels must be N or Nx1, got shape (${labels.shape.join(', ')})${multi}`);
  }
  if (labels.shape[0] !== count) {
    throw new DataFormatError(fileName, `${imagesKey} has ${count} samples but ${labelsKey} has ${labels.shape[0]}`);
  }
  return combineImagesAndLabels(
    { images: images.data, count, shape: [height, width, channels], labels: npyToLabels(labels, where(labelsKey)) },
    where(labelsKey),
  );
}

/**
 * Unzips only the requested arrays (names without '.npy') and parses their headers.
 * Throws naming the file when it is not a zip or a key is missing.
 */
export function readNpzArrays(bytes: Uint8Array, fileName: string, keys: string[]): Map<string, NpyArray> {
  if (!startsWith(bytes, ZIP_LOCAL_HEADER) && !startsWith(bytes, ZIP_EMPTY_ARCHIVE)) {
    throw new DataFormatError(fileName, 'not an .npz file (no zip signature)');
  }
  const wanted = new Set(keys.map((k) => `${k}.npy`));
  let entries: Record<string, Uint8Array>;
  const allNames: string[] = [];
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        allNames.push(file.name);
        return wanted.has(file.name);
      },
    });
  } catch (err) {
    throw new DataFormatError(fileName, `corrupt or truncated zip archive (${errorMessage(err)})`);
  }
  const out = new Map<string, NpyArray>();
  for (const key of keys) {
    const entry = entries[`${key}.npy`];
    if (!entry) {
      const present = allNames.map((n) => n.replace(/\.npy$/, '')).join(', ') || 'none';
      throw new DataFormatError(fileName, `missing array '${key}' (arrays present: ${present})`);
    }
    out.set(key, parseNpy(entry, `${fileName} [${key}]`));
  }
  return out;
}

/** Parses one .npy file (format versions 1, 2 and 3). */
export function parseNpy(bytes: Uint8Array, fileName: string): NpyArray {
  if (!startsWith(bytes, NPY_MAGIC)) throw new DataFormatError(fileName, 'not an .npy array (bad magic string)');
  if (bytes.length < 10) throw new DataFormatError(fileName, 'truncated .npy header');
  const major = bytes[6];
  if (major < 1 || major > 3) throw new DataFormatError(fileName, `unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new DataFormatError(fileName, 'truncated .npy header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) {
    throw new DataFormatError(fileName, `truncated .npy header: needs ${headerLen} bytes, has ${bytes.length - headerStart}`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseNpyHeader(header, fileName);
  const dtype = parseDescr(descr, fileName);
  if (fortranOrder && shape.filter((d) => d > 1).length > 1) {
    throw new DataFormatError(fileName, 'Fortran-ordered arrays are not supported (save with np.ascontiguousarray)');
  }
  const expected = shape.reduce((a, b) => a * b, 1) * dtype.size;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    throw new DataFormatError(fileName, `truncated array: shape (${shape.join(', ')}) needs ${expected} bytes, has ${actual}`);
  }
  if (actual > expected) {
    throw new DataFormatError(fileName, `${actual - expected} unexpected bytes after the array data`);
  }
  return { dtype, shape, data: bytes.slice(dataStart) };
}

/** Converts a label array of any integer or float dtype to Int32 class indices. */
export function npyToLabels(arr: NpyArray, fileName: string): Int32Array {
  const { dtype, data } = arr;
  const n = data.length / dtype.size;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = elementReader(view, dtype);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = read(i * dtype.size);
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new DataFormatError(fileName, `label ${v} at sample ${i} is not a non-negative integer class index`);
    }
    out[i] = v;
  }
  return out;
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseNpyHeader(header: string, fileName: string): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    const missing = [!descr && 'descr', !fortran && 'fortran_order', !shape && 'shape'].filter(Boolean).join(', ');
    throw new DataFormatError(fileName, `bad .npy header (missing ${missing}): ${header.trim().slice(0, 120)}`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0);
  const parsed = dims.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (parsed.some((d) => !Number.isSafeInteger(d))) {
    throw new DataFormatError(fileName, `bad .npy header: shape (${shape[1]}) is not a tuple of sizes`);
  }
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: parsed };
}

function parseDescr(descr: string, fileName: string): NpyDtype {
  const m = /^([<>|=])([uifb])(\d+)$/.exec(descr);
  const size = m ? Number(m[3]) : 0;
  const supported = m && (m[2] === 'f' ? size === 4 || size === 8 : [1, 2, 4, 8].includes(size));
  if (!m || !supported) {
    throw new DataFormatError(fileName, `unsupported dtype '${descr}' (use uint8/int8-64/float32/float64)`);
  }
  return { kind: m[2] as NpyKind, size, littleEndian: m[1] !== '>', descr };
}

function elementReader(view: DataView, dtype: NpyDtype): (offset: number) => number {
  const le = dtype.littleEndian;
  switch (`${dtype.kind}${dtype.size}`) {
    case 'u1':
    case 'b1':
      return (o) => view.getUint8(o);
    case 'i1':
      return (o) => view.getInt8(o);
    case 'u2':
      return (o) => view.getUint16(o, le);
    case 'i2':
      return (o) => view.getInt16(o, le);
    case 'u4':
      return (o) => view.getUint32(o, le);
    case 'i4':
      return (o) => view.getInt32(o, le);
    case 'u8':
      return (o) => Number(view.getBigUint64(o, le));
    case 'i8':
      return (o) => Number(view.getBigInt64(o, le));
    case 'f4':
      return (o) => view.getFloat32(o, le);
    case 'f8':
      return (o) => view.getFloat64(o, le);
    default:
      throw new Error(`no reader for dtype ${dtype.descr}`);
  }
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
