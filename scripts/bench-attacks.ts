/**
 * The attacks and faults of the adversarial reviews, measured after the fixes beside a clean run, in-process
 * against the real code.
 * Usage: npm run bench:attacks [-- --out docs/benchmarks/attacks.md] [--rows 1,2,6] [--skip-sim]
 *
 * Network measurements target loopback only (127.0.0.1 for the real host, 127.0.0.2/127.0.0.3 for the flood and
 * the probes) or in-process fakes; every flood is bounded in count and in time and stops by itself.
 */
import { writeFileSync } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createWireCodec, tryDecodeMessage } from '../src/fl/codec';
import { splitIntoFrames } from '../src/fl/codec/frames';
import { WIRE_LIMITS } from '../src/fl/codec/limits';
import { InMemoryNetwork } from '../src/fl/in-memory-transport';
import { mlpSpec } from '../src/fl/model-spec';
import { PROTOCOL_VERSION, type HelloMessage, type Message, type RosterMessage, type SessionConfig } from '../src/fl/protocol';
import type { WeightSet } from '../src/fl/weights';
import { SIGNALLING_ENDPOINT } from '../src/net/endpoints';
import { PeerTransport } from '../src/net/peer-transport';
import { SIGNALLING_LIMITS } from '../src/net/signalling-server';
import { FakePeerNetwork } from '../src/net/testing/fake-peer-network';
import { AUTH_CONFIG, AuthenticatedTransport } from '../src/session/authenticated-transport';
import { HOST_ID_HEX_LENGTH, hostPeerId, normaliseSessionCode, randomSecret, randomSessionCode, SESSION_CODE_LENGTH } from '../src/session/session-code';
import { SessionNode } from '../src/session/session-node';
import { DEFAULT_HOST_FORM, hostFormToSettings } from '../src/session/host-form';
import { row3, ROW3 } from './bench-attacks-poisoning-row';
import { describeOutcome, register, row12, row13, row14, row15, SIGNALLING_BEFORE, startSignalling, tally, type Outcome, type RunningSignalling } from './bench-attacks-signalling';
import { describeRow11, measureRow11, ROW11 } from './bench-attacks-admitted';
import { ROBUST_ROWS, row16, row17, row18 } from './bench-attacks-robust-rows';
import {
  announcementTrial,
  ELECTION_TIMING,
  FLAP_DOWN_MS,
  FLAP_UP_MS,
  flappingLinks,
  FLAPS,
  LATER_MS,
  SETTLE_MS,
  type AnnouncementTrial,
  type ElectionOutcome,
  type FlapOutcome,
} from './bench-attacks-election';
import { DEFAULT_SERVE_OPTIONS, parseServeArgs, startServer } from '../server/serve';
import { peerTransportConfig, transportFlood, updateMessage } from './bench-attacks-flood';
import {
  countConsoleLines,
  decoderBombs,
  expectedYearsToHit,
  fmt,
  fmtMb,
  fmtMs,
  measure,
  notMeasured,
  perSecond,
  renderReport,
  renderTable,
  runBounded,
  searchSpaceBits,
  type RowReport,
} from './bench-attacks-lib';

/** The "before" column: the reviews' figures, measured on the old main. */
export const BEFORE: Record<number, { attack: string; before: string }> = {
  1: {
    attack: 'one msgpack message of nested array16 headers (15 KB) sent before any secret is checked',
    before: 'decoder allocates from declared sizes: RSS 2.7 GB, main thread blocked 13 s; one 256 KB frame aborts the tab',
  },
  2: {
    attack: "host's signalling socket drops; a stranger who knows the code registers the host's peer id",
    before: 'accepted; the next joiner sends the squatter its join secret and a training update',
  },
  3: ROW3,
  4: { attack: 'host-client link flaps while the host is alive', before: 'two aggregators; with two flapping links, two sessions that never merge' },
  5: { attack: 'during a handover, an admitted peer announces itself as aggregator', before: 'followed in 5 of 5 trials' },
  6: { attack: '5,000 fake peers register on the signalling server in 5 s', before: 'a real host gets "Server has reached its concurrent user limit"' },
  7: {
    attack: 'unauthenticated data-channel connections, each buffering up to 128 MB',
    before: '4 links held 520-620 MB; 20k wrong-secret hellos each wrote a log line',
  },
  8: { attack: 'probing live codes', before: '418 probes/s from one client (ID-TAKEN answers); ~30 bits of code' },
  9: { attack: 'privacy defaults', before: 'exact decomposition default; roster rebroadcasts label histograms to all peers' },
  10: { attack: '`npm start`', before: 'Vite dev server on 0.0.0.0 serves the project folder; /peerjs reflects any Origin; no CSP' },
  ...SIGNALLING_BEFORE,
  11: ROW11,
  ...ROBUST_ROWS,
};

function row(n: number, after: string, clean: string, details: string[]): RowReport {
  return { row: n, ...BEFORE[n], after, clean, details, measured: true };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds or `ms` pass; returns whether it held. */
async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) return false;
    await sleep(5);
  }
  return true;
}

const helloMessage = (name: string, histogram = [5, 5]): HelloMessage => ({
  type: 'hello',
  v: PROTOCOL_VERSION,
  clientName: name,
  backend: 'cpu',
  numSamples: histogram.reduce((a, b) => a + b, 0),
  labelHistogram: histogram,
});

// ---- row 1: decoder bombs -----------------------------------------------------------------------------------

async function row1(): Promise<RowReport> {
  const codec = createWireCodec('float32');
  const bombs = decoderBombs();
  const lines: string[][] = [];
  let worstMs = 0;
  let worstRss = 0;
  let allRefused = true;
  for (const [i, bomb] of bombs.entries()) {
    // The message decoder itself.
    const direct = await measure(() => tryDecodeMessage(bomb.bytes));
    // The wire decoder of an admitted peer (frames, reassembly, decode).
    const frames = splitIntoFrames(bomb.bytes, 100 + i);
    const decoder = codec.createDecoder();
    const wire = await measure(() => frames.flatMap((f) => decoder.push(f).messages));
    // The transport before admission: a stranger's connection sends the bomb's first frame.
    const network = new FakePeerNetwork();
    const hostPeer = network.createPeer('host');
    const host = new PeerTransport(hostPeer, codec, peerTransportConfig());
    host.onError(() => undefined);
    const delivered: Message[] = [];
    host.onMessage((_from, m) => delivered.push(m));
    const conn = hostPeer.acceptFrom('stranger');
    const gated = await measure(() => conn.inject(frames[0].slice().buffer));
    const reasons = Object.entries(host.rejections())
      .filter(([, n]) => n > 0)
      .map(([r]) => r);
    const closed = !conn.open;
    host.close();
    const refused = !direct.value.ok && wire.value.length === 0 && delivered.length === 0 && closed;
    allRefused &&= refused;
    worstMs = Math.max(worstMs, direct.ms, wire.ms, gated.ms);
    worstRss = Math.max(worstRss, direct.rssGrowthMb, wire.rssGrowthMb, gated.rssGrowthMb);
    lines.push([
      bomb.name,
      `${bomb.bytes.length.toLocaleString('en-US')} B`,
      `${direct.value.ok ? 'ACCEPTED' : 'refused'}, ${fmtMs(direct.ms)}, ${fmtMb(direct.rssGrowthMb)}`,
      `${wire.value.length} messages, ${fmtMs(wire.ms)}, ${fmtMb(wire.rssGrowthMb)}`,
      `${closed ? 'closed' : 'OPEN'} (${reasons.join(', ') || 'no rejection'}), ${fmtMs(gated.ms)}, ${fmtMb(gated.rssGrowthMb)}`,
      direct.value.ok ? '' : direct.value.reason.slice(0, 90),
    ]);
  }

  // Clean: a valid hello and a valid 4 MB update through the same decoders; a hello before admission is delivered.
  const hello = helloMessage('tab');
  const decoder = codec.createDecoder();
  const helloFrames = codec.encode(hello);
  const cleanHello = await measure(() => helloFrames.flatMap((f) => decoder.push(f).messages));
  const update = updateMessage(1_000_000);
  const updateFrames = codec.encode(update);
  const cleanUpdate = await measure(() => updateFrames.flatMap((f) => decoder.push(f).messages));
  const network = new FakePeerNetwork();
  const hostPeer = network.createPeer('host');
  const host = new PeerTransport(hostPeer, codec, peerTransportConfig());
  const delivered: Message[] = [];
  host.onMessage((_from, m) => delivered.push(m));
  const conn = hostPeer.acceptFrom('joiner');
  conn.inject(helloFrames[0].slice().buffer);
  const helloDelivered = delivered.length === 1 && delivered[0].type === 'hello' && conn.open;
  host.close();

  const after = `${allRefused ? `all ${bombs.length} bombs refused` : 'SOME BOMB GOT THROUGH'} (decoder, wire decoder, transport before admission); worst ${fmtMs(worstMs)}, worst RSS growth ${fmtMb(worstRss)}`;
  const clean = `valid hello decoded in ${fmtMs(cleanHello.ms)}; a 4 MB update (${updateFrames.length} frames) in ${fmtMs(cleanUpdate.ms)}, ${fmtMb(cleanUpdate.rssGrowthMb)}; hello before admission ${helloDelivered ? 'delivered' : 'NOT delivered'}`;
  return row(1, after, clean, [
    'Each bomb was fed to `tryDecodeMessage` (the message decoder), to a wire decoder as frames, and as the first DataChannel message ' +
      'of an unadmitted connection of a `PeerTransport` over the fake peer network (pre-admission gate). Time and resident-memory growth per call:',
    '',
    ...renderTable(['bomb', 'size', 'tryDecodeMessage', 'wire decoder', 'transport before admission', 'reason given'], lines),
    '',
    `Clean: ${clean}. Largest message an unadmitted peer may send: ${WIRE_LIMITS.maxPreAdmissionBytes} bytes; nesting limit ${WIRE_LIMITS.maxNestingDepth}.`,
  ]);
}

// ---- row 2: squatter on the host id ------------------------------------------------------------------------

function fakeTrainer(histogram: number[]) {
  return {
    info: async () => ({ backend: 'cpu', numSamples: histogram.reduce((a, b) => a + b, 0), labelHistogram: histogram }),
    train: async (): Promise<never> => {
      throw new Error('no training in this bench');
    },
    evaluate: async () => ({ losses: [], accuracies: [], perClassAccuracies: [], predictionCounts: [], numSamples: 0 }),
  };
}

const SESSION_SPEC = mlpSpec([28, 28, 1], 10, [16]);

function sessionConfig(): SessionConfig {
  return {
    model: SESSION_SPEC,
    strategy: { name: 'fedavg' },
    train: { localEpochs: 1, batchSize: 32, learningRate: 0.1 },
    rounds: 5,
    // High: no round starts, the bench looks at joining and the roster only.
    minClients: 50,
    fraction: 1,
    roundDeadlineMs: 5_000,
    decomposition: 'exact',
    decompositionEvery: 1,
    codec: 'float16',
    seed: 4,
    demo: { partition: { kind: 'iid' }, clients: 4 },
  };
}

/** Zero weights of SESSION_SPEC's layout (784-16-10), enough for a host that runs no round. */
function zeroWeights(): WeightSet {
  return [
    { name: 'dense/kernel', shape: [784, 16], values: new Float32Array(784 * 16) },
    { name: 'dense/bias', shape: [16], values: new Float32Array(16) },
    { name: 'dense_1/kernel', shape: [16, 10], values: new Float32Array(160) },
    { name: 'dense_1/bias', shape: [10], values: new Float32Array(10) },
  ];
}

interface Tapped {
  from: string;
  to: string;
  message: Message;
}

function containsSecret(messages: Tapped[], secret: string): boolean {
  return JSON.stringify(messages).includes(secret);
}

async function row2(): Promise<RowReport> {
  const code = randomSessionCode();
  const secret = randomSecret();
  const hostId = await hostPeerId(code, secret);

  // After: the host's id is held by a stranger who knows the code but not the secret (it runs the protocol with a guess).
  const sent: Tapped[] = [];
  const network = new InMemoryNetwork({ codec: createWireCodec('float32'), tap: (from, to, message) => sent.push({ from, to, message }) });
  const squatterEndpoint = network.endpoint(hostId);
  const squatter = new AuthenticatedTransport(squatterEndpoint, { secret: 'guessed-secret' });
  const squatterGot: Message[] = [];
  squatter.onMessage((_from, m) => squatterGot.push(m));
  squatterEndpoint.onMessage(() => undefined);
  const joiner = new SessionNode({
    transport: new AuthenticatedTransport(network.endpoint('joiner'), { secret }),
    name: 'joiner',
    trainer: () => fakeTrainer([10]),
    timing: { welcomeTimeoutMs: 5_000 },
  });
  const started = Date.now();
  const outcome = await joiner.join(hostId).then(
    () => 'joined',
    (e: Error) => e.message,
  );
  const joinMs = Date.now() - started;
  await sleep(50);
  const toSquatter = sent.filter((s) => s.to === hostId);
  const types = toSquatter.map((s) => s.message.type);
  const leaked = containsSecret(toSquatter, secret);
  const gotAppMessage = types.some((t) => t === 'hello' || t === 'update');
  joiner.leave();

  // Clean: the same joiner against the real host (same code, same secret).
  const cleanSent: Tapped[] = [];
  const cleanNet = new InMemoryNetwork({ codec: createWireCodec('float32'), tap: (from, to, message) => cleanSent.push({ from, to, message }) });
  const hostEndpoint = cleanNet.endpoint(hostId);
  const hostNode = new SessionNode({ transport: new AuthenticatedTransport(hostEndpoint, { secret }), name: 'host', trainer: () => null });
  await hostNode.host(sessionConfig(), zeroWeights());
  const cleanJoiner = new SessionNode({
    transport: new AuthenticatedTransport(cleanNet.endpoint('joiner'), { secret }),
    name: 'joiner',
    trainer: () => fakeTrainer([10]),
    timing: { welcomeTimeoutMs: 5_000 },
  });
  const cleanStarted = Date.now();
  const cleanOutcome = await cleanJoiner.join(hostId).then(
    (w) => `joined (slot ${w.slot})`,
    (e: Error) => e.message,
  );
  const cleanMs = Date.now() - cleanStarted;
  await sleep(50);
  const toHost = cleanSent.filter((s) => s.to === hostId);
  const cleanLeak = containsSecret(cleanSent, secret);
  cleanJoiner.leave();
  hostNode.leave();

  const after = `squatter received ${toSquatter.length} message(s) (${types.join(', ')}), ${squatterEndpoint.bytesReceived} bytes; secret in them: ${leaked ? 'YES' : 'no'}; hello/update: ${gotAppMessage ? 'YES' : 'none'}; joiner refused it in ${joinMs} ms`;
  const clean = `${cleanOutcome} in ${cleanMs} ms; host received ${toHost.length} messages (${[...new Set(toHost.map((s) => s.message.type))].join(', ')}), ${hostEndpoint.bytesReceived} bytes; secret on the wire: ${cleanLeak ? 'YES' : 'no'}`;
  return row(2, after, clean, [
    `Host id \`${hostId}\` derived from a fresh code and secret (\`hostPeerId\`). In-memory network with real wire frames; every message on it is tapped.`,
    `The squatter registers that id and runs the challenge-response with a guessed secret; the joiner is a real \`SessionNode\` over \`AuthenticatedTransport\`.`,
    '',
    `- Joiner's outcome: "${outcome.slice(0, 200)}"`,
    `- Messages to the squatter: ${types.join(', ') || 'none'} (${squatterEndpoint.bytesReceived} bytes of frames); messages its application layer saw: ${squatterGot.length}.`,
    `- Clean run (real host): ${clean}.`,
  ]);
}

// ---- rows 6 and 8: signalling server ---------------------------------------------------------------------

async function row6(): Promise<RowReport> {
  const s = await startSignalling();
  try {
    const total = 5000;
    const started = Date.now();
    // Bounded: 5,000 attempts from 127.0.0.2, 50 at a time, giving up after 60 s.
    const flood = await runBounded(total, 50, started + 60_000, async (i) => {
      const r = await register(s, `fake${i}`, '127.0.0.2');
      if (r.outcome.kind !== 'open') r.ws.terminate();
      return r.outcome;
    });
    const floodMs = Date.now() - started;
    const opened = flood.filter((o) => o.kind === 'open').length;
    const host = await register(s, `fedtab-${'0123456789abcdef0123'}`, '127.0.0.1');
    const stats = s.mount.stats();
    const after = `${flood.length.toLocaleString('en-US')} attempts in ${(floodMs / 1000).toFixed(1)} s: ${opened} accepted, ${(flood.length - opened).toLocaleString('en-US')} refused; the real host then got ${describeOutcome(host.outcome)} in ${fmtMs(host.ms)}`;
    // Clean: the same host registering on a fresh server with no flood.
    const fresh = await startSignalling();
    const cleanHost = await register(fresh, `fedtab-${'0123456789abcdef0123'}`, '127.0.0.1');
    await fresh.stop();
    return row(6, after, `host alone: ${describeOutcome(cleanHost.outcome)} in ${fmtMs(cleanHost.ms)}`, [
      'The real signalling server (`attachSignalling`, default limits) on 127.0.0.1; 5,000 registrations from 127.0.0.2, 50 in flight, bounded to 60 s; then a host registers from 127.0.0.1.',
      '',
      `- Flood outcomes: ${tally(flood)}.`,
      `- Server counters after the flood: ${stats.openConnections} open sockets, refused ${JSON.stringify(stats.refused)}.`,
      `- Limits: ${SIGNALLING_LIMITS.maxConnectionsPerAddress} open sockets per address, ${SIGNALLING_LIMITS.maxRegistrationsPerWindow} registrations per address per ${SIGNALLING_LIMITS.windowMs / 1000} s, ${SIGNALLING_LIMITS.maxConnections} in all.`,
    ]);
  } finally {
    await s.stop();
  }
}

/** Probe attempts for a taken id from one address; how many the server answered ID-TAKEN. */
async function probe(s: RunningSignalling, takenId: string, attempts: number, deadline: number, tick?: () => void) {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < attempts && Date.now() < deadline; i++) {
    tick?.();
    const r = await register(s, takenId, '127.0.0.3', `guess${i}`);
    r.ws.terminate();
    outcomes.push(r.outcome);
  }
  return outcomes;
}

async function row8(): Promise<RowReport> {
  const takenId = 'fedtab-0123456789abcdef0123';
  // Real clock: as fast as one client can, for at most 5 s.
  const s = await startSignalling();
  let burst: Outcome[];
  let burstMs: number;
  let hostMs: number;
  try {
    const host = await register(s, takenId, '127.0.0.1');
    hostMs = host.ms;
    const started = Date.now();
    burst = await probe(s, takenId, 2_000, started + 5_000);
    burstMs = Date.now() - started;
  } finally {
    await s.stop();
  }
  const burstTaken = burst.filter((o) => o.kind === 'id-taken').length;

  // Injected clock: 10 simulated minutes at 5 attempts per simulated second (3,000 attempts, bounded to 60 s real).
  let clock = 1_000_000;
  const sim = await startSignalling({}, () => clock);
  let sustained: Outcome[];
  const simulatedMs = 10 * 60_000;
  const attemptsPerSecond = 5;
  try {
    await register(sim, takenId, '127.0.0.1');
    const started = Date.now();
    sustained = await probe(sim, takenId, (simulatedMs / 1000) * attemptsPerSecond, started + 60_000, () => (clock += 1000 / attemptsPerSecond));
  } finally {
    await sim.stop();
  }
  const sustainedTaken = sustained.filter((o) => o.kind === 'id-taken').length;
  const sustainedRate = perSecond(sustainedTaken, (sustained.length * 1000) / attemptsPerSecond);

  // The search space, measured from the code: which characters a code may hold, and how long codes, secrets and ids are.
  const candidates = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
  const alphabet = candidates.filter((c) => normaliseSessionCode(c.repeat(SESSION_CODE_LENGTH)) !== null).length;
  const codeBits = searchSpaceBits(alphabet, SESSION_CODE_LENGTH);
  // The passphrase's alphabet as the generator uses it (2,000 sampled characters show every one of its symbols).
  const secretSymbols = new Set(Array.from({ length: 200 }, () => randomSecret()).join('')).size;
  const secretBits = searchSpaceBits(secretSymbols, randomSecret().length);
  const idBits = HOST_ID_HEX_LENGTH * 4;
  const sampleId = await hostPeerId(randomSessionCode(), randomSecret());
  const idHexChars = sampleId.replace(/^fedtab-/, '').length;
  const hostIdBits = Math.min(idBits, codeBits + secretBits);
  const years = expectedYearsToHit(hostIdBits, 1000, sustainedRate);

  const after = `${fmt(sustainedRate)} probes/s answered ID-TAKEN sustained from one address (${burstTaken} in a ${(burstMs / 1000).toFixed(1)} s burst, then refused); host id ${fmt(hostIdBits)} bits (code ${fmt(codeBits)} + secret ${fmt(secretBits)}, id ${idBits})`;
  return row(8, after, `host registered in ${fmtMs(hostMs)}`, [
    'The real signalling server on 127.0.0.1 with a host registered from 127.0.0.1; one client on 127.0.0.3 asks for the host\'s id over and over.',
    '',
    `- Burst, real clock, bounded to 5 s: ${burst.length.toLocaleString('en-US')} attempts in ${(burstMs / 1000).toFixed(1)} s (${fmt(perSecond(burst.length, burstMs))}/s): ${tally(burst)}.`,
    `- Sustained, injected clock: ${sustained.length.toLocaleString('en-US')} attempts at ${attemptsPerSecond} per simulated second over ${(sustained.length / attemptsPerSecond / 60).toFixed(1)} simulated minutes: ${tally(sustained)}; ${fmt(sustainedRate)} ID-TAKEN answers per second.`,
    `- Search space measured from \`session-code.ts\`: ${alphabet} characters allowed in a ${SESSION_CODE_LENGTH}-character code = ${fmt(codeBits)} bits; secret ${fmt(secretBits)} bits (${secretSymbols} symbols); the host id keeps ${idHexChars} hex characters = ${idBits} bits of SHA-256(code, secret). ` +
      `Knowing the code no longer gives the id: finding any one of 1,000 live host ids at ${fmt(sustainedRate)} probes/s takes ~${fmt(years)} years (2^${fmt(hostIdBits)} / 1000 / 2 guesses).`,
  ]);
}

// ---- row 7: unauthenticated links and wrong hellos ---------------------------------------------------------

async function wrongHellos(total: number, deadlineMs: number) {
  const secret = randomSecret();
  const network = new InMemoryNetwork({ codec: createWireCodec('float32') });
  const hostId = await hostPeerId(randomSessionCode(), secret);
  const summaries: string[] = [];
  const host = new AuthenticatedTransport(network.endpoint(hostId), { secret, onSummary: (t) => summaries.push(t) });
  const appMessages: Message[] = [];
  host.onMessage((_f, m) => appMessages.push(m));
  const started = Date.now();
  let challenges = 0;
  const { value: m, lines } = await countConsoleLines(() =>
    measure(() =>
      runBounded(total, 50, started + deadlineMs, async (i) => {
        // A raw stranger: auth-hello, then a made-up proof on the challenge, then a hello it hopes gets through.
        const id = `stranger${i}`;
        const ep = network.endpoint(id);
        const gotChallenge = new Promise<boolean>((resolve) => {
          ep.onMessage((_f, msg) => resolve(msg.type === 'auth-challenge'));
          setTimeout(() => resolve(false), 2_000);
        });
        ep.send(hostId, { type: 'auth-hello', v: PROTOCOL_VERSION, nonce: (i.toString(16) + 'a'.repeat(32)).slice(0, 32) });
        if (await gotChallenge) {
          challenges++;
          ep.send(hostId, { type: 'auth-proof', v: PROTOCOL_VERSION, proof: 'b'.repeat(64) });
          ep.send(hostId, helloMessage(id));
          // The host hangs up on a stranger whose proof fails; wait for that (bounded) before leaving.
          await waitUntil(() => network.isCut(id, hostId), 1_000);
        }
        network.disconnect(id);
      }),
    ),
  );
  await sleep(20);
  const stats = host.stats();
  return { m, lines, summaries: summaries.length, stats, challenges, attempts: m.value.length, appMessages: appMessages.length, ms: Date.now() - started };
}

async function row7(): Promise<RowReport> {
  const attackers = 2000;
  const byRate = await transportFlood({}, attackers);
  const byCap = await transportFlood({ maxNewConnectionsPerSecond: 10_000 }, attackers);
  const hellos = await wrongHellos(10_000, 60_000);
  const after =
    `${attackers.toLocaleString('en-US')} links x 8 hostile frames (${fmt(byCap.sentBytes / 2 ** 20)} MB): at most ${byCap.maxHeld} held at once, RSS ${fmtMb(byCap.m.rssGrowthMb)}, ${byCap.lines} console lines, ${byCap.errors} reports; ` +
    `${byCap.silent.toLocaleString('en-US')} silent links: ${byCap.silentHeld} held, ${byCap.silentLeft} after the timeout; ` +
    `${hellos.attempts.toLocaleString('en-US')} wrong-secret hellos: ${hellos.lines} console lines, ${hellos.summaries} summaries, ${hellos.stats.admitted} admitted, RSS ${fmtMb(hellos.m.rssGrowthMb)}`;
  const clean = `admitted client's updates delivered during the floods: ${byRate.admittedDelivered}/${byRate.expected} and ${byCap.admittedDelivered}/${byCap.expected}`;
  const flood = (label: string, r: Awaited<ReturnType<typeof transportFlood>>) =>
    `- ${label}: ${fmtMs(r.m.ms)}, RSS ${fmtMb(r.m.rssGrowthMb)}, heap+buffers ${fmtMb(r.m.heapGrowthMb)}; unadmitted links held at most ${r.maxHeld} at once, ${r.held} at the end; ` +
    `rejections ${JSON.stringify(r.rejections)}; ${r.errors} error reports to the app, ${r.lines} console lines; admitted client's messages delivered ${r.admittedDelivered}/${r.expected}. ` +
    `Then ${r.silent.toLocaleString('en-US')} silent connections: ${r.silentHeld} held, ${r.silentLeft} left after the ${peerTransportConfig().admission.admissionTimeoutMs / 1000} s admission timeout.`;
  return row(7, after, clean, [
    `\`PeerTransport\` (default admission settings) over the fake peer network, one admitted client sending an update every 100 attackers. ${attackers.toLocaleString('en-US')} unadmitted connections each send 8 frames ` +
      'cycling through a 256 KB frame, a 3 KB decoder bomb, the first 1 KB frame of a larger message, and a one-frame update (a type not allowed before admission). Real clock.',
    '',
    flood('Default limits (16 new connections/s)', byRate),
    flood(`Rate limit lifted to 10,000/s, so only the pending cap (${peerTransportConfig().admission.maxPendingConnections}) holds`, byCap),
    '',
    `\`AuthenticatedTransport\` of a host over the in-memory network with real wire frames: ${hellos.attempts.toLocaleString('en-US')} strangers (distinct ids, 50 at a time, bounded to 60 s) each send an auth-hello, ` +
      `a made-up auth-proof on the challenge, and a hello; then hang up.`,
    '',
    `- ${fmtMs(hellos.ms)}; ${hellos.challenges.toLocaleString('en-US')} challenges answered; host stats ${JSON.stringify(hellos.stats)}; application messages delivered ${hellos.appMessages}; ` +
      `console lines ${hellos.lines}; throttled summaries ${hellos.summaries} (at most one per ${AUTH_CONFIG.summaryIntervalMs / 1000} s); RSS ${fmtMb(hellos.m.rssGrowthMb)}.`,
  ]);
}

// ---- row 9: privacy defaults -------------------------------------------------------------------------------

async function row9(): Promise<RowReport> {
  const settings = hostFormToSettings(DEFAULT_HOST_FORM);
  const mode = settings.ok ? settings.settings.decomposition : `form invalid: ${JSON.stringify(settings.errors)}`;
  const every = settings.ok ? settings.settings.decompositionEvery : NaN;

  // A real session: a host and two joiners with distinct label histograms; what roster does joiner B receive?
  const secret = randomSecret();
  const hostId = await hostPeerId(randomSessionCode(), secret);
  const sent: Tapped[] = [];
  const network = new InMemoryNetwork({ codec: createWireCodec('float16'), tap: (from, to, message) => sent.push({ from, to, message }) });
  const host = new SessionNode({ transport: new AuthenticatedTransport(network.endpoint(hostId), { secret }), name: 'host', trainer: () => null });
  await host.host(sessionConfig(), zeroWeights());
  const histA = [7, 0, 3, 0, 0, 11, 0, 0, 0, 2];
  const histB = [0, 4, 0, 9, 0, 0, 1, 0, 6, 0];
  const a = new SessionNode({ transport: new AuthenticatedTransport(network.endpoint('peer-a'), { secret }), name: 'ann', trainer: () => fakeTrainer(histA) });
  const b = new SessionNode({ transport: new AuthenticatedTransport(network.endpoint('peer-b'), { secret }), name: 'bob', trainer: () => fakeTrainer(histB) });
  await a.join(hostId);
  await b.join(hostId);
  await waitUntil(() => sent.some((s) => s.to === 'peer-b' && s.message.type === 'roster' && (s.message as RosterMessage).peers.length >= 3), 5_000);
  const rostersToB = sent.filter((s) => s.to === 'peer-b' && s.message.type === 'roster').map((s) => s.message as RosterMessage);
  const last = rostersToB[rostersToB.length - 1];
  const entryA = last?.peers.find((p) => p.id === 'peer-a');
  const aHistogramToB = entryA !== undefined && entryA.labelHistogram.length > 0;
  const fields = entryA ? Object.keys(entryA).join(', ') : 'no entry for peer A';
  a.leave();
  b.leave();
  host.leave();

  const after = `default decomposition "${mode}" (every ${every} round); roster sent to peer B ${aHistogramToB ? `CONTAINS peer A's label histogram [${entryA!.labelHistogram.join(',')}] and numSamples ${entryA!.numSamples}` : "holds no label histogram of peer A"}`;
  return row(9, after, 'n/a (defaults, not an attack)', [
    '`hostFormToSettings(DEFAULT_HOST_FORM)` gives the settings a host starts with unless changed.',
    `A real session over the in-memory network (host + peer A + peer B, \`SessionNode\` over \`AuthenticatedTransport\`): ${rostersToB.length} roster message(s) sent to peer B; ` +
      `the last lists ${last?.peers.length ?? 0} peers; peer A's entry has fields: ${fields}.`,
  ]);
}

// ---- row 10: npm start --------------------------------------------------------------------------------------

const SECURITY_HEADERS = ['content-security-policy', 'x-frame-options', 'referrer-policy', 'x-content-type-options', 'cross-origin-resource-policy'];

async function row10(): Promise<RowReport> {
  // A project folder with the build in dist/ next to the files that must not be served.
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedtab-bench-'));
  const distDir = path.join(projectDir, 'dist');
  fs.mkdirSync(distDir);
  fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>fedtab bench build</title>');
  fs.writeFileSync(path.join(projectDir, 'package.json'), '{"name":"project-package-json"}');
  fs.mkdirSync(path.join(projectDir, '.git'));
  fs.writeFileSync(path.join(projectDir, '.git/config'), '[core] project-git-config');
  fs.mkdirSync(path.join(projectDir, 'src/fl'), { recursive: true });
  fs.writeFileSync(path.join(projectDir, 'src/fl/engine.ts'), 'export const projectSource = 1;');
  const running = await startServer({ ...DEFAULT_SERVE_OPTIONS, host: '127.0.0.1', port: 0, distDir });
  const base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
  try {
    const probes: string[][] = [];
    let leaked = 0;
    for (const p of ['/package.json', '/.git/config', '/src/fl/engine.ts', '/../package.json', '/%2e%2e/package.json']) {
      const res = await fetch(`${base}${p}`, { headers: { accept: '*/*' } });
      const body = await res.text();
      const leak = /project-package-json|project-git-config|projectSource/.test(body);
      if (leak) leaked++;
      probes.push([p, String(res.status), leak ? 'LEAKED' : 'no']);
    }
    const preflight = await fetch(`${base}${SIGNALLING_ENDPOINT.path}/${SIGNALLING_ENDPOINT.key}/id`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    const acao = preflight.headers.get('access-control-allow-origin');
    const page = await fetch(`${base}/`);
    const pageBody = await page.text();
    const present = SECURITY_HEADERS.filter((h) => page.headers.get(h) !== null);
    const csp = page.headers.get('content-security-policy') ?? '';
    const defaultHost = parseServeArgs([], {}).host;
    const after = `${probes.map(([p, s]) => `${p} ${s}`).join(', ')} (${leaked} leaked); /peerjs preflight from a foreign Origin: ${preflight.status}, Access-Control-Allow-Origin ${acao === null ? 'absent' : `"${acao}"`}; ${present.length}/${SECURITY_HEADERS.length} security headers incl. CSP ${csp ? 'present' : 'ABSENT'}`;
    return row(10, after, `GET / ${page.status}${pageBody.includes('fedtab bench build') ? ' (the build\'s index.html)' : ''}, same headers`, [
      "`startServer` of server/serve.ts (what `npm start` runs after building) on 127.0.0.1 against a temporary project folder whose dist/ holds only index.html, with package.json, .git/config and src/fl/engine.ts beside it.",
      '',
      ...renderTable(['request', 'status', 'project file in body'], probes),
      '',
      `- Headers on GET /: ${present.join(', ')}.`,
      `- CSP: \`${csp}\``,
      `- \`npm start\` listens on ${defaultHost} by default (the LAN, so phones can join); it serves only dist/.`,
    ]);
  } finally {
    await running.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
}

// ---- rows 4 and 5: election ----------------------------------------------------------------------------------

/** Whether this checkout's SessionNode has election terms (the one-aggregator-at-a-time branch). */
function hasElectionTerms(): boolean {
  return Object.getOwnPropertyDescriptor(SessionNode.prototype, 'term') !== undefined;
}

/** Prefix of rows 4 and 5 on a checkout without the election: what is measured is the fault itself. */
function electionNote(): string {
  return hasElectionTerms() ? '' : '[this branch has no election with terms yet] ';
}

function describeElection(o: ElectionOutcome): string {
  const views = Object.entries(o.views).map(([n, a]) => `${n}->${a}`).join(' ');
  return `${o.aggregators.length} aggregator(s) (${o.aggregators.join(', ')}), ${o.sessions} session(s) [${views}]`;
}

async function row4(): Promise<RowReport> {
  const clean = await flappingLinks(0);
  const one = await flappingLinks(1);
  const two = await flappingLinks(2);
  const brief = (o: FlapOutcome) =>
    `${o.settled.aggregators.length} aggregator(s), ${o.settled.sessions} session(s)` +
    (o.later.aggregators.length !== o.settled.aggregators.length || o.later.sessions !== o.settled.sessions ? ` (${LATER_MS / 1000} s later: ${o.later.aggregators.length}, ${o.later.sessions})` : ` (same ${LATER_MS / 1000} s later)`);
  return row(4, `${electionNote()}one flapping link: ${brief(one)}; two flapping links: ${brief(two)}`, `no flap: ${brief(clean)}`, [
    `Real \`SessionNode\`s (host, ann, bob, cy) over \`AuthenticatedTransport\` on the in-memory network, rounds running with zero-update trainers, session timings ${JSON.stringify(ELECTION_TIMING)}. ` +
      `The links between the host and the first one or two clients go down (everything dropped, reconnects too) for ${FLAP_DOWN_MS / 1000} s and come back for ${FLAP_UP_MS / 1000} s, ${FLAPS} times, the host alive all along; ` +
      `the state is read ${SETTLE_MS / 1000} s after the last restore and again ${LATER_MS / 1000} s later. Measured on the session code of the branch the bench ran on.`,
    '',
    `- No flap (clean): ${describeElection(clean.settled)}; later ${describeElection(clean.later)}.`,
    `- One flapping link (host-ann): ${describeElection(one.settled)}; later ${describeElection(one.later)}.`,
    `- Two flapping links (host-ann, host-bob): ${describeElection(two.settled)}; later ${describeElection(two.later)}.`,
  ]);
}

async function row5(): Promise<RowReport> {
  const trials = 5;
  const attacked: AnnouncementTrial[] = [];
  for (let i = 0; i < trials; i++) attacked.push(await announcementTrial(true));
  const clean = await announcementTrial(false);
  const followed = attacked.filter((t) => t.followedAttacker).length;
  const during = attacked.filter((t) => t.sentDuringHandover).length;
  return row(5, `${electionNote()}followed in ${followed} of ${trials} trials (announcement sent during the victim's handover in ${during} of ${trials})`, `no announcement: bob follows ${clean.victimFollows}; ${describeElection(clean.outcome)}`, [
    'Host, ann, bob, cy, dan as in row 4. The host leaves the network; dan (admitted, last in line, linked to bob beforehand) sends bob a roster naming itself the aggregator (with the next term, where the session layer has terms) as soon as bob is handing over (its aggregator silent). It races the rightful successor (ann, first in line). ' +
      'Measured on the session code of the branch the bench ran on.',
    '',
    ...renderTable(
      ['trial', 'sent during handover', 'bob follows', 'outcome'],
      attacked.map((t, i) => [String(i + 1), t.sentDuringHandover ? 'yes' : 'no', t.victimFollows, describeElection(t.outcome)]),
    ),
    '',
    `- Clean (nobody lies): ${describeElection(clean.outcome)}.`,
  ]);
}

// ---- row 11: an admitted participant's object-count bombs ---------------------------------------------------------

async function row11(): Promise<RowReport> {
  const { after, clean, details } = describeRow11(await measureRow11());
  return row(11, after, clean, details);
}

// ---- main -------------------------------------------------------------------------------------------------------

const RUNNERS: Record<number, () => Promise<RowReport | RowReport[]>> = {
  1: row1,
  2: row2,
  3: row3,
  4: row4,
  5: row5,
  6: row6,
  7: row7,
  8: row8,
  9: row9,
  10: row10,
  12: row12,
  13: row13,
  14: row14,
  15: row15,
  11: row11,
  16: row16,
  17: row17,
  18: row18,
};

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' }, rows: { type: 'string' }, 'skip-sim': { type: 'boolean' } } });
  const wanted = values.rows ? values.rows.split(',').map(Number) : Object.keys(RUNNERS).map(Number);
  const started = Date.now();
  const reports: RowReport[] = [];
  for (const n of wanted) {
    const runner = RUNNERS[n];
    if (!runner) continue;
    if ([3, 16, 17, 18].includes(n) && values['skip-sim']) {
      reports.push(notMeasured(n, BEFORE[n].attack, BEFORE[n].before, 'skipped (--skip-sim)'));
      continue;
    }
    const t0 = Date.now();
    process.stderr.write(`row ${n}...\n`);
    try {
      const r = await runner();
      reports.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      reports.push(notMeasured(n, BEFORE[n].attack, BEFORE[n].before, `the run failed: ${(e as Error).stack?.split('\n').slice(0, 2).join(' ') ?? String(e)}`));
    }
    process.stderr.write(`row ${n} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const args = process.argv.slice(2).join(' ');
  const command = values.out === 'docs/benchmarks/attacks.md' && !values.rows && !values['skip-sim'] ? 'npm run bench:attacks' : `npx tsx scripts/bench-attacks.ts ${args}`.trim();
  const text = renderReport(
    { command, date: new Date().toISOString().slice(0, 10), node: process.version, cpus: os.cpus().length, totalSeconds: (Date.now() - started) / 1000 },
    reports,
  );
  process.stdout.write(text);
  if (values.out) writeFileSync(values.out, text);
  // Servers, timers and tfjs may keep the loop alive; everything is measured and written.
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
