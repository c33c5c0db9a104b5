/**
 * The names and shapes of a model's weights, worked out from its spec alone (no TensorFlow.js): what buildModel in
 * models.ts makes. Sizes the largest message a session sends (src/fl/codec/session-limits.ts).
 */
import type { ModelSpec } from './model-spec';
import type { TensorLayout } from './weights';

function dense(name: string, inputs: number, units: number): TensorLayout[] {
  return [
    { name: `${name}/kernel`, shape: [inputs, units] },
    { name: `${name}/bias`, shape: [units] },
  ];
}

/** One side of a 3x3 'valid' convolution followed by a 2x2 max pooling. */
const convThenPool = (side: number) => Math.max(0, Math.floor((side - 2) / 2));

export function modelLayout(spec: ModelSpec): TensorLayout[] {
  if (spec.kind === 'cnn') {
    const [height, width, channels] = spec.inputShape;
    const [f1, f2] = spec.filters;
    const flat = convThenPool(convThenPool(height)) * convThenPool(convThenPool(width)) * f2;
    return [
      { name: 'conv1/kernel', shape: [3, 3, channels, f1] },
      { name: 'conv1/bias', shape: [f1] },
      { name: 'conv2/kernel', shape: [3, 3, f1, f2] },
      { name: 'conv2/bias', shape: [f2] },
      ...dense('fc1', flat, spec.dense),
      ...dense('logits', spec.dense, spec.numClasses),
    ];
  }
  const inputs = spec.kind === 'tabular' ? spec.features : spec.inputShape.reduce((a, b) => a * b, 1);
  const layers: TensorLayout[] = [];
  let previous = inputs;
  spec.hidden.forEach((units, i) => {
    layers.push(...dense(`fc${i + 1}`, previous, units));
    previous = units;
  });
  return [...layers, ...dense('logits', previous, spec.numClasses)];
}
