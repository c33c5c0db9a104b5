import { describe, expect, it } from 'vitest';
import type { PeerView, RoundView } from '../session/types';
import { asyncStats, STALENESS_BINS } from './async-stats';

const round = (participants: string[], staleness?: number[]): RoundView => ({
  round: 1, accuracy: null, loss: null, decomposition: null, participants, participantCount: participants.length, missing: [],
  trainMs: 0, aggregateMs: 0, evalMs: 0, slowestClientMs: 0, bytesSent: 0, bytesReceived: 0, ...(staleness ? { staleness } : {}),
});
const peer = (id: string, name: string) => ({ id, name }) as PeerView;

describe('asyncStats', () => {
  it('counts updates per peer and bins the staleness, the last bin holding every larger tau', () => {
    const s = asyncStats([round(['a', 'b'], [0, 3]), round(['a', 'c'], [1, 12]), round(['b', 'a'], [0, 10]), round(['x'])], [peer('a', 'Ann'), peer('b', 'Bob')]);
    expect(s.perPeer).toEqual([
      { id: 'a', name: 'Ann', updates: 3, meanStaleness: 11 / 3 },
      { id: 'b', name: 'Bob', updates: 2, meanStaleness: 1.5 },
      { id: 'c', name: 'c', updates: 1, meanStaleness: 12 },
    ]);
    expect(s.histogram).toHaveLength(STALENESS_BINS + 1);
    expect(s.histogram[0]).toBe(2);
    expect(s.histogram[1]).toBe(1);
    expect(s.histogram[3]).toBe(1);
    expect(s.histogram[STALENESS_BINS]).toBe(2);
    expect(s.updates).toBe(6);
    expect(s.meanStaleness).toBeCloseTo(26 / 6, 12);
  });

  it('sync rounds (no staleness) give nothing', () => {
    const s = asyncStats([round(['a'])], []);
    expect(s.updates).toBe(0);
    expect(s.perPeer).toEqual([]);
    expect(Number.isNaN(s.meanStaleness)).toBe(true);
  });
});
