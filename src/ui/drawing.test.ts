import { describe, expect, it } from 'vitest';
import { fitBox, inkBox, toModelValues } from './drawing';

function canvas(width: number, height: number, ink: [number, number][]): Uint8ClampedArray {
  const px = new Uint8ClampedArray(width * height * 4);
  for (const [x, y] of ink) px.set([255, 255, 255, 255], (y * width + x) * 4);
  return px;
}

describe('drawing to model input', () => {
  it('finds the strokes and centres them like an MNIST digit', () => {
    const box = inkBox(canvas(10, 10, [[2, 3], [4, 8]]), 10, 10);
    expect(box).toEqual({ x: 2, y: 3, width: 3, height: 6 });
    const fit = fitBox(box!, 28, 28);
    expect(fit.height).toBeCloseTo(19.6);
    expect(fit.width).toBeCloseTo(9.8);
    expect(fit.x).toBeCloseTo(9.1);
    expect(fit.y).toBeCloseTo(4.2);
    expect(inkBox(canvas(5, 5, []), 5, 5)).toBeNull();
  });

  it('turns pixels into values in [0, 1], grayscale or replicated colour', () => {
    const px = canvas(2, 1, [[1, 0]]);
    expect([...toModelValues(px, 2, 1)]).toEqual([0, 1]);
    expect([...toModelValues(px, 2, 3)]).toEqual([0, 0, 0, 1, 1, 1]);
  });
});
