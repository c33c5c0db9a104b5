/**
 * Runs simulated clients' jobs on N worker threads (node:worker_threads), each with its own tfjs backend and one
 * reused model. A client's result depends only on its shard and the request (same global weights, same seed, fresh
 * optimizer, single-threaded kernels), so it is the same whichever thread runs it, and the same as in-process.
 */
import { Worker } from 'node:worker_threads';
import type { NodeBackendName } from '../fl/backend/node-backend';
import type { Dataset } from '../fl/data/dataset';
import type { EvaluateResponse, TrainRequest, TrainResponse } from '../fl/local-trainer';
import type { ModelSpec } from '../fl/models';
import type { WeightSet } from '../fl/weights';
import type { ClientShard } from './client-shards';
import type { ParticipantRunner } from './participant';
import type { TrainWorkerInit, WorkerJob, WorkerReply } from './worker-protocol';

const BOOT_URL = new URL('./train-worker-boot.mjs', import.meta.url);
const ENTRY_URL = new URL('./train-worker.ts', import.meta.url);

/** A copy of the dataset whose big arrays live in SharedArrayBuffers (worker threads then share them, no copies). */
export function shareDataset<T extends Dataset>(ds: T): T {
  const share = <A extends Uint8Array | Float32Array | Int32Array>(a: A, make: (b: SharedArrayBuffer) => A): A => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const out = make(new SharedArrayBuffer(a.byteLength));
    out.set(a as never);
    return out;
  };
  const labels = share(ds.labels, (b) => new Int32Array(b));
  if (ds.kind === 'image') return { ...ds, labels, images: share(ds.images, (b) => new Uint8Array(b)) };
  return { ...ds, labels, rows: share(ds.rows, (b) => new Float32Array(b)) };
}

interface PendingJob {
  job: WorkerJob;
  weightSets?: WeightSet[];
  resolve: (value: never) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  markReady: () => void;
  busy: PendingJob | null;
  /** Id of the evaluation weight sets this worker holds. */
  setsId: number;
}

export interface WorkerPoolOptions {
  workers: number;
  /** Shared-memory dataset (see shareDataset); plain arrays would be copied into every worker. */
  data: Dataset;
  backend: NodeBackendName;
  modelSeed: number;
}

export class WorkerPoolRunner implements ParticipantRunner {
  readonly kind: string;
  private readonly queue: PendingJob[] = [];
  private readonly setsIds = new WeakMap<WeightSet[], number>();
  private nextSetsId = 1;
  private nextJobId = 1;
  private failure: Error | null = null;
  private closed = false;

  /** Rejects with the first failure (a crashed worker, a failed start). */
  private readonly failed: Promise<never>;
  private rejectFailed!: (e: Error) => void;
  private readonly slots: Slot[];

  private constructor(workers: Worker[]) {
    this.kind = `${workers.length} worker threads`;
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    this.slots = workers.map((worker) => {
      let markReady!: () => void;
      const ready = new Promise<void>((r) => (markReady = r));
      return { worker, ready, markReady, busy: null, setsId: 0 };
    });
    for (const slot of this.slots) {
      slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
      slot.worker.on('error', (e) => this.fail(new Error(`training worker crashed: ${e.message}`)));
      slot.worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`training worker exited (code ${code})`));
      });
    }
  }

  /** Starts the workers and waits until each has its backend ready. */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPoolRunner> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be a positive integer, got ${opts.workers}`);
    const init: TrainWorkerInit = { entry: ENTRY_URL.href, backend: opts.backend, data: opts.data, modelSeed: opts.modelSeed };
    const workers = Array.from({ length: opts.workers }, () => new Worker(BOOT_URL, { workerData: init, name: 'fedtab-sim-trainer' }));
    const pool = new WorkerPoolRunner(workers);
    try {
      await Promise.race([Promise.all(pool.slots.map((s) => s.ready)), pool.failed]);
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  train(shard: ClientShard, req: TrainRequest): Promise<TrainResponse> {
    return this.submit({ kind: 'train', id: this.nextJobId++, trainIdx: shard.train, evalIdx: shard.eval, req, ...(shard.poison ? { poison: shard.poison } : {}) });
  }

  evaluate(shard: ClientShard, spec: ModelSpec, weightSets: WeightSet[]): Promise<EvaluateResponse> {
    let setsId = this.setsIds.get(weightSets);
    if (setsId === undefined) this.setsIds.set(weightSets, (setsId = this.nextSetsId++));
    return this.submit({ kind: 'evaluate', id: this.nextJobId++, evalIdx: shard.eval, spec, setsId }, weightSets);
  }

  private submit<T>(job: WorkerJob, weightSets?: WeightSet[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('worker pool closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, weightSets, resolve: resolve as (v: never) => void, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const pending = this.queue.shift()!;
      slot.busy = pending;
      const job = pending.job;
      if (job.kind === 'evaluate' && slot.setsId !== job.setsId) {
        slot.setsId = job.setsId;
        slot.worker.postMessage({ ...job, weightSets: pending.weightSets });
      } else {
        slot.worker.postMessage(job);
      }
    }
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    const pending = slot.busy;
    if (m.kind === 'ready') return slot.markReady();
    if (m.kind === 'error' && m.id === null) return this.fail(new Error(m.message));
    if (!pending || m.id !== pending.job.id) {
      this.fail(new Error(`training worker answered job ${m.id}, expected ${pending?.job.id ?? 'none'}`));
      return;
    }
    slot.busy = null;
    if (m.kind === 'error') pending.reject(new Error(m.message));
    else pending.resolve(m.result as never);
    this.pump();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.rejectFailed(e);
    for (const slot of this.slots) {
      slot.busy?.reject(e);
      slot.busy = null;
    }
    this.queue.splice(0).forEach((p) => p.reject(e));
  }

  async dispose(): Promise<void> {
    this.closed = true;
    this.fail(new Error('worker pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
