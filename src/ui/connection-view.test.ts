import { describe, expect, it } from 'vitest';
import { connectionLine, connectionMeaning, networkSummary } from './connection-view';
import type { NetworkReport } from '../net/connection-watch';
import type { PeerView } from '../session/types';

const peer = (id: string, name: string, extra: Partial<PeerView> = {}) => ({ id, name, isSelf: false, status: 'idle', ...extra }) as PeerView;

describe('connection wording', () => {
  it('says direct or relayed, how the relay is reached and the RTT', () => {
    expect(connectionLine({ relayed: false, local: 'host', remote: 'host', protocol: 'udp', rttMs: 3 })).toBe('direct · 3 ms');
    expect(connectionLine({ relayed: false, local: 'srflx', remote: 'host', protocol: 'udp', rttMs: null })).toBe('direct through a NAT');
    expect(connectionLine({ relayed: true, local: 'relay', remote: 'host', protocol: 'udp', relayProtocol: 'tcp', rttMs: 14 })).toBe('relayed (TCP to the relay) · 14 ms');
    expect(connectionLine({ relayed: true, local: 'host', remote: 'relay', protocol: 'udp', rttMs: 9 })).toBe('relayed · 9 ms');
    expect(connectionLine(undefined)).toBe('—');
    expect(connectionMeaning({ relayed: true, local: 'relay', remote: 'host', protocol: 'udp', rttMs: 1 })).toBe(
      'this network blocks direct connections between devices; traffic is relayed through the server',
    );
  });

  it('counts relayed students for the host and words attempts that never opened', () => {
    const report: NetworkReport = {
      relay: { kind: 'offered', urls: [] },
      routes: {
        a: { relayed: true, local: 'host', remote: 'relay', protocol: 'udp', rttMs: 5 },
        b: { relayed: false, local: 'host', remote: 'host', protocol: 'udp', rttMs: 1 },
      },
      unconnected: { c: 'no relay reachable: ask for UDP 3478 to the server to be opened', x: 'no relay reachable' },
    };
    const peers = [peer('me', 'teacher', { isSelf: true }), peer('a', 'Ann'), peer('b', 'Bob'), peer('c', 'Cem')];
    expect(networkSummary(report, peers, true, 'me')).toEqual({
      relayed: '1 of 2 students relayed through the server',
      problems: ['"Cem" could not connect: no relay reachable: ask for UDP 3478 to the server to be opened', 'A tab could not connect: no relay reachable'],
    });
    const student = networkSummary({ ...report, routes: {}, unconnected: { host1: 'no relay reachable' } }, [], false, 'host1');
    expect(student).toEqual({ relayed: null, problems: ['Cannot reach the session host: no relay reachable'] });
  });
});
