import { describe, expect, it } from 'vitest';
import { explainUnconnected, relayPorts, routeFromStats, type StatsLike } from './connection-route';

const report = (stats: Array<Record<string, unknown>>): StatsLike => new Map(stats.map((s) => [s.id as string, s])) as unknown as StatsLike;

describe('connection route from getStats', () => {
  it('reads the selected pair: a direct host-to-host path and its RTT', () => {
    const route = routeFromStats(
      report([
        { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2' },
        { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1', state: 'failed' },
        { id: 'CP2', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: 'succeeded', nominated: true, currentRoundTripTime: 0.0034 },
        { id: 'L1', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
        { id: 'L2', type: 'local-candidate', candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp' },
        { id: 'R1', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' },
      ]),
    );
    expect(route).toEqual({ relayed: false, local: 'host', remote: 'host', protocol: 'udp', rttMs: 3 });
  });

  it('marks a pair relayed when either side is a relay candidate, with the protocol to the relay', () => {
    const stats = [
      { id: 'CP', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: true },
      { id: 'L', type: 'local-candidate', candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp' },
      { id: 'R', type: 'remote-candidate', candidateType: 'srflx', protocol: 'udp' },
    ];
    expect(routeFromStats(report(stats))).toEqual({ relayed: true, local: 'relay', remote: 'srflx', protocol: 'udp', relayProtocol: 'tcp', rttMs: null });
    stats[1] = { id: 'L', type: 'local-candidate', candidateType: 'host', protocol: 'udp' };
    stats[2] = { id: 'R', type: 'remote-candidate', candidateType: 'relay', protocol: 'udp' };
    expect(routeFromStats(report(stats))).toMatchObject({ relayed: true, local: 'host', remote: 'relay' });
  });

  it('has no route before a pair is selected', () => {
    expect(routeFromStats(report([{ id: 'CP', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'in-progress' }]))).toBeNull();
  });
});

describe('why a connection never opened', () => {
  const offered = { kind: 'offered' as const, urls: ['stun:10.0.0.1:3478', 'turn:10.0.0.1:3478?transport=udp', 'turn:10.0.0.1:3478?transport=tcp'] };

  it('names the ports to open when the relay is offered but this tab got no relay candidate', () => {
    expect(explainUnconnected(new Set(['host']), offered)).toBe(
      'no relay reachable: ask for UDP 3478 or TCP 3478 to the server to be opened (this network also blocks direct connections between devices)',
    );
    expect(relayPorts(['turns:t.example.org:443?transport=tcp', 'turn:t.example.org'])).toBe('TLS 443 or UDP 3478');
  });

  it('points at the other side when this tab had a relay candidate, and at the missing relay when none is offered', () => {
    expect(explainUnconnected(new Set(['host', 'relay']), offered)).toMatch(/^no direct path and no relayed path worked/);
    expect(explainUnconnected(new Set(['host']), { kind: 'none' })).toMatch(/blocks direct connections between devices and the server offers no relay/);
    expect(explainUnconnected(new Set(), { kind: 'unavailable', reason: '/fedtab/ice: HTTP 502' })).toMatch(/could not get the relay's credentials \(\/fedtab\/ice: HTTP 502\)$/);
  });
});
