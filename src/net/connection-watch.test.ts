import { describe, expect, it } from 'vitest';
import { ConnectionWatch, type WatchedConnection } from './connection-watch';
import type { RelayStatus } from './relay-servers';

function fakeConnection(peer: string, stats: Array<Record<string, unknown>> = []) {
  const listeners: Record<string, Array<(event?: unknown) => void>> = {};
  const on = (event: string, l: (event?: unknown) => void) => (listeners[event] ??= []).push(l);
  const connection: WatchedConnection = {
    peer,
    peerConnection: { getStats: async () => new Map(stats.map((s) => [s.id as string, s])) as never, addEventListener: on as never },
    on: on as never,
  };
  const fire = (event: string, arg?: unknown) => listeners[event]?.forEach((l) => l(arg));
  return { connection, fire, candidate: (type: string) => fire('icecandidate', { candidate: { type } }) };
}

const RELAYED_PAIR = [
  { id: 'CP', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: true, currentRoundTripTime: 0.012 },
  { id: 'L', type: 'local-candidate', candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp' },
  { id: 'R', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' },
];

describe('watching connections', () => {
  const offered: RelayStatus = { kind: 'offered', urls: ['turn:10.0.0.1:3478?transport=udp', 'turn:10.0.0.1:3478?transport=tcp'] };

  it('reports the route of open connections and explains attempts that never opened', async () => {
    let t = 0;
    const watch = new ConnectionWatch(() => offered, { unconnectedAfterMs: 8_000, maxPeers: 10 }, () => t);
    const relayed = fakeConnection('student1', RELAYED_PAIR);
    const stuck = fakeConnection('student2');
    watch.track(relayed.connection);
    watch.track(stuck.connection);
    relayed.fire('open');
    stuck.candidate('host');
    expect(watch.explain('student2')).toBeUndefined(); // still young
    t = 8_000;
    const report = await watch.report();
    expect(report.routes).toEqual({ student1: { relayed: true, local: 'relay', remote: 'host', protocol: 'udp', relayProtocol: 'tcp', rttMs: 12 } });
    expect(report.unconnected.student2).toMatch(/^no relay reachable: ask for UDP 3478 or TCP 3478/);
    expect(report.relay).toBe(offered);
  });

  it('forgets a failed attempt once a newer one to the same peer opens, and bounds the peers it keeps', async () => {
    let t = 0;
    const watch = new ConnectionWatch(() => ({ kind: 'none' }), { unconnectedAfterMs: 1_000, maxPeers: 2 }, () => t);
    const first = fakeConnection('host');
    watch.track(first.connection);
    first.fire('close');
    expect(watch.explain('host')).toMatch(/server offers no relay/);
    const second = fakeConnection('host');
    watch.track(second.connection);
    second.fire('open');
    expect(watch.explain('host')).toBeUndefined();
    for (const id of ['a', 'b', 'c']) watch.track(fakeConnection(id).connection);
    t = 5_000;
    expect(Object.keys((await watch.report()).unconnected)).toEqual(['b', 'c']);
  });
});
