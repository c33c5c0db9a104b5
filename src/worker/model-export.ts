/**
 * The global model as TensorFlow.js files (model.json + weights.bin) that `tf.loadLayersModel` loads. The model
 * outputs logits, as in training; apply a softmax for probabilities. Runs in the worker (and in Node tests).
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, setWeights, type ModelSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';

import { MODEL_EXPORT_FILES, type ModelFiles } from './model-files';

export { MODEL_EXPORT_FILES, type ModelFiles };

export async function exportModelFiles(spec: ModelSpec, weights: WeightSet, info: { round: number; session: string }): Promise<ModelFiles> {
  const model = buildModel(spec);
  try {
    setWeights(model, weights);
    let files: ModelFiles | null = null;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData;
        const weightsBin = data instanceof ArrayBuffer ? data : tf.io.concatenateArrayBuffers(data ?? []);
        const json = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [`./${MODEL_EXPORT_FILES.weights}`], weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata: { fedtab: { session: info.session, round: info.round, spec, outputs: 'logits' } },
        };
        files = { modelJson: JSON.stringify(json), weightsBin };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!files) throw new Error('the model could not be serialised');
    return files;
  } finally {
    model.dispose();
  }
}
