import { describe, expect, it } from 'vitest';
import { cnnSpec, mlpSpec, tabularSpec } from '../fl/model-spec';
import { dataFitProblems, describeTask, imageTargetShape } from './task-fit';

describe('does the data fit the session task', () => {
  it('a CSV in an image session: says what the session wants and what to import instead', () => {
    const problems = dataFitProblems(cnnSpec([28, 28, 1], 10), { kind: 'tabular', features: 4 }, 3);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/28×28 images with 1 channel \(grayscale\), 10 classes.*table rows of 4 features.*folder of images/);
  });

  it('wrong feature count, wrong image shape, too many classes', () => {
    expect(dataFitProblems(tabularSpec(6, 3), { kind: 'tabular', features: 4 }, 3)).toEqual(["this session's model takes 6 features per row, but your rows have 4"]);
    expect(dataFitProblems(mlpSpec([32, 32, 3], 10), { kind: 'image', shape: [28, 28, 1] }, 10)[0]).toMatch(/32×32 images with 3 channels \(colour\), but yours are 28×28 with 1 channel/);
    expect(dataFitProblems(tabularSpec(4, 2), { kind: 'tabular', features: 4 }, 3)).toEqual(["your data has 3 classes, but this session's model tells apart only 2"]);
    expect(dataFitProblems(tabularSpec(4, 2), { kind: 'image', shape: [28, 28, 1] }, 2)[0]).toMatch(/CSV file with 4 feature columns/);
  });

  it('data that fits has no problems; fewer classes than the model is fine', () => {
    expect(dataFitProblems(cnnSpec([28, 28, 1], 10), { kind: 'image', shape: [28, 28, 1] }, 4)).toEqual([]);
    expect(dataFitProblems(tabularSpec(4, 3), { kind: 'tabular', features: 4 }, 3)).toEqual([]);
  });

  it('describes the task and the size images are scaled to', () => {
    expect(describeTask(tabularSpec(4, 3))).toBe('table rows of 4 features, 3 classes');
    expect(imageTargetShape(cnnSpec([32, 32, 3], 10))).toEqual([32, 32, 3]);
    expect(imageTargetShape(tabularSpec(4, 3))).toBeNull();
  });
});
