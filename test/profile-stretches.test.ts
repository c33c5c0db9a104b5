import { describe, expect, it } from 'vitest';
import { busyStretches, profileOffsetMs, windowBreakdown, type CpuProfile } from '../scripts/lib/profile-stretches';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });

/** root -> idle | program | gc | marker | train (src/) -> send (native); one sample per ms from `kinds`. */
function profile(kinds: string[]): CpuProfile {
  const ids: Record<string, number> = { idle: 2, program: 3, gc: 4, marker: 5, train: 6, send: 7 };
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 6] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('(program)') },
      { id: 4, callFrame: frame('(garbage collector)') },
      { id: 5, callFrame: frame('fedtabBenchClockMarker') },
      { id: 6, callFrame: frame('train', 'http://x/src/session/train.ts'), children: [7] },
      { id: 7, callFrame: frame('send') },
    ],
    startTime: 0,
    endTime: kinds.length * 1000,
    samples: kinds.map((k) => ids[k]),
    timeDeltas: kinds.map(() => 1000),
  };
}

describe('CPU profile analysis (the browser-host bench)', () => {
  const kinds = ['idle', 'marker', 'marker', 'idle', 'idle', 'train', 'train', 'send', 'gc', 'program', 'idle', 'idle', 'idle'];
  const p = profile(kinds);

  it('lines up the page clock with the profile by the marker function', () => {
    // The marker ran at page time 100 ms; its first sample is at 2 ms of the profile.
    expect(profileOffsetMs(p, 'fedtabBenchClockMarker', 100)).toBe(2 - 100);
    expect(profileOffsetMs(p, 'noSuchFunction', 100)).toBeNull();
  });

  it('breaks a window (a long task) down into JavaScript, GC and (program), with the project frame under each sample', () => {
    const b = windowBreakdown(p, 6, 11);
    expect(b).toMatchObject({ jsMs: 3, gcMs: 1, programMs: 1, idleMs: 0 });
    expect(b.topOwn).toEqual([['train src/session/train.ts:1', 3]]);
    expect(b.top[0]).toEqual(['train src/session/train.ts:1', 2]);
  });

  it('finds busy stretches between idle gaps', () => {
    const { stretches } = busyStretches(p, 2);
    expect(stretches.map((s) => [s.startMs, s.durationMs, s.fedtabMs])).toEqual([[6, 5, 3]]);
  });
});
