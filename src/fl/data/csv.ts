/**
 * CSV files with a header row, numeric feature columns and one label column. Pure text parsing:
 * works in the browser, in workers and in Node. Values are kept raw; see standardizeFeatures.
 */
import type { TabularDataset } from './dataset';
import { classCountFromLabels, DataFormatError } from './errors';

export interface CsvOptions {
  /**
   * The label column: a header name, or a 0-based column index.
   * Default: the first column named label, class, target or y (case-insensitive), else the last column.
   */
  labelColumn?: string | number;
  /** Field separator, one character. Default ','. */
  delimiter?: string;
}

/** Header names that mark the label column when none is given, in order of preference. */
const LABEL_COLUMN_NAMES = ['label', 'class', 'target', 'y'];

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

export function parseCsvDataset(text: string, fileName: string, opts: CsvOptions = {}): TabularDataset {
  const records = parseCsvRecords(text, fileName, opts.delimiter ?? ',');
  if (records.length === 0) throw new DataFormatError(fileName, 'empty file (no header row)');
  const header = records[0].fields.map((h) => h.trim());
  const body = records.slice(1);
  if (body.length === 0) throw new DataFormatError(fileName, 'no data rows after the header');

  const labelIdx = resolveLabelColumn(header, opts.labelColumn, fileName);
  if (header.length < 2) {
    throw new DataFormatError(fileName, 'needs at least one feature column besides the label column', { line: 1 });
  }
  const featureCols = header.map((_, i) => i).filter((i) => i !== labelIdx);
  const features = featureCols.length;
  const rows = new Float32Array(body.length * features);
  const rawLabels: string[] = new Array(body.length);

  body.forEach((rec, r) => {
    if (rec.fields.length !== header.length) {
      throw new DataFormatError(
        fileName,
        `row has ${rec.fields.length} fields, the header has ${header.length}`,
        { line: rec.line },
      );
    }
    featureCols.forEach((c, f) => {
      const raw = rec.fields[c].trim();
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) {
        const problem = raw === '' ? 'missing value' : `not a number: "${raw}"`;
        throw new DataFormatError(fileName, problem, { line: rec.line, column: c + 1, columnName: header[c] });
      }
      rows[r * features + f] = v;
    });
    const label = rec.fields[labelIdx].trim();
    if (label === '') {
      throw new DataFormatError(fileName, 'missing label', { line: rec.line, column: labelIdx + 1, columnName: header[labelIdx] });
    }
    rawLabels[r] = label;
  });

  const featureNames = featureCols.map((c) => header[c]);
  const labelLoc = (r: number) => ({ line: body[r].line, column: labelIdx + 1, columnName: header[labelIdx] });
  const numeric = rawLabels.every((l) => Number.isFinite(Number(l)));
  if (numeric) {
    const labels = new Int32Array(body.length);
    rawLabels.forEach((l, r) => {
      const v = Number(l);
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
        throw new DataFormatError(fileName, `numeric label ${l} is not a non-negative integer class index`, labelLoc(r));
      }
      labels[r] = v;
    });
    return { kind: 'tabular', rows, features, labels, numClasses: classCountFromLabels(labels, fileName), featureNames };
  }
  // Plain code-unit sort, so class indices do not depend on the user's locale.
  const classNames = [...new Set(rawLabels)].sort();
  const index = new Map(classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(rawLabels, (l) => index.get(l)!);
  return { kind: 'tabular', rows, features, labels, numClasses: classNames.length, featureNames, classNames };
}

function resolveLabelColumn(header: string[], choice: string | number | undefined, fileName: string): number {
  if (typeof choice === 'number') {
    if (!Number.isInteger(choice) || choice < 0 || choice >= header.length) {
      throw new DataFormatError(fileName, `no label column ${choice}: columns are numbered 0 to ${header.length - 1}`);
    }
    return choice;
  }
  if (typeof choice === 'string') {
    const matches = header.flatMap((h, i) => (h === choice.trim() ? [i] : []));
    if (matches.length === 0) {
      throw new DataFormatError(fileName, `no label column "${choice}" (columns: ${header.join(', ')})`);
    }
    if (matches.length > 1) throw new DataFormatError(fileName, `label column "${choice}" appears ${matches.length} times`);
    return matches[0];
  }
  const lower = header.map((h) => h.toLowerCase());
  for (const name of LABEL_COLUMN_NAMES) {
    const i = lower.indexOf(name);
    if (i >= 0) return i;
  }
  return header.length - 1;
}

/**
 * Splits CSV text into records: quoted fields ("" is a literal quote) may hold delimiters and
 * newlines; LF and CRLF line ends; blank lines are skipped; a leading BOM is dropped.
 */
export function parseCsvRecords(text: string, fileName: string, delimiter = ','): CsvRecord[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(`delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = src.length;

  const endRecord = () => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0].trim() === '';
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
  };

  while (i < n) {
    const ch = src[i];
    if (ch === '"' && field.trim() === '') {
      // Quoted field: read to the closing quote.
      const openLine = line;
      field = '';
      i++;
      for (;;) {
        if (i >= n) throw new DataFormatError(fileName, 'unterminated quoted field', { line: openLine, column: fields.length + 1 });
        const c = src[i];
        if (c === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      // Only spaces may sit between the closing quote and the next delimiter or line end.
      while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;
      if (i < n && src[i] !== delimiter && src[i] !== '\n' && src[i] !== '\r') {
        throw new DataFormatError(fileName, `unexpected "${src[i]}" after a closing quote`, {
          line,
          column: fields.length + 1,
        });
      }
      continue;
    }
    if (ch === delimiter) {
      fields.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

export interface StandardizedFeatures {
  train: TabularDataset;
  others: TabularDataset[];
  /** Per-feature mean of the training rows. */
  mean: Float32Array;
  /** Per-feature standard deviation of the training rows (1 where it is 0, so constant features stay finite). */
  std: Float32Array;
}

/**
 * Z-scores every feature with mean and std computed from `train` only, and applies the same
 * transform to `others` (validation/test), so no statistics leak from held-out data.
 * Returns new datasets; the inputs are not changed.
 */
export function standardizeFeatures(train: TabularDataset, others: TabularDataset[] = []): StandardizedFeatures {
  const f = train.features;
  const n = train.labels.length;
  if (n === 0) throw new RangeError('standardizeFeatures: the training set is empty');
  others.forEach((o, k) => {
    if (o.features !== f) throw new RangeError(`standardizeFeatures: dataset ${k} has ${o.features} features, train has ${f}`);
  });
  const sum = new Float64Array(f);
  for (let r = 0; r < n; r++) for (let j = 0; j < f; j++) sum[j] += train.rows[r * f + j];
  const mean64 = sum.map((s) => s / n);
  const sq = new Float64Array(f);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < f; j++) {
      const d = train.rows[r * f + j] - mean64[j];
      sq[j] += d * d;
    }
  }
  const std64 = sq.map((s) => {
    const sd = Math.sqrt(s / n);
    return sd > 0 ? sd : 1;
  });
  const apply = (ds: TabularDataset): TabularDataset => {
    const rows = new Float32Array(ds.rows.length);
    for (let i = 0; i < rows.length; i++) {
      const j = i % f;
      rows[i] = (ds.rows[i] - mean64[j]) / std64[j];
    }
    return { ...ds, rows };
  };
  return {
    train: apply(train),
    others: others.map(apply),
    mean: Float32Array.from(mean64),
    std: Float32Array.from(std64),
  };
}
