import { describe, expect, it } from 'vitest';
import { ReportThrottle } from './report-throttle';

describe('ReportThrottle', () => {
  it('passes the first report per key, holds back the rest for the interval, then reports with a count', () => {
    let now = 0;
    const t = new ReportThrottle(10_000, () => now);
    expect(t.pass('a', 'bad 1')).toBe('bad 1');
    expect(t.pass('a', 'bad 2')).toBeNull();
    expect(t.pass('b', 'other peer')).toBe('other peer');
    expect(t.pass('a', 'bad 3')).toBeNull();
    now = 10_000;
    expect(t.pass('a', 'bad 4')).toBe('bad 4 (and 2 more like it since the previous report)');
    expect(t.pass('a', 'bad 5')).toBeNull();
    t.forget('a');
    expect(t.pass('a', 'after leaving')).toBe('after leaving');
  });
});
