/**
 * Pixel math for bringing images to the model's input shape. Pure (no DOM): used on RGBA pixels read
 * back from a canvas and on raw arrays from .npz files.
 */

/** [height, width, channels]; channels 1 (grayscale) or 3 (RGB). */
export type ImageShape = [number, number, number];

export function assertImageShape(shape: readonly number[], what = 'image shape'): asserts shape is ImageShape {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0) || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new RangeError(`${what} must be [height, width, 1 or 3] with positive integers, got [${shape.join(', ')}]`);
  }
}

/** ITU-R BT.601 luma, the weights most grayscale conversions (and PIL's 'L' mode) use. */
export function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * RGBA bytes (as from getImageData) to 1 or 3 channels. Transparent pixels are composited over black,
 * so a digit drawn on a transparent background looks like MNIST (light on dark).
 */
export function rgbaToChannels(rgba: ArrayLike<number>, pixels: number, channels: 1 | 3): Uint8Array {
  if (rgba.length !== pixels * 4) throw new RangeError(`expected ${pixels * 4} RGBA bytes for ${pixels} pixels, got ${rgba.length}`);
  const out = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const a = rgba[p * 4 + 3] / 255;
    const r = rgba[p * 4] * a;
    const g = rgba[p * 4 + 1] * a;
    const b = rgba[p * 4 + 2] * a;
    if (channels === 1) out[p] = Math.round(luma(r, g, b));
    else {
      out[p * 3] = Math.round(r);
      out[p * 3 + 1] = Math.round(g);
      out[p * 3 + 2] = Math.round(b);
    }
  }
  return out;
}

/** Converts channel count: gray <-> RGB (luma), identity when equal. Input is channels-last. */
export function convertChannels(src: Uint8Array, pixels: number, from: number, to: 1 | 3): Uint8Array {
  if (src.length !== pixels * from) throw new RangeError(`expected ${pixels * from} bytes for ${pixels} pixels x ${from} channels, got ${src.length}`);
  if (from === to) return src;
  const out = new Uint8Array(pixels * to);
  for (let p = 0; p < pixels; p++) {
    if (to === 1) {
      // Any count >= 3 (e.g. RGBA) reads the first three as RGB.
      out[p] = from >= 3 ? Math.round(luma(src[p * from], src[p * from + 1], src[p * from + 2])) : src[p * from];
    } else {
      const v = from >= 3 ? null : src[p * from];
      for (let c = 0; c < 3; c++) out[p * 3 + c] = v ?? src[p * from + c];
    }
  }
  return out;
}

/**
 * Resizes one channels-last uint8 image by area averaging: each output pixel is the mean of the input
 * area it covers (exact box filter, fractional edges weighted). Good for the large downscales we need
 * (photo -> 28x28); upscaling degrades to nearest-neighbour-like blocks, which is fine for small inputs.
 */
export function resizeArea(src: Uint8Array, srcH: number, srcW: number, channels: number, dstH: number, dstW: number): Uint8Array {
  if (src.length !== srcH * srcW * channels) throw new RangeError(`expected ${srcH * srcW * channels} bytes for ${srcH}x${srcW}x${channels}, got ${src.length}`);
  if (srcH === dstH && srcW === dstW) return src;
  const out = new Uint8Array(dstH * dstW * channels);
  const sy = srcH / dstH;
  const sx = srcW / dstW;
  const acc = new Float64Array(channels);
  for (let oy = 0; oy < dstH; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < dstW; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      acc.fill(0);
      let area = 0;
      for (let iy = Math.floor(y0); iy < Math.min(srcH, Math.ceil(y1)); iy++) {
        const wy = Math.min(y1, iy + 1) - Math.max(y0, iy);
        for (let ix = Math.floor(x0); ix < Math.min(srcW, Math.ceil(x1)); ix++) {
          const w = wy * (Math.min(x1, ix + 1) - Math.max(x0, ix));
          const base = (iy * srcW + ix) * channels;
          for (let c = 0; c < channels; c++) acc[c] += w * src[base + c];
          area += w;
        }
      }
      const o = (oy * dstW + ox) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = Math.round(acc[c] / area);
    }
  }
  return out;
}

/** Resizes and converts every image of a sample-major uint8 batch to `target`. */
export function resizeImages(images: Uint8Array, count: number, from: readonly [number, number, number], target: ImageShape): Uint8Array {
  const [h, w, c] = from;
  const [th, tw, tc] = target;
  const per = h * w * c;
  if (images.length !== count * per) throw new RangeError(`expected ${count * per} bytes for ${count} images of [${from.join(', ')}], got ${images.length}`);
  if (h === th && w === tw && c === tc) return images;
  const out = new Uint8Array(count * th * tw * tc);
  for (let i = 0; i < count; i++) {
    const one = images.subarray(i * per, (i + 1) * per);
    const converted = convertChannels(one, h * w, c, tc as 1 | 3);
    out.set(resizeArea(converted, h, w, tc, th, tw), i * th * tw * tc);
  }
  return out;
}
