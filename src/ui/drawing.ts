/**
 * A drawing on the pad -> the model's input: the strokes' bounding box is scaled to fit ~70 % of the input and
 * centred (as MNIST digits are), then turned into values in [0, 1], channels last. Display-side preprocessing
 * only (a few hundred pixels); the model runs in the worker.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Bounding box of the pixels brighter than `threshold` (RGBA, white on black), or null when nothing is drawn. */
export function inkBox(rgba: Uint8ClampedArray, width: number, height: number, threshold = 32): Box | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgba[(y * width + x) * 4] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Where the ink box goes in a target of tw x th: the longer side fills `fill` of it, centred. */
export function fitBox(box: Box, tw: number, th: number, fill = 0.7): Box {
  const scale = Math.min((tw * fill) / box.width, (th * fill) / box.height);
  const width = box.width * scale;
  const height = box.height * scale;
  return { x: (tw - width) / 2, y: (th - height) / 2, width, height };
}

/** RGBA pixels of the scaled drawing -> model input values in [0, 1] with `channels` channels (gray replicated). */
export function toModelValues(rgba: Uint8ClampedArray, pixels: number, channels: number): Float32Array {
  const out = new Float32Array(pixels * channels);
  for (let i = 0; i < pixels; i++) {
    const r = rgba[i * 4];
    const g = rgba[i * 4 + 1];
    const b = rgba[i * 4 + 2];
    const gray = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    if (channels === 1) out[i] = gray;
    else for (let c = 0; c < channels; c++) out[i * channels + c] = rgba[i * 4 + Math.min(c, 2)] / 255;
  }
  return out;
}
