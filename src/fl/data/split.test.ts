import { describe, expect, it } from 'vitest';
import type { TabularDataset } from './dataset';
import { labelHistogram } from './dataset';
import { splitTrainEval } from './split';

function dataset(labels: number[]): TabularDataset {
  return { kind: 'tabular', rows: Float32Array.from(labels.map((_, i) => i)), features: 1, labels: Int32Array.from(labels), numClasses: 3 };
}

describe('client train/eval split', () => {
  const labels = [...Array(50).fill(0), ...Array(30).fill(1), ...Array(20).fill(2)];

  it('is disjoint, complete, stratified and deterministic', () => {
    const a = splitTrainEval(dataset(labels), 0.2, 7);
    const b = splitTrainEval(dataset(labels), 0.2, 7);
    const ids = (d: TabularDataset) => Array.from(d.rows);
    expect(ids(a.eval)).toEqual(ids(b.eval));
    expect(new Set([...ids(a.train), ...ids(a.eval)]).size).toBe(100);
    expect(labelHistogram(a.eval.labels, 3)).toEqual([10, 6, 4]);
    expect(ids(splitTrainEval(dataset(labels), 0.2, 8).eval)).not.toEqual(ids(a.eval));
  });

  it('caps the eval subset and gives the surplus back to training', () => {
    const s = splitTrainEval(dataset(labels), 0.2, 7, 5);
    expect(s.eval.labels.length).toBe(5);
    expect(s.train.labels.length).toBe(95);
  });

  it('always leaves at least one sample to train on', () => {
    const s = splitTrainEval(dataset([0, 1]), 0.9, 1);
    expect(s.train.labels.length).toBeGreaterThanOrEqual(1);
  });
});
