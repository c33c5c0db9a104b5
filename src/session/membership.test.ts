import { describe, expect, it } from 'vitest';
import { Membership } from './membership';

const client = (id: string, histogram = [1, 2]) => ({ id, name: id, backend: 'cpu', numSamples: 3, labelHistogram: histogram, joinedAt: 0 });

describe('Membership', () => {
  it('gives slots in join order and keeps them across rebuilds', () => {
    const m = new Membership();
    m.rebuild([client('ann'), client('bob')], { id: 'host', name: 'host' });
    expect(m.roster.map((e) => [e.id, e.slot])).toEqual([
      ['ann', 0],
      ['bob', 1],
      ['host', 2],
    ]);
    m.rebuild([client('bob')], { id: 'host', name: 'host' });
    m.rebuild([client('bob'), client('ann')], { id: 'host', name: 'host' });
    expect(m.roster.map((e) => e.slot)).toEqual([0, 1, 2]);
  });

  it('keeps label histograms out of the roster sent to peers', () => {
    const m = new Membership();
    m.rebuild([client('ann', [5, 1])], { id: 'host', name: 'host' });
    expect(m.roster[0].labelHistogram).toEqual([5, 1]);
    expect(m.publicRoster.map((e) => e.labelHistogram)).toEqual([[], []]);
  });

  it('the successor is the lowest slot other than the aggregator that has not left; hearing from a peer brings it back', () => {
    const m = new Membership();
    m.adopt([
      { id: 'bob', name: 'bob', slot: 2, backend: 'cpu', numSamples: 1, labelHistogram: [] },
      { id: 'host', name: 'host', slot: 0, backend: 'cpu', numSamples: 1, labelHistogram: [] },
      { id: 'ann', name: 'ann', slot: 1, backend: 'cpu', numSamples: 1, labelHistogram: [] },
    ]);
    expect(m.successorOf('host')).toBe('ann');
    m.markLeft('ann');
    expect(m.successorsOf('host')).toEqual(['bob']);
    m.markHeard('ann');
    expect(m.successorOf('host')).toBe('ann');
  });

  it("'known' also counts peers no longer in the roster (an aggregator judging a claim after a flap)", () => {
    const m = new Membership();
    m.rebuild([client('host'), client('ann'), client('bob')], { id: 'host', name: 'host' });
    m.rebuild([client('host'), client('bob')], { id: 'host', name: 'host' });
    expect(m.successorOf('host')).toBe('bob');
    expect(m.successorOf('host', 'known')).toBe('ann');
  });

  it('a client key gets its slot back under a new peer id once the old one is gone, but not while it is still in', () => {
    const m = new Membership();
    expect(m.bindKey('ann-1', 'key-a')).toBe(0);
    expect(m.bindKey('bob', 'key-b')).toBe(1);
    m.rebuild([client('ann-1'), client('bob')], { id: 'host', name: 'host' });
    // A duplicated tab with the same key while ann-1 is still connected: a slot of its own.
    expect(m.bindKey('copy', 'key-a')).toBe(3);
    // ann reloads: her old peer left, her new one says hello with her key.
    m.markLeft('ann-1');
    expect(m.bindKey('ann-2', 'key-a')).toBe(0);
    expect(m.slotFor('ann-2')).toBe(0);
    expect(m.roster.map((e) => e.id)).not.toContain('ann-1');
    expect(m.successorsOf('host', 'known')).toEqual(['ann-2', 'bob', 'copy']);
    expect(m.bindKey('ann-2', 'key-a')).toBe(0);
  });
});
