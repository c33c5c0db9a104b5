/**
 * Limits of the signalling server against hostile clients. Loopback only: floods come from 127.0.0.2/127.0.0.3
 * (Linux routes all of 127/8 to lo), the real host from 127.0.0.1; every flood is bounded in count and time.
 */
import { clientAddressResolver, type ClientAddress } from './client-address';
import { afterEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { SIGNALLING_ENDPOINT } from './endpoints';
import { eventually } from './testing/eventually';
import { registerSignalling, signallingUrl, type SignallingOutcome } from './testing/signalling-client';
import { addressKey, attachSignalling, SIGNALLING_LIMITS, type SignallingLimits } from './signalling-server';

type Outcome = SignallingOutcome;

interface Running {
  port: number;
  mount: ReturnType<typeof attachSignalling>;
  server: http.Server;
}

const running: Running[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const r of running.splice(0)) {
    r.mount.close();
    r.server.closeAllConnections();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
});

async function startSignalling(limits: Partial<SignallingLimits> = {}, now?: () => number, clientAddress?: ClientAddress): Promise<Running> {
  const server = http.createServer();
  const mount = attachSignalling(server, { limits, now, log: () => undefined, ...(clientAddress ? { clientAddress } : {}) });
  server.on('request', (req, res) =>
    mount.middleware(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const r = { port: (server.address() as AddressInfo).port, mount, server };
  running.push(r);
  return r;
}

/** Registers `id` from `localAddress`; resolves with what the server answered first. Keeps accepted sockets open. */
function register(port: number, id: string, localAddress: string, options: { token?: string; origin?: string; forwardedFor?: string } = {}) {
  const headers = { ...(options.origin ? { origin: options.origin } : {}), ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}) };
  return registerSignalling(port, id, localAddress, sockets, { ...(options.token ? { token: options.token } : {}), headers });
}

/** Sends a WebSocket upgrade request for `path` on a raw socket; resolves with the first bytes answered. */
function rawUpgrade(port: number, path: string): Promise<string> {
  const raw = net.connect(port, '127.0.0.1');
  raw.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no answer in 2 s'), 2000);
    raw.once('data', (data) => {
      clearTimeout(timer);
      raw.destroy();
      resolve(String(data));
    });
  });
}

/** Registers `id` from `localAddress` on a socket that records every message from the first one on. */
function collecting(port: number, id: string, localAddress: string): { ws: WebSocket; messages: Array<Record<string, unknown>> } {
  const ws = new WebSocket(signallingUrl(port, id), { localAddress });
  sockets.push(ws);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  return { ws, messages };
}

describe('signalling server limits', () => {
  it('5,000 fake registrations from one address do not lock a real host (another address) out', async () => {
    const { port, mount } = await startSignalling();
    const outcomes: Outcome[] = [];
    const total = 5000;
    const parallel = 50;
    let next = 0;
    const started = Date.now();
    // Bounded: 5,000 attempts, 50 at a time, and it gives up after 60 s.
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < total && Date.now() - started < 60_000) {
          const i = next++;
          const { outcome, ws } = await register(port, `fake${i}`, '127.0.0.2');
          outcomes.push(outcome);
          if (outcome.kind !== 'open') ws.terminate();
        }
      }),
    );
    expect(outcomes).toHaveLength(total);
    const opened = outcomes.filter((o) => o.kind === 'open').length;
    expect(opened).toBeLessThanOrEqual(32);
    expect(outcomes.filter((o) => o.kind === 'refused' && o.status === 429).length).toBe(total - opened);

    const host = await register(port, 'fedtab-0123456789abcdef0123', '127.0.0.1');
    expect(host.outcome).toEqual({ kind: 'open' });
    const stats = mount.stats();
    expect(stats.refused.perAddress + stats.refused.registrations).toBe(total - opened);
    expect(stats.refused.global).toBe(0);
  }, 90_000);

  it('behind a trusted proxy, each forwarded address has its own places; the header from anyone else counts for nothing', async () => {
    const { port } = await startSignalling({ maxConnectionsPerAddress: 2 }, undefined, clientAddressResolver(['127.0.0.1']));
    // Four tabs through the proxy (127.0.0.1), from four addresses: all in, where the proxy's own address holds 2.
    const proxied = await Promise.all([0, 1, 2, 3].map((i) => register(port, `p${i}`, '127.0.0.1', { forwardedFor: `10.0.0.${i + 1}` })));
    expect(proxied.map((r) => r.outcome.kind)).toEqual(['open', 'open', 'open', 'open']);
    // The same forwarded address a third time: its own cap.
    await register(port, 'q0', '127.0.0.1', { forwardedFor: '10.0.0.9' });
    await register(port, 'q1', '127.0.0.1', { forwardedFor: '10.0.0.9' });
    expect((await register(port, 'q2', '127.0.0.1', { forwardedFor: '6.6.6.6, 10.0.0.9' })).outcome).toEqual({ kind: 'refused', status: 429 });
    // A client that is not the proxy cannot borrow addresses by sending the header.
    await register(port, 'x0', '127.0.0.7', { forwardedFor: '10.0.1.1' });
    await register(port, 'x1', '127.0.0.7', { forwardedFor: '10.0.1.2' });
    expect((await register(port, 'x2', '127.0.0.7', { forwardedFor: '10.0.1.3' })).outcome).toEqual({ kind: 'refused', status: 429 });
  });

  it('the per-address cap is hit before the global one; a full server gives the address holding most places to one holding fewer', async () => {
    const { port, mount } = await startSignalling({ maxConnections: 6, maxConnectionsPerAddress: 3 });
    const a = await Promise.all([0, 1, 2, 3].map((i) => register(port, `a${i}`, '127.0.0.2')));
    expect(a.map((r) => r.outcome.kind)).toEqual(expect.arrayContaining(['open', 'open', 'open', 'refused']));
    const b = await Promise.all([0, 1, 2].map((i) => register(port, `b${i}`, '127.0.0.3')));
    expect(b.map((r) => r.outcome.kind)).toEqual(['open', 'open', 'open']);
    // The whole server is full now: a third address holding nothing takes a place of one holding three, twice.
    expect((await register(port, 'c0', '127.0.0.4')).outcome).toEqual({ kind: 'open' });
    expect((await register(port, 'c1', '127.0.0.4')).outcome).toEqual({ kind: 'open' });
    // Now every address holds two: none holds two more than c's address, so c is refused; d (holding none) still gets in once.
    expect((await register(port, 'c2', '127.0.0.4')).outcome).toEqual({ kind: 'refused', status: 503 });
    expect((await register(port, 'd0', '127.0.0.5')).outcome).toEqual({ kind: 'open' });
    expect((await register(port, 'd1', '127.0.0.5')).outcome).toEqual({ kind: 'refused', status: 503 });
    const stillOpen = (rs: typeof a) => rs.filter((r) => r.ws.readyState === WebSocket.OPEN).length;
    await eventually(() => stillOpen(a) + stillOpen(b) <= 3, 'the evicted sockets to close');
    expect([stillOpen(a), stillOpen(b)]).toEqual([1, 2]);
    expect(mount.stats()).toMatchObject({ openConnections: 6, evicted: 3, refused: { perAddress: 1, global: 2 } });
    // A closed socket frees its place.
    b.find((r) => r.ws.readyState === WebSocket.OPEN)!.ws.close();
    await eventually(() => mount.stats().openConnections === 5, 'the server to see the socket close');
    expect((await register(port, 'c3', '127.0.0.4')).outcome).toEqual({ kind: 'open' });
  });

  it('rate-limits registrations and id probes per address per window (injected clock)', async () => {
    let clock = 1_000_000;
    const { port, mount } = await startSignalling({ maxRegistrationsPerWindow: 5, maxIdProbesPerWindow: 3, windowMs: 60_000 }, () => clock);
    const host = await register(port, 'fedtab-real', '127.0.0.1');
    expect(host.outcome.kind).toBe('open');

    // Probing for a taken id: three "ID-TAKEN" answers, then the address is refused.
    const probes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { outcome, ws } = await register(port, 'fedtab-real', '127.0.0.3', { token: `guess${i}` });
      probes.push(outcome.kind === 'refused' ? `refused ${outcome.status}` : outcome.kind);
      ws.terminate();
    }
    expect(probes).toEqual(['id-taken', 'id-taken', 'id-taken', 'refused 429', 'refused 429', 'refused 429']);
    expect(mount.stats().refused.probes).toBe(3);

    // Registrations: five per window from one address, sequentially, each closed again.
    const regs: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { outcome, ws } = await register(port, `r${i}`, '127.0.0.2');
      regs.push(outcome.kind);
      ws.terminate();
    }
    expect(regs).toEqual(['open', 'open', 'open', 'open', 'open', 'refused', 'refused']);

    // After the window both addresses may try again.
    clock += 60_000;
    expect((await register(port, 'r9', '127.0.0.2')).outcome.kind).toBe('open');
    expect((await register(port, 'fedtab-real', '127.0.0.3', { token: 'again' })).outcome.kind).toBe('id-taken');
  });

  it('closes a socket that sends a message larger than a signalling message can be', async () => {
    const { port } = await startSignalling();
    const { outcome, ws } = await register(port, 'big', '127.0.0.1');
    expect(outcome.kind).toBe('open');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'OFFER', dst: 'x', payload: 'x'.repeat(100_000) }));
    expect(await closed).toBe(1009);
    // A normal-sized one (an SDP offer is a few KB) is fine.
    const small = await register(port, 'small', '127.0.0.1');
    small.ws.send(JSON.stringify({ type: 'HEARTBEAT' }));
    small.ws.send(JSON.stringify({ type: 'OFFER', dst: 'big', payload: { sdp: 'v=0 '.repeat(2000) } }));
    await new Promise((r) => setTimeout(r, 100));
    expect(small.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("does not reflect a foreign Origin in CORS headers, and refuses another site's WebSocket upgrade", async () => {
    const { port } = await startSignalling();
    const base = `http://127.0.0.1:${port}${SIGNALLING_ENDPOINT.path}`;
    const get = await fetch(`${base}/${SIGNALLING_ENDPOINT.key}/id`, { headers: { origin: 'http://evil.example' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/${SIGNALLING_ENDPOINT.key}/id`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect((await register(port, 'x1', '127.0.0.1', { origin: 'http://evil.example' })).outcome).toEqual({ kind: 'refused', status: 403 });
    // The app's own page (same origin) and non-browser clients (no Origin) are served.
    expect((await register(port, 'x2', '127.0.0.1', { origin: `http://127.0.0.1:${port}` })).outcome).toEqual({ kind: 'open' });
  });

  it('5,000 registrations from 160 addresses fill the server; a real host (another address) still registers', async () => {
    const { port, mount } = await startSignalling();
    const flood: Array<{ outcome: Outcome; ws: WebSocket }> = [];
    const total = 5000;
    let next = 0;
    const started = Date.now();
    // Bounded: 5,000 attempts from 127.0.0.2-127.0.0.161, 50 at a time, giving up after 60 s; accepted sockets stay open.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < total && Date.now() - started < 60_000) {
          const i = next++;
          flood.push(await register(port, `fake${i}`, `127.0.0.${2 + (i % 160)}`));
        }
      }),
    );
    expect(flood.filter((r) => r.outcome.kind === 'open')).toHaveLength(total);
    expect(mount.stats().openConnections).toBe(5000);
    const host = await register(port, 'fedtab-0123456789abcdef0123', '127.0.0.1');
    expect(host.outcome).toEqual({ kind: 'open' });
    await eventually(() => flood.some((r) => r.ws.readyState !== WebSocket.OPEN), 'the evicted socket to close');
    expect(flood.filter((r) => r.ws.readyState !== WebSocket.OPEN)).toHaveLength(1);
    expect(mount.stats()).toMatchObject({ openConnections: 5000, evicted: 1, refused: { global: 0 } });
  }, 90_000);

  it('holds messages for an absent id within its caps, delivers them when the id registers, and answers EXPIRE as a counted probe', async () => {
    // The expiry sweep is an interval (faked: it runs when the test says); the queue's clock is injected.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let clock = 1_000_000;
    const { port, mount } = await startSignalling({ maxIdProbesPerWindow: 3 }, () => clock);
    const sender = await register(port, 'sender', '127.0.0.2');
    const received: Array<Record<string, unknown>> = [];
    sender.ws.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
    // 200 offers of 60 KB for one absent id (12 MB): the destination's cap holds the first few.
    const big = 'v=0 '.repeat(15_000);
    for (let i = 0; i < 200; i++) sender.ws.send(JSON.stringify({ type: 'OFFER', dst: 'late', payload: { sdp: big, i } }));
    // Then one offer to each of 5 more absent ids: two more are probes it may make (3 in all), three are refused.
    for (let i = 0; i < 5; i++) sender.ws.send(JSON.stringify({ type: 'OFFER', dst: `ghost${i}`, payload: { sdp: 'v=0' } }));
    const seen = () => {
      const r = mount.stats().relay;
      return r.queued.messages + r.dropped.destination + r.dropped.probes;
    };
    await eventually(() => seen() >= 205, 'every offer to be queued or dropped');
    const held = mount.stats().relay;
    expect(held.queued.bytes).toBeLessThanOrEqual(SIGNALLING_LIMITS.queuedBytesPerDestination + 2 * 100);
    expect(held.queued.messages).toBeGreaterThanOrEqual(3);
    expect(held.dropped).toMatchObject({ probes: 3 });
    expect(held.dropped.destination).toBe(200 - (held.queued.messages - 2));

    const late = collecting(port, 'late', '127.0.0.3');
    await eventually(() => late.messages.length >= held.queued.messages - 1, 'the held offers to arrive');
    expect(late.messages[0]).toEqual({ type: 'OPEN' });
    expect(late.messages.slice(1).map((m) => (m.payload as { i: number }).i)).toEqual(Array.from({ length: held.queued.messages - 2 }, (_, i) => i));

    // The two ghosts never come: each is answered EXPIRE once, after the expiry.
    clock += SIGNALLING_LIMITS.queueExpiryMs - 1;
    vi.advanceTimersByTime(1000);
    expect(mount.stats().relay.expired).toBe(0);
    clock += 1;
    vi.advanceTimersByTime(1000);
    expect(mount.stats().relay.expired).toBe(2);
    await eventually(() => received.length >= 2, 'both EXPIRE answers');
    expect(received).toEqual([
      { type: 'EXPIRE', src: 'ghost0', dst: 'sender' },
      { type: 'EXPIRE', src: 'ghost1', dst: 'sender' },
    ]);
    expect(mount.stats().relay).toMatchObject({ queued: { messages: 0, bytes: 0 }, expired: 2 });
    // Those probes count against the address like ID-TAKEN answers: at its limit, its upgrades are refused.
    expect((await register(port, 'again', '127.0.0.2')).outcome).toEqual({ kind: 'refused', status: 429 });
  });

  it('counts an ID-TAKEN answer as a probe only when the server sends it, not when a peer relays the text', async () => {
    const { port } = await startSignalling({ maxIdProbesPerWindow: 1 });
    const host = await register(port, 'host', '127.0.0.1');
    const stranger = await register(port, 'stranger', '127.0.0.2');
    for (let i = 0; i < 5; i++) stranger.ws.send(JSON.stringify({ type: 'OFFER', dst: 'host', payload: { type: 'ID-TAKEN', msg: '"ID-TAKEN"' } }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await register(port, 'host2', '127.0.0.1')).outcome).toEqual({ kind: 'open' });
    host.ws.terminate();
  });

  it('answers a malformed URL with a short plain message, and survives an upgrade to an unparsable URL', async () => {
    const { port } = await startSignalling();
    for (const path of [`${SIGNALLING_ENDPOINT.path}/%`, `${SIGNALLING_ENDPOINT.path}/%E0%A4%A/id`]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe('400 Bad Request\n');
    }
    // `//` is not a URL the WHATWG parser accepts: once, a throw in the upgrade listener ended the process.
    expect(await rawUpgrade(port, '//')).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect((await register(port, 'after', '127.0.0.1')).outcome).toEqual({ kind: 'open' });
  });

  it('refuses upgrades for other paths where told to, so that none stays open unread', async () => {
    const server = http.createServer();
    const mount = attachSignalling(server, { log: () => undefined, otherUpgrades: 'refuse' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running.push({ port: (server.address() as AddressInfo).port, mount, server });
    expect(await rawUpgrade((server.address() as AddressInfo).port, '/elsewhere')).toMatch(/^HTTP\/1.1 404 Not Found\r\n/);
  });

  it('keys addresses: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64', () => {
    expect(addressKey('127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});
