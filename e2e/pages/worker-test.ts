/**
 * Drives the training worker for e2e/worker.e2e.ts and scripts/bench-browser.ts through window.workerTest.
 * Every function returns plain JSON (summaries, not weights), and measures main-thread long tasks.
 */
import type { TrainConfig } from '../../src/fl/protocol';
import type { ModelSpec } from '../../src/fl/models';
import type { StrategyConfig } from '../../src/fl/strategies/types';
import type { WeightSet } from '../../src/fl/weights';
import { addScaledWeights, assertFinite, l2Norm, layoutOf } from '../../src/fl/weights';
import type { DemoShardSpec } from '../../src/data/demo';
import type { LocalFile } from '../../src/data/pickers';
import { forgetLocalData, importLocalData, loadLocalData } from '../../src/data';
import type { BackendReport, LocalDataInfo, WorkerProgress, WorkerTrainResponse } from '../../src/worker/api';
import type { ProgressSample } from '../../src/worker/throughput';
import { steadyThroughput } from '../../src/worker/throughput';
import { WorkerTrainer } from '../../src/worker/worker-trainer';

interface LongTask {
  start: number;
  duration: number;
}

const longTasks: LongTask[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: 'longtask', buffered: true });

/** Longest main-thread task overlapping [from, to] (0 when none was over 50 ms). */
function longestTaskBetween(from: number, to: number): number {
  return longTasks.filter((t) => t.start < to && t.start + t.duration > from).reduce((m, t) => Math.max(m, t.duration), 0);
}

/** Most progress events inside any 1-second window. */
function maxEventsPerSecond(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

let trainer: WorkerTrainer | null = null;

function current(): WorkerTrainer {
  trainer ??= new WorkerTrainer();
  return trainer;
}

export interface RoundSummary {
  round: number;
  backend: string;
  layout: { name: string; shape: number[] }[];
  numSamples: number;
  cancelled: boolean;
  metrics: WorkerTrainResponse['metrics'];
  switches: WorkerTrainResponse['backendSwitches'];
  deltaNorm: number;
  numTensorsAfter: number;
  progressEvents: number;
  maxProgressPerSecond: number;
  longestMainThreadTaskMs: number;
  wallMs: number;
}

export interface RoundsOptions {
  model: ModelSpec;
  rounds: number;
  train: TrainConfig;
  strategy?: StrategyConfig;
  /** Call simulateBackendLoss() after this many progress events of round 0. */
  loseBackendAfterEvents?: number;
}

function summarize(round: number, r: WorkerTrainResponse, numTensorsAfter: number, times: number[], from: number, to: number): RoundSummary {
  assertFinite(r.delta, `round ${round} delta`);
  return {
    round,
    backend: r.backend,
    layout: layoutOf(r.delta),
    numSamples: r.numSamples,
    cancelled: r.cancelled,
    metrics: r.metrics,
    switches: r.backendSwitches,
    deltaNorm: l2Norm(r.delta),
    numTensorsAfter,
    progressEvents: times.length,
    maxProgressPerSecond: maxEventsPerSecond(times),
    longestMainThreadTaskMs: longestTaskBetween(from, to),
    wallMs: to - from,
  };
}

const api = {
  async reset(): Promise<void> {
    trainer?.terminate();
    trainer = new WorkerTrainer();
  },

  loadDemo(shard: DemoShardSpec): Promise<LocalDataInfo> {
    return current().loadDemoShard(shard);
  },

  selectBackend(preference: string, model: ModelSpec): Promise<BackendReport> {
    return current().selectBackend(preference, model);
  },

  async initialLayout(model: ModelSpec): Promise<{ name: string; shape: number[] }[]> {
    return layoutOf(await current().initialWeights(model));
  },

  /** Plain FedAvg with this one client: w <- w + delta each round. */
  async trainRounds(opts: RoundsOptions): Promise<RoundSummary[]> {
    const t = current();
    let weights: WeightSet = await t.initialWeights(opts.model);
    const out: RoundSummary[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const times: number[] = [];
      let lost = false;
      const from = performance.now();
      const r = await t.train(
        { round, model: opts.model, strategy: opts.strategy ?? { name: 'fedavg' }, train: { ...opts.train, seed: opts.train.seed + round }, weights },
        {
          onWorkerProgress: () => {
            times.push(performance.now());
            if (round === 0 && !lost && opts.loseBackendAfterEvents !== undefined && times.length >= opts.loseBackendAfterEvents) {
              lost = true;
              void t.simulateBackendLoss();
            }
          },
        },
      );
      const to = performance.now();
      weights = addScaledWeights(weights, r.delta);
      out.push(summarize(round, r, (await t.memory()).numTensors, times, from, to));
    }
    return out;
  },

  /** Starts a round, cancels it after `afterEvents` progress events, then trains one more round normally. */
  async cancelRound(opts: { model: ModelSpec; train: TrainConfig; afterEvents: number }) {
    const t = current();
    const weights = await t.initialWeights(opts.model);
    const events: WorkerProgress[] = [];
    let cancelAt = 0;
    const started = performance.now();
    const r = await t.train(
      { round: 0, model: opts.model, strategy: { name: 'fedavg' }, train: opts.train, weights },
      {
        onWorkerProgress: (p) => {
          events.push(p);
          if (events.length === opts.afterEvents) {
            cancelAt = performance.now();
            void t.cancel();
          }
        },
      },
    );
    const resolvedAt = performance.now();
    const last = events[events.length - 1];
    const next = await t.train({ round: 1, model: opts.model, strategy: { name: 'fedavg' }, train: { ...opts.train, localEpochs: 1 }, weights });
    return {
      cancelled: r.cancelled,
      msFromCancelToResult: resolvedAt - cancelAt,
      wallMs: resolvedAt - started,
      batchesPerEpoch: last?.batchesPerEpoch ?? 0,
      lastEpochSeen: last?.epoch ?? -1,
      localEpochs: opts.train.localEpochs,
      nextRoundCancelled: next.cancelled,
      nextRoundFinite: Number.isFinite(l2Norm(next.delta)),
    };
  },

  /**
   * Steady training throughput of `model` on one backend, inside the worker, with the real training loop:
   * trains until `warmupBatches` are done, times batches for `measureMs`, then cancels the round.
   */
  async measureSustained(opts: { model: ModelSpec; backend: string; batchSize: number; warmupBatches: number; measureMs: number }) {
    const t = current();
    const report = await t.selectBackend(opts.backend, opts.model);
    const weights = await t.initialWeights(opts.model);
    const samples: ProgressSample[] = [];
    let timingFrom: number | null = null;
    const from = performance.now();
    const r = await t.train(
      { round: 0, model: opts.model, strategy: { name: 'fedavg' }, train: { localEpochs: 1000, batchSize: opts.batchSize, learningRate: 0.01, seed: 1 }, weights },
      {
        onWorkerProgress: (p) => {
          const now = performance.now();
          const batches = p.epoch * p.batchesPerEpoch + p.batch;
          samples.push({ batches, t: now });
          if (batches >= opts.warmupBatches) timingFrom ??= now;
          if (timingFrom !== null && now - timingFrom >= opts.measureMs) void t.cancel();
        },
      },
    );
    const to = performance.now();
    return {
      requested: opts.backend,
      backend: r.backend,
      notices: report.notices,
      steady: steadyThroughput(samples, opts.batchSize, opts.warmupBatches, from),
      cancelled: r.cancelled,
      longestMainThreadTaskMs: longestTaskBetween(from, to),
      numTensorsAfter: (await t.memory()).numTensors,
    };
  },

  async memory(): Promise<number> {
    return (await current().memory()).numTensors;
  },

  /** Images of two classes drawn here, plus a broken file and a stray text file; imported, stored, trained, forgotten. */
  async importFolderRoundTrip(model: ModelSpec) {
    const files: LocalFile[] = [];
    const draw = async (shape: 'circle' | 'square', i: number): Promise<File> => {
      const c = new OffscreenCanvas(40, 40);
      const g = c.getContext('2d')!;
      g.fillStyle = '#000';
      g.fillRect(0, 0, 40, 40);
      g.fillStyle = '#fff';
      if (shape === 'square') g.fillRect(10, 10, 20, 20);
      else {
        g.beginPath();
        g.arc(20, 20, 10, 0, Math.PI * 2);
        g.fill();
      }
      const blob = await c.convertToBlob({ type: 'image/png' });
      return new File([blob], `${shape}-${i}.png`, { type: 'image/png' });
    };
    for (const shape of ['circle', 'square'] as const) {
      for (let i = 0; i < 10; i++) files.push({ path: `shapes/${shape}/${i}.png`, file: await draw(shape, i) });
    }
    files.push({ path: 'shapes/circle/broken.png', file: new File([new Uint8Array([1, 2, 3, 4, 5])], 'broken.png', { type: 'image/png' }) });
    files.push({ path: 'shapes/square/notes.txt', file: new File(['hello'], 'notes.txt') });
    files.push({ path: 'shapes/square/.DS_Store', file: new File(['x'], '.DS_Store') });

    const imported = await importLocalData(files, { name: 'shapes', splitSeed: 7 });
    const stored = await loadLocalData();
    const meanByClass = [0, 1].map((label) => {
      let sum = 0;
      let n = 0;
      const ds = stored!.train;
      if (ds.kind !== 'image') return NaN;
      const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
      for (let i = 0; i < ds.labels.length; i++) {
        if (ds.labels[i] !== label) continue;
        for (let k = 0; k < per; k++) sum += ds.images[i * per + k];
        n += per;
      }
      return sum / n;
    });
    const t = current();
    const info = await t.loadStoredData();
    const weights = await t.initialWeights(model);
    const round = await t.train({ round: 0, model, strategy: { name: 'fedavg' }, train: { localEpochs: 1, batchSize: 4, learningRate: 0.05, seed: 1 }, weights });
    await forgetLocalData();
    let afterForget = '';
    try {
      await t.loadStoredData();
      afterForget = 'loaded';
    } catch (err) {
      afterForget = (err as Error).message;
    }
    return {
      summary: imported.summary,
      problems: imported.problems,
      classNames: stored?.train.classNames ?? [],
      meanByClass,
      info,
      roundSamples: round.numSamples,
      roundLayout: layoutOf(round.delta),
      afterForget,
      storedAfterForget: (await loadLocalData()) !== null,
    };
  },
};

declare global {
  interface Window {
    workerTest: typeof api;
  }
}

window.workerTest = api;
document.getElementById('status')!.textContent = 'ready';
