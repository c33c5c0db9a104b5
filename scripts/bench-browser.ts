/**
 * In-browser training throughput: samples/s of each TensorFlow.js backend inside the training worker, the
 * backend the auto probe picks, and the longest main-thread task while the worker trains; next to the Node
 * simulator's throughput (tfjs cpu, and wasm with the conv-gradient patch) on the same data and training loop.
 * Usage: npm run bench:browser   (= tsx scripts/bench-browser.ts [--measure-seconds S] [--no-write])
 * Writes docs/benchmarks/browser.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setupNodeBackend, type NodeBackendName } from '../src/fl/backend/node-backend';
import { loadMnistNode } from '../src/fl/data/node-loaders';
import { TfLocalTrainer } from '../src/fl/local-trainer';
import { buildModel, cnnSpec, getWeights, mlpSpec, type ModelSpec } from '../src/fl/models';
import { DATA_CONFIG } from '../src/data/config';
import { demoShard, type DemoShardSpec } from '../src/data/demo';
import type { BackendName } from '../src/worker/backend-names';
import { BACKEND_NAMES } from '../src/worker/backend-names';
import { steadyThroughput, type ProgressSample, type SteadyThroughput } from '../src/worker/throughput';
import { ensureDemoData, launchChromium, openWorkerTestPage, startWorkerTestServer } from '../e2e/worker-harness';
import { REPO_ROOT } from '../e2e/harness/app-server';

const BENCH = {
  batchSize: 32,
  /** Batches not timed at the start of each measurement (shader compilation, weight packing). */
  warmupBatches: 3,
  /** Timed training per backend after the warm-up. */
  measureSeconds: 3,
  /** iid shard: 1/4 of the 10k pool, 80% of it to train on. */
  shard: { partition: { kind: 'iid' }, seed: 1, numClients: 4, slot: 0 } satisfies DemoShardSpec,
  /** Picked backend should be within this fraction of the fastest. */
  pickTolerance: 0.1,
  /** Measured one after another; the GPU ones last so their background shader work cannot slow the others. */
  browserOrder: ['wasm', 'cpu', 'webgl', 'webgpu'] as BackendName[],
  nodeBackends: ['cpu', 'wasm'] as NodeBackendName[],
  docPath: join(REPO_ROOT, 'docs/benchmarks/browser.md'),
} as const;

const MODELS: { label: string; spec: ModelSpec }[] = [
  { label: 'MLP 784-64-10', spec: mlpSpec([28, 28, 1], 10, [64]) },
  { label: 'CNN conv8-conv16-fc32 (cnnSpec)', spec: cnnSpec([28, 28, 1], 10) },
];

function argNumber(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`${flag} needs a positive number, got '${process.argv[i + 1]}'`);
  return v;
}

interface BrowserRow {
  backend: BackendName;
  used: string;
  notices: string[];
  steady: SteadyThroughput | null;
  longestTaskMs: number;
  probe?: number;
  probeError?: string;
}

interface ModelResult {
  label: string;
  picked: string;
  pickReason: string;
  selectionMs: number;
  rows: BrowserRow[];
  node: Map<NodeBackendName, SteadyThroughput | null>;
}

/** Node: the same TfLocalTrainer/trainLocal loop on the same shard, timed the same way. */
async function measureNode(spec: ModelSpec, backend: NodeBackendName, measureMs: number): Promise<SteadyThroughput | null> {
  await setupNodeBackend(backend);
  const pool = loadMnistNode('train', DATA_CONFIG.demo.trainCount);
  const shard = demoShard(pool, BENCH.shard);
  const trainer = new TfLocalTrainer(shard.train, shard.eval, () => backend);
  const initial = buildModel(spec, 1);
  const weights = await getWeights(initial);
  initial.dispose();
  const samples: ProgressSample[] = [];
  let timingFrom: number | null = null;
  let stop = false;
  const start = performance.now();
  await trainer.train(
    { round: 0, model: spec, strategy: { name: 'fedavg' }, train: { localEpochs: 1000, batchSize: BENCH.batchSize, learningRate: 0.01, seed: 1 }, weights },
    {
      onProgress: (p) => {
        const now = performance.now();
        const batches = p.epoch * p.batchesPerEpoch + p.batch;
        samples.push({ batches, t: now });
        if (batches >= BENCH.warmupBatches) timingFrom ??= now;
        if (timingFrom !== null && now - timingFrom >= measureMs) stop = true;
      },
      shouldCancel: () => stop,
    },
  );
  trainer.dispose();
  return steadyThroughput(samples, BENCH.batchSize, BENCH.warmupBatches, start);
}

const fmtRate = (s: SteadyThroughput | null | undefined) => (s ? Math.round(s.samplesPerSecond).toLocaleString('en-US') : 'n/a');
const fmtSec = (ms: number | undefined) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(1));

function markdown(results: ModelResult[], meta: { chromium: string; node: string; cpus: string; seconds: number; totalSeconds: number; command: string }): string {
  const lines: string[] = [];
  lines.push('# In-browser training throughput');
  lines.push('');
  lines.push(`Produced by \`${meta.command}\` on ${new Date().toISOString().slice(0, 10)}: ${meta.cpus}, Chromium ${meta.chromium} headless`);
  lines.push('(`--enable-unsafe-webgpu`: a SwiftShader software WebGPU adapter, no GPU), Node ' + meta.node + `. Whole run: ${meta.totalSeconds.toFixed(0)} s.`);
  lines.push('');
  lines.push(`Method: one iid demo shard (${BENCH.shard.numClients} clients, slot 0: MNIST 28x28x1), batch ${BENCH.batchSize}, the real`);
  lines.push(`round loop (TfLocalTrainer/trainLocal: momentum SGD, a loss read-back per batch). Steady samples/s = batches after the first`);
  lines.push(`${BENCH.warmupBatches} (warm-up) over ${meta.seconds} s of training, from the worker's throttled progress events; then the round is cancelled.`);
  lines.push('Node runs the same trainer on the same shard, timed the same way. "Probe" is the auto selection\'s short measurement');
  lines.push('(1 warm-up batch + <= 0.7 s); "longest main-thread task" is the longest Long Tasks API entry (> 50 ms) while the');
  lines.push('worker trained (0 = none).');
  lines.push('');
  lines.push('"not probed" for webgpu: auto skips a software fallback adapter (`WORKER_CONFIG.probe.skipFallbackWebgpu`); the row');
  lines.push('is measured by forcing it. Numbers move by 10-20% between runs on this shared 2-core machine.');
  lines.push('');
  for (const r of results) {
    lines.push(`## ${r.label}`);
    lines.push('');
    lines.push('| where | backend | steady samples/s | warm-up until timing (s) | probe samples/s | longest main-thread task (ms) |');
    lines.push('|---|---|---:|---:|---:|---:|');
    for (const row of r.rows) {
      const used = row.used === row.backend ? row.backend : `${row.backend} -> ${row.used} (fallback)`;
      const probe = row.probe !== undefined ? Math.round(row.probe).toLocaleString('en-US') : (row.probeError ? 'not probed' : 'n/a');
      lines.push(`| worker | ${used} | ${fmtRate(row.steady)} | ${fmtSec(row.steady?.warmupMs)} | ${probe} | ${Math.round(row.longestTaskMs)} |`);
    }
    for (const [b, s] of r.node) lines.push(`| Node | ${b}${b === 'wasm' ? ' (conv-grad patch)' : ''} | ${fmtRate(s)} | ${fmtSec(s?.warmupMs)} | | |`);
    lines.push('');
    const measured = r.rows.filter((row) => row.steady && row.used === row.backend);
    const fastest = measured.reduce((a, b) => (b.steady!.samplesPerSecond > a.steady!.samplesPerSecond ? b : a));
    const picked = measured.find((row) => row.backend === r.picked);
    const pickedRate = picked?.steady?.samplesPerSecond ?? 0;
    const ratio = pickedRate / fastest.steady!.samplesPerSecond;
    const nodeBest = Math.max(...[...r.node.values()].map((s) => s?.samplesPerSecond ?? 0));
    lines.push(`- Auto probe picked **${r.picked}** in ${fmtSec(r.selectionMs)} s (${r.pickReason}).`);
    lines.push(
      `- Picked vs fastest steady (${fastest.backend}): ${(ratio * 100).toFixed(0)}% -> target "within ${BENCH.pickTolerance * 100}%" ${ratio >= 1 - BENCH.pickTolerance ? '**met**' : '**missed**'}.`,
    );
    lines.push(
      `- Worker (${r.picked}, ${fmtRate(picked?.steady)}) vs best Node (${Math.round(nodeBest).toLocaleString('en-US')}): ${(pickedRate / nodeBest).toFixed(2)}x -> target "worker >= Node" ${pickedRate >= nodeBest ? '**met**' : '**missed**'}.`,
    );
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const seconds = argNumber('--measure-seconds') ?? BENCH.measureSeconds;
  const measureMs = seconds * 1000;
  ensureDemoData();
  const server = await startWorkerTestServer();
  const browser = await launchChromium({ webgpu: true });
  const results: ModelResult[] = [];
  try {
    const page = await openWorkerTestPage(browser, server.origin, (l) => console.error(l));
    for (const { label, spec } of MODELS) {
      // A fresh worker per model, so the probe starts cold like a new tab would.
      await page.evaluate(() => window.workerTest.reset());
      await page.evaluate((s) => window.workerTest.loadDemo(s), BENCH.shard);
      const report = await page.evaluate((m) => window.workerTest.selectBackend('auto', m), spec);
      console.error(`${label}: auto picked ${report.backend} in ${(report.selectionMs / 1000).toFixed(1)} s (${report.reason})`);
      const rows: BrowserRow[] = [];
      for (const backend of BENCH.browserOrder) {
        const m = await page.evaluate((o) => window.workerTest.measureSustained(o), { model: spec, backend, batchSize: BENCH.batchSize, warmupBatches: BENCH.warmupBatches, measureMs });
        const probe = report.probes.find((p) => p.backend === backend);
        rows.push({ backend, used: m.backend, notices: m.notices, steady: m.steady, longestTaskMs: m.longestMainThreadTaskMs, probe: probe?.samplesPerSecond, probeError: probe?.error });
        console.error(`  worker ${backend}${m.backend !== backend ? ` (-> ${m.backend})` : ''}: ${fmtRate(m.steady)} samples/s, warm-up ${fmtSec(m.steady?.warmupMs)} s, longest main-thread task ${Math.round(m.longestMainThreadTaskMs)} ms`);
      }
      rows.sort((a, b) => BACKEND_NAMES.indexOf(a.backend) - BACKEND_NAMES.indexOf(b.backend));
      results.push({ label, picked: report.backend, pickReason: report.reason, selectionMs: report.selectionMs, rows, node: new Map() });
    }
    const chromium = browser.version();
    await browser.close();
    await server.close();
    for (const r of results) {
      const spec = MODELS.find((m) => m.label === r.label)!.spec;
      for (const b of BENCH.nodeBackends) {
        const s = await measureNode(spec, b, measureMs);
        r.node.set(b, s);
        console.error(`  Node ${b} ${r.label}: ${fmtRate(s)} samples/s`);
      }
    }
    const md = markdown(results, {
      chromium,
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
      seconds,
      totalSeconds: (performance.now() - t0) / 1000,
      command: `npm run bench:browser${seconds !== BENCH.measureSeconds ? ` -- --measure-seconds ${seconds}` : ''}`,
    });
    console.log(md);
    if (!process.argv.includes('--no-write')) {
      writeFileSync(BENCH.docPath, md + '\n');
      console.error(`wrote ${BENCH.docPath}`);
    }
  } finally {
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
  }
}

main().then(
  // Vite's dev server leaves handles open after close(); the work is done, so exit explicitly.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
