/**
 * The session outlives its host tab, in real browser tabs over WebRTC (the app's BrowserSessionController,
 * its worker, demo data and the embedded signalling server): the original code and secret still work after a
 * handover, a reloaded host tab resumes its session at the same round, and so does a reloaded successor (the tab that
 * took over), a reloaded client rejoins by itself with its slot and shard.
 * Run inside the network namespace (npm run test:e2e).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';
import type { SessionSettings, SessionState } from '../src/session/types';
import { SESSION_PAGE as PAGE, stateOf, type SessionPageApi as Api } from './harness/session-page';


const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 500,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 60_000,
  decomposition: 'off',
  decompositionEvery: 1,
  codec: 'float16',
  demoPartition: { kind: 'iid' },
  demoClients: 10,
  seed: 7,
  hostTrains: true,
};

const secretOf = (s: SessionState) => new URL(s.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
const ready = async (tab: OpenedPage) => {
  await tab.page.waitForSelector('body[data-ready="true"]');
  return tab;
};
const join = (tab: OpenedPage, code: string, secret: string, name: string) =>
  tab.page.evaluate(({ code, secret, name }) => (window as unknown as Api).fedtab.join(code, secret, name), { code, secret, name });
const host = (tab: OpenedPage, s: SessionSettings) => tab.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'host'), s);

describe('the session outlives its host tab', () => {
  let server: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    assertInsideNetns();
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: [PAGE, 'src/worker/training.worker.ts'] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const open = async () => ready(await openPage(browser, `${server.origin}/${PAGE}`));

  it('after a handover a newcomer joins with the original code and secret, and the new aggregator stops the run', async () => {
    const [first, second] = [await open(), await open()];
    const hostTab = await open();
    await host(hostTab, settings);
    const hosted = await stateOf(hostTab);
    const secret = secretOf(hosted);
    await join(first, hosted.code!, secret, 'first');
    await join(second, hosted.code!, secret, 'second');
    hostTab.page.evaluate(() => (window as unknown as Api).fedtab.start()).catch(() => {}); // the tab is closed mid-run
    await waitUntil('round 1 at the first client', async () => ((await stateOf(first)).rounds.length >= 1 ? true : undefined), 120_000);
    await hostTab.page.close();
    await waitUntil('the first client to aggregate', async () => ((await stateOf(first)).isAggregator ? true : undefined), 60_000);
    await waitUntil('the lobby on the host id', async () => ((await stateOf(first)).log.some((l) => l.text.includes("original link")) ? true : undefined), 60_000);

    // A latecomer uses the original code and secret: it is redirected to the new aggregator.
    const late = await open();
    await join(late, hosted.code!, secret, 'late');
    const lateState = await stateOf(late);
    const firstState = await stateOf(first);
    expect(lateState.aggregatorId).toBe(firstState.selfId);
    // It sees the run's history from round 1, not only the rounds after it joined.
    expect(lateState.rounds[0]?.round).toBe(1);
    await waitUntil('the latecomer at the aggregator', async () => ((await stateOf(first)).peers.some((p) => p.id === lateState.selfId && p.numSamples > 0) ? true : undefined), 60_000);

    // The tab that took over has the host's controls: it stops the run.
    await first.page.evaluate(() => (window as unknown as Api).fedtab.stop());
    const stopped = await waitUntil('the run to stop', async () => {
      const s = await stateOf(first);
      return s.status !== 'running' ? s : undefined;
    }, 180_000);
    expect(stopped.currentRound).toBeLessThan(settings.rounds);
    await Promise.all([first, second, late].map((t) => t.page.close()));
  });

  it('a host tab that reloads resumes its session at the same round, under the same id, and the rounds go on', async () => {
    const hostTab = await open();
    const client = await open();
    await host(hostTab, { ...settings, rounds: 4 });
    const hosted = await stateOf(hostTab);
    await join(client, hosted.code!, secretOf(hosted), 'client');
    await waitUntil('2 clients with data at the host', async () => ((await stateOf(hostTab)).peers.filter((p) => p.numSamples > 0).length === 2 ? true : undefined), 60_000);
    const run = hostTab.page.evaluate(() => (window as unknown as Api).fedtab.start());
    await waitUntil('round 1 at the host', async () => ((await stateOf(hostTab)).rounds.length >= 1 ? true : undefined), 120_000);
    await hostTab.page.evaluate(() => (window as unknown as Api).fedtab.stop());
    await run;
    const before = await stateOf(hostTab);
    expect(before.currentRound).toBeGreaterThanOrEqual(1);
    expect(before.currentRound).toBeLessThan(4);

    await hostTab.page.reload({ waitUntil: 'load' });
    await hostTab.page.waitForSelector('body[data-ready="true"]');
    const offer = await hostTab.page.evaluate(() => (window as unknown as Api).fedtab.resumable());
    expect(offer).toEqual({ code: hosted.code, role: 'host', name: 'host' });
    await hostTab.page.evaluate(() => (window as unknown as Api).fedtab.resume());
    const resumed = await stateOf(hostTab);
    expect(resumed.selfId).toBe(before.selfId);
    expect(resumed.isAggregator).toBe(true);
    expect(resumed.currentRound).toBe(before.currentRound);
    expect(resumed.rounds.map((r) => r.round)).toEqual(before.rounds.map((r) => r.round));

    // The client finds the host again under its id; the run goes on from the next round.
    await waitUntil('the client back at the host', async () => ((await stateOf(hostTab)).peers.filter((p) => p.numSamples > 0).length === 2 ? true : undefined), 60_000);
    await hostTab.page.evaluate(() => (window as unknown as Api).fedtab.start());
    const done = await stateOf(hostTab);
    expect(done.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    expect(done.rounds[done.rounds.length - 1].participants).toHaveLength(2);
    await Promise.all([hostTab, client].map((t) => t.page.close()));
  });

  it('a successor tab that reloads resumes the session at the same round', async () => {
    const hostTab = await open();
    const [first, second] = [await open(), await open()];
    await host(hostTab, { ...settings, rounds: 8 });
    const hosted = await stateOf(hostTab);
    await join(first, hosted.code!, secretOf(hosted), 'first');
    await join(second, hosted.code!, secretOf(hosted), 'second');
    await waitUntil('3 tabs with data at the host', async () => ((await stateOf(hostTab)).peers.filter((p) => p.numSamples > 0).length === 3 ? true : undefined), 60_000);
    hostTab.page.evaluate(() => (window as unknown as Api).fedtab.start()).catch(() => {}); // the tab is closed mid-run
    await waitUntil('round 1 at the first client', async () => ((await stateOf(first)).rounds.length >= 1 ? true : undefined), 120_000);
    await hostTab.page.close();
    // first, next in line, takes over (and the host id's lobby); it stops the run it carried on.
    await waitUntil('the first client to aggregate', async () => ((await stateOf(first)).isAggregator ? true : undefined), 60_000);
    await first.page.evaluate(() => (window as unknown as Api).fedtab.stop());
    const before = await waitUntil('the run to stop at the successor', async () => {
      const s = await stateOf(first);
      return s.status !== 'running' && s.log.some((l) => l.text.includes('original link')) ? s : undefined;
    }, 180_000);
    expect(before.currentRound).toBeGreaterThanOrEqual(1);
    expect(before.currentRound).toBeLessThan(8);

    await first.page.reload({ waitUntil: 'load' });
    await first.page.waitForSelector('body[data-ready="true"]');
    // Offered as to a host: the tab that aggregates is the session's host now.
    const offer = await first.page.evaluate(() => (window as unknown as Api).fedtab.resumable());
    expect(offer).toEqual({ code: hosted.code, role: 'host', name: 'first' });
    await first.page.evaluate(() => (window as unknown as Api).fedtab.resume());
    const resumed = await stateOf(first);
    expect(resumed.selfId).toBe(before.selfId);
    expect(resumed.isAggregator).toBe(true);
    expect(resumed.currentRound).toBe(before.currentRound);
    expect(resumed.rounds.map((r) => r.round)).toEqual(before.rounds.map((r) => r.round));
    expect(resumed.localData?.description).toBe(before.localData?.description);

    // second finds it again under its id, in the same term; the run goes on from the next round.
    await waitUntil('second back at the successor', async () => ((await stateOf(first)).peers.filter((p) => p.numSamples > 0).length === 2 ? true : undefined), 60_000);
    await first.page.evaluate(() => (window as unknown as Api).fedtab.start());
    const done = await stateOf(first);
    expect(done.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(done.rounds[done.rounds.length - 1].participants).toHaveLength(2);
    expect((await stateOf(second)).aggregatorId).toBe(before.selfId);
    await Promise.all([first, second].map((t) => t.page.close()));
  });

  it('a client tab that reloads rejoins by itself, with the same slot and the same demo shard', async () => {
    const hostTab = await open();
    const [ann, bob] = [await open(), await open()];
    await host(hostTab, settings);
    const hosted = await stateOf(hostTab);
    await join(ann, hosted.code!, secretOf(hosted), 'ann');
    await join(bob, hosted.code!, secretOf(hosted), 'bob');
    const shard = (await stateOf(ann)).localData!;
    expect(shard.description).toMatch(/^demo shard 2\/10/);

    await ann.page.reload({ waitUntil: 'load' });
    await ann.page.waitForSelector('body[data-ready="true"]');
    // No click: the reloaded tab goes back into its session on its own.
    const back = await waitUntil('ann back in the session', async () => {
      const s = await stateOf(ann);
      return s.status === 'lobby' && s.localData ? s : undefined;
    }, 60_000);
    expect(back.log.some((l) => l.text === `rejoining session ${hosted.code} after the reload`)).toBe(true);
    expect(back.rejoining).toBeNull();
    expect(back.localData!.description).toBe(shard.description);
    expect(back.localData!.numSamples).toBe(shard.numSamples);
    expect(back.log.some((l) => l.text.includes('as slot 1'))).toBe(true);
    // bob, who joined after ann, keeps his shard too; nobody got ann's old slot.
    expect((await stateOf(bob)).localData!.description).toMatch(/^demo shard 3\/10/);
    await waitUntil('ann with her data at the host', async () => ((await stateOf(hostTab)).peers.some((p) => p.id === back.selfId && p.numSamples === shard.numSamples) ? true : undefined), 60_000);
    await Promise.all([hostTab, ann, bob].map((t) => t.page.close()));
  });
});
