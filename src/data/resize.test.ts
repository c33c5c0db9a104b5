import { describe, expect, it } from 'vitest';
import { convertChannels, resizeArea, resizeImages, rgbaToChannels } from './resize';

describe('resizeArea', () => {
  it('averages each 2x2 block when halving', () => {
    const src = Uint8Array.from([0, 100, 10, 10, 200, 100, 10, 10, 50, 50, 0, 255, 50, 50, 255, 0]);
    expect(Array.from(resizeArea(src, 4, 4, 1, 2, 2))).toEqual([100, 10, 50, 128]);
  });

  it('weights fractional edges by the area covered (3 -> 2 pixels)', () => {
    // Output pixel 0 covers [0, 1.5): 1 * 0 + 0.5 * 90 over 1.5 = 30; pixel 1 covers [1.5, 3): 0.5 * 90 + 1 * 180 = 150.
    expect(Array.from(resizeArea(Uint8Array.from([0, 90, 180]), 1, 3, 1, 1, 2))).toEqual([30, 150]);
  });

  it('keeps a constant image constant at any size and per channel', () => {
    const src = new Uint8Array(5 * 7 * 3);
    for (let i = 0; i < src.length; i += 3) src.set([10, 20, 30], i);
    const out = resizeArea(src, 5, 7, 3, 3, 4);
    for (let i = 0; i < out.length; i += 3) expect(Array.from(out.subarray(i, i + 3))).toEqual([10, 20, 30]);
  });

  it('rejects a buffer that does not match the stated size', () => {
    expect(() => resizeArea(new Uint8Array(10), 3, 3, 1, 2, 2)).toThrow(/expected 9 bytes for 3x3x1, got 10/);
  });
});

describe('channel conversion', () => {
  it('turns RGBA into luma, with transparency composited over black', () => {
    const rgba = Uint8Array.from([255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 255, 0, 255, 255, 255, 128]);
    expect(Array.from(rgbaToChannels(rgba, 4, 1))).toEqual([255, 76, 0, 128]);
    expect(Array.from(rgbaToChannels(rgba, 4, 3).subarray(0, 6))).toEqual([255, 255, 255, 255, 0, 0]);
  });

  it('converts RGB to gray and gray to RGB', () => {
    expect(Array.from(convertChannels(Uint8Array.from([0, 255, 0]), 1, 3, 1))).toEqual([150]);
    expect(Array.from(convertChannels(Uint8Array.from([7]), 1, 1, 3))).toEqual([7, 7, 7]);
  });

  it('resizes a batch of RGB images to 28x28 gray (MedMNIST-style input)', () => {
    const count = 2;
    const src = new Uint8Array(count * 56 * 56 * 3).fill(200);
    const out = resizeImages(src, count, [56, 56, 3], [28, 28, 1]);
    expect(out.length).toBe(count * 28 * 28);
    expect(out.every((v) => v === 200)).toBe(true);
  });
});
