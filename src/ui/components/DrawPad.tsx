import { forwardRef, useEffect, useImperativeHandle, useRef, type PointerEvent } from 'react';
import { fitBox, inkBox, toModelValues } from '../drawing';

export interface DrawPadHandle {
  /** The drawing as model input ([height, width, channels], values in [0, 1]), or null when nothing is drawn. */
  read(height: number, width: number, channels: number): Float32Array | null;
  clear(): void;
}

const SIZE = 196;

/** A square to draw on with a finger or the mouse: white strokes on black, like MNIST digits. */
export const DrawPad = forwardRef<DrawPadHandle, { onStroke?: () => void; label: string }>(function DrawPad({ onStroke, label }, ref) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);

  const ctx = () => canvas.current?.getContext('2d', { willReadFrequently: true }) ?? null;
  const clear = () => {
    const c = ctx();
    if (!c) return;
    c.fillStyle = '#000';
    c.fillRect(0, 0, SIZE, SIZE);
  };
  useEffect(clear, []);

  useImperativeHandle(ref, () => ({
    clear,
    read(height, width, channels) {
      const c = ctx();
      if (!c) return null;
      const box = inkBox(c.getImageData(0, 0, SIZE, SIZE).data, SIZE, SIZE);
      if (!box) return null;
      const small = document.createElement('canvas');
      small.width = width;
      small.height = height;
      const s = small.getContext('2d', { willReadFrequently: true })!;
      s.fillStyle = '#000';
      s.fillRect(0, 0, width, height);
      s.imageSmoothingEnabled = true;
      s.imageSmoothingQuality = 'high';
      const to = fitBox(box, width, height);
      s.drawImage(canvas.current!, box.x, box.y, box.width, box.height, to.x, to.y, to.width, to.height);
      return toModelValues(s.getImageData(0, 0, width, height).data, width * height, channels);
    },
  }), []);

  const point = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * SIZE, ((e.clientY - r.top) / r.height) * SIZE] as const;
  };
  const down = (e: PointerEvent<HTMLCanvasElement>) => {
    const c = ctx();
    if (!c) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drawing.current = true;
    const [x, y] = point(e);
    c.strokeStyle = '#fff';
    c.lineWidth = 16;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(x, y);
    c.lineTo(x + 0.1, y + 0.1);
    c.stroke();
  };
  const move = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    const c = ctx();
    const [x, y] = point(e);
    c?.lineTo(x, y);
    c?.stroke();
  };
  const up = () => {
    if (!drawing.current) return;
    drawing.current = false;
    onStroke?.();
  };

  return (
    <canvas
      ref={canvas}
      className="draw-pad"
      width={SIZE}
      height={SIZE}
      aria-label={label}
      onPointerDown={down}
      onPointerMove={move}
      onPointerUp={up}
      onPointerCancel={up}
    />
  );
});
