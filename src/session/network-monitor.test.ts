import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchNetwork, withNetworkReason } from './network-monitor';
import type { NetworkReport } from '../net/connection-watch';

const report = (relayed: boolean): NetworkReport => ({
  relay: { kind: 'offered', urls: ['turn:10.0.0.1:3478?transport=udp'] },
  routes: { s1: { relayed, local: relayed ? 'relay' : 'host', remote: 'host', protocol: 'udp', rttMs: 4 } },
  unconnected: {},
});

describe('network monitor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes on a report when it changed, until stopped', async () => {
    let relayed = false;
    const seen: NetworkReport[] = [];
    const stop = watchNetwork({ networkReport: async () => report(relayed) }, (r) => seen.push(r), 1_000);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(seen).toHaveLength(1);
    relayed = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen.map((r) => r.routes.s1.relayed)).toEqual([false, true]);
    stop();
    relayed = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen).toHaveLength(2);
  });

  it('adds why the connection never opened to a failed join', () => {
    const transport = { whyUnconnected: (id: string) => (id === 'host1' ? 'no relay reachable: ask for UDP 3478 to the server to be opened' : undefined) };
    const error = withNetworkReason(new Error('host1 did not prove within 10 s that it knows the session secret'), transport, 'host1') as Error;
    expect(error.message).toBe('host1 did not prove within 10 s that it knows the session secret (no relay reachable: ask for UDP 3478 to the server to be opened)');
    const other = new Error('wrong code');
    expect(withNetworkReason(other, transport, 'host2')).toBe(other);
    expect(withNetworkReason(other, null, 'host1')).toBe(other);
  });
});
