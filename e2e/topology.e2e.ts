/**
 * Sessions across the networks classrooms have, each built from network namespaces, veth pairs, a bridge and
 * iptables (e2e/harness/topology.ts): the app server (with its TURN relay) on the bridge, the host tab and a student
 * tab in Chromium instances of their own namespaces. Each topology trains 3 rounds end to end and checks the
 * candidate pair the connection selected (RTCPeerConnection.getStats, as the peers table shows it).
 *   (a) flat LAN: direct; (b) client isolation: relayed; (c) student behind a NAT: through the NAT or relayed;
 *   (d) client isolation and no UDP between the student and the server: relayed over TCP to the relay;
 *   (e) client isolation and the relay's port closed to the student: the join fails saying which ports to ask for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from './harness/netns';
import { startAppServer, type AppServer } from './harness/app-server';
import { openPage, waitUntil, type OpenedPage } from './harness/browser';
import { SESSION_PAGE as PAGE, stateOf, type SessionPageApi as Api } from './harness/session-page';
import { Namespace, SERVER_ADDRESS, attachBehindNat, attachToBridge, blockRelayFrom, blockUdpWithServer, closeNamespaces, createBridge, removeBridge, waitForQuietNetwork } from './harness/topology';
import type { SessionSettings, SessionState } from '../src/session/types';
import type { ConnectionRoute } from '../src/net/connection-route';

const settings: SessionSettings = {
  model: 'mlp',
  strategy: { name: 'fedavg' },
  rounds: 3,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: 2,
  fraction: 1,
  roundDeadlineMs: 120_000,
  decomposition: 'proxy',
  decompositionEvery: 1,
  codec: 'int8',
  demoPartition: { kind: 'iid' },
  demoClients: 2,
  seed: 3,
  hostTrains: true,
};

describe('sessions across classroom networks (namespaces, bridge, NAT, iptables)', () => {
  let server: AppServer;
  let namespaces: Namespace[] = [];
  let browsers: Browser[] = [];
  let undo: Array<() => void> = [];

  beforeAll(async () => {
    assertInsideNetns();
    createBridge(); // before the server: its relay serves the addresses there are when it starts
    server = await startAppServer({ mode: 'dev', host: '0.0.0.0', browserHost: SERVER_ADDRESS, entries: [PAGE, 'src/worker/training.worker.ts'] });
  });

  afterEach(async () => {
    undo.forEach((f) => f());
    undo = [];
    // After a failed test a browser may not close: its namespace is closed (with whatever runs in it) all the same.
    await Promise.allSettled(browsers.map((b) => Promise.race([b.close(), new Promise((resolve) => setTimeout(resolve, 10_000))])));
    browsers = [];
    const closing = namespaces;
    namespaces = [];
    await closeNamespaces(closing);
  });

  afterAll(async () => {
    await server?.close();
    removeBridge();
    await waitForQuietNetwork();
  });

  async function device(name: string): Promise<Namespace> {
    const ns = await Namespace.create(name);
    namespaces.push(ns);
    return ns;
  }

  async function tabIn(ns: Namespace): Promise<OpenedPage> {
    // A plain-http LAN origin, treated as secure as the HTTPS mode would be; host candidates as plain addresses.
    const browser = await ns.launchChromium([`--unsafely-treat-insecure-origin-as-secure=${server.origin}`, '--disable-features=WebRtcHideLocalIpsWithMdns']);
    browsers.push(browser);
    // A fresh browser loads the dev server's few hundred modules: on a busy 2-core machine that can pass 30 s once.
    const open = () => openPage(browser, `${server.origin}/${PAGE}`);
    const tab = await open().catch(open);
    await tab.page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    return tab;
  }

  /** Host and student train 3 rounds; returns both tabs' route to the other, as their peers tables show it. */
  async function trainAndReadRoutes(host: OpenedPage, student: OpenedPage): Promise<{ hostSide: ConnectionRoute; studentSide: ConnectionRoute; host: SessionState }> {
    await host.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'teacher'), settings);
    const hosted = await stateOf(host);
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    await student.page.evaluate(({ code, secret }) => (window as unknown as Api).fedtab.join(code, secret, 'student'), { code: hosted.code!, secret });
    await waitUntil('the student with data at the host', async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === 2 ? true : undefined), 60_000);
    await host.page.evaluate(() => (window as unknown as Api).fedtab.start());
    const studentId = (await stateOf(student)).selfId!;
    const done = await waitUntil('both routes in the network reports', async () => {
      const [h, s] = [await stateOf(host), await stateOf(student)];
      const hostSide = h.network?.routes[studentId];
      const studentSide = s.network?.routes[h.selfId!];
      return hostSide && studentSide ? { hostSide, studentSide, host: h } : undefined;
    });
    expect(done.host.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const r of done.host.rounds) expect(r.participants).toHaveLength(2);
    return done;
  }

  it('(a) flat LAN: the tabs connect directly', async () => {
    const [h, c] = [await device('host'), await device('student')];
    attachToBridge(h);
    attachToBridge(c);
    const { hostSide, studentSide } = await trainAndReadRoutes(await tabIn(h), await tabIn(c));
    expect(hostSide.relayed).toBe(false);
    expect(studentSide).toMatchObject({ relayed: false, local: 'host' });
  });

  it('(b) client isolation: devices reach the server only, so the connection is relayed through it', async () => {
    const [h, c] = [await device('host'), await device('student')];
    attachToBridge(h, { isolated: true });
    attachToBridge(c, { isolated: true });
    const { hostSide, studentSide, host } = await trainAndReadRoutes(await tabIn(h), await tabIn(c));
    expect(hostSide.relayed).toBe(true);
    expect(studentSide.relayed).toBe(true);
    expect(host.network?.relay).toMatchObject({ kind: 'offered' });
  });

  it('(c) a student behind a NAT: it appears through its NAT mapping (srflx/prflx) or relayed, never as its private address', async () => {
    const [h, router, c] = [await device('host'), await device('nat'), await device('student')];
    attachToBridge(h);
    attachToBridge(router);
    attachBehindNat(router, c);
    const { hostSide } = await trainAndReadRoutes(await tabIn(h), await tabIn(c));
    expect(hostSide.relayed || hostSide.remote === 'srflx' || hostSide.remote === 'prflx').toBe(true);
  });

  it('(d) client isolation and UDP blocked between the student and the server: TURN over TCP', async () => {
    const [h, c] = [await device('host'), await device('student')];
    attachToBridge(h, { isolated: true });
    undo.push(blockUdpWithServer(attachToBridge(c, { isolated: true })));
    const { studentSide, hostSide } = await trainAndReadRoutes(await tabIn(h), await tabIn(c));
    expect(studentSide).toMatchObject({ relayed: true, local: 'relay', relayProtocol: 'tcp' });
    expect(hostSide.relayed).toBe(true);
  });

  it('(e) client isolation and the relay firewalled off for the student: the join says why, the host sees who could not connect', async () => {
    const [h, c] = [await device('host'), await device('student')];
    attachToBridge(h, { isolated: true });
    const studentAddress = attachToBridge(c, { isolated: true });
    const [host, student] = [await tabIn(h), await tabIn(c)];
    await host.page.evaluate((s) => (window as unknown as Api).fedtab.host(s, 'teacher'), settings);
    const hosted = await waitUntil('the relay at the host', async () => {
      const s = await stateOf(host);
      return s.network?.relay.kind === 'offered' ? s : undefined;
    });
    const relayUrls = (hosted.network!.relay as { urls: string[] }).urls;
    const relayPort = Number(/:(\d+)\?transport=tcp$/.exec(relayUrls.find((u) => u.endsWith('transport=tcp'))!)![1]);
    undo.push(blockRelayFrom(studentAddress, relayPort));
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    const failure = await student.page
      .evaluate(({ code, secret }) => (window as unknown as Api).fedtab.join(code, secret, 'student'), { code: hosted.code!, secret })
      .then(() => 'joined', (e: Error) => e.message);
    expect(failure).toContain(`no relay reachable: ask for UDP ${relayPort} or TCP ${relayPort} to the server to be opened`);
    expect((await stateOf(student)).error).toContain('no relay reachable');
    const seen = await waitUntil('the failed attempt at the host', async () => {
      const s = await stateOf(host);
      return Object.values(s.network?.unconnected ?? {})[0];
    });
    expect(seen).toMatch(/^no direct path and no relayed path worked/);
  });
});
