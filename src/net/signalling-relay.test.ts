import { describe, expect, it } from 'vitest';
import { SignallingRelay, type RelayClient } from './signalling-relay';
import { SIGNALLING_LIMITS } from './signalling-server';

class FakeClient implements RelayClient {
  readonly received: Array<Record<string, unknown>> = [];
  readonly socket = { send: (data: string) => this.received.push(JSON.parse(data) as Record<string, unknown>) };
  constructor(private readonly id: string) {}
  getId() {
    return this.id;
  }
  getSocket() {
    return this.socket;
  }
}

function setup(probeLimit = 10) {
  const clock = { t: 0 };
  const probes = new Map<string, Set<string>>();
  const relay = new SignallingRelay({
    limits: { ...SIGNALLING_LIMITS, queueExpiryMs: 5_000 },
    now: () => clock.t,
    probe: (address, id) => {
      const ids = probes.get(address) ?? new Set();
      probes.set(address, ids);
      if (ids.has(id)) return true;
      if (ids.size >= probeLimit) return false;
      ids.add(id);
      return true;
    },
  });
  const join = (id: string) => {
    const c = new FakeClient(id);
    relay.registered(c);
    return c;
  };
  return { relay, clock, probes, join };
}

const offer = (dst: string, sdp = 'v=0') => JSON.stringify({ type: 'OFFER', dst, payload: { sdp } });

describe('SignallingRelay', () => {
  it('lets a message for a registered id through to PeerJS', () => {
    const { relay, join } = setup();
    const a = join('a');
    join('b');
    expect(relay.passes(a.socket, '10.0.0.1', offer('b'))).toBe(true);
    expect(relay.passes(a.socket, '10.0.0.1', JSON.stringify({ type: 'HEARTBEAT' }))).toBe(true);
    expect(relay.stats().queued.messages).toBe(0);
  });

  it('holds a message for an absent id and delivers it, in order, when the id registers', () => {
    const { relay, join, probes } = setup();
    const a = join('a');
    expect(relay.passes(a.socket, '10.0.0.1', offer('b', 'first'))).toBe(false);
    expect(relay.passes(a.socket, '10.0.0.1', JSON.stringify({ type: 'CANDIDATE', dst: 'b', payload: { c: 1 } }))).toBe(false);
    expect(probes.get('10.0.0.1')).toEqual(new Set(['b']));
    const b = join('b');
    expect(b.received).toEqual([
      { type: 'OFFER', src: 'a', dst: 'b', payload: { sdp: 'first' } },
      { type: 'CANDIDATE', src: 'a', dst: 'b', payload: { c: 1 } },
    ]);
    expect(relay.stats()).toMatchObject({ delivered: 2, queued: { messages: 0, bytes: 0 } });
  });

  it('answers EXPIRE to each sender once when the id never comes, and forgets the messages', () => {
    const { relay, join, clock } = setup();
    const a = join('a');
    relay.passes(a.socket, '10.0.0.1', offer('ghost'));
    relay.passes(a.socket, '10.0.0.1', offer('ghost'));
    clock.t = 4_999;
    relay.expire();
    expect(a.received).toEqual([]);
    clock.t = 5_000;
    relay.expire();
    expect(a.received).toEqual([{ type: 'EXPIRE', src: 'ghost', dst: 'a' }]);
    expect(relay.stats()).toMatchObject({ expired: 1, queued: { messages: 0 } });
    expect(join('ghost').received).toEqual([]);
  });

  it('refuses messages for new absent ids once the address is at its probe limit: no queue, no EXPIRE', () => {
    const { relay, join, clock } = setup(2);
    const a = join('a');
    for (const dst of ['x1', 'x2', 'x3', 'x4']) relay.passes(a.socket, '10.0.0.1', offer(dst));
    // Another address is not affected.
    const c = join('c');
    relay.passes(c.socket, '10.0.0.3', offer('x3'));
    expect(relay.stats()).toMatchObject({ queued: { destinations: 3, messages: 3 }, dropped: { probes: 2 } });
    clock.t = 5_000;
    relay.expire();
    expect(a.received.map((m) => m.src)).toEqual(['x1', 'x2']);
    expect(c.received.map((m) => m.src)).toEqual(['x3']);
  });

  it('bounds what one sender can park for absent ids, whatever it sends', () => {
    const { relay, join } = setup();
    const a = join('a');
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 1_000; i++) expect(relay.passes(a.socket, '10.0.0.1', offer('absent', big))).toBe(false);
    const one = Buffer.byteLength(JSON.stringify({ type: 'OFFER', src: 'a', dst: 'absent', payload: { sdp: big } }));
    const fits = Math.floor(SIGNALLING_LIMITS.queuedBytesPerDestination / one);
    expect(relay.stats()).toMatchObject({ queued: { messages: fits, bytes: fits * one }, dropped: { destination: 1_000 - fits } });
  });

  it('drops malformed messages and follows a LEAVE without destination (PeerJS unregisters the sender)', () => {
    const { relay, join } = setup();
    const a = join('a');
    const b = join('b');
    expect(relay.passes(a.socket, '10.0.0.1', '{not json')).toBe(false);
    expect(relay.passes(a.socket, '10.0.0.1', '42')).toBe(false);
    expect(relay.passes(a.socket, '10.0.0.1', JSON.stringify({ type: 'OFFER', dst: { id: 'b' } }))).toBe(false);
    expect(relay.stats().dropped.malformed).toBe(3);
    expect(relay.passes(b.socket, '10.0.0.2', JSON.stringify({ type: 'LEAVE' }))).toBe(true);
    expect(relay.passes(a.socket, '10.0.0.1', offer('b'))).toBe(false);
    expect(relay.stats().queued.messages).toBe(1);
  });

  it('passes messages of sockets it does not know (PeerJS ignores them too)', () => {
    const { relay } = setup();
    expect(relay.passes({ send: () => undefined }, '10.0.0.1', offer('b'))).toBe(true);
  });
});
