/// <reference lib="webworker" />
/**
 * The training worker: owns TensorFlow.js so the page's main thread never trains. Exposes TrainingWorkerApi
 * over Comlink. The wasm binaries are served by Vite (?url imports); threads stay off (no COOP/COEP).
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import * as Comlink from 'comlink';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
// Required by setWasmPaths, fetched only under cross-origin isolation, which fedtab never enables.
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { TrainRequest } from '../fl/local-trainer';
import { partyApi, type TrainingWorkerRemote, type WorkerProgress, type WorkerTrainResponse } from './api';
import { TrainingSession } from './session';
import { LocalPrivateParty } from '../fl/private-party';

const session = new TrainingSession({
  wasmPaths: {
    'tfjs-backend-wasm.wasm': new URL(wasmPlainUrl, self.location.href).href,
    'tfjs-backend-wasm-simd.wasm': new URL(wasmSimdUrl, self.location.href).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedUrl, self.location.href).href,
  },
});

type RemoteCallback = ((p: WorkerProgress) => unknown) & { [Comlink.releaseProxy]?: () => void };

const api: TrainingWorkerRemote = {
  loadData: (source) => session.loadData(source),
  selectBackend: (preference, model) => session.selectBackend(preference, model),
  async train(req: TrainRequest, onProgress?: RemoteCallback): Promise<WorkerTrainResponse> {
    try {
      // Fire and forget: awaiting each progress call would make training wait for the main thread.
      const result = await session.train(req, onProgress ? (p) => void onProgress(p) : undefined);
      return Comlink.transfer(result, result.delta.map((t) => t.values.buffer as ArrayBuffer));
    } finally {
      onProgress?.[Comlink.releaseProxy]?.();
    }
  },
  evaluate: (model, weightSets) => session.evaluate(model, weightSets),
  async initialWeights(model, seed) {
    const weights = await session.initialWeights(model, seed);
    return Comlink.transfer(weights, weights.map((t) => t.values.buffer as ArrayBuffer));
  },
  importFiles: (files, model) => session.importFiles(files, model),
  predict: (model, weights, input) => session.predict(model, weights, input),
  confusion: (model, weights) => session.confusion(model, weights),
  async exportModel(model, weights, info) {
    const files = await session.exportModel(model, weights, info);
    return Comlink.transfer(files, [files.weightsBin]);
  },
  cancel: () => session.cancel(),
  info: () => session.info(),
  memory: () => session.memory(),
  simulateBackendLoss: () => session.simulateBackendLoss(),
  dispose: () => session.dispose(),
  ...partyApi(new LocalPrivateParty()),
};

Comlink.expose(api);
