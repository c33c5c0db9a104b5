import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, cnnSpec } from '../models';
import { setupNodeBackend } from './node-backend';
import { missingWasmKernels, registerWasmConvFilterGradient, registerWasmConvGradients } from './wasm-conv-grad';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same';

/** Deterministic values in [-0.5, 0.5) (a tiny LCG, so cpu and wasm get identical inputs). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Max |a - b| relative to max |a| (gradients here reach magnitudes of tens to hundreds). */
function relativeError(expected: Float32Array, actual: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** d/dW and d/dx of sum(conv2d(x, W)^2) on the given backend. */
function convGradients(backend: string, xShape: Shape4, wShape: Shape4, pad: Pad, strides: number): { dW: Float32Array; dx: Float32Array } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(size(xShape), 1), xShape);
    const w = tf.tensor4d(values(size(wShape), 2), wShape);
    const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, strides, pad)));
    const [dx, dW] = tf.grads(loss)([x, w]);
    return { dW: dW.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

/** Runs the two gradient kernels themselves (isolates them from forward-conv differences between backends). */
function gradKernels(backend: string, xShape: Shape4, wShape: Shape4, pad: Pad, strides: number | [number, number]): { dW: Float32Array; dx: Float32Array } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(xShape, wShape, strides, 1, pad);
    const x = tf.tensor4d(values(size(xShape), 3), xShape);
    const w = tf.tensor4d(values(size(wShape), 5), wShape);
    const dy = tf.tensor4d(values(size(info.outShape), 4), info.outShape);
    const common = { strides, pad, dataFormat: 'NHWC' };
    const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: wShape } as never) as tf.Tensor;
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: xShape } as never) as tf.Tensor;
    return { dW: dW.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

describe('wasm conv2d gradients', () => {
  beforeAll(async () => {
    const choice = await setupNodeBackend('wasm');
    expect(choice.backend).toBe('wasm');
  });

  it('is idempotent and leaves no CNN training kernel missing', () => {
    expect(registerWasmConvFilterGradient()).toBe('already-registered');
    expect(registerWasmConvGradients()).toEqual({ filter: 'already-registered', input: 'already-registered' });
    expect(missingWasmKernels()).toEqual([]);
  });

  // The two conv layers of cnnSpec([28,28,1], 10), batch 4.
  const cnnLayers: { name: string; x: Shape4; w: Shape4 }[] = [
    { name: 'conv1 28x28x1 -> 8', x: [4, 28, 28, 1], w: [3, 3, 1, 8] },
    { name: 'conv2 13x13x8 -> 16', x: [4, 13, 13, 8], w: [3, 3, 8, 16] },
  ];
  for (const layer of cnnLayers) {
    for (const pad of ['valid', 'same'] as const) {
      it(`matches the cpu backend's filter and input gradients for ${layer.name}, ${pad}`, () => {
        const cpu = convGradients('cpu', layer.x, layer.w, pad, 1);
        const before = tf.memory().numTensors;
        const wasm = convGradients('wasm', layer.x, layer.w, pad, 1);
        expect(tf.memory().numTensors).toBe(before);
        expect(relativeError(cpu.dW, wasm.dW)).toBeLessThan(1e-4);
        expect(relativeError(cpu.dx, wasm.dx)).toBeLessThan(1e-4);
      });
    }
  }

  it('matches the cpu gradient kernels for strides, uneven fits and asymmetric padding', () => {
    const cases: { x: Shape4; w: Shape4; pad: Pad; strides: number | [number, number] }[] = [
      { x: [2, 12, 11, 3], w: [4, 2, 3, 4], pad: 'same', strides: 1 }, // pads top 1 / bottom 2, left 0 / right 1
      { x: [2, 28, 28, 3], w: [3, 3, 3, 4], pad: 'valid', strides: 2 }, // last input row unused
      { x: [2, 17, 16, 2], w: [5, 5, 2, 3], pad: 'same', strides: 2 },
      { x: [2, 14, 15, 3], w: [3, 2, 3, 4], pad: 'same', strides: [2, 3] },
    ];
    for (const c of cases) {
      const cpu = gradKernels('cpu', c.x, c.w, c.pad, c.strides);
      const wasm = gradKernels('wasm', c.x, c.w, c.pad, c.strides);
      expect(relativeError(cpu.dW, wasm.dW), `dW ${JSON.stringify(c)}`).toBeLessThan(1e-5);
      expect(relativeError(cpu.dx, wasm.dx), `dx ${JSON.stringify(c)}`).toBeLessThan(1e-5);
    }
  });

  it('rejects NCHW with an error that names the kernel and the format', () => {
    tf.setBackend('wasm');
    const x = tf.zeros([1, 1, 5, 5]);
    const dy = tf.zeros([1, 2, 3, 3]);
    const attrs = { filterShape: [3, 3, 1, 2], strides: 1, pad: 'valid', dataFormat: 'NCHW' };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never)).toThrow(/Conv2DBackpropFilter.*NCHW/);
    tf.dispose([x, dy]);
  });

  it('trains the fedtab CNN on wasm: a few Adam steps halve the loss on a fixed batch', () => {
    tf.setBackend('wasm');
    const tensorsAtStart = tf.memory().numTensors;
    const spec = cnnSpec([28, 28, 1], 10);
    const model = buildModel(spec, 7);
    const optimizer = tf.train.adam(0.01);
    const n = 16;
    // Each class gets a bright square at its own position, so the batch is learnable, not noise.
    const images = new Float32Array(n * 28 * 28);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
    labels.forEach((label, i) => {
      for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) images[i * 784 + (2 + 2 * label + r) * 28 + 4 + 2 * label + c] = 1;
    });
    const xs = tf.tensor4d(images, [n, 28, 28, 1]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10));
    const step = () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true);
      const value = loss!.dataSync()[0];
      loss!.dispose();
      return value;
    };
    const losses = [step()]; // the first step creates Adam's moment variables
    const afterFirstStep = tf.memory().numTensors;
    while (losses.length < 12) losses.push(step());
    expect(tf.memory().numTensors).toBe(afterFirstStep);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1], losses.map((l) => l.toFixed(3)).join(" ")).toBeLessThan(losses[0] * 0.5);
    optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(tensorsAtStart);
  });
});
