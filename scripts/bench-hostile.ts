/**
 * Time and memory of refusing hostile input, against their targets: each decoder bomb (src/fl/codec/test-bombs.ts),
 * the wire decoder given all of them as frames, 20,000 mutated messages, and a flood of unadmitted connections
 * (bench:attacks row 7's, scripts/bench-attacks-flood.ts). The unit tests check only that these are refused; the figures live here.
 * Usage: npm run bench:hostile [-- --out docs/benchmarks/hostile.md]
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createWireCodec, tryDecodeMessage } from '../src/fl/codec';
import { splitIntoFrames } from '../src/fl/codec/frames';
import { DECODER_BOMBS, mutateMessage, mutationSources } from '../src/fl/codec/test-bombs';
import { Rng } from '../src/fl/rng';
import { transportFlood } from './bench-attacks-flood';
import { fmt, measure, renderTable } from './bench-attacks-lib';

/** The targets: a bomb refused within a frame's budget, without the gigabytes the unguarded decoder allocated. */
const TARGETS = { bombMs: 50, rssGrowthMb: 200, mutatedMessagesMs: 20_000, floodMs: 20_000 };
const MUTATED_MESSAGES = 20_000;
const FLOOD_ATTACKERS = 2000;
/** Each bomb is decoded this many times; the worst counts (the first is the cold one). */
const REPEATS = 5;

const ratio = (value: number, target: number) => `${fmt(value / target)}x`;
const verdict = (value: number, target: number) => (value <= target ? 'within' : 'OVER');

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const lines: string[] = [];
  const say = (line = '') => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  const started = Date.now();

  const bombRows: string[][] = [];
  let worstBombMs = 0;
  let worstBombRss = 0;
  for (const [name, bytes] of Object.entries(DECODER_BOMBS)) {
    const runs = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await measure(() => tryDecodeMessage(bytes)));
    const ms = Math.max(...runs.map((r) => r.ms));
    const rss = Math.max(...runs.map((r) => r.rssGrowthMb));
    worstBombMs = Math.max(worstBombMs, ms);
    worstBombRss = Math.max(worstBombRss, rss);
    const refused = runs.every((r) => !r.value.ok);
    bombRows.push([name, `${bytes.length.toLocaleString('en-US')} B`, refused ? 'refused' : 'ACCEPTED', fmt(runs[0].ms), fmt(ms), ratio(ms, TARGETS.bombMs), fmt(rss)]);
  }

  const codec = createWireCodec('float32');
  const decoder = codec.createDecoder();
  const bombCount = Object.keys(DECODER_BOMBS).length;
  let id = 1;
  const frameBytes = Object.values(DECODER_BOMBS).map((bytes) => splitIntoFrames(bytes, id++));
  const wire = await measure(() => frameBytes.flatMap((frames) => frames.flatMap((f) => decoder.push(f).messages)));
  const wireTarget = TARGETS.bombMs * bombCount;

  const rng = new Rng(77);
  const sources = mutationSources();
  const mutated = await measure(() => {
    let accepted = 0;
    for (let i = 0; i < MUTATED_MESSAGES; i++) if (tryDecodeMessage(mutateMessage(rng, sources)).ok) accepted++;
    return accepted;
  });

  const floods = [
    { label: 'default admission limits', r: await transportFlood({}, FLOOD_ATTACKERS) },
    { label: 'rate limit lifted to 10,000/s (the pending cap holds)', r: await transportFlood({ maxNewConnectionsPerSecond: 10_000 }, FLOOD_ATTACKERS) },
  ];

  say('# bench:hostile');
  say();
  say(`Measured with \`npm run bench:hostile\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  say(`(${((Date.now() - started) / 1000).toFixed(0)} s in all). Ratio: measured / target; under 1 is within the target. RSS growth may be negative after a GC.`);
  say('The unit tests (src/fl/codec/msgpack-scan.test.ts, src/net/peer-transport-admission.test.ts) check that each of these is refused; the times and memory are measured here.');
  say();
  say(`## Decoder bombs: \`tryDecodeMessage\`, worst of ${REPEATS} runs (target ${TARGETS.bombMs} ms each, RSS growth under ${TARGETS.rssGrowthMb} MB)`);
  say();
  for (const l of renderTable(['bomb', 'size', 'outcome', 'first run ms', 'worst ms', 'ratio', 'RSS growth MB'], bombRows)) say(l);
  say();
  say(`Worst: ${fmt(worstBombMs)} ms (${ratio(worstBombMs, TARGETS.bombMs)} of ${TARGETS.bombMs} ms, ${verdict(worstBombMs, TARGETS.bombMs)}); worst RSS growth ${fmt(worstBombRss)} MB (${verdict(worstBombRss, TARGETS.rssGrowthMb)} ${TARGETS.rssGrowthMb} MB).`);
  say();
  say('## The wire decoder, all bombs as frames, one after another');
  say();
  say(`${bombCount} bombs, ${wire.value.length} messages out: ${fmt(wire.ms)} ms against ${wireTarget} ms (${TARGETS.bombMs} ms a bomb): ${ratio(wire.ms, wireTarget)}, ${verdict(wire.ms, wireTarget)}; RSS growth ${fmt(wire.rssGrowthMb)} MB (target under ${TARGETS.rssGrowthMb} MB).`);
  say();
  say('## 20,000 mutated messages (flipped bits, forged length headers, cuts, spliced array16 headers)');
  say();
  say(`${fmt(mutated.ms)} ms against ${TARGETS.mutatedMessagesMs.toLocaleString('en-US')} ms: ${ratio(mutated.ms, TARGETS.mutatedMessagesMs)}, ${verdict(mutated.ms, TARGETS.mutatedMessagesMs)}; ${mutated.value.toLocaleString('en-US')} decoded as valid messages (a flip that leaves a valid message); RSS growth ${fmt(mutated.rssGrowthMb)} MB.`);
  say();
  say(`## A flood of ${FLOOD_ATTACKERS.toLocaleString('en-US')} unadmitted connections, 8 hostile frames each (bench:attacks row 7; real clock)`);
  say();
  const floodRows = floods.map(({ label, r }) => [
    label,
    fmt(r.m.ms),
    ratio(r.m.ms, TARGETS.floodMs),
    fmt(r.m.rssGrowthMb),
    ratio(Math.max(0, r.m.rssGrowthMb), TARGETS.rssGrowthMb),
    `${r.admittedDelivered}/${r.expected}`,
    String(r.maxHeld),
  ]);
  for (const l of renderTable(['admission', `ms (target ${TARGETS.floodMs})`, 'ratio', `RSS growth MB (target ${TARGETS.rssGrowthMb})`, 'ratio', "admitted client's updates delivered", 'unadmitted links held at most'], floodRows)) say(l);
  if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
  // Timers of the flood's transports may keep the loop alive; everything is measured and written.
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`error: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
