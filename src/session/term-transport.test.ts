import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '../fl/codec/validate';
import type { Message } from '../fl/protocol';
import { routeOf } from '../fl/routing';
import { oneSmallMessageOfEachType } from '../fl/testing/one-of-each';
import type { Transport } from '../fl/transport';
import { engineTransport, forClient, type CurrentAggregator } from './term-transport';

const samples = oneSmallMessageOfEachType();

/** A transport face that records what is sent and lets the test deliver messages. */
function face() {
  const handlers = new Set<(from: string, m: Message) => void>();
  const sent: Array<{ to: string; m: Message }> = [];
  const transport: Transport = {
    selfId: 'agg',
    send: (to, m) => sent.push({ to, m }),
    onMessage: (h) => {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    onPeerLeft: () => () => undefined,
  };
  return { transport, sent, deliver: (from: string, m: Message) => handlers.forEach((h) => h(from, m)) };
}

describe("the engine's view of the network", () => {
  it('delivers to the engine exactly the types the routing table gives it', () => {
    const f = face();
    const got: string[] = [];
    engineTransport(f.transport, 4).onMessage((_, m) => got.push(m.type));
    for (const type of MESSAGE_TYPES) f.deliver('client-1', samples[type]);
    expect(got).toEqual(MESSAGE_TYPES.filter((t) => routeOf(t).handlers.includes('engine')));
    expect(got).toContain('update');
  });

  it("stamps its term onto the stamped types, once per message however many peers get it, and sends the rest as they are", () => {
    const f = face();
    const engine = engineTransport(f.transport, 4);
    for (const type of MESSAGE_TYPES) {
      engine.send('c1', samples[type]);
      engine.send('c2', samples[type]);
    }
    for (const type of MESSAGE_TYPES) {
      const [a, b] = f.sent.filter((s) => s.m.type === type).map((s) => s.m);
      expect(a, type).toBe(b);
      if (routeOf(type).term === 'stamped') expect(a).toEqual({ ...samples[type], term: 4 });
      else expect(a, type).toBe(samples[type]);
    }
  });
});

describe('the gate in front of the local FL client', () => {
  const current: CurrentAggregator = { aggregatorId: 'agg', isCurrent: (from, term) => from === 'agg' && term === 4 };
  const inTerm = (type: (typeof MESSAGE_TYPES)[number], term: number): Message => (routeOf(type).term !== 'none' ? ({ ...samples[type], term } as Message) : samples[type]);

  it("lets through only the client's types, those from 'aggregator' only from this term's aggregator", () => {
    for (const type of MESSAGE_TYPES) {
      const route = routeOf(type);
      const forTheClient = route.handlers.includes('client');
      expect({ type, fromAggregator: forClient('agg', inTerm(type, 4), current) }).toEqual({ type, fromAggregator: forTheClient });
      expect({ type, fromOther: forClient('other', inTerm(type, 4), current) }).toEqual({ type, fromOther: forTheClient && route.from !== 'aggregator' });
      if (route.from === 'aggregator' && route.term !== 'none') {
        expect({ type, staleTerm: forClient('agg', inTerm(type, 3), current) }).toEqual({ type, staleTerm: false });
        const { term: _, ...noTerm } = inTerm(type, 4) as Message & { term?: number };
        expect({ type, noTerm: forClient('agg', noTerm as Message, current) }).toEqual({ type, noTerm: false });
      }
    }
  });

  it('refuses aggregator messages without a term while this tab follows no aggregator', () => {
    const nobody: CurrentAggregator = { aggregatorId: null, isCurrent: () => false };
    const withoutTerm = MESSAGE_TYPES.filter((t) => routeOf(t).from === 'aggregator' && routeOf(t).term === 'none' && routeOf(t).handlers.includes('client'));
    expect(withoutTerm.length).toBeGreaterThan(0);
    for (const type of withoutTerm) expect(forClient('agg', samples[type], nobody), type).toBe(false);
  });
});
