import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../session/types';
import { describeSelection } from './file-selection';
import { describeHistogram, labelBars } from './label-bars';
import { entryText, latestEntries } from './log-view';
import { readDisplayName, readProjectorMode, writeDisplayName, writeProjectorMode } from './preferences';

describe('labelBars', () => {
  it('scales bars to the tallest class and treats bad counts as empty', () => {
    expect(labelBars([0, 50, 100, NaN, -3])).toEqual([
      { label: 0, count: 0, height: 0 },
      { label: 1, count: 50, height: 0.5 },
      { label: 2, count: 100, height: 1 },
      { label: 3, count: 0, height: 0 },
      { label: 4, count: 0, height: 0 },
    ]);
    expect(labelBars([0, 0]).every((b) => b.height === 0)).toBe(true);
    expect(describeHistogram([3, 0, 7])).toBe('0: 3, 1: 0, 2: 7');
  });
});

describe('latestEntries', () => {
  it('keeps the last entries, newest first', () => {
    const log: LogEntry[] = Array.from({ length: 150 }, (_, i) => ({ time: i, level: 'info', text: `e${i}` }));
    const shown = latestEntries(log);
    expect(shown).toHaveLength(100);
    expect(shown[0].text).toBe('e149');
    expect(shown[99].text).toBe('e50');
    expect(latestEntries(log.slice(0, 2), 100).map((e) => e.text)).toEqual(['e1', 'e0']);
  });

  it('shows a repeated line once, with its count', () => {
    expect(entryText({ time: 0, level: 'warn', text: 'round 1 not run: 1 clients with data connected, 2 needed', count: 37 })).toBe('round 1 not run: 1 clients with data connected, 2 needed (x37)');
    expect(entryText({ time: 0, level: 'info', text: 'joined' })).toBe('joined');
  });
});

describe('describeSelection', () => {
  it('summarises a selection', () => {
    expect(describeSelection([{ name: 'a.csv' }])).toBe('1 file (a.csv)');
    expect(describeSelection([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }])).toBe('5 files (a, b, c, and 2 more)');
  });
});

describe('preferences', () => {
  const memory = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };

  it('remembers projector mode and the display name', () => {
    const s = memory();
    expect(readProjectorMode(s)).toBe(false);
    writeProjectorMode(true, s);
    expect(readProjectorMode(s)).toBe(true);
    writeProjectorMode(false, s);
    expect(readProjectorMode(s)).toBe(false);
    writeDisplayName('Ana', s);
    expect(readDisplayName(s)).toBe('Ana');
  });

  it('falls back to defaults when storage throws (private mode)', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(() => writeProjectorMode(true, broken)).not.toThrow();
    expect(readProjectorMode(broken)).toBe(false);
    expect(readDisplayName(null)).toBe('');
  });
});
