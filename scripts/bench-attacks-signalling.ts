/**
 * The signalling server's rows of scripts/bench-attacks.ts (6, 8 and 12-15) share these helpers; rows 12-15 (a
 * bounded cost per stranger) are measured here. Loopback only: the real host registers from 127.0.0.1, floods come
 * from other 127/8 addresses; every flood is bounded in count and in time.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createServer as createViteServer } from 'vite';
import { registerSignalling, type Registration, type SignallingOutcome } from '../src/net/testing/signalling-client';
import { attachSignalling, SIGNALLING_LIMITS, type SignallingLimits, type SignallingStats } from '../src/net/signalling-server';
import { fedtabSignalling } from '../src/net/signalling-plugin';
import { DEFAULT_SERVE_OPTIONS, startServer } from '../server/serve';
import { fmt, fmtMs, measuredRow, perSecond, renderTable, runBounded, type RowReport } from './bench-attacks-lib';

export type Outcome = SignallingOutcome;

export interface RunningSignalling {
  port: number;
  mount: ReturnType<typeof attachSignalling>;
  sockets: WebSocket[];
  stop(): Promise<void>;
}

export async function startSignalling(limits: Partial<SignallingLimits> = {}, now?: () => number): Promise<RunningSignalling> {
  const server = http.createServer();
  const logged: string[] = [];
  const mount = attachSignalling(server, { limits, now, log: (line) => logged.push(line) });
  server.on('request', (req, res) =>
    mount.middleware(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets: WebSocket[] = [];
  return {
    port: (server.address() as AddressInfo).port,
    mount,
    sockets,
    stop: async () => {
      for (const ws of sockets.splice(0)) ws.terminate();
      mount.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Registers `id` from `localAddress` (loopback); resolves with the server's first answer. Keeps accepted sockets open.
 * `messages` receives every later message on the socket (from the one after the first answer on).
 */
export function register(s: { port: number; sockets: WebSocket[] }, id: string, localAddress: string, token = `t-${id}`): Promise<Registration> {
  return registerSignalling(s.port, id, localAddress, s.sockets, { token });
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'refused':
      return `refused (HTTP ${o.status})`;
    case 'error':
      return `error "${o.msg}"`;
    case 'failed':
      return `failed (${o.msg})`;
    default:
      return o.kind.toUpperCase();
  }
}

export function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.kind === 'refused' ? `refused ${o.status}` : o.kind === 'error' ? `error: ${o.msg}` : o.kind;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n.toLocaleString('en-US')} ${k}`).join(', ');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MB = 2 ** 20;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/** The "before" column of rows 12-15: the adversarial review's figures, measured on the old main. */
export const SIGNALLING_BEFORE: Record<number, { attack: string; before: string }> = {
  12: {
    attack: 'a stranger floods the signalling server with messages for ids nobody holds',
    before: 'queued without bound: 703 MB sent in 25 s from one address took the server from 91 to 714 MB',
  },
  13: {
    attack: '5,000 registrations from 160 addresses, then a real host registers',
    before: "the real host's registration fails with HTTP 503 (the global cap is full; the per-address caps all hold)",
  },
  14: {
    attack: 'probing ids by sending them messages (an absent id is answered EXPIRE)',
    before: 'about 2,800 id probes a second answered EXPIRE, none counted against the probe limit',
  },
  15: { attack: 'a malformed %-encoded URL', before: "an Express stack trace with the server's absolute paths" },
};

// ---- row 12: the queue for absent ids ------------------------------------------------------------------------

interface ServerSample {
  rssMb: number;
  stats: SignallingStats;
}

/** The signalling server alone in a child process, so its memory is its own. */
async function startServerProcess(): Promise<{ port: number; sample(): Promise<ServerSample>; stop(): void }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-attacks-signalling-server.ts');
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`signalling server process exited (${code})`)));
  });
  return {
    port,
    sample: () =>
      new Promise((resolve) => {
        child.once('message', (m: ServerSample) => resolve(m));
        child.send({ type: 'sample' });
      }),
    stop: () => child.kill(),
  };
}

/** Sends `message(i)` on `ws` until `maxBytes` or `deadline`, never more than 8 MB waiting in the socket. */
async function flood(ws: WebSocket, message: (i: number) => string, maxBytes: number, deadline: number): Promise<{ sent: number; bytes: number }> {
  let sent = 0;
  let bytes = 0;
  while (bytes < maxBytes && Date.now() < deadline && ws.readyState === WebSocket.OPEN) {
    if (ws.bufferedAmount > 8 * MB) {
      await sleep(1);
      continue;
    }
    const text = message(sent);
    ws.send(text);
    sent++;
    bytes += Buffer.byteLength(text);
  }
  while (ws.bufferedAmount > 0 && ws.readyState === WebSocket.OPEN && Date.now() < deadline + 10_000) await sleep(5);
  return { sent, bytes };
}

export async function row12(): Promise<RowReport> {
  const server = await startServerProcess();
  const client = { port: server.port, sockets: [] as WebSocket[] };
  let peakRss = 0;
  let peakQueued = 0;
  const sampler = setInterval(() => {
    void server.sample().then((s) => {
      peakRss = Math.max(peakRss, s.rssMb);
      peakQueued = Math.max(peakQueued, s.stats.relay.queued.bytes);
    });
  }, 250);
  try {
    await sleep(500);
    const baseline = await server.sample();
    // One address, 63 KB offers (under the 64 KB message cap) for 1,000 ids nobody holds, until 703 MB or 25 s.
    const sdp = 'x'.repeat(63 * 1024 - 100);
    const attacker = await register(client, 'flooder', '127.0.0.2');
    const started = Date.now();
    const one = await flood(attacker.ws, (i) => JSON.stringify({ type: 'OFFER', dst: `absent-${i % 1000}`, payload: { sdp } }), 703 * MB, started + 25_000);
    const oneSeconds = (Date.now() - started) / 1000;
    await sleep(500);
    const afterOne = await server.sample();
    // Then 40 addresses at once, each 8 MB for its own 10 ids: the total cap is what holds.
    const many = await Promise.all(
      Array.from({ length: 40 }, async (_, a) => {
        const r = await register(client, `flooder${a}`, `127.0.1.${a + 1}`);
        return flood(r.ws, (i) => JSON.stringify({ type: 'OFFER', dst: `absent-${a}-${i % 10}`, payload: { sdp } }), 8 * MB, Date.now() + 25_000);
      }),
    );
    await sleep(500);
    const afterMany = await server.sample();
    // Clean: an offer for a peer that registers half a second later is delivered.
    const alice = await register(client, 'alice', '127.0.0.4');
    alice.ws.send(JSON.stringify({ type: 'OFFER', dst: 'bob', payload: { sdp: 'v=0 clean' } }));
    await sleep(500);
    const bob = await register(client, 'bob', '127.0.0.5');
    const isOffer = (m: Record<string, unknown>) => m.type === 'OFFER' && (m.payload as { sdp?: string }).sdp === 'v=0 clean';
    for (let waited = 0; !bob.messages.some(isOffer) && waited < 2000; waited += 5) await sleep(5);
    const delivered = bob.messages.some(isOffer);
    await sleep(SIGNALLING_LIMITS.queueExpiryMs + 1500);
    const settled = await server.sample();
    const manyBytes = many.reduce((n, f) => n + f.bytes, 0);
    const after =
      `one address sent ${mb(one.bytes)} in ${oneSeconds.toFixed(1)} s: server RSS ${baseline.rssMb.toFixed(0)} -> ${afterOne.rssMb.toFixed(0)} MB; ` +
      `then 40 addresses sent ${mb(manyBytes)}: peak RSS ${peakRss.toFixed(0)} MB, at most ${mb(peakQueued)} queued (cap ${mb(SIGNALLING_LIMITS.queuedBytesTotal)})`;
    const clean = `an offer for a peer registering 0.5 s later: ${delivered ? 'delivered right after its OPEN' : 'NOT delivered in 2 s'}`;
    const { relay } = afterMany.stats;
    return measuredRow(12, SIGNALLING_BEFORE[12], after, clean, [
      'The real signalling server (`attachSignalling`, default limits) alone in a child process on 127.0.0.1, its RSS sampled every 250 ms. ' +
        'A client registered from 127.0.0.2 sends 63 KB OFFERs for 1,000 ids nobody holds (as fast as the socket takes them, at most 8 MB buffered), ' +
        'until 703 MB or 25 s; then 40 clients from 127.0.1.1-40 send 8 MB each for 10 absent ids of their own.',
      '',
      `- One address: ${one.sent.toLocaleString('en-US')} messages, ${mb(one.bytes)} in ${oneSeconds.toFixed(1)} s; RSS ${baseline.rssMb.toFixed(0)} MB before, ${afterOne.rssMb.toFixed(0)} MB after; queued then ${mb(afterOne.stats.relay.queued.bytes)} (${afterOne.stats.relay.queued.messages} messages).`,
      `- 40 addresses: ${many.reduce((n, f) => n + f.sent, 0).toLocaleString('en-US')} messages, ${mb(manyBytes)}; queued then ${mb(relay.queued.bytes)} (${relay.queued.messages} messages for ${relay.queued.destinations} ids); peak RSS over both floods ${peakRss.toFixed(0)} MB; ${settled.rssMb.toFixed(0)} MB once the queue expired (${mb(settled.stats.relay.queued.bytes)} queued).`,
      `- Refused (cumulative): ${JSON.stringify(relay.dropped)}; answered EXPIRE: ${relay.expired}.`,
      `- Caps: ${SIGNALLING_LIMITS.queuedPerDestination} messages / ${mb(SIGNALLING_LIMITS.queuedBytesPerDestination)} per absent id, ${SIGNALLING_LIMITS.queuedPerSender} / ${mb(SIGNALLING_LIMITS.queuedBytesPerSender)} per sending address, ` +
        `${SIGNALLING_LIMITS.queuedTotal.toLocaleString('en-US')} / ${mb(SIGNALLING_LIMITS.queuedBytesTotal)} in all, ${SIGNALLING_LIMITS.queueExpiryMs / 1000} s; new messages refused past a cap; at most ${SIGNALLING_LIMITS.maxIdProbesPerWindow} absent ids per address per ${SIGNALLING_LIMITS.windowMs / 1000} s.`,
      `- Clean: ${clean}.`,
    ]);
  } finally {
    clearInterval(sampler);
    for (const ws of client.sockets) ws.terminate();
    server.stop();
  }
}

// ---- row 13: registrations from many addresses --------------------------------------------------------------

export async function row13(): Promise<RowReport> {
  const s = await startSignalling();
  try {
    const total = 5000;
    const started = Date.now();
    // Bounded: 5,000 registrations from 127.0.0.2-127.0.0.161, 50 in flight, giving up after 60 s; all stay open.
    const floodOutcomes = await runBounded(total, 50, started + 60_000, async (i) => (await register(s, `fake${i}`, `127.0.0.${2 + (i % 160)}`)).outcome);
    const floodMs = Date.now() - started;
    const opened = floodOutcomes.filter((o) => o.kind === 'open').length;
    const host = await register(s, 'fedtab-0123456789abcdef0123', '127.0.0.1');
    const students = await Promise.all(Array.from({ length: 30 }, (_, i) => register(s, `student${i}`, `127.0.2.${i + 1}`)));
    const studentsOpen = students.filter((r) => r.outcome.kind === 'open').length;
    // The flood tries to win the places back: 500 more registrations from its addresses.
    const retry = await runBounded(500, 50, Date.now() + 30_000, async (i) => {
      const r = await register(s, `again${i}`, `127.0.0.${2 + (i % 160)}`);
      if (r.outcome.kind !== 'open') r.ws.terminate();
      return r.outcome;
    });
    await sleep(100);
    const hostStillOpen = host.ws.readyState === WebSocket.OPEN;
    const studentsStillOpen = students.filter((r) => r.ws.readyState === WebSocket.OPEN).length;
    const stats = s.mount.stats();
    const fresh = await startSignalling();
    const cleanHost = await register(fresh, 'fedtab-0123456789abcdef0123', '127.0.0.1');
    await fresh.stop();
    const after =
      `${opened.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} flood registrations open (server full, ${(floodMs / 1000).toFixed(1)} s); the real host then got ${describeOutcome(host.outcome)} in ${fmtMs(host.ms)}; ` +
      `30 students after it: ${studentsOpen} OPEN; 500 more from the flood's addresses: ${tally(retry)}; host and students still connected: ${hostStillOpen ? 'yes' : 'NO'}, ${studentsStillOpen}/30`;
    return measuredRow(13, SIGNALLING_BEFORE[13], after, `host alone: ${describeOutcome(cleanHost.outcome)} in ${fmtMs(cleanHost.ms)}`, [
      'The real signalling server (`attachSignalling`, default limits) on 127.0.0.1; 5,000 registrations from 160 addresses (127.0.0.2-127.0.0.161), 50 in flight, all kept open; ' +
        'then a host registers from 127.0.0.1, 30 students from 127.0.2.1-30, and the flood tries 500 more.',
      '',
      `- Flood: ${tally(floodOutcomes)}; server counters after everything: ${stats.openConnections} open sockets, ${stats.evicted} flood sockets closed to make room, refused ${JSON.stringify(stats.refused)}.`,
      `- Places are shared fairly: when the server is full (${SIGNALLING_LIMITS.maxConnections.toLocaleString('en-US')}), a newcomer takes the newest place of the address holding the most, if that address holds at least two more than the newcomer's. ` +
        `With 160 addresses the flood holds ~${Math.round(SIGNALLING_LIMITS.maxConnections / 160)} per address, so every address holding fewer gets in; the flood's own addresses cannot take places back.`,
    ]);
  } finally {
    await s.stop();
  }
}

// ---- row 14: id probes answered EXPIRE ----------------------------------------------------------------------

export async function row14(): Promise<RowReport> {
  // Burst, real clock: one address sends OFFERs to distinct made-up ids for 5 s, then waits for the EXPIRE answers.
  const s = await startSignalling();
  let burst: { sent: number; expired: number; seconds: number; dropped: number };
  try {
    const prober = await register(s, 'prober', '127.0.0.3');
    const started = Date.now();
    const sentFlood = await flood(prober.ws, (i) => JSON.stringify({ type: 'OFFER', dst: `fedtab-guess-${i}`, payload: { sdp: 'v=0' } }), Infinity, started + 5_000);
    await sleep(SIGNALLING_LIMITS.queueExpiryMs + 2_000);
    burst = {
      sent: sentFlood.sent,
      expired: prober.messages.filter((m) => m.type === 'EXPIRE').length,
      seconds: (Date.now() - started) / 1000,
      dropped: s.mount.stats().relay.dropped.probes,
    };
  } finally {
    await s.stop();
  }

  // Sustained, injected clock: 10 simulated minutes, 5 made-up ids per simulated second (3,000 messages).
  let clock = 1_000_000;
  const sim = await startSignalling({}, () => clock);
  let sustained: { sent: number; expired: number; simulatedSeconds: number; upgrade: Outcome | undefined };
  try {
    const prober = await register(sim, 'prober', '127.0.0.3');
    const perSimulatedSecond = 5;
    const sends = 10 * 60 * perSimulatedSecond;
    const started = Date.now();
    let sent = 0;
    let upgrade: Outcome | undefined;
    for (; sent < sends && Date.now() - started < 60_000; sent++) {
      // 20 simulated seconds in, the address is at its probe limit: its registrations are refused too (no ID-TAKEN answers either).
      if (sent === 100) upgrade = (await register(sim, 'prober-again', '127.0.0.3')).outcome;
      clock += 1000 / perSimulatedSecond;
      const seen = () => {
        const r = sim.mount.stats().relay;
        return r.queued.messages + r.delivered + r.expired + r.dropped.probes + r.dropped.destination + r.dropped.sender + r.dropped.total;
      };
      const before = seen();
      prober.ws.send(JSON.stringify({ type: 'OFFER', dst: `fedtab-guess-${sent}`, payload: { sdp: 'v=0' } }));
      for (let w = 0; seen() === before && w < 1000; w++) await sleep(1);
    }
    clock += SIGNALLING_LIMITS.queueExpiryMs;
    await sleep(1_500);
    sustained = { sent, expired: prober.messages.filter((m) => m.type === 'EXPIRE').length, simulatedSeconds: sent / perSimulatedSecond, upgrade };
  } finally {
    await sim.stop();
  }
  const rate = perSecond(sustained.expired, sustained.simulatedSeconds * 1000);

  // Clean: a tab whose offer goes to a peer that left is told so (EXPIRE) once the queue expires.
  const c = await startSignalling();
  let cleanText: string;
  try {
    const tab = await register(c, 'tab', '127.0.0.4');
    const sentAt = performance.now();
    tab.ws.send(JSON.stringify({ type: 'OFFER', dst: 'left-peer', payload: { sdp: 'v=0' } }));
    while (!tab.messages.some((m) => m.type === 'EXPIRE') && performance.now() - sentAt < 10_000) await sleep(10);
    cleanText = tab.messages.some((m) => m.type === 'EXPIRE') ? `an offer to a peer that left is answered EXPIRE after ${fmt((performance.now() - sentAt) / 1000)} s` : 'no EXPIRE in 10 s';
  } finally {
    await c.stop();
  }
  const after = `${fmt(rate)} EXPIRE answers/s sustained from one address (${sustained.expired} for ${sustained.sent.toLocaleString('en-US')} made-up ids over ${(sustained.simulatedSeconds / 60).toFixed(0)} simulated minutes); burst: ${burst.expired} answered of ${burst.sent.toLocaleString('en-US')} sent`;
  return measuredRow(14, SIGNALLING_BEFORE[14], after, cleanText, [
    'The real signalling server on 127.0.0.1; a client registered from 127.0.0.3 sends OFFERs to made-up ids. An id nobody holds is answered EXPIRE after the queue expiry; ' +
      'each such id now counts as an id probe of the sending address (the same id again within the window does not), against the same limit as ID-TAKEN answers.',
    '',
    `- Burst, real clock: ${burst.sent.toLocaleString('en-US')} OFFERs in 5 s (${fmt(perSecond(burst.sent, 5000))}/s), answers awaited for ${(SIGNALLING_LIMITS.queueExpiryMs + 2000) / 1000} s more: ${burst.expired} EXPIRE answers, ${burst.dropped.toLocaleString('en-US')} refused (over the probe limit: not queued, never answered).`,
    `- Sustained, injected clock: ${sustained.sent.toLocaleString('en-US')} OFFERs at 5 per simulated second: ${sustained.expired} EXPIRE answers = ${fmt(rate)}/s (limit ${SIGNALLING_LIMITS.maxIdProbesPerWindow} per ${SIGNALLING_LIMITS.windowMs / 1000} s); a registration from that address 20 simulated seconds in: ${sustained.upgrade ? describeOutcome(sustained.upgrade) : 'not tried'}.`,
    `- Clean: ${cleanText}.`,
  ]);
}

// ---- row 15: error pages --------------------------------------------------------------------------------------

const MALFORMED = ['/%', '/%E0%A4%A', '/a%zz.js', '/peerjs/%', '/peerjs/%E0%A4%A/id'];

/** Whether a body shows a stack trace or a path of this machine. */
function leaks(body: string): boolean {
  return /\n\s+at |node_modules|URIError|[A-Za-z]:\\|\/(work|home|root|usr|tmp)\//.test(body);
}

async function rawUpgrade(port: number, target: string): Promise<string> {
  const raw = net.connect(port, '127.0.0.1');
  raw.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no answer in 2 s'), 2000);
    raw.once('data', (data) => {
      clearTimeout(timer);
      raw.destroy();
      resolve(String(data).split('\r\n')[0]);
    });
  });
}

export async function row15(): Promise<RowReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-bench-urls-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>fedtab bench build</title>');
  const production = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir: dir, relay: { kind: 'none' } });
  const dev = await createViteServer({ configFile: false, root: dir, logLevel: 'silent', plugins: [fedtabSignalling()], server: { host: '127.0.0.1', port: 0 }, optimizeDeps: { noDiscovery: true } });
  await dev.listen();
  try {
    const servers = [
      { name: 'production (`npm start`)', port: (production.server.address() as AddressInfo).port },
      { name: 'dev (`npm run dev`)', port: (dev.httpServer!.address() as AddressInfo).port },
    ];
    const rows: string[][] = [];
    let leaked = 0;
    for (const server of servers) {
      for (const p of MALFORMED) {
        const res = await fetch(`http://127.0.0.1:${server.port}${p}`, { headers: { accept: 'text/html' } });
        const body = await res.text();
        if (leaks(body)) leaked++;
        rows.push([server.name, p, String(res.status), JSON.stringify(body.slice(0, 40)), leaks(body) ? 'LEAKS' : 'no']);
      }
    }
    const prodPort = servers[0].port;
    const unparsable = await rawUpgrade(prodPort, '//');
    const elsewhere = await rawUpgrade(prodPort, '/elsewhere');
    const page = await fetch(`http://127.0.0.1:${prodPort}/`);
    const alive = page.status === 200;
    const statuses = new Map<string, number>();
    for (const r of rows) statuses.set(r[2], (statuses.get(r[2]) ?? 0) + 1);
    const byStatus = [...statuses].map(([status, n]) => `${n} x ${status}`).join(', ');
    const after = `${rows.length} malformed URLs on the production and dev servers (${byStatus}): ${leaked} bodies with a stack trace or a path; an upgrade to \`//\`: "${unparsable}", server still up: ${alive ? 'yes' : 'NO'}`;
    return measuredRow(15, SIGNALLING_BEFORE[15], after, `GET / on the production server: ${page.status}`, [
      '`startServer` of server/serve.ts (production, no relay) and the Vite dev server with the fedtab plugin, both on 127.0.0.1, over a temporary build folder.',
      '',
      ...renderTable(['server', 'request', 'status', 'body (first 40 characters)', 'stack or path'], rows),
      '',
      `- WebSocket upgrade requests on the production server: \`//\` (a URL the WHATWG parser refuses; on the old main it threw in the upgrade listener and ended the process): "${unparsable}"; another path: "${elsewhere}" (refused, not left open unread).`,
    ]);
  } finally {
    await production.close();
    await dev.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
