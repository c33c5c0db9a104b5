import { describe, expect, it } from 'vitest';
import { numberDefault } from '../fl/settings';
import { sessionConfigFromSettings } from './session-controller';
import { DEFAULT_HOST_FORM, hostFormToSettings, type HostFormValues } from './host-form';

const form = (patch: Partial<HostFormValues> = {}): HostFormValues => ({ ...DEFAULT_HOST_FORM, ...patch });

describe('host form: synchronous or asynchronous', () => {
  it('defaults to sync, and a sync session config carries no aggregation field', () => {
    const r = hostFormToSettings(form({ staleness: 'nonsense', bufferSize: '0' }));
    expect(r.ok && r.settings.aggregation).toEqual({ mode: 'sync' });
    if (r.ok) expect('aggregation' in sessionConfigFromSettings(r.settings)).toBe(false);
  });

  it('async with buffer, staleness and maximum staleness reaches the session config', () => {
    const r = hostFormToSettings(form({ mode: 'async', bufferSize: '4', staleness: 'hinge:10:4', maxStaleness: '12' }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const expected = { mode: 'async', bufferSize: 4, staleness: { kind: 'hinge', a: 10, b: 4 }, maxStaleness: 12 };
    expect(r.settings.aggregation).toEqual(expected);
    expect(sessionConfigFromSettings(r.settings).aggregation).toEqual(expected);
    const open = hostFormToSettings(form({ mode: 'async', maxStaleness: ' ' }));
    expect(open.ok && open.settings.aggregation).toEqual({ mode: 'async', bufferSize: numberDefault('bufferSize'), staleness: { kind: 'poly', a: 0.5 }, maxStaleness: null });
  });

  it('names the bad async fields', () => {
    const r = hostFormToSettings(form({ mode: 'async', bufferSize: '0', staleness: 'poly:x', maxStaleness: '-2' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(['bufferSize', 'maxStaleness', 'staleness']);
  });
});
