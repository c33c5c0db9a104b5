/**
 * Direct vs relayed: a host tab and 5 student tabs (6 trainers) run rounds over WebRTC, once on a flat LAN (direct)
 * and once with client isolation (every connection through the TURN relay), for the MNIST CNN with float32 and with
 * int8 updates. The relay runs as a process of its own
 * (server/relay-cli.ts, offered to the tabs as an external relay), so its CPU time and memory are its own.
 * Measured per round: round time, bytes through the server (the bridge interface the server sits on, both
 * directions), relay CPU time; and the relay's resident memory. Extrapolated linearly to 30 and 100 students.
 *   npm run bench:relay   (= bash e2e/run-netns.sh npx tsx scripts/bench-relay.ts [--rounds N] [--model mlp|cnn] [--no-write])
 * Writes docs/benchmarks/relay.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Browser } from 'playwright-core';
import { assertInsideNetns } from '../e2e/harness/netns';
import { REPO_ROOT, startAppServer, type AppServer } from '../e2e/harness/app-server';
import { openPage, waitUntil, type OpenedPage } from '../e2e/harness/browser';
import { SESSION_PAGE as PAGE, stateOf, type SessionPageApi as Api } from '../e2e/harness/session-page';
import { BRIDGE, Namespace, SERVER_ADDRESS, attachToBridge, closeNamespaces, createBridge, removeBridge } from '../e2e/harness/topology';
import { newTurnSecret } from '../src/net/turn/turn-credentials';
import type { SessionSettings } from '../src/session/types';

const STUDENTS = 5;
const RELAY_PORT = 3478;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 8;
const model: SessionSettings['model'] = process.argv.includes('--model') && process.argv[process.argv.indexOf('--model') + 1] === 'mlp' ? 'mlp' : 'cnn';
const CODECS: ReadonlyArray<SessionSettings['codec']> = ['float32', 'int8'];
const write = !process.argv.includes('--no-write');
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

const baseSettings: SessionSettings = {
  model,
  strategy: { name: 'fedavg' },
  rounds,
  localEpochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  minClients: STUDENTS + 1,
  fraction: 1,
  roundDeadlineMs: 300_000,
  decomposition: 'proxy',
  decompositionEvery: 1,
  codec: 'float32',
  demoPartition: { kind: 'iid' },
  demoClients: STUDENTS + 1,
  seed: 5,
  hostTrains: true,
};

interface RelayProcess {
  child: ChildProcess;
  stats(): Promise<{ allocations: number; relayedBytes: number; droppedPackets: number }>;
  cpuMs(): number;
  rssBytes(): number;
}

async function startRelay(secret: string): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/relay-cli.ts'), '--port', String(RELAY_PORT)], {
    env: { ...process.env, FEDTAB_RELAY_SECRET: secret },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const first = await next();
  if (!first.startsWith('relay listening')) throw new Error(`relay: ${first}`);
  const stat = () => fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return {
    child,
    stats: async () => {
      child.stdin!.write('stats\n');
      return JSON.parse(await next()) as { allocations: number; relayedBytes: number; droppedPackets: number };
    },
    // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted here from the field after the command name.
    cpuMs: () => ((Number(stat()[11]) + Number(stat()[12])) * 1000) / CLOCK_TICKS_PER_S,
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
  };
}

/** Received + sent bytes of the bridge interface (ip's counters: /sys shows the machine's, not this namespace's). */
function bridgeBytes(): number {
  const [link] = JSON.parse(execFileSync('ip', ['-j', '-s', 'link', 'show', 'dev', BRIDGE], { encoding: 'utf8' })) as Array<{ stats64: { rx: { bytes: number }; tx: { bytes: number } } }>;
  return link.stats64.rx.bytes + link.stats64.tx.bytes;
}

interface Run {
  codec: SessionSettings['codec'];
  mode: 'direct' | 'relayed';
  relayedConnections: number;
  roundSeconds: number[];
  serverBytesPerRound: number;
  relayPayloadBytesPerRound: number;
  relayCpuMsPerRound: number;
  relayRssBytes: number;
  relayAllocations: number;
}

async function runOnce(server: AppServer, relay: RelayProcess, isolated: boolean, codec: SessionSettings['codec']): Promise<Run> {
  const settings: SessionSettings = { ...baseSettings, codec };
  const namespaces: Namespace[] = [];
  const browsers: Browser[] = [];
  try {
    const h = await Namespace.create('bench-host');
    const s = await Namespace.create('bench-students');
    namespaces.push(h, s);
    attachToBridge(h, { isolated });
    attachToBridge(s, { isolated });
    const flags = [`--unsafely-treat-insecure-origin-as-secure=${server.origin}`, '--disable-features=WebRtcHideLocalIpsWithMdns'];
    const [hostBrowser, studentBrowser] = [await h.launchChromium(flags), await s.launchChromium(flags)];
    browsers.push(hostBrowser, studentBrowser);
    const host = await openPage(hostBrowser, `${server.origin}/${PAGE}`);
    const students: OpenedPage[] = [];
    for (let i = 0; i < STUDENTS; i++) students.push(await openPage(studentBrowser, `${server.origin}/${PAGE}`));
    for (const tab of [host, ...students]) await tab.page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    await host.page.evaluate((st) => (window as unknown as Api).fedtab.host(st, 'teacher'), settings);
    const hosted = await stateOf(host);
    const secret = new URL(hosted.joinUrl!.replace('#/join/', 'join/')).searchParams.get('s')!;
    for (const [i, tab] of students.entries()) {
      await tab.page.evaluate(({ code, secret, i }) => (window as unknown as Api).fedtab.join(code, secret, `student ${i + 1}`), { code: hosted.code!, secret, i });
    }
    await waitUntil('every student with data', async () => ((await stateOf(host)).peers.filter((p) => p.numSamples > 0).length === STUDENTS + 1 ? true : undefined), 120_000);
    const [bytes0, cpu0, relay0] = [bridgeBytes(), relay.cpuMs(), await relay.stats()];
    const t0 = Date.now();
    const finished: number[] = [];
    const run = host.page.evaluate(() => (window as unknown as Api).fedtab.start());
    await waitUntil(
      `${rounds} rounds`,
      async () => {
        const n = (await stateOf(host)).rounds.length;
        while (finished.length < n) finished.push(Date.now());
        return n >= rounds ? true : undefined;
      },
      rounds * 300_000,
      200,
    );
    await run;
    const [bytes1, cpu1, relay1] = [bridgeBytes(), relay.cpuMs(), await relay.stats()];
    const network = await waitUntil('the routes of every student', async () => {
      const n = (await stateOf(host)).network;
      return n && Object.keys(n.routes).length >= STUDENTS ? n : undefined;
    });
    const roundSeconds = finished.map((t, i) => (t - (i === 0 ? t0 : finished[i - 1])) / 1000);
    return {
      codec,
      mode: isolated ? 'relayed' : 'direct',
      relayedConnections: Object.values(network.routes).filter((r) => r.relayed).length,
      roundSeconds,
      serverBytesPerRound: (bytes1 - bytes0) / rounds,
      relayPayloadBytesPerRound: (relay1.relayedBytes - relay0.relayedBytes) / rounds,
      relayCpuMsPerRound: (cpu1 - cpu0) / rounds,
      relayRssBytes: relay.rssBytes(),
      relayAllocations: relay1.allocations,
    };
  } finally {
    await Promise.all(browsers.map((b) => b.close()));
    await closeNamespaces(namespaces);
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function report(runs: Run[]): string {
  const relayed = runs.find((r) => r.mode === 'relayed' && r.codec === 'float32')!;
  const ratios = CODECS.map((codec) => {
    const of = (mode: Run['mode']) => median(runs.find((r) => r.codec === codec && r.mode === mode)!.roundSeconds);
    return { codec, direct: of('direct'), relayed: of('relayed') };
  });
  const perStudentBytes = relayed.serverBytesPerRound / STUDENTS;
  const perStudentCpu = relayed.relayCpuMsPerRound / STUDENTS;
  const roundS = mean(relayed.roundSeconds);
  const lines = [
    '# Relay: direct vs relayed (bench:relay)',
    '',
    `\`npm run bench:relay\` (scripts/bench-relay.ts), ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), shared with the tabs.`,
    `A host tab and ${STUDENTS} student tabs (6 trainers, the ${model.toUpperCase()} on the demo data, FedAvg, ${rounds} rounds, float32 and int8 updates), each side`,
    'in a Chromium of its own network namespace on a bridge with the server; "relayed" isolates the bridge ports',
    '(client isolation), so every connection goes through the TURN relay, a process of its own (server/relay-cli.ts).',
    '"Bytes through the server" are the bridge interface\'s received + sent bytes during the rounds (relayed traffic',
    'enters and leaves the server, so it counts twice; signalling and page traffic are in it too); "relay payload" is',
    "what the relay itself counted (payload, both directions). CPU is the relay process's user + system time.",
    '',
    '| updates | mode | relayed connections | round time (s, each round) | bytes through the server / round | relay payload / round | relay CPU / round | relay RSS | allocations |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.codec} | ${r.mode} | ${r.relayedConnections} of ${STUDENTS} | ${r.roundSeconds.map((s) => s.toFixed(1)).join(', ')} | ${mb(r.serverBytesPerRound)} | ${mb(r.relayPayloadBytesPerRound)} | ${r.relayCpuMsPerRound.toFixed(0)} ms | ${mb(r.relayRssBytes)} | ${r.relayAllocations} |`,
    ),
    '',
    '## Relayed against direct (target: a relayed round at most 1.2x a direct one)',
    '',
    '| updates | median direct round | median relayed round | ratio | met |',
    '|---|---|---|---|---|',
    ...ratios.map((r) => `| ${r.codec} | ${r.direct.toFixed(1)} s | ${r.relayed.toFixed(1)} s | ${(r.relayed / r.direct).toFixed(2)} | ${r.relayed <= 1.2 * r.direct ? 'yes' : 'no'} |`),
    '',
    'The tabs share the 2 cores with each other and with the relay, so round times carry their noise; the median of the',
    'rounds is robust to one slow round (the first one warms up: shader compilation, a connection\'s first large transfer).',
    '',
    '## Extrapolation (relayed float32, linear in the students)',
    '',
    `Every student's model download and update cross the relay: per student and round ${mb(perStudentBytes)} through the`,
    `server and ${perStudentCpu.toFixed(0)} ms of relay CPU. Assuming the same model and round time (${roundS.toFixed(1)} s here),`,
    'and that every student is relayed (the worst case: on a network without client isolation most connect directly):',
    '',
    '| students | bytes through the server / round | average rate over a round | relay CPU / round | relay CPU share of one core |',
    '|---|---|---|---|---|',
    ...[30, 100].map(
      (n) =>
        `| ${n} | ${mb(perStudentBytes * n)} | ${((perStudentBytes * n * 8) / roundS / 1e6).toFixed(1)} Mbit/s | ${(perStudentCpu * n).toFixed(0)} ms | ${((perStudentCpu * n) / (roundS * 1000) * 100).toFixed(0)}% |`,
    ),
    '',
    'A round\'s traffic comes in bursts (the round start to every student at once, then the updates), so the peak rate',
    'is higher than the average; the relay caps each allocation at 4 MiB/s (docs/deploy.md), which bounds one student.',
    "The relay's memory is its Node process plus one UDP socket and a few small maps per allocation; each tab keeps",
    'allocations for every WebRTC connection it made (relay candidates are gathered even when a direct path wins).',
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  assertInsideNetns();
  createBridge();
  const secret = newTurnSecret();
  const relay = await startRelay(secret);
  const host = SERVER_ADDRESS;
  Object.assign(process.env, {
    FEDTAB_RELAY: 'external',
    FEDTAB_RELAY_SECRET: secret,
    FEDTAB_RELAY_URLS: [`stun:${host}:${RELAY_PORT}`, `turn:${host}:${RELAY_PORT}?transport=udp`, `turn:${host}:${RELAY_PORT}?transport=tcp`].join(','),
  });
  const server = await startAppServer({ mode: 'dev', host: '0.0.0.0', browserHost: SERVER_ADDRESS, entries: [PAGE, 'src/worker/training.worker.ts'] });
  try {
    const runs: Run[] = [];
    for (const codec of CODECS) runs.push(await runOnce(server, relay, false, codec), await runOnce(server, relay, true, codec));
    const text = report(runs);
    console.log(text);
    if (write) fs.writeFileSync(path.join(REPO_ROOT, 'docs/benchmarks/relay.md'), text);
  } finally {
    await server.close();
    relay.child.kill();
    removeBridge();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
