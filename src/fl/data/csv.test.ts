import { describe, expect, it } from 'vitest';
import { parseCsvDataset, parseCsvRecords, standardizeFeatures } from './csv';
import type { TabularDataset } from './dataset';

describe('parseCsvDataset', () => {
  it('finds a column named label, keeps raw numeric features and integer labels', () => {
    const ds = parseCsvDataset('x1,label,x2\n1.5,2,-3\n0,0,1e3\n', 'a.csv');
    expect(ds.kind).toBe('tabular');
    expect(ds.features).toBe(2);
    expect(ds.featureNames).toEqual(['x1', 'x2']);
    expect(Array.from(ds.rows)).toEqual([1.5, -3, 0, 1000]);
    expect(Array.from(ds.labels)).toEqual([2, 0]);
    expect(ds.numClasses).toBe(3);
    expect(ds.classNames).toBeUndefined();
  });

  it('recognises Class / target / y case-insensitively, else uses the last column', () => {
    expect(parseCsvDataset('Class,f\n1,5\n', 'c.csv').featureNames).toEqual(['f']);
    expect(parseCsvDataset('target,f\n1,5\n', 'c.csv').featureNames).toEqual(['f']);
    expect(parseCsvDataset('Y,f\n1,5\n', 'c.csv').featureNames).toEqual(['f']);
    const last = parseCsvDataset('a,b,kind\n1,2,0\n3,4,1\n', 'c.csv');
    expect(last.featureNames).toEqual(['a', 'b']);
    expect(Array.from(last.labels)).toEqual([0, 1]);
  });

  it('takes the label column by name or 0-based index when given', () => {
    const byName = parseCsvDataset('a,b,c\n1,2,3\n', 'c.csv', { labelColumn: 'a' });
    expect(byName.featureNames).toEqual(['b', 'c']);
    expect(Array.from(byName.labels)).toEqual([1]);
    const byIndex = parseCsvDataset('a,b,c\n1,2,3\n', 'c.csv', { labelColumn: 1 });
    expect(Array.from(byIndex.rows)).toEqual([1, 3]);
    expect(Array.from(byIndex.labels)).toEqual([2]);
  });

  it('maps string labels to indices of the sorted class names', () => {
    const ds = parseCsvDataset('len,species\n1,versicolor\n2,setosa\n3,virginica\n4,setosa\n', 'iris.csv');
    expect(ds.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(ds.labels)).toEqual([1, 0, 2, 0]);
    expect(ds.numClasses).toBe(3);
  });

  it('handles quoted fields, escaped quotes, embedded newlines, CRLF, a BOM and blank lines', () => {
    const text = '\ufeff"width, cm",note,label\r\n"1.5","say ""hi""\r\nthere",cat\r\n\r\n 2 ,"",dog\r\n';
    const records = parseCsvRecords(text, 'q.csv');
    expect(records.map((r) => r.fields)).toEqual([
      ['width, cm', 'note', 'label'],
      ['1.5', 'say "hi"\r\nthere', 'cat'],
      [' 2 ', '', 'dog'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
    const ds = parseCsvDataset('"width, cm",label\r\n"1.5",cat\r\n2,dog', 'q.csv');
    expect(ds.featureNames).toEqual(['width, cm']);
    expect(Array.from(ds.rows)).toEqual([1.5, 2]);
    expect(ds.classNames).toEqual(['cat', 'dog']);
  });

  it('names file, line and column for a non-numeric feature, counting lines inside quoted fields', () => {
    const text = 'a,b,label\n1,"2",x\n"3\n",oops,y\n';
    expect(() => parseCsvDataset(text, 'bad.csv')).toThrow('bad.csv, line 3, column 2 ("b"): not a number: "oops"');
    const afterMultiline = 'a,label\n"1\n",x\n2,y\nz,y\n';
    expect(() => parseCsvDataset(afterMultiline, 'm.csv')).toThrow(/m\.csv, line 5, column 1/);
  });

  it('names file and line for a ragged row', () => {
    expect(() => parseCsvDataset('a,b,label\n1,2,0\n1,2\n', 'r.csv')).toThrow(
      'r.csv, line 3: row has 2 fields, the header has 3',
    );
    expect(() => parseCsvDataset('a,label\n1,0,9\n', 'r.csv')).toThrow(/line 2: row has 3 fields/);
  });

  it('rejects empty files, header-only files and missing values', () => {
    expect(() => parseCsvDataset('', 'e.csv')).toThrow('e.csv: empty file (no header row)');
    expect(() => parseCsvDataset('\n\n', 'e.csv')).toThrow(/empty file/);
    expect(() => parseCsvDataset('a,label\n', 'h.csv')).toThrow(/h\.csv: no data rows/);
    expect(() => parseCsvDataset('a,label\n,1\n', 'm.csv')).toThrow(/m\.csv, line 2, column 1 \("a"\): missing value/);
    expect(() => parseCsvDataset('a,label\n1,\n', 'm.csv')).toThrow(/line 2, column 2 \("label"\): missing label/);
  });

  it('rejects a missing label column and a file with no features', () => {
    expect(() => parseCsvDataset('a,b\n1,2\n', 'n.csv', { labelColumn: 'cls' })).toThrow(
      'n.csv: no label column "cls" (columns: a, b)',
    );
    expect(() => parseCsvDataset('a,b\n1,2\n', 'n.csv', { labelColumn: 2 })).toThrow(/no label column 2/);
    expect(() => parseCsvDataset('label\n1\n', 'n.csv')).toThrow(/at least one feature column/);
  });

  it('rejects fractional and negative numeric labels, and unterminated quotes', () => {
    expect(() => parseCsvDataset('a,label\n1,0\n2,1.5\n', 'l.csv')).toThrow(/l\.csv, line 3, column 2.*1\.5/);
    expect(() => parseCsvDataset('a,label\n1,-1\n', 'l.csv')).toThrow(/-1 is not a non-negative integer/);
    expect(() => parseCsvDataset('a,label\n"1,0\n', 'u.csv')).toThrow(/u\.csv, line 2, column 1.*unterminated/);
    expect(() => parseCsvDataset('a,label\n"1"x,0\n', 'u.csv')).toThrow(/unexpected "x" after a closing quote/);
  });
});

describe('standardizeFeatures', () => {
  const table = (rows: number[][], labels: number[]): TabularDataset => ({
    kind: 'tabular',
    rows: Float32Array.from(rows.flat()),
    features: rows[0].length,
    labels: Int32Array.from(labels),
    numClasses: 2,
  });

  it('z-scores with train statistics only and applies them to the other sets', () => {
    const train = table([[1, 7], [3, 7], [5, 7]], [0, 1, 0]);
    const test = table([[7, 8]], [1]);
    const before = Array.from(train.rows);
    const out = standardizeFeatures(train, [test]);
    const sd = Math.sqrt(8 / 3);
    expect(Array.from(out.mean)).toEqual([3, 7]);
    expect(out.std[0]).toBeCloseTo(sd, 6);
    expect(out.std[1]).toBe(1); // constant feature: no division by zero
    const col0 = [0, 2, 4].map((i) => out.train.rows[i]);
    expect(col0[0]).toBeCloseTo(-2 / sd, 5);
    expect(col0[1]).toBeCloseTo(0, 6);
    expect(col0[2]).toBeCloseTo(2 / sd, 5);
    expect(out.others[0].rows[0]).toBeCloseTo(4 / sd, 5);
    expect(out.others[0].rows[1]).toBeCloseTo(1, 6);
    expect(Array.from(train.rows)).toEqual(before);
    expect(out.train.labels).toBe(train.labels);
  });

  it('rejects sets with a different feature count', () => {
    expect(() => standardizeFeatures(table([[1, 2]], [0]), [table([[1]], [0])])).toThrow(/1 features, train has 2/);
  });
});
