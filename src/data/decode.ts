/**
 * Decoding image files in the browser (page or worker): createImageBitmap decodes off the main thread,
 * an OffscreenCanvas scales the bitmap to the model input and hands back its pixels.
 */
import type { ImageShape } from './resize';
import { assertImageShape, rgbaToChannels } from './resize';

/** Decodes one image file and stretches it to `target` ([h, w, 1 or 3]). Throws naming the file when it cannot. */
export async function decodeImageFile(file: Blob, name: string, target: ImageShape): Promise<Uint8Array> {
  assertImageShape(target, 'target shape');
  const [h, w, c] = target;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  } catch (err) {
    throw new Error(`${name}: cannot be decoded as an image (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error(`${name}: no 2D canvas context available to read pixels`);
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(bitmap, 0, 0, w, h);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    return rgbaToChannels(rgba, w * h, c as 1 | 3);
  } finally {
    bitmap.close();
  }
}
