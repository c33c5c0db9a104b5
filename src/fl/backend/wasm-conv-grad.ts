/**
 * Conv2d gradients for the TensorFlow.js wasm backend, built from its fast forward Conv2D (XNNPACK):
 * - `Conv2DBackpropFilter` is missing from tfjs-backend-wasm 4.22, so CNNs cannot train on wasm without it.
 * - `Conv2DBackpropInput` exists but is a plain C++ loop; for stride 1 a forward conv does it several times faster.
 *
 * Filter gradient: dW[kh, kw, ci, co] = sum over (b, oh, ow) of x[b, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci] * dy[b, oh, ow, co]
 * is a forward convolution once the batch axis is moved into the channel slot:
 *   input  = x transposed to  [inChannels, H, W, batch]        (input channels act as the batch)
 *   filter = dy transposed to [outH, outW, batch, outChannels]  (the batch is the contracted axis)
 *   conv2d(input, filter, stride 1, dilation = the forward stride, explicit pads) -> [inChannels, kH, kW, outChannels]
 * then transposed to [kH, kW, inChannels, outChannels].
 *
 * Input gradient (stride 1): dx = conv2d(dy, W flipped in space with in/out channels swapped, pads kH-1-padTop ...).
 *
 * Browser-, worker- and Node-safe: imports only @tensorflow/tfjs. Calls the wasm backend's registered kernels
 * directly, as backends do inside their own kernels, so no gradient tape or engine scope is touched.
 */
import * as tf from '@tensorflow/tfjs';

const WASM = 'wasm';
const FILTER_GRAD = 'Conv2DBackpropFilter';
const INPUT_GRAD = 'Conv2DBackpropInput';

/** Kernels the CNN in models.ts needs for training on wasm; all but the filter gradient ship with the backend. */
export const CNN_TRAINING_KERNELS = [
  'Conv2D',
  INPUT_GRAD,
  FILTER_GRAD,
  'MaxPool',
  'MaxPoolGrad',
  'Relu',
  'Step',
  'BatchMatMul',
  '_FusedMatMul',
  'Transpose',
  'Reverse',
  'Slice',
] as const;

export type RegisterOutcome = 'registered' | 'already-registered';

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
type ConvPad = 'valid' | 'same' | number | ExplicitPadding;
type DimRoundingMode = 'floor' | 'round' | 'ceil';

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: DimRoundingMode;
  filterShape: [number, number, number, number];
}

interface InputGradAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: DimRoundingMode;
  inputShape: [number, number, number, number];
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/**
 * Registers `Conv2DBackpropFilter` for the 'wasm' backend. Safe to call any number of times, before or after the
 * wasm backend is initialised; if a kernel of that name already exists for wasm (ours, or a future native one),
 * it is left alone.
 */
export function registerWasmConvFilterGradient(): RegisterOutcome {
  if (tf.getKernel(FILTER_GRAD, WASM) != null) return 'already-registered';
  tf.registerKernel({ kernelName: FILTER_GRAD, backendName: WASM, kernelFunc: conv2dBackpropFilterOnWasm });
  return 'registered';
}

/** Marks our replacement of the input gradient, so a second call does not wrap it again. */
const FAST_INPUT_GRAD_MARK = Symbol.for('fedtab.wasmFastConvInputGradient');

/**
 * Replaces the wasm `Conv2DBackpropInput` with a forward-conv version for stride-1 convolutions, delegating every
 * other config to the original kernel. Idempotent. Keeps the original's setupFunc, so it works whether the wasm
 * backend is initialised before or after this call. Throws if tfjs-backend-wasm was not imported yet.
 */
export function registerWasmFastConvInputGradient(): RegisterOutcome {
  const original = tf.getKernel(INPUT_GRAD, WASM);
  if (original == null) {
    throw new Error(`registerWasmFastConvInputGradient: the wasm '${INPUT_GRAD}' kernel is not registered; import '@tensorflow/tfjs-backend-wasm' first`);
  }
  if ((original.kernelFunc as unknown as Record<symbol, boolean>)[FAST_INPUT_GRAD_MARK]) return 'already-registered';
  const kernelFunc = (args: KernelArgs) => conv2dBackpropInputOnWasm(args, original.kernelFunc);
  Object.defineProperty(kernelFunc, FAST_INPUT_GRAD_MARK, { value: true });
  tf.unregisterKernel(INPUT_GRAD, WASM);
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as tf.KernelFunc });
  return 'registered';
}

/** Everything CNN training on wasm needs from this file: the missing filter gradient and the fast input gradient. */
export function registerWasmConvGradients(): { filter: RegisterOutcome; input: RegisterOutcome } {
  return { filter: registerWasmConvFilterGradient(), input: registerWasmFastConvInputGradient() };
}

/** Names from `kernels` that the wasm backend lacks right now (empty when CNN training can run on wasm). */
export function missingWasmKernels(kernels: readonly string[] = CNN_TRAINING_KERNELS): string[] {
  return kernels.filter((name) => tf.getKernel(name, WASM) == null);
}

/** Runs wasm kernels by name and frees every intermediate they made when `finish` is called. */
class WasmKernelRunner {
  private readonly intermediates: tf.TensorInfo[] = [];
  constructor(
    private readonly backend: unknown,
    private readonly caller: string,
  ) {}

  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, keep = false): tf.TensorInfo {
    const kernel = tf.getKernel(name, WASM);
    if (kernel == null) throw new Error(`${this.caller} on wasm needs the wasm '${name}' kernel, which is not registered`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend as never, attrs });
    if (Array.isArray(out)) throw new Error(`${this.caller}: wasm '${name}' kernel returned several tensors, expected one`);
    if (!keep) this.intermediates.push(out);
    return out;
  }

  finish(): void {
    const b = this.backend as { disposeData(dataId: object): boolean };
    for (const t of this.intermediates.splice(0)) b.disposeData(t.dataId);
  }
}

function assertNhwcFloat4d(caller: string, dataFormat: string, tensors: Record<string, tf.TensorInfo | undefined>): void {
  if (dataFormat !== 'NHWC') throw new Error(`${caller} on wasm: dataFormat '${dataFormat}' is not supported (only NHWC)`);
  for (const [name, t] of Object.entries(tensors)) {
    if (t == null) throw new Error(`${caller} on wasm: input '${name}' is missing`);
    if (t.shape.length !== 4) throw new Error(`${caller} on wasm: '${name}' must be rank 4, got [${t.shape}]`);
    if (t.dtype !== 'float32') throw new Error(`${caller} on wasm: '${name}' must be float32, got ${t.dtype}`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function conv2dBackpropFilterOnWasm(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as FilterGradAttrs;
  const { x, dy } = args.inputs;
  assertNhwcFloat4d(FILTER_GRAD, attrs.dataFormat, { x, dy });
  const [filterH, filterW, inChannels, outChannels] = attrs.filterShape;
  const xShape = x!.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xShape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (xShape[3] !== inChannels) throw new Error(`${FILTER_GRAD} on wasm: x has ${xShape[3]} channels, filter expects ${inChannels}`);
  if (!sameShape(dy!.shape, info.outShape)) {
    throw new Error(`${FILTER_GRAD} on wasm: dy [${dy!.shape}] does not match the forward output [${info.outShape}] of x [${xShape}] and filter [${attrs.filterShape}]`);
  }
  const [batch, inH, inW] = xShape;
  const { top, left } = info.padInfo;
  // Rows/columns past the input's end that the last output pixel reads: negative means crop the input, positive pad it.
  const bottom = filterH + (info.outHeight - 1) * info.strideHeight - inH - top;
  const right = filterW + (info.outWidth - 1) * info.strideWidth - inW - left;

  const k = new WasmKernelRunner(args.backend, FILTER_GRAD);
  try {
    let xT = k.run('Transpose', { x: x! }, { perm: [3, 1, 2, 0] }); // [inC, H, W, batch]
    if (bottom < 0 || right < 0) {
      xT = k.run('Slice', { x: xT }, { begin: [0, 0, 0, 0], size: [inChannels, inH + Math.min(bottom, 0), inW + Math.min(right, 0), batch] });
    }
    const dyT = k.run('Transpose', { x: dy! }, { perm: [1, 2, 0, 3] }); // [outH, outW, batch, outC]
    const pad: ExplicitPadding = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
    const dilations = [info.strideHeight, info.strideWidth];
    const grad = k.run('Conv2D', { x: xT, filter: dyT }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations }); // [inC, kH, kW, outC]
    if (!sameShape(grad.shape, [inChannels, filterH, filterW, outChannels])) {
      throw new Error(`${FILTER_GRAD} on wasm: internal shape mismatch, got [${grad.shape}] for filter [${attrs.filterShape}]`);
    }
    return k.run('Transpose', { x: grad }, { perm: [1, 2, 0, 3] }, true); // [kH, kW, inC, outC]
  } finally {
    k.finish();
  }
}

function conv2dBackpropInputOnWasm(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo {
  const attrs = args.attrs as unknown as InputGradAttrs;
  const { dy, filter } = args.inputs;
  if (attrs.dataFormat !== 'NHWC' || dy == null || filter == null || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return original(args as never) as tf.TensorInfo;
  }
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [filterH, filterW] = filterShape;
  const padTop = filterH - 1 - info.padInfo.top;
  const padLeft = filterW - 1 - info.padInfo.left;
  const padBottom = info.inHeight - info.outHeight + filterH - 1 - padTop;
  const padRight = info.inWidth - info.outWidth + filterW - 1 - padLeft;
  const supported =
    info.strideHeight === 1 && info.strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0 && sameShape(dy.shape, info.outShape);
  if (!supported) return original(args as never) as tf.TensorInfo;

  const k = new WasmKernelRunner(args.backend, INPUT_GRAD);
  try {
    const swapped = k.run('Transpose', { x: filter }, { perm: [0, 1, 3, 2] }); // [kH, kW, outC, inC]
    const flipped = k.run('Reverse', { x: swapped }, { dims: [0, 1] });
    const pad: ExplicitPadding = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    return k.run('Conv2D', { x: dy, filter: flipped }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] }, true);
  } finally {
    k.finish();
  }
}
