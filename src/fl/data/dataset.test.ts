import { describe, expect, it } from 'vitest';
import { selectClasses, type ImageDataset } from './dataset';

const ds: ImageDataset = {
  kind: 'image',
  images: Uint8Array.from([10, 11, 20, 21, 30, 31, 40, 41, 50, 51]),
  shape: [1, 2, 1],
  labels: Int32Array.from([3, 5, 1, 3, 5]),
  numClasses: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};

describe('selectClasses', () => {
  it('keeps the listed classes, relabelled in the order given, with their images', () => {
    const two = selectClasses(ds, [5, 3]);
    expect(Array.from(two.labels)).toEqual([1, 0, 1, 0]);
    expect(Array.from(two.images)).toEqual([10, 11, 20, 21, 40, 41, 50, 51]);
    expect(two.numClasses).toBe(2);
    expect(two.classNames).toEqual(['5', '3']);
  });

  it('refuses a selection it cannot make, saying why', () => {
    expect(() => selectClasses(ds, [3])).toThrow('at least 2 classes');
    expect(() => selectClasses(ds, [3, 3])).toThrow('class 3 is listed twice');
    expect(() => selectClasses(ds, [3, 10])).toThrow("class 10 is not one of the data's 10 classes");
  });
});
