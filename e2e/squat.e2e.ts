/**
 * A host's signalling socket drops mid-session and a stranger registers the host's peer id (an attacker who learned
 * it). The session carries on over the open WebRTC connections; a new joiner reaches the stranger, which cannot
 * prove it knows the join secret, so the joiner sends it nothing but its auth-hello and says why it cannot join;
 * the stranger never sees the secret. When the stranger leaves, the host reclaims its id and new tabs can join.
 * Run inside the network namespace (npm run test:e2e).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { startAppServer, type AppServer } from './harness/app-server';
import { launchChromium, openPage, waitUntil, type OpenedPage } from './harness/browser';
import type { SessionSettings } from '../src/session/types';
import { SESSION_PAGE, stateOf, type SessionPageApi as Api } from './harness/session-page';
import type { StrangerRecord } from './pages/stranger';

const STRANGER_PAGE = 'e2e/pages/stranger.html';
type StrangerApi = { stranger: { register(id: string): Promise<string>; records(): StrangerRecord[]; connections(): number; leave(): void } };

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 2,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 120_000,
  decomposition: 'off',
  decompositionEvery: 1,
  codec: 'float16',
  demoPartition: { kind: 'iid' },
  demoClients: 3,
  seed: 11,
  hostTrains: true,
};


/** Starts join() in the page and reports how it ended, never throwing. */
const tryJoin = (tab: OpenedPage, code: string, secret: string, name: string): Promise<string> =>
  tab.page.evaluate(
    ({ code, secret, name }) =>
      (window as unknown as Api).fedtab.join(code, secret, name).then(
        () => 'joined',
        (e: Error) => `failed: ${e.message}`,
      ),
    { code, secret, name },
  );

describe('a stranger takes over the host id while the host is off the signalling server', () => {
  let server: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    assertInsideNetns();
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', entries: [SESSION_PAGE, STRANGER_PAGE, 'src/worker/training.worker.ts'] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the session carries on, the stranger receives no application message and no secret, and the host gets its id back', async () => {
    const [host, member, joiner, late] = await Promise.all([0, 1, 2, 3].map(() => openPage(browser, `${server.origin}/${SESSION_PAGE}`)));
    const strangerTab = await openPage(browser, `${server.origin}/${STRANGER_PAGE}`);
    for (const tab of [host, member, joiner, late, strangerTab]) await tab.page.waitForSelector('body[data-ready="true"]');

    await host.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'host'), settings);
    const hosted = await stateOf(host);
    const code = hosted.code!;
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    const hostId = hosted.selfId!;
    expect(hostId).toMatch(/^fedtab-[0-9a-f]{20}$/);
    expect(hostId).not.toContain(code);
    expect(await tryJoin(member, code, secret, 'member')).toBe('joined');
    await waitUntil('2 clients with data at the host', async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === 2 ? true : undefined), 60_000);

    // The host's signalling socket drops (peerjs sees the WebSocket close); the stranger registers the host's id.
    await host.page.evaluate(() => {
      const transport = (window as unknown as { fedtab: { transport: { peer: { socket: { _socket?: WebSocket } } } } }).fedtab.transport;
      transport.peer.socket._socket!.close();
    });
    let registered = '';
    for (let attempt = 0; attempt < 3 && registered !== 'open'; attempt++) {
      await new Promise((r) => setTimeout(r, 150));
      registered = await strangerTab.page.evaluate((id) => (window as unknown as StrangerApi).stranger.register(id), hostId);
    }
    expect(registered).toBe('open');

    // A new joiner (with the right code and secret) reaches the stranger and refuses to talk to it.
    const outcome = await tryJoin(joiner, code, secret, 'joiner');
    expect(outcome).toMatch(new RegExp(`^failed: ${hostId} could not prove that it knows the session secret`));
    expect((await stateOf(joiner)).error).toMatch(/could not prove that it knows the session secret/);

    // Meanwhile the session carries on over the open connections.
    await host.page.evaluate(() => (window as unknown as Api).fedtab.start());
    const final = await stateOf(host);
    expect(final.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(final.rounds.every((r) => r.participants.length === 2)).toBe(true);

    // The stranger got one connection and, on it, nothing but the joiner's auth-hello: no hello, no update, no secret.
    const records = await strangerTab.page.evaluate(() => (window as unknown as StrangerApi).stranger.records());
    expect(await strangerTab.page.evaluate(() => (window as unknown as StrangerApi).stranger.connections())).toBe(1);
    expect(records.flatMap((r) => r.types)).toEqual(['auth-hello']);
    for (const r of records) expect(r.text).not.toContain(secret);
    expect(final.log.some((l) => l.text.includes('lost the signalling server'))).toBe(true);

    // The stranger goes; the host re-registers its id (it kept retrying) and new tabs can join again.
    await strangerTab.page.evaluate(() => (window as unknown as StrangerApi).stranger.leave());
    await waitUntil('the host to reclaim its id', async () => ((await stateOf(host)).log.some((l) => l.text.includes('signalling server reached again')) ? true : undefined), 60_000, 250);
    expect(await tryJoin(late, code, secret, 'late')).toBe('joined');
    await waitUntil('the late tab at the host', async () => ((await stateOf(host)).peers.some((p) => p.name === 'late') ? true : undefined), 30_000);
    for (const tab of [host, member, late]) expect(tab.problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  });
});
