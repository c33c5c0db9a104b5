/**
 * A simulator training worker thread: trains and evaluates clients on its own tfjs backend instance, one job at a
 * time, on one reused model (ModelSlot), over the shared dataset it was given. Started by WorkerPoolRunner.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setupNodeBackend } from '../fl/backend/node-backend';
import { subsetDataset } from '../fl/data/dataset';
import { evaluateOnModel, trainOnModel } from '../fl/local-trainer';
import type { WeightSet } from '../fl/weights';
import { materializeShard } from './client-shards';
import { ModelSlot } from './model-slot';
import type { TrainWorkerInit, WorkerJob, WorkerReply } from './worker-protocol';

const init = workerData as TrainWorkerInit;
const port = parentPort!;
const slot = new ModelSlot(init.modelSeed);
let sets: { id: number; weights: WeightSet[] } | null = null;

function reply(message: WorkerReply): void {
  const transfer: ArrayBuffer[] = [];
  if (message.kind === 'train') for (const t of message.result.delta) transfer.push(t.values.buffer as ArrayBuffer);
  port.postMessage(message, transfer);
}

async function handle(job: WorkerJob): Promise<void> {
  try {
    if (job.kind === 'train') {
      const local = materializeShard(init.data, { train: job.trainIdx, eval: job.evalIdx, poison: job.poison });
      const result = await slot.run(job.req.model, (model) => trainOnModel(model, local.train, local.eval, job.req));
      reply({ kind: 'train', id: job.id, result });
      return;
    }
    if (job.weightSets) sets = { id: job.setsId, weights: job.weightSets };
    if (!sets || sets.id !== job.setsId) throw new Error(`worker holds no weight sets ${job.setsId}`);
    const weights = sets.weights;
    const result = await slot.run(job.spec, (model) => evaluateOnModel(model, subsetDataset(init.data, job.evalIdx), weights));
    reply({ kind: 'evaluate', id: job.id, result });
  } catch (e) {
    reply({ kind: 'error', id: job.id, message: e instanceof Error ? e.message : String(e) });
  }
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  await setupNodeBackend(init.backend);
  port.on('message', (job: WorkerJob) => void handle(job));
  reply({ kind: 'ready', backend: tf.getBackend() });
}

main().catch((e: unknown) => reply({ kind: 'error', id: null, message: `worker start failed: ${e instanceof Error ? e.message : String(e)}` }));
