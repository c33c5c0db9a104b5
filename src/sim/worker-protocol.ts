/** Messages between the simulator's main thread and its training worker threads (node:worker_threads). */
import type { Dataset } from '../fl/data/dataset';
import type { EvaluateResponse, TrainRequest, TrainResponse } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';
import type { NodeBackendName } from '../fl/backend/node-backend';
import type { Attack } from './attacks';

/** workerData of a training worker. The dataset's big arrays live in SharedArrayBuffers: no copy per worker. */
export interface TrainWorkerInit {
  /** file: URL of the TypeScript entry the boot script imports through tsx. */
  entry: string;
  backend: NodeBackendName;
  data: Dataset;
  modelSeed: number;
}

export type WorkerJob =
  | { kind: 'train'; id: number; trainIdx: Int32Array; evalIdx: Int32Array; req: TrainRequest; poison?: readonly Attack[] }
  | {
      kind: 'evaluate';
      id: number;
      evalIdx: Int32Array;
      spec: ModelSpec;
      /** Weight sets of this evaluation round; the worker keeps the latest ones under setsId. */
      setsId: number;
      /** Present when this worker does not hold setsId yet. */
      weightSets?: WeightSet[];
    };

export type WorkerReply =
  | { kind: 'ready'; backend: string }
  | { kind: 'train'; id: number; result: TrainResponse }
  | { kind: 'evaluate'; id: number; result: EvaluateResponse }
  | { kind: 'error'; id: number | null; message: string };
