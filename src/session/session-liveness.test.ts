/**
 * Membership by liveness: an aggregator's majority is counted over the members it reaches or saw recently after they
 * had been in the session a while, so ids that join and vanish cannot make it give up its term; a side cut off from
 * most of the session pauses its rounds and merges into the majority's term when the link returns.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import { PROTOCOL_VERSION, type Message } from '../fl/protocol';
import { SessionNode } from './session-node';
import { fakeTrainer, TINY_CONFIG, TINY_TIMING, tinyWeights } from './testing/tiny-session';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function classroom(names: string[], drop: (from: string, to: string, m: Message) => boolean = () => false) {
  const down = new Set<string>();
  const key = (a: string, b: string) => [a, b].sort().join('|');
  const network = new InMemoryNetwork({ plan: (from, to, m) => (down.has(key(from, to)) || drop(from, to, m) ? { drop: true } : undefined) });
  const logs: string[] = [];
  const endpoints = new Map<string, ReturnType<InMemoryNetwork['endpoint']>>();
  const node = (name: string) => {
    endpoints.set(name, network.endpoint(name));
    return new SessionNode({ transport: endpoints.get(name)!, name, trainer: () => fakeTrainer(), timing: TINY_TIMING, onLog: (level, text) => logs.push(`${name} ${level}: ${text}`) });
  };
  const nodes = names.map(node);
  const cut = (a: string, b: string) => {
    down.add(key(a, b));
    network.cutLink(a, b);
  };
  const restore = (a: string, b: string) => {
    down.delete(key(a, b));
    network.restoreLink(a, b);
  };
  return { network, nodes, node, endpoints, logs, cut, restore };
}

async function start(nodes: SessionNode[], rounds: number) {
  const [host, ...members] = nodes;
  await host.host({ ...TINY_CONFIG, rounds }, tinyWeights(0));
  const joined = Promise.all(members.map((m) => m.join(host.selfId)));
  await vi.advanceTimersByTimeAsync(50);
  await joined;
  void host.start();
}

describe('membership by liveness', () => {
  it('ghost ids that join and vanish without a goodbye cannot make the aggregator give its term to the first in line', async () => {
    const { network, nodes, node, endpoints, logs } = classroom(['host', 'ann', 'bob', 'cy']);
    const [host, ann] = nodes;
    await start(nodes, 200);
    await vi.advanceTimersByTimeAsync(6_000);
    // ann, first in line, opens four more ids: each joins, then vanishes at once.
    for (let i = 1; i <= 4; i++) {
      const ghost = node(`ghost-${i}`);
      const joined = ghost.join('host');
      await vi.advanceTimersByTimeAsync(50);
      await joined;
      network.disconnect(`ghost-${i}`);
    }
    await vi.advanceTimersByTimeAsync(200);
    // ... then claims the next term.
    const claim: Message = { type: 'roster', v: PROTOCOL_VERSION, term: 2, aggregatorId: 'ann', round: host.currentRound, peers: [] };
    for (let i = 0; i < 5; i++) {
      endpoints.get('ann')!.send('host', claim);
      await vi.advanceTimersByTimeAsync(300);
    }
    expect(host.isAggregator).toBe(true);
    expect(host.term).toBe(1);
    expect(nodes.slice(1).map((n) => n.aggregatorId)).toEqual(['host', 'host', 'host']);
    expect(logs.some((l) => l.startsWith('host warn: ignored ann announcing itself as aggregator (term 2)'))).toBe(true);
    // The rounds go on.
    const round = host.currentRound;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(host.currentRound).toBeGreaterThan(round);
    expect(ann.isAggregator).toBe(false);
    nodes.forEach((n) => n.leave());
  });

  it('a 30 s minority partition pauses the cut-off host, the majority elects a successor, and one aggregator is left soon after the link returns', async () => {
    const { nodes, cut, restore } = classroom(['host', 'ann', 'bob', 'cy', 'dan']);
    const [host, ann, bob, cy, dan] = nodes;
    await start(nodes, 400);
    await vi.advanceTimersByTimeAsync(7_000);
    const majority = ['ann', 'bob', 'cy'];
    const minority = ['host', 'dan'];
    for (const a of majority) for (const b of minority) cut(a, b);
    await vi.advanceTimersByTimeAsync(3_000);
    const hostRoundsAtCut = host.currentRound;
    await vi.advanceTimersByTimeAsync(27_000);
    // The majority runs on under ann, in a later term; the host, reaching 2 of 5, commits no round meanwhile.
    expect(ann.isAggregator).toBe(true);
    expect(ann.term).toBeGreaterThan(1);
    expect([bob, cy].map((n) => n.aggregatorId)).toEqual(['ann', 'ann']);
    expect(host.currentRound).toBeLessThanOrEqual(hostRoundsAtCut + 1);
    expect(host.sessionRecord?.phase).toBe('waiting');
    expect(host.sessionRecord?.reason).toMatch(/^this tab reaches 2 of 5 members, no majority$/);

    for (const a of majority) for (const b of minority) restore(a, b);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(nodes.filter((n) => n.isAggregator)).toEqual([ann]);
    expect(nodes.map((n) => n.aggregatorId)).toEqual(['ann', 'ann', 'ann', 'ann', 'ann']);
    expect(new Set(nodes.map((n) => n.term)).size).toBe(1);
    // The host's record of the run is the majority's: each round once (any it committed alone is reported as discarded).
    const hostRounds = host.rounds.map((r) => r.round);
    expect(new Set(hostRounds).size).toBe(hostRounds.length);
    const round = ann.currentRound;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(ann.currentRound).toBeGreaterThan(round);
    expect(dan.aggregatorId).toBe('ann');
    nodes.forEach((n) => n.leave());
  });

  it('a successor whose checkpoint is ahead of the results it received (the aggregator went away in between) keeps every round', async () => {
    let lose = 0;
    const { network, nodes, logs } = classroom(['host', 'ann', 'bob'], (from, _to, m) => m.type === 'round-result' && m.round === lose && from === 'host');
    const [host, ann] = nodes;
    await start(nodes, 8);
    await vi.advanceTimersByTimeAsync(400);
    // The next round's result never leaves the host; its checkpoint does, then the host is gone.
    lose = host.currentRound + 1;
    for (let t = 0; t < 200 && host.currentRound < lose; t++) await vi.advanceTimersByTimeAsync(5);
    expect(host.currentRound).toBe(lose);
    network.disconnect('host');
    host.leave();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ann.isAggregator).toBe(true);
    expect(ann.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(logs.some((l) => l.startsWith(`ann warn: 1 round up to round ${lose} committed by host reached this tab without results`))).toBe(true);
    nodes.forEach((n) => n.leave());
  });
});
