import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VoteMessage, VoteRequestMessage } from '../fl/protocol';
import { Election, type ElectionHooks } from './election';

const timing = { heartbeatMs: 100, silenceMs: 1_000, voteTimeoutMs: 300 };

/** A tab in a session host, ann, bob, cy (that join order), following host in term 1. */
function tab(selfId: string, overrides: Partial<ElectionHooks> = {}) {
  const sent: Array<{ to: string; m: VoteRequestMessage | VoteMessage }> = [];
  const elected: Array<[number, string]> = [];
  const order = ['host', 'ann', 'bob', 'cy'];
  const election = new Election({
    selfId,
    timing,
    successorOf: (id) => order.find((p) => p !== id) ?? null,
    voters: (previous) => order.filter((p) => p !== previous && p !== selfId),
    countsInElectorate: () => true,
    send: (to, m) => sent.push({ to, m }),
    lostMajority: () => false,
    canAggregate: () => true,
    onElected: (term, previous) => elected.push([term, previous]),
    ...overrides,
  });
  election.follow('host', 1);
  return { election, sent, elected };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Election', () => {
  it('the successor stands only after the aggregator has been silent past the deadline', async () => {
    const { election, sent } = tab('ann');
    await vi.advanceTimersByTimeAsync(900);
    election.heard('host');
    await vi.advanceTimersByTimeAsync(900);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent.map((s) => [s.to, s.m])).toEqual([
      ['bob', { type: 'vote-request', v: 1, term: 2, previous: 'host' }],
      ['cy', { type: 'vote-request', v: 1, term: 2, previous: 'host' }],
    ]);
  });

  it('a successor without a checkpoint to resume from does not stand', async () => {
    const { sent } = tab('ann', { canAggregate: () => false });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([]);
  });

  it('a tab that is not the successor never asks for votes', async () => {
    const silent: string[] = [];
    const { sent } = tab('bob', { onSilent: (id) => silent.push(id) });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([]);
    expect(silent.length).toBeGreaterThan(0);
  });

  it('wins with a majority of the session (the silent host counted) and then aggregates the new term', async () => {
    const { election, elected } = tab('ann');
    await vi.advanceTimersByTimeAsync(1_000);
    election.onVote('bob', { type: 'vote', v: 1, term: 2, granted: true });
    expect(elected).toEqual([]); // ann + bob: 2 of 4
    election.onVote('cy', { type: 'vote', v: 1, term: 2, granted: true });
    expect(elected).toEqual([[2, 'host']]);
    expect([election.term, election.aggregatorId]).toEqual([2, 'ann']);
  });

  it('refusals, votes for other terms and votes from non-voters do not make a majority; the candidacy times out', async () => {
    const { election, elected } = tab('ann');
    await vi.advanceTimersByTimeAsync(1_000);
    election.onVote('bob', { type: 'vote', v: 1, term: 2, granted: false });
    election.onVote('cy', { type: 'vote', v: 1, term: 7, granted: true });
    election.onVote('mallory', { type: 'vote', v: 1, term: 2, granted: true });
    await vi.advanceTimersByTimeAsync(300);
    election.onVote('cy', { type: 'vote', v: 1, term: 2, granted: true });
    expect(elected).toEqual([]);
    expect([election.term, election.aggregatorId]).toEqual([1, 'host']);
  });

  it('a voter grants only to the successor, only once it lost the aggregator too, and once per term', async () => {
    const { election, sent } = tab('bob');
    const ask = (from: string, term: number) => election.onVoteRequest(from, { type: 'vote-request', v: 1, term, previous: 'host' });
    ask('ann', 2); // the aggregator was just heard
    await vi.advanceTimersByTimeAsync(500);
    ask('cy', 2); // not the successor
    ask('ann', 2);
    ask('cy', 2); // bob already voted in term 2
    ask('ann', 1); // not a later term
    expect(sent.map((s) => [s.to, s.m.type === 'vote' && s.m.granted])).toEqual([
      ['ann', false],
      ['cy', false],
      ['ann', true],
      ['cy', false],
      ['ann', false],
    ]);
  });

  it('follows a claim of a later term only from the successor once the aggregator is lost, the candidate it voted for, or a redirect', async () => {
    const { election } = tab('cy');
    expect(election.acceptsClaim('ann', 2)).toBe(false); // the aggregator is alive and well
    await vi.advanceTimersByTimeAsync(500);
    expect(election.acceptsClaim('bob', 5)).toBe(false);
    expect(election.acceptsClaim('ann', 1)).toBe(false);
    expect(election.acceptsClaim('ann', 2)).toBe(true);
    election.redirectTo('bob', 3);
    expect(election.acceptsClaim('bob', 3)).toBe(true);
    expect(election.acceptsClaim('bob', 2)).toBe(false);
  });

  it('an aggregator yields to its successor only once it has lost its majority', () => {
    let lost = false;
    const { election } = tab('host', { lostMajority: () => lost });
    expect(election.acceptsClaim('ann', 2)).toBe(false);
    lost = true;
    expect(election.acceptsClaim('bob', 2)).toBe(false);
    expect(election.acceptsClaim('ann', 2)).toBe(true);
  });

  it('stale and current terms', () => {
    const { election } = tab('cy');
    election.follow('ann', 4);
    expect(election.isStale(3)).toBe(true);
    expect(election.isCurrent('ann', 4)).toBe(true);
    expect(election.isCurrent('host', 4)).toBe(false);
    expect(election.isCurrent('ann', undefined)).toBe(false);
  });

  it('a lone successor takes over by itself only when the aggregator said bye; a silent one still counts', async () => {
    const gone = tab('ann', { voters: () => [], countsInElectorate: () => false });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(gone.elected).toEqual([[2, 'host']]);
    expect(gone.election.aggregatorId).toBe('ann');
    gone.election.dispose();
    const silent = tab('ann', { voters: () => [] });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(silent.elected).toEqual([]);
    expect(silent.election.aggregatorId).toBe('host');
    silent.election.dispose();
  });

  it('half of the session is not a majority: cut off from host and cy, ann and bob do not replace the host', async () => {
    const { election, sent, elected } = tab('ann');
    await vi.advanceTimersByTimeAsync(1_000);
    const requests = sent.filter((s) => s.m.type === 'vote-request');
    expect(requests.map((s) => s.to).sort()).toEqual(['bob', 'cy']);
    const term = (requests[0].m as VoteRequestMessage).term;
    election.onVote('bob', { type: 'vote', v: 1, term, granted: true });
    election.onVote('cy', { type: 'vote', v: 1, term, granted: false });
    expect(elected).toEqual([]);
    expect(election.aggregatorId).toBe('host');
    election.dispose();
  });
});
