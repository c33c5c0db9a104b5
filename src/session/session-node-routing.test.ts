import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MESSAGE_TYPES } from '../fl/codec/validate';
import { InMemoryNetwork } from '../fl/in-memory-transport';
import type { Message } from '../fl/protocol';
import { routeOf } from '../fl/routing';
import { oneSmallMessageOfEachType } from '../fl/testing/one-of-each';
import { SessionNode } from './session-node';
import { settleFake } from './testing/fake-time';
import { fakeTrainer, TINY_CONFIG, TINY_TIMING, tinyWeights } from './testing/tiny-session';

const samples = oneSmallMessageOfEachType();

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the session node's stale-term check follows the routing table", () => {
  const withTerm = MESSAGE_TYPES.filter((t) => routeOf(t).term !== 'none');

  for (const type of withTerm) {
    const checked = routeOf(type).term === 'sender' || routeOf(type).term === 'stamped';
    it(`${type} of an older term is ${checked ? 'dropped, and its sender told the current term' : 'not dropped as stale'}`, async () => {
      const network = new InMemoryNetwork();
      const node = new SessionNode({ transport: network.endpoint('host'), name: 'host', trainer: () => fakeTrainer(), timing: TINY_TIMING });
      await settleFake(node.host(TINY_CONFIG, tinyWeights(0)));
      expect(node.term).toBe(1);
      const outsider = network.endpoint('outsider');
      const got: string[] = [];
      outsider.onMessage((_, m) => got.push(m.type));
      outsider.send('host', { ...samples[type], term: 0 } as Message);
      await vi.advanceTimersByTimeAsync(TINY_TIMING.heartbeatMs / 2);
      expect(got.includes('roster')).toBe(checked);
      if (type === 'vote-request') expect(got).toEqual(['vote']); // the election answered it
      node.leave();
    });
  }
});
