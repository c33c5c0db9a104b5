/**
 * TensorFlow.js backend setup for Node (simulator, scripts, tests): wasm (XNNPACK, SIMD) or the pure-JS cpu backend.
 * Node-only (resolves the .wasm files from node_modules); browsers and workers set their own wasm paths.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { buildModel, modelInputShape, type ModelSpec } from '../models';
import { missingWasmKernels, registerWasmConvGradients } from './wasm-conv-grad';

export type NodeBackendName = 'wasm' | 'cpu';
export type BackendPreference = 'auto' | NodeBackendName;

export interface BackendChoice {
  backend: NodeBackendName;
  /** Why this backend: the preference, the probe's numbers, or the fallback's cause. */
  reason: string;
}

export const NODE_BACKEND_CONFIG = {
  /**
   * Batch size of the 'auto' probe. Small on purpose: a batch cannot be interrupted, and one batch-32 CNN step on
   * the cpu backend takes ~1.4 s here. Both backends are timed at the same size, so the comparison stays fair.
   */
  probeBatchSize: 8,
  /** Untimed batches first: the first steps on a backend pay for kernel setup and weight packing. */
  probeWarmupBatches: 1,
  /** Timed batches per backend at most... */
  probeMaxBatches: 4,
  /** ...stopping after the batch that crosses this many ms (whole 'auto' probe measured at ~1 s for the CNN). */
  probeBudgetMsPerBackend: 250,
  /** Learning rate of the probe's SGD steps (the weights are thrown away, so it only has to stay finite). */
  probeLearningRate: 0.01,
  /** Rule for 'auto' without a model to probe: wasm trained MLP 3-4x and CNN ~100x faster than cpu here (bench-backends). */
  defaultWithoutSpec: 'wasm' as NodeBackendName,
} as const;

export function isBackendPreference(value: unknown): value is BackendPreference {
  return value === 'auto' || value === 'wasm' || value === 'cpu';
}

/** Absolute folder (with trailing separator) holding tfjs-backend-wasm's .wasm binaries, resolved like Node does. */
export function nodeWasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

let wasmPathsSet = false;

/** Initialises the wasm backend once per process (with the conv filter-gradient patch); throws with the cause. */
async function initWasm(): Promise<void> {
  registerWasmConvGradients();
  if (tf.findBackend('wasm') != null) return;
  if (!wasmPathsSet) {
    setWasmPaths(nodeWasmBinaryDir());
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error(`could not initialise the wasm backend from ${nodeWasmBinaryDir()}`);
}

async function activate(name: NodeBackendName): Promise<void> {
  if (name === 'wasm') await initWasm();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

/**
 * Selects and initialises the TensorFlow.js backend for this process.
 * - 'wasm' / 'cpu': that backend (throws if wasm cannot start).
 * - 'auto' with a spec: times a few training batches of that model on wasm and on cpu, keeps the faster.
 * - 'auto' without a spec: NODE_BACKEND_CONFIG.defaultWithoutSpec (falls back to cpu if wasm cannot start).
 * The wasm backend always gets the Conv2DBackpropFilter patch, so CNNs train on it.
 */
export async function setupNodeBackend(preference: BackendPreference = 'auto', spec?: ModelSpec): Promise<BackendChoice> {
  if (!isBackendPreference(preference)) {
    throw new Error(`setupNodeBackend: unknown backend preference '${String(preference)}' (use 'auto', 'wasm' or 'cpu')`);
  }
  if (preference !== 'auto') {
    await activate(preference);
    return { backend: preference, reason: `requested '${preference}'` };
  }
  try {
    await initWasm();
  } catch (err) {
    await activate('cpu');
    return { backend: 'cpu', reason: `auto: wasm unavailable (${(err as Error).message}), using cpu` };
  }
  const missing = missingWasmKernels();
  if (missing.length > 0 && spec?.kind === 'cnn') {
    await activate('cpu');
    return { backend: 'cpu', reason: `auto: wasm lacks kernels ${missing.join(', ')} needed to train a CNN` };
  }
  if (spec == null) {
    const rule = NODE_BACKEND_CONFIG.defaultWithoutSpec;
    await activate(rule);
    return { backend: rule, reason: `auto: no model to probe, rule '${rule}' (measured faster for MLP and CNN training)` };
  }
  const speeds: Record<NodeBackendName, number> = { wasm: 0, cpu: 0 };
  const probeStarted = performance.now();
  for (const name of ['wasm', 'cpu'] as const) {
    await activate(name);
    speeds[name] = (await measureTrainingThroughput(spec, probeOptions())).samplesPerSecond;
  }
  const best: NodeBackendName = speeds.wasm >= speeds.cpu ? 'wasm' : 'cpu';
  await activate(best);
  const fmt = (n: NodeBackendName) => `${n} ${Math.round(speeds[n])}`;
  const probeMs = Math.round(performance.now() - probeStarted);
  return { backend: best, reason: `auto: ${probeMs} ms probe training the ${spec.kind}, samples/s ${fmt('wasm')} vs ${fmt('cpu')}` };
}

function probeOptions(): ThroughputOptions {
  const c = NODE_BACKEND_CONFIG;
  return { batchSize: c.probeBatchSize, warmupBatches: c.probeWarmupBatches, maxBatches: c.probeMaxBatches, budgetMs: c.probeBudgetMsPerBackend };
}

export interface ThroughputOptions {
  batchSize: number;
  /** Untimed batches before timing starts. */
  warmupBatches: number;
  /** Timed batches at most. */
  maxBatches: number;
  /** Stop timing after the batch that crosses this many milliseconds (at least one timed batch always runs). */
  budgetMs: number;
  seed?: number;
}

export interface Throughput {
  samplesPerSecond: number;
  timedBatches: number;
  /** Loss of the first and the last training step, to show the steps really trained. */
  firstLoss: number;
  lastLoss: number;
}

/**
 * Trains a fresh `spec` model on the CURRENT backend with SGD on one fixed random batch and reports samples/s.
 * Same step shape as local training: model.apply(training) -> softmax cross-entropy from logits -> minimize.
 * Leaves no tensors behind.
 */
export async function measureTrainingThroughput(spec: ModelSpec, opts: ThroughputOptions): Promise<Throughput> {
  if (opts.batchSize < 1 || opts.maxBatches < 1) throw new Error('measureTrainingThroughput: batchSize and maxBatches must be >= 1');
  const numClasses = spec.numClasses;
  const model = buildModel(spec, opts.seed ?? 1);
  const optimizer = tf.train.sgd(NODE_BACKEND_CONFIG.probeLearningRate);
  const seed = opts.seed ?? 1;
  const xs = tf.randomUniform([opts.batchSize, ...modelInputShape(spec)], 0, 1, 'float32', seed);
  const ys = tf.tidy(() => tf.oneHot(tf.randomUniform([opts.batchSize], 0, numClasses, 'int32', seed + 1), numClasses));
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    ) as tf.Scalar;
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
  try {
    let firstLoss = NaN;
    for (let i = 0; i < opts.warmupBatches; i++) {
      const l = await step();
      if (i === 0) firstLoss = l;
    }
    let timed = 0;
    let lastLoss = NaN;
    const started = performance.now();
    let elapsed = 0;
    while (timed < opts.maxBatches && (timed === 0 || elapsed < opts.budgetMs)) {
      lastLoss = await step();
      if (timed === 0 && opts.warmupBatches === 0) firstLoss = lastLoss;
      timed++;
      elapsed = performance.now() - started;
    }
    return { samplesPerSecond: (timed * opts.batchSize * 1000) / Math.max(elapsed, 1e-3), timedBatches: timed, firstLoss, lastLoss };
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  }
}
