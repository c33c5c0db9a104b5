/** How the peers table words each connection (direct or relayed, RTT) and connections that never opened. */
import { RELAYED_MEANING, type ConnectionRoute } from '../net/connection-route';
import type { NetworkReport } from '../net/connection-watch';
import type { PeerView } from '../session/types';

/** "direct · 3 ms", "direct through a NAT · 8 ms", "relayed (TCP to the relay) · 14 ms"; "—" when unknown. */
export function connectionLine(route: ConnectionRoute | undefined): string {
  if (!route) return '—';
  const rtt = route.rttMs === null ? '' : ` · ${route.rttMs} ms`;
  if (route.relayed) return `relayed${route.relayProtocol && route.relayProtocol !== 'udp' ? ` (${route.relayProtocol.toUpperCase()} to the relay)` : ''}${rtt}`;
  const natted = route.local === 'srflx' || route.local === 'prflx' || route.remote === 'srflx' || route.remote === 'prflx';
  return `direct${natted ? ' through a NAT' : ''}${rtt}`;
}

/** The hover text: what the route means for the network. */
export function connectionMeaning(route: ConnectionRoute | undefined): string | undefined {
  if (!route) return undefined;
  if (route.relayed) return RELAYED_MEANING;
  return `peer to peer (${route.local} to ${route.remote} candidate, ${route.protocol.toUpperCase()})`;
}

export interface NetworkSummary {
  /** On the aggregating tab: "2 of 5 students relayed through the server"; null when nobody is connected. */
  relayed: string | null;
  /** One line per connection attempt that never opened, naming the peer when the roster knows it. */
  problems: string[];
}

export function networkSummary(report: NetworkReport | null | undefined, peers: readonly PeerView[], isAggregator: boolean, aggregatorId: string | null): NetworkSummary {
  if (!report) return { relayed: null, problems: [] };
  const others = peers.filter((p) => !p.isSelf && p.status !== 'left');
  const connected = others.filter((p) => report.routes[p.id]);
  const relayedCount = connected.filter((p) => report.routes[p.id].relayed).length;
  const relayed = isAggregator && connected.length > 0 ? `${relayedCount} of ${connected.length} student${connected.length === 1 ? '' : 's'} relayed through the server` : null;
  const problems = Object.entries(report.unconnected).map(([id, why]) => {
    const name = peers.find((p) => p.id === id)?.name;
    const who = id === aggregatorId || (!isAggregator && !name) ? 'the session host' : name ? `"${name}"` : 'a tab';
    return isAggregator ? `${who === 'a tab' ? 'A tab' : who} could not connect: ${why}` : `Cannot reach ${who}: ${why}`;
  });
  return { relayed, problems };
}
