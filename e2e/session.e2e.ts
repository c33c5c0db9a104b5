/**
 * A host tab and two client tabs run a real session over WebRTC: the app's BrowserSessionController, its training
 * worker and demo data, the embedded signalling server. Run inside the network namespace (npm run test:e2e).
 */
import { describe, expect, it } from 'vitest';
import { openPage, waitUntil } from './harness/browser';
import type { SessionSettings } from '../src/session/types';
import { SESSION_PAGE as PAGE, sessionTabsForFile, stateOf, type SessionPageApi as Api } from './harness/session-page';


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


describe('a federated session between three browser tabs over WebRTC', () => {
  const session = sessionTabsForFile(3);

  it('host + 2 clients train 3 rounds and the global model improves; the decomposition adds up', async () => {
    const tabs = session.tabs;
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
    // Every tab decoded its peers' large messages in its decode worker, which started (no fallback to the main thread).
    for (const tab of tabs) {
      expect(tab.page.workers().some((w) => w.url().includes('decode.worker'))).toBe(true);
      expect(tab.console.filter((line) => line.includes('on the main thread'))).toEqual([]);
    }
  });

  it('when the aggregating tab closes, the earliest-joined client takes over and the rounds go on', async () => {
    const fresh = await Promise.all([0, 1, 2].map(() => openPage(session.browser, `${session.server.origin}/${PAGE}`)));
    for (const tab of fresh) await tab.page.waitForSelector('body[data-ready="true"]');
    const [host, first, second] = fresh;
    await host.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'host'), { ...settings, rounds: 5, minClients: 2, codec: 'float16' as const });
    const hosted = await stateOf(host);
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    for (const [i, c] of [first, second].entries()) {
      // One after the other, so the join order (and so the successor) is known.
      await c.page.evaluate(({ code, secret, i }) => (window as unknown as Api).fedtab.join(code, secret, `client ${i + 1}`), { code: hosted.code!, secret, i });
    }
    await waitUntil('3 clients with data at the host', async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === 3 ? true : undefined), 60_000);
    host.page.evaluate(() => (window as unknown as Api).fedtab.start()).catch(() => {}); // the tab is closed mid-run
    await waitUntil('round 2 at the first client', async () => ((await stateOf(first)).rounds.length >= 2 ? true : undefined), 120_000);
    await host.page.close();
    await waitUntil('the first client to aggregate', async () => ((await stateOf(first)).isAggregator ? true : undefined), 60_000);
    const done = await waitUntil('round 5 at the new aggregator', async () => {
      const s = await stateOf(first);
      return s.rounds.some((r) => r.round === 5) && s.status !== 'running' ? s : undefined;
    }, 180_000);
    const rounds = done.rounds.map((r) => r.round);
    expect(rounds[rounds.length - 1]).toBe(5);
    expect(new Set(rounds).size).toBe(rounds.length); // no round twice
    const secondState = await stateOf(second);
    expect(secondState.aggregatorId).toBe(done.selfId);
    expect(done.log.some((l) => l.text.includes('this tab now aggregates'))).toBe(true);
    expect(done.rounds[done.rounds.length - 1].participants).toHaveLength(2);
  });
});
