/**
 * The training worker in headless Chromium: demo shard loading, auto backend choice, rounds with the right
 * update layout and a stable tensor count, forced-backend fallback, cancel, backend loss, and local data
 * import -> IndexedDB -> worker -> forget. Run: npx vitest run -c vitest.e2e.config.ts e2e/worker.e2e.ts
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppServer } from './harness/app-server';
import { ensureDemoData, launchChromium, openWorkerTestPage, startWorkerTestServer } from './worker-harness';
import { cnnSpec, mlpSpec } from '../src/fl/models';
import type { DemoShardSpec } from '../src/data/demo';
import { WORKER_CONFIG } from '../src/worker/config';

const MLP = mlpSpec([28, 28, 1], 10, [32]);
const CNN = cnnSpec([28, 28, 1], 10);
const SHARD: DemoShardSpec = { partition: { kind: 'dirichlet', alpha: 0.5 }, seed: 3, numClients: 5, slot: 2 };
const TRAIN = { localEpochs: 1, batchSize: 32, learningRate: 0.05, seed: 1 };

let server: AppServer;
const pageLog: string[] = [];

beforeAll(async () => {
  ensureDemoData();
  server = await startWorkerTestServer();
});

afterAll(async () => {
  await server?.close();
});

describe('training worker in Chromium without WebGPU', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: false });
    page = await openWorkerTestPage(browser, server.origin, (l) => pageLog.push(l));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads a demo shard, picks the fastest probed backend and trains 2 rounds with correct updates', async () => {
    const info = await page.evaluate((s) => window.workerTest.loadDemo(s), SHARD);
    expect(info.source).toBe('demo');
    expect(info.inputShape).toEqual([28, 28, 1]);
    expect(info.labelHistogram.reduce((a, b) => a + b, 0)).toBe(info.trainSamples);
    // The eval split is ~20% of the shard.
    expect(info.evalSamples / (info.trainSamples + info.evalSamples)).toBeCloseTo(0.2, 1);

    const report = await page.evaluate((m) => window.workerTest.selectBackend('auto', m), MLP);
    const ok = report.probes.filter((p) => p.ok);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    const fastest = ok.reduce((a, b) => ((b.samplesPerSecond ?? 0) > (a.samplesPerSecond ?? 0) ? b : a));
    expect(report.backend).toBe(fastest.backend);
    expect(report.probes.find((p) => p.backend === 'webgpu')?.ok).toBe(false);
    expect(report.adapter).toBeNull();

    const expectedLayout = await page.evaluate((m) => window.workerTest.initialLayout(m), MLP);
    const rounds = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: MLP, rounds: 2, train: TRAIN });
    expect(rounds).toHaveLength(2);
    for (const r of rounds) {
      expect(r.backend).toBe(report.backend);
      expect(r.layout).toEqual(expectedLayout);
      expect(r.numSamples).toBe(info.trainSamples);
      expect(r.cancelled).toBe(false);
      expect(r.switches).toEqual([]);
      expect(r.deltaNorm).toBeGreaterThan(0);
      expect(r.metrics.evalAccuracy).toBeGreaterThan(0.3);
      expect(r.maxProgressPerSecond).toBeLessThanOrEqual(WORKER_CONFIG.progressMaxPerSecond);
    }
    expect(rounds[1].metrics.trainLoss).toBeLessThan(rounds[0].metrics.trainLoss);
    expect(rounds[1].numTensorsAfter).toBe(rounds[0].numTensorsAfter);
  });

  it('trains the CNN on the auto-chosen backend', async () => {
    const report = await page.evaluate((m) => window.workerTest.selectBackend('auto', m), CNN);
    const wasm = report.probes.find((p) => p.backend === 'wasm');
    // The conv-gradient patch is registered in the worker, so wasm can train the CNN.
    expect(wasm?.ok).toBe(true);
    const expectedLayout = await page.evaluate((m) => window.workerTest.initialLayout(m), CNN);
    const [r] = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: CNN, rounds: 1, train: TRAIN });
    expect(r.backend).toBe(report.backend);
    expect(r.layout).toEqual(expectedLayout);
    expect(r.layout.map((t) => t.name)).toContain('conv1/kernel');
  });

  it('keeps the tensor count stable over 50 rounds of a small model', async () => {
    await page.evaluate((s) => window.workerTest.loadDemo(s), { partition: { kind: 'iid' }, seed: 1, numClients: 40, slot: 0 } satisfies DemoShardSpec);
    const small = mlpSpec([28, 28, 1], 10, [8]);
    await page.evaluate((m) => window.workerTest.selectBackend('auto', m), small);
    const rounds = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: small, rounds: 50, train: TRAIN });
    const counts = rounds.map((r) => r.numTensorsAfter);
    expect(new Set(counts)).toEqual(new Set([counts[0]]));
    // The trainer holds the model's 4 weight tensors between rounds, nothing else.
    expect(counts[0]).toBe(4);
  });

  it('falls back from an unavailable forced backend, and from an unknown name, with a message', async () => {
    await page.evaluate((s) => window.workerTest.loadDemo(s), SHARD);
    const forced = await page.evaluate((m) => window.workerTest.selectBackend('webgpu', m), MLP);
    expect(forced.backend).toBe('webgl');
    expect(forced.notices.join(' ')).toMatch(/requested backend 'webgpu' is not available .*falling back to 'webgl'/);
    const [r] = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: MLP, rounds: 1, train: TRAIN });
    expect(r.backend).toBe('webgl');
    expect(r.deltaNorm).toBeGreaterThan(0);

    const bogus = await page.evaluate((m) => window.workerTest.selectBackend('tpu', m), MLP);
    expect(bogus.notices.join(' ')).toContain("unknown backend 'tpu'");
    expect(bogus.probes.filter((p) => p.ok).map((p) => p.backend)).toContain(bogus.backend);
  });

  it('cancels a running round after its current batch and trains normally afterwards', async () => {
    await page.evaluate((m) => window.workerTest.selectBackend('cpu', m), MLP);
    const r = await page.evaluate((o) => window.workerTest.cancelRound(o), { model: MLP, train: { ...TRAIN, localEpochs: 20 }, afterEvents: 3 });
    expect(r.cancelled).toBe(true);
    expect(r.lastEpochSeen).toBeLessThan(r.localEpochs - 1);
    expect(r.msFromCancelToResult).toBeLessThan(3_000);
    expect(r.nextRoundCancelled).toBe(false);
    expect(r.nextRoundFinite).toBe(true);
  });

  it('redoes the round on the next backend when the WebGL context is lost mid-round', async () => {
    await page.evaluate(() => window.workerTest.reset());
    const info = await page.evaluate((s) => window.workerTest.loadDemo(s), SHARD);
    const forced = await page.evaluate((m) => window.workerTest.selectBackend('webgl', m), MLP);
    expect(forced.backend).toBe('webgl');
    const expectedLayout = await page.evaluate((m) => window.workerTest.initialLayout(m), MLP);
    const [r, ...after] = await page.evaluate((o) => window.workerTest.trainRounds(o), {
      model: MLP,
      rounds: 3,
      train: { ...TRAIN, localEpochs: 3 },
      loseBackendAfterEvents: 2,
    });
    expect(r.switches).toHaveLength(1);
    expect(r.switches[0].from).toBe('webgl');
    expect(r.switches[0].reason).toMatch(/WebGL context lost/);
    expect(r.backend).toBe(r.switches[0].to);
    expect(r.cancelled).toBe(false);
    expect(r.numSamples).toBe(info.trainSamples);
    expect(r.layout).toEqual(expectedLayout);
    expect(r.metrics.evalAccuracy).toBeGreaterThan(0.3);
    // The next rounds stay on the new backend without growing the tensor count. (Tensors of a run abandoned on the
    // lost context can stay counted once: their reads never settle, so their finally blocks never run.)
    expect(after.map((x) => x.backend)).toEqual([r.backend, r.backend]);
    expect(after.map((x) => x.switches)).toEqual([[], []]);
    expect(after[1].numTensorsAfter).toBe(after[0].numTensorsAfter);
  });

  it('imports an image folder into IndexedDB, reports bad files, trains on it in the worker and forgets it', async () => {
    const twoClass = mlpSpec([28, 28, 1], 2, [8]);
    const r = await page.evaluate((m) => window.workerTest.importFolderRoundTrip(m), twoClass);
    expect(r.classNames).toEqual(['circle', 'square']);
    expect(r.summary?.trainSamples).toBe(16);
    expect(r.summary?.evalSamples).toBe(4);
    expect(r.problems).toHaveLength(2);
    expect(r.problems.join('\n')).toMatch(/broken\.png: cannot be decoded as an image/);
    expect(r.problems.join('\n')).toMatch(/notes\.txt: skipped, not an image file/);
    // 28x28 area fractions of the drawn shapes: square 20x20 of 40x40 = 25% white, circle pi*10^2/1600 = 19.6%.
    expect(r.meanByClass[1]).toBeGreaterThan(0.22 * 255);
    expect(r.meanByClass[1]).toBeLessThan(0.28 * 255);
    expect(r.meanByClass[0]).toBeGreaterThan(0.17 * 255);
    expect(r.meanByClass[0]).toBeLessThan(0.22 * 255);
    expect(r.info.source).toBe('stored');
    expect(r.info.trainSamples).toBe(16);
    expect(r.roundSamples).toBe(16);
    expect(r.roundLayout.map((t) => t.shape)).toEqual([[784, 8], [8], [8, 2], [2]]);
    expect(r.afterForget).toMatch(/no local data is stored/);
    expect(r.storedAfterForget).toBe(false);
  });
});

describe('training worker in Chromium with WebGPU (SwiftShader)', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
    page = await openWorkerTestPage(browser, server.origin, (l) => pageLog.push(l));
    await page.evaluate((s) => window.workerTest.loadDemo(s), SHARD);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('reports the adapter, skips the software adapter in auto, and trains on webgpu when forced', async () => {
    const auto = await page.evaluate((m) => window.workerTest.selectBackend('auto', m), MLP);
    expect(auto.adapter?.isFallbackAdapter).toBe(true);
    expect(auto.adapter?.vendor).not.toBe('');
    expect(auto.probes.find((p) => p.backend === 'webgpu')?.error).toMatch(/software fallback/);

    const forced = await page.evaluate((m) => window.workerTest.selectBackend('webgpu', m), MLP);
    expect(forced.backend).toBe('webgpu');
    expect(forced.notices).toEqual([]);
    const [r] = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: MLP, rounds: 1, train: TRAIN });
    expect(r.backend).toBe('webgpu');
    expect(r.deltaNorm).toBeGreaterThan(0);
    // Weights and eval metrics are read asynchronously: WebGPU's synchronous read returns zeros here.
    expect(r.metrics.evalAccuracy).toBeGreaterThan(0.3);
  });

  it('redoes the round on the next backend when the WebGPU device is lost mid-round', async () => {
    const forced = await page.evaluate((m) => window.workerTest.selectBackend('webgpu', m), MLP);
    expect(forced.backend).toBe('webgpu');
    const [r, next] = await page.evaluate((o) => window.workerTest.trainRounds(o), { model: MLP, rounds: 2, train: { ...TRAIN, localEpochs: 2 }, loseBackendAfterEvents: 2 });
    expect(r.switches.map((s) => s.from)).toEqual(['webgpu']);
    expect(r.switches[0].reason).toMatch(/WebGPU device lost/);
    expect(r.backend).toBe(r.switches[0].to);
    expect(r.metrics.evalAccuracy).toBeGreaterThan(0.3);
    expect(next.backend).toBe(r.backend);
    expect(next.numTensorsAfter).toBe(r.numTensorsAfter);
  });
});

afterAll(() => {
  if (pageLog.length > 0) console.log(`page log:\n${pageLog.join('\n')}`);
});
