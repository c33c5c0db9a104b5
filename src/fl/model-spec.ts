/** Model descriptions as plain data (no TensorFlow.js here, so the page's main bundle stays small). */
/** What model to build. Plain data, so it travels in session configs. */
export type ModelSpec =
  | { kind: 'mlp'; inputShape: number[]; hidden: number[]; numClasses: number }
  | { kind: 'cnn'; inputShape: [number, number, number]; filters: [number, number]; dense: number; numClasses: number }
  | { kind: 'tabular'; features: number; hidden: number[]; numClasses: number };

export type ModelKind = ModelSpec['kind'];

export function mlpSpec(inputShape: number[], numClasses: number, hidden: number[] = [64]): ModelSpec {
  return { kind: 'mlp', inputShape, hidden, numClasses };
}

export function cnnSpec(inputShape: [number, number, number], numClasses: number): ModelSpec {
  return { kind: 'cnn', inputShape, filters: [8, 16], dense: 32, numClasses };
}

export function tabularSpec(features: number, numClasses: number, hidden: number[] = [32, 16]): ModelSpec {
  return { kind: 'tabular', features, hidden, numClasses };
}

/** True when the model has convolutions (the wasm backend cannot train those without a kernel patch). */
export function hasConvolutions(spec: ModelSpec): boolean {
  return spec.kind === 'cnn';
}

/** Input shape of one sample, without the batch dimension. */
export function modelInputShape(spec: ModelSpec): number[] {
  return spec.kind === 'tabular' ? [spec.features] : spec.inputShape;
}
