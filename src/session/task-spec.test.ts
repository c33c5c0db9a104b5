import { describe, expect, it } from 'vitest';
import { demoFits, modelSpecForSettings, taskOfSpec } from './session-controller';

describe('the model a session task defines', () => {
  it('MNIST demo, own images and table rows, with the chosen architecture', () => {
    expect(modelSpecForSettings({ model: 'mlp' })).toEqual({ kind: 'mlp', inputShape: [28, 28, 1], hidden: [64], numClasses: 10 });
    expect(modelSpecForSettings({ model: 'cnn', task: { kind: 'images', height: 32, width: 32, channels: 3, classes: 4 } })).toMatchObject({ kind: 'cnn', inputShape: [32, 32, 3], numClasses: 4 });
    expect(modelSpecForSettings({ model: 'mlp', task: { kind: 'tabular', features: 4, classes: 3 }, hidden: [16] })).toEqual({ kind: 'tabular', features: 4, hidden: [16], numClasses: 3 });
  });

  it('a joining tab reads the task back from the model; the demo data fits only the MNIST task', () => {
    const images = { kind: 'images' as const, height: 32, width: 32, channels: 3 as const, classes: 4 };
    expect(taskOfSpec(modelSpecForSettings({ model: 'cnn', task: images }))).toEqual(images);
    expect(taskOfSpec(modelSpecForSettings({ model: 'mlp', task: { kind: 'tabular', features: 4, classes: 3 } }))).toEqual({ kind: 'tabular', features: 4, classes: 3 });
    expect(taskOfSpec(modelSpecForSettings({ model: 'cnn' }))).toEqual({ kind: 'mnist' });
    expect(demoFits(modelSpecForSettings({ model: 'mlp' }))).toBe(true);
    expect(demoFits(modelSpecForSettings({ model: 'mlp', task: { kind: 'images', height: 28, width: 28, channels: 1, classes: 5 } }))).toBe(false);
  });
});

describe('unchanged state keeps its reference (so React skips the render)', () => {
  it('keepIfSame returns the previous array when every element is shallowly equal', async () => {
    const { keepIfSame } = await import('./session-controller');
    const prev = [{ a: 1, b: 'x' }, { a: 2, b: 'y' }];
    expect(keepIfSame(prev, [{ a: 1, b: 'x' }, { a: 2, b: 'y' }])).toBe(prev);
    const changed = [{ a: 1, b: 'x' }, { a: 3, b: 'y' }];
    expect(keepIfSame(prev, changed)).toBe(changed);
    const longer = [...prev, { a: 4, b: 'z' }];
    expect(keepIfSame(prev, longer)).toBe(longer);
  });
});
