/**
 * A host tab and two client tabs run a real session over WebRTC: the app's BrowserSessionController, its training
 * worker and demo data, the embedded signalling server. Run inside the network namespace (npm run test:e2e).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';
import type { SessionSettings, SessionState } from '../src/session/types';
import type { BrowserSessionController } from '../src/session/controller';

const PAGE = 'e2e/pages/session.html';
type Api = { fedtab: BrowserSessionController };

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedld', lambda: 0.1, rho: 0.8 },
  rounds: 3,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 3,
  fraction: 1,
  roundDeadlineMs: 120_000,
  decomposition: 'exact',
  decompositionEvery: 1,
  codec: 'int8',
  demoPartition: { kind: 'dirichlet', alpha: 0.5 },
  demoClients: 3,
  seed: 7,
  hostTrains: true,
};

const stateOf = (tab: OpenedPage): Promise<SessionState> => tab.page.evaluate(() => (window as unknown as Api).fedtab.getState());

describe('a federated session between three browser tabs over WebRTC', () => {
  let server: AppServer;
  let browser: Browser;
  let tabs: OpenedPage[];

  beforeAll(async () => {
    assertInsideNetns();
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: [PAGE, 'src/worker/training.worker.ts'] });
    browser = await launchChromium();
    tabs = await Promise.all([0, 1, 2].map(() => openPage(browser, `${server.origin}/${PAGE}`)));
    for (const tab of tabs) await tab.page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('host + 2 clients train 3 rounds and the global model improves; the decomposition adds up', async () => {
    const [host, ...clients] = tabs;
    await host.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'teacher'), settings);
    const hosted = await stateOf(host);
    expect(hosted.code).toMatch(/^[A-Z2-9]{6}$/);
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    await Promise.all(
      clients.map((c, i) => c.page.evaluate(({ code, secret, i }) => (window as unknown as Api).fedtab.join(code, secret, `student ${i + 1}`), { code: hosted.code!, secret, i })),
    );
    await waitUntil('3 clients with data at the host', async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === 3 ? true : undefined), 60_000);
    await host.page.evaluate(() => (window as unknown as Api).fedtab.start());
    const final = await stateOf(host);
    expect(final.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const r of final.rounds) {
      expect(r.participants).toHaveLength(3);
      const d = r.decomposition!;
      expect(Math.abs(d.local + d.shift + d.aggregation - d.global)).toBeLessThan(1e-6);
      expect(r.bytesReceived).toBeGreaterThan(0);
    }
    expect(final.rounds[2].loss!).toBeLessThan(final.rounds[0].loss!);
    expect(final.rounds[2].accuracy!).toBeGreaterThan(0.5);
    // The clients saw the same rounds, with the decomposition, and never sent their samples (only counts in the roster).
    const clientState = await stateOf(clients[0]);
    await waitUntil('client 1 to see round 3', async () => ((await stateOf(clients[0])).rounds.length === 3 ? true : undefined));
    expect((await stateOf(clients[0])).rounds[2].decomposition).toEqual(final.rounds[2].decomposition);
    expect(clientState.aggregatorId).toBe(final.selfId);
  });
});
