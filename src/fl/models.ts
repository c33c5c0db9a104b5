import * as tf from '@tensorflow/tfjs';
import type { TensorLayout, WeightSet } from './weights';
import { assertSameLayout } from './weights';
import type { ModelSpec } from './model-spec';

export type { ModelSpec, ModelKind } from './model-spec';
export { mlpSpec, cnnSpec, tabularSpec, hasConvolutions, modelInputShape } from './model-spec';

function init(seed: number, offset: number) {
  return tf.initializers.glorotUniform({ seed: seed * 1000 + offset });
}

/**
 * Builds the model with deterministic initial weights. The model outputs LOGITS (no softmax):
 * every loss in fedtab is computed from logits.
 */
export function buildModel(spec: ModelSpec, seed = 1): tf.LayersModel {
  const model = tf.sequential();
  let k = 0;
  if (spec.kind === 'cnn') {
    const [f1, f2] = spec.filters;
    model.add(tf.layers.conv2d({ name: 'conv1', inputShape: spec.inputShape, filters: f1, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed, k++) }));
    model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
    model.add(tf.layers.conv2d({ name: 'conv2', filters: f2, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed, k++) }));
    model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(tf.layers.dense({ name: 'fc1', units: spec.dense, activation: 'relu', kernelInitializer: init(seed, k++) }));
    model.add(tf.layers.dense({ name: 'logits', units: spec.numClasses, kernelInitializer: init(seed, k++) }));
    return model;
  }
  const inputShape = spec.kind === 'tabular' ? [spec.features] : spec.inputShape;
  if (inputShape.length > 1) model.add(tf.layers.flatten({ name: 'flatten', inputShape }));
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        name: `fc${i + 1}`,
        units,
        activation: 'relu',
        kernelInitializer: init(seed, k++),
        ...(i === 0 && inputShape.length === 1 ? { inputShape } : {}),
      }),
    );
  });
  model.add(
    tf.layers.dense({
      name: 'logits',
      units: spec.numClasses,
      kernelInitializer: init(seed, k++),
      ...(spec.hidden.length === 0 && inputShape.length === 1 ? { inputShape } : {}),
    }),
  );
  return model;
}

/** Stable per-model tensor names ("fc1/kernel"), independent of tfjs's global unique-name counter. */
export function weightNames(model: tf.LayersModel): string[] {
  return model.weights.map((w) => w.originalName);
}

/**
 * Reads the model's weights (trainable and not) into plain arrays. Asynchronous on purpose: WebGPU's synchronous
 * read goes through a canvas and returned zeros on a software adapter (SwiftShader) in a worker.
 */
export async function getWeights(model: tf.LayersModel): Promise<WeightSet> {
  const names = weightNames(model);
  return Promise.all(
    model.weights.map(async (w, i) => {
      const t = w.read();
      return { name: names[i], shape: [...t.shape], values: (await t.data()) as Float32Array };
    }),
  );
}

/** Writes `weights` into the model after checking names and shapes. */
export function setWeights(model: tf.LayersModel, weights: WeightSet): void {
  assertSameLayout(getLayout(model), weights, 'setWeights');
  const tensors = weights.map((t) => tf.tensor(t.values, t.shape, 'float32'));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Names and shapes of the model's weights (for layout checks). */
export function getLayout(model: tf.LayersModel): TensorLayout[] {
  const names = weightNames(model);
  return model.weights.map((w, i) => ({ name: names[i], shape: w.shape.map((d) => d ?? 1) }));
}
