/**
 * Row 11 of scripts/bench-attacks.ts: what one admitted participant (it knows the join secret) costs the host when
 * it sends valid msgpack messages of millions of empty maps. Real code throughout: the decoder, PeerTransport over
 * the fake peer network, AuthenticatedTransport and SessionNodes running rounds with zero-update trainers (no tfjs).
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createWireCodec, tryDecodeMessage } from '../src/fl/codec';
import { splitIntoFrames } from '../src/fl/codec/frames';
import { WIRE_LIMITS, maxObjectsPerMessage, wireLimits } from '../src/fl/codec/limits';
import { sessionMessageLimit } from '../src/fl/codec/session-limits';
import { emptyMapBomb } from '../src/fl/codec/test-messages';
import { modelLayout } from '../src/fl/model-layout';
import type { SessionConfig } from '../src/fl/protocol';
import { sizeOfShape, type WeightSet } from '../src/fl/weights';
import { PeerTransport } from '../src/net/peer-transport';
import { resolvePeerTransportConfig } from '../src/net/peer-transport-config';
import { FakePeerNetwork, type FakePeer } from '../src/net/testing/fake-peer-network';
import { AuthenticatedTransport } from '../src/session/authenticated-transport';
import { randomSecret } from '../src/session/session-code';
import { sessionConfigFromSettings } from '../src/session/session-controller';
import { SessionNode, SESSION_TIMING } from '../src/session/session-node';
import { DEFAULT_HOST_FORM, hostFormToSettings } from '../src/session/host-form';
import { zeroTrainer } from './bench-attacks-election';
import { fmt, fmtMb, fmtMs, measure, type Measured } from './bench-attacks-lib';

export const ROW11 = {
  attack: 'an admitted participant sends valid msgpack messages of millions of empty maps (object-count bombs)',
  before:
    "one 8 MB message of 8.4 M empty maps: +565 MB, 1.8 s stall; sent every 2 s, the host's rounds in 30 s fall from 94 to 3 and its memory reaches 2.5 GB",
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MB = 2 ** 20;
/** How long the hostile peer waits after its handshake before sending: the host admits it once it checked the proof. */
const ADMISSION_WAIT_MS = 100;

/**
 * A full garbage collection. Both rounds runs collect once a second, so the resident-memory peak follows what is
 * alive (a decoded bomb's objects) rather than when V8 chose to collect: without it, a clean run's RSS grew by hundreds
 * of MB of garbage.
 */
function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** The session the host form starts with unless changed (the MNIST MLP, FedLD, float16), running rounds without end. */
function defaultSession(): SessionConfig {
  const form = hostFormToSettings(DEFAULT_HOST_FORM);
  if (!form.ok) throw new Error(`the default host form does not validate: ${JSON.stringify(form.errors)}`);
  return { ...sessionConfigFromSettings(form.settings), rounds: 1_000_000, minClients: 2 };
}
const CONFIG = defaultSession();
export const SESSION_LIMIT = sessionMessageLimit(CONFIG, { evalModels: SESSION_TIMING.exactDecompositionMaxParticipants + 1 });

const PEER_CONFIG = resolvePeerTransportConfig({
  signalling: { host: 'test.invalid', port: 1 },
  timings: { signallingTimeoutMs: 1000, connectTimeoutMs: 5_000, heartbeatIntervalMs: 1000, peerSilenceTimeoutMs: 600_000 },
});
const codec = createWireCodec('float32');
/** The two bombs an admitted peer can send the host that cost it most: one filling the size limit, one decoded. */
const FILLING_SIZE_LIMIT = () => emptyMapBomb(SESSION_LIMIT.bytes - 1024);
const UNDER_OBJECT_LIMIT = () => emptyMapBomb(SESSION_LIMIT.objects - 1_000);

const zeros = (): WeightSet => modelLayout(CONFIG.model).map((t) => ({ ...t, values: new Float32Array(sizeOfShape(t.shape)) }));

let nextMessageId = 1;
/** A bomb as the frames a sender puts on its DataChannel, each with a fresh message id. */
const framesOf = (bomb: Uint8Array) => splitIntoFrames(bomb, nextMessageId++);

export interface BombCost {
  name: string;
  bytes: number;
  decoder: Measured<string>;
  transport: Measured<string>;
}

/**
 * One bomb against the message decoder at the protocol's 64 MB bound, and from an admitted peer to a PeerTransport
 * whose message limit the session set, three times (the third closes the link).
 */
async function bombCost(name: string, bomb: Uint8Array): Promise<BombCost> {
  const decoder = await measure(() => {
    const r = tryDecodeMessage(bomb, wireLimits({ maxMessageBytes: WIRE_LIMITS.maxMessageBytes }));
    return r.ok ? 'DECODED' : `refused: ${r.reason}`;
  });
  const hostPeer = new FakePeerNetwork().createPeer('host');
  const host = new PeerTransport(hostPeer, codec, PEER_CONFIG);
  host.setMessageLimit(SESSION_LIMIT.bytes, SESSION_LIMIT.objects);
  const reports: string[] = [];
  host.onError((e) => reports.push(e.message));
  const conn = hostPeer.acceptFrom('mallory');
  host.admit('mallory');
  // What the DataChannel hands over: one ArrayBuffer per frame, made before the measurement.
  const sends = [0, 1, 2].map(() => framesOf(bomb).map((f) => f.slice().buffer));
  const transport = await measure(async () => {
    for (const frames of sends) for (const frame of frames) conn.inject(frame);
    await sleep(0);
    return `${host.connectedPeers().includes('mallory') ? 'link still open' : 'link closed'}; ${reports.length} report(s): ${reports.at(-1) ?? ''}`;
  });
  host.close();
  return { name, bytes: bomb.length, decoder, transport };
}

export interface RoundsRun {
  rounds: number;
  seconds: number;
  /** CPU time this process used meanwhile (all four tabs, the attacker's sending included). */
  cpuSeconds: number;
  peakRssGrowthMb: number;
  maxStallMs: number;
  bombsSent: number;
  bombBytesSent: number;
  /** Times the hostile peer's link was closed by the host (and it connected again). */
  linksClosed: number;
  reports: string[];
}

/**
 * A host and two honest clients (zero-update trainers) over PeerTransport + AuthenticatedTransport on the fake peer
 * network, running rounds in segments of `segmentSeconds`, clean and attacked by turns (`pairs` of each): this machine's
 * load drifts, and alternating short segments lets both see the same. In attacked segments an admitted peer that knows
 * the secret sends the host a bomb of the session's message limit every 2 s, and connects again (a new handshake)
 * whenever its link is closed.
 */
async function alternatingRounds(segmentSeconds: number, pairs: number): Promise<{ clean: RoundsRun; attacked: RoundsRun; pairRatios: number[] }> {
  const secret = randomSecret();
  const network = new FakePeerNetwork();
  const transports: PeerTransport[] = [];
  const peers: FakePeer[] = [];
  const open = (id: string) => {
    const peer = network.createPeer(id);
    peers.push(peer);
    const t = new PeerTransport(peer, codec, PEER_CONFIG);
    transports.push(t);
    return { peer, auth: new AuthenticatedTransport(t, { secret }), t };
  };
  const hostSide = open('host');
  const reports: string[] = [];
  hostSide.t.onError((e) => {
    if (e.kind === 'connection') reports.push(e.message);
  });
  const host = new SessionNode({ transport: hostSide.auth, name: 'host', trainer: () => null });
  await host.host(CONFIG, zeros());
  const clients = ['ann', 'bob'].map((name) => {
    const trainer = zeroTrainer();
    return new SessionNode({ transport: open(name).auth, name, trainer: () => trainer });
  });
  for (const c of clients) await c.join('host');

  const empty = (): RoundsRun => ({ rounds: 0, seconds: 0, cpuSeconds: 0, peakRssGrowthMb: 0, maxStallMs: 0, bombsSent: 0, bombBytesSent: 0, linksClosed: 0, reports: [] });
  const clean = empty();
  const attacked = empty();
  let phase: 'clean' | 'attacked' = 'clean';
  let stop = false;
  // The attacker's frames are made beforehand: building them is its work, not the host's. By turns: a bomb filling
  // the size limit (refused at the object bound), and one just under the object bound (decoded, then refused as invalid).
  const bombs = Array.from({ length: 8 }, (_, i) => framesOf(i % 2 ? UNDER_OBJECT_LIMIT() : FILLING_SIZE_LIMIT()));
  const mallory = open('mallory');
  let everSent = false;
  const attack = async () => {
    while (!stop) {
      if (phase !== 'attacked') {
        await sleep(20);
      } else if (!mallory.t.isConnected('host')) {
        if (everSent) attacked.linksClosed++;
        everSent = false;
        // Connected once the host proved itself; admitted once the host checked this side's proof.
        await mallory.auth.connect('host').then(() => sleep(ADMISSION_WAIT_MS), () => sleep(100));
      } else {
        const conn = mallory.peer.outgoing.filter((c) => c.open).at(-1)!;
        const frames = bombs[attacked.bombsSent % bombs.length];
        for (const frame of frames) conn.send(frame);
        everSent = true;
        attacked.bombsSent++;
        attacked.bombBytesSent += frames.reduce((n, f) => n + f.length, 0);
        const next = Date.now() + 2_000;
        while (!stop && phase === 'attacked' && Date.now() < next) await sleep(20);
      }
    }
  };

  const gc = fullGc();
  // The fake connections record everything sent (for tests); the bench drops those records as it goes.
  const forgetSent = () => {
    for (const p of peers) for (const c of p.outgoing) for (const end of [c, c.remote]) end?.sent.splice(0);
  };
  let peakRss = 0;
  const sampler = setInterval(() => {
    forgetSent();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const collector = setInterval(gc, 1_000);
  void host.start().catch(() => undefined);
  const attacking = attack();
  await sleep(2_000); // warm-up
  const pairRatios: number[] = [];
  let cleanRate = 0;
  let attackedRate = 0;
  for (let i = 0; i < 2 * pairs; i++) {
    // Clean then attacked, then attacked then clean, and so on: a drift in the machine's load falls on both alike.
    const attackedNow = (i % 2 === 1) === (Math.floor(i / 2) % 2 === 0);
    const run = attackedNow ? attacked : clean;
    forgetSent();
    gc();
    const rss0 = process.memoryUsage().rss;
    peakRss = rss0;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const roundsBefore = host.rounds.length;
    const started = Date.now();
    const cpu0 = process.cpuUsage();
    phase = attackedNow ? 'attacked' : 'clean';
    await sleep(segmentSeconds * 1000);
    phase = 'clean';
    const done = host.rounds.length - roundsBefore;
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    run.rounds += done;
    run.seconds += seconds;
    run.cpuSeconds += (cpu.user + cpu.system) / 1e6;
    if (attackedNow) attackedRate = done / seconds;
    else cleanRate = done / seconds;
    if (i % 2 === 1) pairRatios.push(cleanRate > 0 ? attackedRate / cleanRate : 0);
    delay.disable();
    run.maxStallMs = Math.max(run.maxStallMs, delay.max / 1e6);
    run.peakRssGrowthMb = Math.max(run.peakRssGrowthMb, (peakRss - rss0) / MB);
  }
  stop = true;
  clearInterval(sampler);
  clearInterval(collector);
  host.stop();
  await attacking;
  attacked.reports = reports;
  [host, ...clients].forEach((n) => n.leave());
  transports.forEach((t) => t.close());
  pairRatios.sort((a, b) => a - b);
  return { clean, attacked, pairRatios };
}

export interface Row11Measurements {
  bombs: BombCost[];
  clean: RoundsRun;
  attacked: RoundsRun;
  /** Rounds per second attacked over clean, for each pair of neighbouring segments, sorted. */
  pairRatios: number[];
  segmentSeconds: number;
  pairs: number;
  /** One-minute load averages of the machine when the rounds runs started and ended. */
  load: [number, number];
}

export async function measureRow11(segmentSeconds = 5, pairs = 12): Promise<Row11Measurements> {
  const bombs = [
    await bombCost('8 MB of empty maps (the old per-peer limit)', emptyMapBomb(8 * MB)),
    await bombCost(`empty maps filling the session's size limit (${fmt(SESSION_LIMIT.bytes / MB)} MB)`, FILLING_SIZE_LIMIT()),
    await bombCost(`empty maps just under the protocol's object bound`, emptyMapBomb(WIRE_LIMITS.maxObjects - 20_000)),
    await bombCost(`empty maps just under the session's object bound (the most that is decoded)`, UNDER_OBJECT_LIMIT()),
  ];
  const loadBefore = os.loadavg()[0];
  const rounds = await alternatingRounds(segmentSeconds, pairs);
  return { bombs, ...rounds, segmentSeconds, pairs, load: [loadBefore, os.loadavg()[0]] };
}

const perMinute = (r: RoundsRun) => (60 * r.rounds) / r.seconds;
/** Rounds per minute of CPU time: what contention on a shared machine does not stretch. */
const perCpuMinute = (r: RoundsRun) => (60 * r.rounds) / r.cpuSeconds;

/** The row's after/clean cells and details, from the measurements. */
export function describeRow11(m: Row11Measurements): { after: string; clean: string; details: string[] } {
  const worst = m.bombs.reduce((a, b) => (b.transport.rssGrowthMb > a.transport.rssGrowthMb ? b : a));
  const median = m.pairRatios[Math.floor(m.pairRatios.length / 2)];
  const after =
    `8 MB bomb: decoder refuses it in ${fmtMs(m.bombs[0].decoder.ms)}, ${fmtMb(m.bombs[0].decoder.rssGrowthMb)}; ` +
    `admitted peer's limit is ${fmt(SESSION_LIMIT.bytes / MB)} MB and ${SESSION_LIMIT.objects.toLocaleString('en-US')} objects (from the model), worst bomb through the transport ${fmtMs(worst.transport.ms)} for 3, ${fmtMb(worst.transport.rssGrowthMb)}, link closed at the 3rd; ` +
    `bombs every 2 s: ${fmt(perCpuMinute(m.attacked))} rounds per CPU-minute (${fmt((100 * perCpuMinute(m.attacked)) / perCpuMinute(m.clean))}% of clean; wall clock ${fmt(perMinute(m.attacked))} rounds/min, median ${fmt(100 * median)}% of the neighbouring clean segment), peak RSS ${fmtMb(m.attacked.peakRssGrowthMb)}, longest stall ${fmtMs(m.attacked.maxStallMs)}`;
  const clean = `${fmt(perCpuMinute(m.clean))} rounds per CPU-minute; wall clock ${fmt(perMinute(m.clean))} rounds/min (${m.clean.rounds} in ${fmt(m.clean.seconds)} s), peak RSS ${fmtMb(m.clean.peakRssGrowthMb)}, longest stall ${fmtMs(m.clean.maxStallMs)}`;
  const run = (r: RoundsRun) =>
    `${r.rounds} rounds in ${fmt(r.seconds)} s (${fmt(perMinute(r))}/min) using ${fmt(r.cpuSeconds)} CPU-seconds (${fmt(perCpuMinute(r))} rounds per CPU-minute), process RSS peak ${fmtMb(r.peakRssGrowthMb)} over its start, longest event-loop stall ${fmtMs(r.maxStallMs)}`;
  return {
    after,
    clean,
    details: [
      `The host form's default session: ${JSON.stringify(CONFIG.model)}, ${JSON.stringify(CONFIG.strategy)}, ${CONFIG.codec}, decomposition ${CONFIG.decomposition}. Every tab sets its admitted peers' limit from the session config (\`sessionMessageLimit\`): ${SESSION_LIMIT.bytes.toLocaleString('en-US')} bytes and ${SESSION_LIMIT.objects.toLocaleString('en-US')} objects (maps, arrays, strings, binaries) here, exact decomposition's ${SESSION_TIMING.exactDecompositionMaxParticipants + 1} models per eval-request included, against the fixed ${(WIRE_LIMITS.defaultPeerMessageBytes / MB).toFixed(0)} MB and no object bound before. The msgpack scan refuses a message holding more objects than that (or than any protocol message can: ${maxObjectsPerMessage(WIRE_LIMITS).toLocaleString('en-US')}, \`maxObjectsPerMessage\`) before the decoder builds anything, and a link whose admitted peer had ${PEER_CONFIG.admission.maxRefusedMessages} messages refused within ${PEER_CONFIG.admission.refusedMessagesWindowMs / 1000} s is closed.`,
      '',
      `Each bomb fed to \`tryDecodeMessage\` at the protocol's bounds (64 MB, ${WIRE_LIMITS.maxObjects.toLocaleString('en-US')} objects), then sent three times by an admitted peer to a \`PeerTransport\` over the fake peer network whose limits the session set:`,
      '',
      '| bomb | size | tryDecodeMessage | transport, 3 sends | outcome |',
      '|---|---|---|---|---|',
      ...m.bombs.map(
        (b) =>
          `| ${b.name} | ${b.bytes.toLocaleString('en-US')} B | ${fmtMs(b.decoder.ms)}, ${fmtMb(b.decoder.rssGrowthMb)}: ${b.decoder.value.replace(/\|/g, '\\|')} | ${fmtMs(b.transport.ms)}, ${fmtMb(b.transport.rssGrowthMb)} | ${b.transport.value.replace(/\|/g, '\\|').slice(0, 300)} |`,
      ),
      '',
      `Rounds: a host and two clients (zero-update trainers, SessionNode over AuthenticatedTransport over PeerTransport, all in this process) in one session, ${m.pairs} clean and ${m.pairs} attacked segments of ${m.segmentSeconds} s by turns, in pairs (clean-attacked, attacked-clean, ...): this 2-CPU machine is shared and its load drifts, so each attacked segment is compared with its neighbour, and rounds are also counted per CPU-second this process used (the load of other work on the machine stretches wall-clock time, not that). In attacked segments a fourth peer that knows the secret sends the host a bomb every 2 s (by turns one filling the session's size limit and one just under its object bound), and reconnects (a new handshake, then ${ADMISSION_WAIT_MS} ms for the host to admit it) whenever its link is closed. A full garbage collection runs once a second and at each segment's start, so the RSS peak (sampled every 50 ms, all four tabs together, over the segment's start) shows what is alive rather than uncollected garbage.`,
      '',
      `- Machine load (1-minute average) ${fmt(m.load[0])} at the start and ${fmt(m.load[1])} at the end, on ${os.cpus().length} CPUs.`,
      `- Clean: ${run(m.clean)}.`,
      `- Attacked over clean rounds per second, pair by pair (sorted): ${m.pairRatios.map((r) => `${fmt(100 * r)}%`).join(', ')}.`,
      `- One hostile admitted peer: ${run(m.attacked)}; ${m.attacked.bombsSent} bombs sent (${fmt(m.attacked.bombBytesSent / MB)} MB), its link closed ${m.attacked.linksClosed} time(s), ${m.attacked.reports.length} report(s) on the host${m.attacked.reports[0] ? `, e.g. "${m.attacked.reports[0].slice(0, 240)}"` : ''}.`,
    ],
  };
}
