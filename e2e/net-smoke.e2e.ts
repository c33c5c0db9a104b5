/**
 * Two Chromium tabs talk through PeerTransport over real WebRTC, with signalling served by the app's own
 * Vite server. Run inside the network namespace: bash e2e/run-netns.sh npx vitest run -c vitest.e2e.config.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NETNS_ADDRESS, assertInsideNetns } from './harness/netns';
import { startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';
import { updateValue, weightedChecksum, type NetSmokeApi, type ReceivedSummary } from './pages/net-smoke-api';

const PAGE = 'e2e/pages/net-smoke.html';
/** Float32 values per big update: about 750 KB of JSON, so several 256 KB frames. */
const BIG_FLOATS = 45_000;

type Api = { netSmoke: NetSmokeApi };

function expectedChecksum(floats: number): number {
  const values = new Float32Array(floats);
  for (let i = 0; i < floats; i++) values[i] = updateValue(i);
  return weightedChecksum(values);
}

async function receivedBy(page: Page): Promise<ReceivedSummary[]> {
  return page.evaluate(() => (window as unknown as Api).netSmoke.received());
}

describe('PeerTransport between two browser tabs', () => {
  let server: AppServer;
  let browser: Browser;
  let tabA: OpenedPage;
  let tabB: OpenedPage;

  beforeAll(async () => {
    assertInsideNetns();
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: [PAGE] });
    browser = await launchChromium();
    [tabA, tabB] = await Promise.all([openPage(browser, `${server.origin}/${PAGE}`), openPage(browser, `${server.origin}/${PAGE}`)]);
    for (const tab of [tabA, tabB]) await tab.page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("serves the page with Vite's HMR socket working and tells it the LAN URL", async () => {
    await waitUntil('the Vite client to connect its HMR socket', async () =>
      tabA.console.some((line) => line.includes('[vite] connected')) ? true : undefined,
    );
    const urls = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.serverUrls());
    expect(urls.urls).toEqual([`http://${NETNS_ADDRESS}:${server.port}/`]);
  });

  it('connects through the embedded signalling server', async () => {
    expect(await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.start('tab-a'))).toBe('tab-a');
    expect(await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.start('tab-b'))).toBe('tab-b');
    await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.connect('tab-a'));
    expect(await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.connectedPeers())).toEqual(['tab-a']);
    await waitUntil('tab A to see tab B join', async () => {
      const joined = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.joined());
      return joined.includes('tab-b') ? true : undefined;
    });
    // What the session does once the join handshake succeeded: without it only small handshake messages pass.
    await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.admit('tab-b'));
    await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.admit('tab-a'));
  });

  it('rejects a connection to an id the signalling server does not know, naming it', async () => {
    const outcome = await tabB.page.evaluate(() =>
      (window as unknown as Api).netSmoke.connect('nobody-here').then(
        () => 'connected',
        (error: Error) => error.message,
      ),
    );
    expect(outcome).toBe('peer nobody-here is not known to the signalling server');
    expect(await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.connectedPeers())).toEqual(['tab-a']);
  });

  it('exchanges small and multi-frame (> 600 KB) messages both ways', async () => {
    await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.sendBye('tab-b', 'hello from A'));
    await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.sendBye('tab-a', 'hello from B'));
    await tabB.page.evaluate((n) => (window as unknown as Api).netSmoke.sendUpdate('tab-a', n), BIG_FLOATS);
    await tabA.page.evaluate((n) => (window as unknown as Api).netSmoke.sendUpdate('tab-b', n), BIG_FLOATS);

    const expected = { type: 'update', values: BIG_FLOATS, checksum: expectedChecksum(BIG_FLOATS) };
    for (const [tab, from] of [
      [tabA, 'tab-b'],
      [tabB, 'tab-a'],
    ] as const) {
      const got = await waitUntil(`two messages at the tab receiving from ${from}`, async () => {
        const received = await receivedBy(tab.page);
        return received.length >= 2 ? received : undefined;
      });
      expect(got).toEqual([
        { from, type: 'bye', reason: `hello from ${from === 'tab-a' ? 'A' : 'B'}` },
        { from, ...expected },
      ]);
    }

    const sentByB = await tabB.page.evaluate(() => (window as unknown as Api).netSmoke.traffic('tab-a'));
    const seenByA = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.traffic('tab-b'));
    expect(sentByB.bytesSent).toBeGreaterThan(600_000);
    expect(seenByA.bytesReceived).toBe(sentByB.bytesSent);
    expect(seenByA.bytesSent).toBe(sentByB.bytesReceived);
    expect(sentByB).toMatchObject({ messagesSent: 2, messagesReceived: 2, messagesDropped: 0 });
  });

  it('tells the remaining tab when the other tab is closed', async () => {
    const closedAt = Date.now();
    await tabB.page.context().close();
    const left = await waitUntil(
      'tab A to see tab B leave',
      async () => {
        const ids = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.left());
        return ids.length > 0 ? ids : undefined;
      },
      15_000,
    );
    expect(left).toEqual(['tab-b']);
    expect(await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.connectedPeers())).toEqual([]);
    const errors = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.errors());
    const how = errors.some((e) => /sent nothing/.test(e.message)) ? 'heartbeat silence' : 'channel close';
    console.info(`tab A saw tab B leave after ${Date.now() - closedAt} ms (${how})`);
    // A send to the departed tab is dropped, not thrown.
    await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.sendBye('tab-b', 'too late'));
    expect(tabA.problems).toEqual([]);
  });

  it('tells the remaining tab when another tab freezes (heartbeat silence)', async () => {
    const tabC = await openPage(browser, `${server.origin}/${PAGE}`);
    await tabC.page.waitForSelector('body[data-ready="true"]');
    await tabC.page.evaluate(() => (window as unknown as Api).netSmoke.start('tab-c'));
    await tabC.page.evaluate(() => (window as unknown as Api).netSmoke.connect('tab-a'));
    await waitUntil('tab A to see tab C join', async () => {
      const joined = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.joined());
      return joined.includes('tab-c') ? true : undefined;
    });
    await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.admit('tab-c'));
    // Tab C's main thread hangs: its DataChannel stays open at the network level but it sends nothing.
    await tabC.page.evaluate(() => {
      setTimeout(() => {
        const end = Date.now() + 20_000;
        while (Date.now() < end) {
          /* frozen */
        }
      }, 0);
    });
    const frozenAt = Date.now();
    const left = await waitUntil(
      'tab A to drop the frozen tab C',
      async () => {
        const ids = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.left());
        return ids.includes('tab-c') ? ids : undefined;
      },
      15_000,
    );
    expect(left).toEqual(['tab-b', 'tab-c']);
    const errors = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.errors());
    expect(errors.some((e) => e.peerId === 'tab-c' && /sent nothing/.test(e.message))).toBe(true);
    console.info(`tab A dropped the frozen tab C after ${Date.now() - frozenAt} ms`);
  });

  it('closes a connection that sends a large message before its peer is admitted, and delivers none of it', async () => {
    const tabD = await openPage(browser, `${server.origin}/${PAGE}`);
    await tabD.page.waitForSelector('body[data-ready="true"]');
    await tabD.page.evaluate(() => (window as unknown as Api).netSmoke.start('tab-d'));
    await tabD.page.evaluate(() => (window as unknown as Api).netSmoke.connect('tab-a'));
    // Tab D plays a hostile peer: its own transport lets it send anything to tab A (an honest one would not).
    await tabD.page.evaluate(() => (window as unknown as Api).netSmoke.admit('tab-a'));
    await tabD.page.evaluate((n) => (window as unknown as Api).netSmoke.sendUpdate('tab-a', n), BIG_FLOATS);
    const rejections = await waitUntil('tab A to close the connection of tab D', async () => {
      const counts = await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.rejections());
      return counts.oversized > 0 ? counts : undefined;
    });
    expect(rejections.oversized).toBe(1);
    expect(await tabA.page.evaluate(() => (window as unknown as Api).netSmoke.connectedPeers())).not.toContain('tab-d');
    expect((await receivedBy(tabA.page)).filter((r) => r.from === 'tab-d')).toEqual([]);
    expect(tabA.problems).toEqual([]);
  });
});
