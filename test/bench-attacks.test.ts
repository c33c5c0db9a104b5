import { describe, expect, it } from 'vitest';
import { splitIntoFrames } from '../src/fl/codec/frames';
import { tryDecodeMessage } from '../src/fl/codec';
import { zeroTrainer } from '../scripts/bench-attacks-election';
import {
  cell,
  concatBytes,
  countConsoleLines,
  decoderBombs,
  expectedYearsToHit,
  fmt,
  fmtMb,
  MAX_DATA_CHANNEL_BYTES,
  notMeasured,
  perSecond,
  renderReport,
  repeatBytes,
  runBounded,
  searchSpaceBits,
  type RowReport,
} from '../scripts/bench-attacks-lib';

describe('bench-attacks helpers', () => {
  it('builds bytes: repeat and concat', () => {
    expect([...repeatBytes([1, 2], 3)]).toEqual([1, 2, 1, 2, 1, 2]);
    expect([...concatBytes([1], new Uint8Array([2, 3]), [])]).toEqual([1, 2, 3]);
  });

  it('the bombs are what they claim: the 256 KB one fills exactly one frame, the 15 KB one is 15,000 bytes, all are refused', () => {
    const bombs = decoderBombs();
    const big = bombs.find((b) => b.name.startsWith('256 KB'))!;
    expect(big.bytes.length).toBeGreaterThan(MAX_DATA_CHANNEL_BYTES - 64);
    expect(splitIntoFrames(big.bytes, 1)).toHaveLength(1);
    expect(splitIntoFrames(big.bytes, 1)[0].length).toBeLessThanOrEqual(MAX_DATA_CHANNEL_BYTES);
    expect(bombs.find((b) => b.name.includes('(15 KB)'))!.bytes.length).toBe(15_000);
    for (const b of bombs) expect(tryDecodeMessage(b.bytes).ok, b.name).toBe(false);
  });

  it('search space and expected time to hit', () => {
    expect(searchSpaceBits(31, 6)).toBeCloseTo(29.73, 2);
    expect(searchSpaceBits(2, 80)).toBe(80);
    // 2^20 values, 1 target, 1 guess/s: half the space on average.
    expect(expectedYearsToHit(20, 1, 1)).toBeCloseTo(2 ** 19 / (365.25 * 24 * 3600), 10);
    expect(expectedYearsToHit(20, 1, 0)).toBe(Infinity);
    expect(perSecond(10, 2000)).toBe(5);
    expect(perSecond(10, 0)).toBe(0);
  });

  it('formats numbers and table cells', () => {
    expect(fmt(0.123456)).toBe('0.123');
    expect(fmt(1234.5)).toBe('1230');
    expect(fmt(2.5e7)).toBe('2.50e+7');
    expect(fmt(0)).toBe('0');
    expect(fmtMb(1.234)).toBe('+1.2 MB');
    expect(fmtMb(-0.5)).toBe('-0.5 MB');
    expect(cell('a|b\nc')).toBe('a\\|b c');
  });

  it('renders the report: command on top, rows in order, "not measured" rows say why', () => {
    const measured: RowReport = { row: 2, attack: 'squat', before: 'bad', after: 'good', clean: 'fine', details: ['detail of 2'], measured: true };
    const text = renderReport(
      { command: 'npm run bench:attacks', date: '2026-12-01', node: 'v20', cpus: 2, totalSeconds: 12 },
      [measured, notMeasured(1, 'bomb', 'worse', 'module missing')],
    );
    const lines = text.split('\n');
    expect(lines[2]).toContain('`npm run bench:attacks`');
    const rowLines = lines.filter((l) => /^\| \d+ \|/.test(l));
    expect(rowLines).toEqual(['| 1 | bomb | worse | not measured: module missing | not measured: module missing |', '| 2 | squat | bad | good | fine |']);
    expect(text.indexOf('## 1. bomb')).toBeLessThan(text.indexOf('## 2. squat'));
    expect(text).toContain('detail of 2');
  });

  it('runBounded: runs each task once, at most `parallel` at once, and starts none after the deadline', async () => {
    let running = 0;
    let most = 0;
    const done = await runBounded(20, 4, Date.now() + 60_000, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return i;
    });
    expect([...done].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(4);
    expect(await runBounded(1000, 4, Date.now() - 1, async (i) => i)).toEqual([]);
  });

  it('countConsoleLines counts and silences console output, then restores console', async () => {
    const original = console.warn;
    const { value, lines, sample } = await countConsoleLines(async () => {
      console.warn('one');
      console.log('two', 2);
      return 7;
    });
    expect({ value, lines, sample }).toEqual({ value: 7, lines: 2, sample: ['one', 'two 2'] });
    expect(console.warn).toBe(original);
  });

  it('the election bench trainer returns a zero update of the request weights\' layout', async () => {
    const weights = [{ name: 'w', shape: [2, 3], values: new Float32Array(6).fill(1) }];
    const r = await zeroTrainer(4).train({ round: 1, model: {} as never, strategy: { name: 'fedavg' } as never, train: {} as never, weights });
    expect(r.delta).toEqual([{ name: 'w', shape: [2, 3], values: new Float32Array(6) }]);
    expect(r.numSamples).toBe(4);
    expect((await zeroTrainer(4).info()).labelHistogram).toEqual([2, 2]);
  });
});
