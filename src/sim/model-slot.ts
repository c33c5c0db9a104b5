/**
 * One reusable tfjs model per thread, lent to one job at a time. A simulated client's round is a pure function of
 * (global weights, its data, the round's seed): trainOnModel overwrites the weights and uses a fresh optimizer, so
 * the same model instance can serve every client in turn. The lock matters because a training job yields to the
 * event loop between batches, and another client's job must not touch the weights meanwhile.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../fl/models';
import { buildModel } from '../fl/models';

export class ModelSlot {
  private model: tf.LayersModel | null = null;
  private key = '';
  private tail: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly seed = 1) {}

  /** Runs `job` with exclusive use of a model of `spec`; jobs run in the order they were submitted. */
  run<T>(spec: ModelSpec, job: (model: tf.LayersModel) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.disposed) throw new Error('model slot disposed');
      return job(this.modelFor(spec));
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private modelFor(spec: ModelSpec): tf.LayersModel {
    const key = JSON.stringify(spec);
    if (!this.model || key !== this.key) {
      this.model?.dispose();
      this.model = buildModel(spec, this.seed);
      this.key = key;
    }
    return this.model;
  }

  /** Disposes the model once the queued jobs are done. */
  async dispose(): Promise<void> {
    await this.tail;
    this.disposed = true;
    this.model?.dispose();
    this.model = null;
  }
}
