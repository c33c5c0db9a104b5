/**
 * Training throughput of the fedtab models on the Node backends (cpu, wasm with the conv-gradient patch).
 * Usage: npx tsx scripts/bench-backends.ts [--batches N] [--seconds S]
 * Prints a markdown table of samples/s (batch 32, SGD, softmax cross-entropy from logits).
 */
import * as tf from '@tensorflow/tfjs';
import { cnnSpec, mlpSpec, type ModelSpec } from '../src/fl/models';
import { measureTrainingThroughput, setupNodeBackend, type NodeBackendName } from '../src/fl/backend/node-backend';

const BENCH = {
  batchSize: 32,
  warmupBatches: 3,
  maxBatches: 200,
  budgetSeconds: 5,
} as const;

function argValue(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  if (i < 0) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number, got '${process.argv[i + 1]}'`);
  return value;
}

const models: { label: string; spec: ModelSpec }[] = [
  { label: 'MLP 784-64-10', spec: mlpSpec([28, 28, 1], 10, [64]) },
  { label: 'CNN (models.ts cnnSpec 28x28x1)', spec: cnnSpec([28, 28, 1], 10) },
];
const backends: NodeBackendName[] = ['cpu', 'wasm'];

async function main(): Promise<void> {
  const maxBatches = argValue('--batches') ?? BENCH.maxBatches;
  const budgetMs = (argValue('--seconds') ?? BENCH.budgetSeconds) * 1000;
  const results = new Map<string, number>();
  for (const backend of backends) {
    await setupNodeBackend(backend);
    for (const { label, spec } of models) {
      const before = tf.memory().numTensors;
      const r = await measureTrainingThroughput(spec, { batchSize: BENCH.batchSize, warmupBatches: BENCH.warmupBatches, maxBatches, budgetMs });
      if (tf.memory().numTensors !== before) throw new Error(`tensor leak on ${backend}/${label}: ${before} -> ${tf.memory().numTensors}`);
      results.set(`${backend}|${label}`, r.samplesPerSecond);
      console.error(`${backend.padEnd(4)} ${label}: ${r.samplesPerSecond.toFixed(0)} samples/s over ${r.timedBatches} batches (loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)})`);
    }
  }
  console.log(`\nNode ${process.version}, batch ${BENCH.batchSize}, samples/s (higher is better)\n`);
  console.log(`| model | ${backends.join(' | ')} | wasm / cpu |`);
  console.log(`|---|${backends.map(() => '---:').join('|')}|---:|`);
  for (const { label } of models) {
    const cells = backends.map((b) => Math.round(results.get(`${b}|${label}`) ?? NaN).toString());
    const ratio = (results.get(`wasm|${label}`) ?? NaN) / (results.get(`cpu|${label}`) ?? NaN);
    console.log(`| ${label} | ${cells.join(' | ')} | ${ratio.toFixed(1)}x |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
