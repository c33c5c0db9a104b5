/**
 * Pure helpers of scripts/bench-attacks.ts: the hostile inputs, the measuring harness and the report.
 * Nothing here knows a result; every figure in the report comes from a measurement passed in.
 */
import { concatBytes, inHelloField, repeatBytes } from '../src/fl/codec/test-bombs';

export { concatBytes, inHelloField, repeatBytes };

/** Largest DataChannel message (a frame); the 256 KB bomb fills one. */
export const MAX_DATA_CHANNEL_BYTES = 256 * 1024;

/**
 * The msgpack decoder bombs of row 1: declared sizes far beyond the bytes sent, and deep nesting.
 * `frameHeaderBytes` is left free in the 256 KB one so it still fits a single frame once framed.
 */
export function decoderBombs(frameHeaderBytes = 32): Array<{ name: string; bytes: Uint8Array }> {
  return [
    // 15 KB of array16 headers, each declaring 65,535 elements, nested: the old decoder allocated 2.7 GB from it.
    { name: 'nested array16 headers (15 KB)', bytes: repeatBytes([0xdc, 0xff, 0xff], 5000) },
    // Small enough to pass the pre-admission size check: the transport must refuse it by decoding it safely.
    { name: 'nested array16 headers (3 KB)', bytes: repeatBytes([0xdc, 0xff, 0xff], 1000) },
    { name: 'nested map16 headers (15 KB)', bytes: repeatBytes([0xde, 0xff, 0xff], 5000) },
    { name: '256 KB of nested array16 headers (one frame)', bytes: repeatBytes([0xdc, 0xff, 0xff], Math.floor((MAX_DATA_CHANNEL_BYTES - frameHeaderBytes) / 3)) },
    { name: 'array32 declaring 2^32-1 elements', bytes: concatBytes([0xdd, 0xff, 0xff, 0xff, 0xff], [0xc0]) },
    { name: 'str32 declaring 4 GB', bytes: concatBytes([0xdb, 0xff, 0xff, 0xff, 0xff], [0x61]) },
    { name: 'bin32 declaring 60 MB in a hello field', bytes: inHelloField(concatBytes([0xc6, 0x03, 0x93, 0x87, 0x00], [1, 2, 3])) },
    { name: 'deep nesting: 1,000 one-element arrays', bytes: concatBytes(new Uint8Array(1000).fill(0x91), [0xc0]) },
  ];
}

export interface Measured<T> {
  value: T;
  ms: number;
  /** Growth of the process's resident set while `run` ran (MB, may be negative after a GC). */
  rssGrowthMb: number;
  /** Growth of the V8 heap plus ArrayBuffers while `run` ran (MB). */
  heapGrowthMb: number;
}

function memory(): { rss: number; heap: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
}

const MB = 2 ** 20;

/** Runs `run`, timing it and measuring memory growth (rss and heap) around it. */
export async function measure<T>(run: () => T | Promise<T>): Promise<Measured<T>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = memory();
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  const after = memory();
  return { value, ms, rssGrowthMb: (after.rss - before.rss) / MB, heapGrowthMb: (after.heap - before.heap) / MB };
}

/** Counts calls to console.log/info/warn/error/debug while `run` runs (silencing them), then restores them. */
export async function countConsoleLines<T>(run: () => Promise<T>): Promise<{ value: T; lines: number; sample: string[] }> {
  const levels = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = levels.map((l) => console[l]);
  let lines = 0;
  const sample: string[] = [];
  for (const l of levels) {
    console[l] = (...args: unknown[]) => {
      lines++;
      if (sample.length < 3) sample.push(args.map(String).join(' ').slice(0, 160));
    };
  }
  try {
    return { value: await run(), lines, sample };
  } finally {
    levels.forEach((l, i) => (console[l] = saved[i]));
  }
}

/** log2 of the number of values: `symbols` possibilities in each of `length` positions. */
export function searchSpaceBits(symbols: number, length: number): number {
  return length * Math.log2(symbols);
}

/** Expected time to find one of `targets` live values among `2^bits` at `perSecond` guesses per second, in years. */
export function expectedYearsToHit(bits: number, targets: number, perSecond: number): number {
  if (perSecond <= 0) return Infinity;
  const guesses = 2 ** bits / Math.max(1, targets) / 2;
  return guesses / perSecond / (365.25 * 24 * 3600);
}

/** A number printed with a fixed number of significant figures, plain under a million, otherwise e-notation. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

export const fmtMs = (ms: number) => `${fmt(ms)} ms`;
export const fmtMb = (mb: number) => `${mb >= 0 ? '+' : ''}${mb.toFixed(1)} MB`;

/** One row of the summary table. `after` and `clean` are measured text, or "not measured: why". */
export interface RowReport {
  row: number;
  attack: string;
  before: string;
  after: string;
  clean: string;
  /** Lines of the per-row details section (markdown). */
  details: string[];
  /** Whether the row was measured on this checkout (false: a needed module is missing or the run failed). */
  measured: boolean;
}

/** A row that could not be measured here, saying why. */
export function notMeasured(row: number, attack: string, before: string, reason: string): RowReport {
  const text = `not measured: ${reason}`;
  return { row, attack, before, after: text, clean: text, details: [text], measured: false };
}

/** Escapes what would break a markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderTable(header: string[], rows: string[][]): string[] {
  const out = [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${r.map(cell).join(' | ')} |`);
  return out;
}

export interface ReportMeta {
  command: string;
  date: string;
  node: string;
  cpus: number;
  totalSeconds: number;
}

/** The markdown report: the command, the summary table and one details section per row, in row order. */
export function renderReport(meta: ReportMeta, rows: RowReport[]): string {
  const sorted = [...rows].sort((a, b) => a.row - b.row);
  const lines: string[] = [
    '# Attacks and faults: before and after the fixes',
    '',
    `Produced by \`${meta.command}\` on ${meta.date} (Node ${meta.node}, ${meta.cpus} CPUs), in ${meta.totalSeconds.toFixed(0)} s.`,
    '',
    'Every "after" and "clean" figure below was measured by that run, in-process against the real code ' +
      '(decoder, PeerTransport over a fake peer network, AuthenticatedTransport and SessionNode over the in-memory network, ' +
      'the signalling server and server/serve.ts on loopback). "before" quotes the adversarial reviews, measured on the old main. ' +
      'Rows marked "not measured" need code that is not on the branch the bench ran on.',
    '',
    ...renderTable(
      ['#', 'attack or fault', 'before (old main)', 'after (this run)', 'clean (this run)'],
      sorted.map((r) => [String(r.row), r.attack, r.before, r.after, r.clean]),
    ),
    '',
  ];
  for (const r of sorted) {
    lines.push(`## ${r.row}. ${r.attack}`, '', `Before (old main): ${r.before}`, '', ...r.details, '');
  }
  return lines.join('\n');
}

/** Rate of events in a window: count per second of elapsed time. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** Runs `tasks` with at most `parallel` at once, stopping to start new ones once `deadline` (ms epoch) passes. */
export async function runBounded<T>(count: number, parallel: number, deadline: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(parallel, count)) }, async () => {
      while (next < count && Date.now() < deadline) {
        const i = next++;
        results.push(await task(i));
      }
    }),
  );
  return results;
}

/** A measured row. */
export function measuredRow(n: number, what: { attack: string; before: string }, after: string, clean: string, details: string[]): RowReport {
  return { row: n, attack: what.attack, before: what.before, after, clean, details, measured: true };
}
