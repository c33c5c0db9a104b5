/**
 * How a WebRTC connection reaches its peer, read from RTCPeerConnection.getStats (the selected candidate pair),
 * and, for one that never connected, why, in words a teacher can act on.
 */
import type { RelayStatus } from './relay-servers';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface ConnectionRoute {
  /** Whether either side's candidate is a TURN relay: the traffic goes through the relay server. */
  relayed: boolean;
  local: CandidateType;
  remote: CandidateType;
  /** udp or tcp: how this tab reaches its first hop (the relay, for a relayed local candidate). */
  protocol: string;
  /** For a relayed local candidate: how this tab reaches the relay (udp, tcp or tls). */
  relayProtocol?: string;
  /** Current round-trip time over the pair; null before the first measurement. */
  rttMs: number | null;
}

type Stat = Record<string, unknown> & { id: string; type: string };

/** The iterable part of an RTCStatsReport (a Map of id to stat in tests). */
export interface StatsLike {
  forEach(callback: (value: Stat, key: string) => void): void;
}

const CANDIDATE_TYPES = new Set(['host', 'srflx', 'prflx', 'relay']);

function candidateType(value: unknown): CandidateType | null {
  return typeof value === 'string' && CANDIDATE_TYPES.has(value) ? (value as CandidateType) : null;
}

/** The route of the selected (or, without a transport stat, the nominated succeeded) candidate pair; null when none. */
export function routeFromStats(report: StatsLike): ConnectionRoute | null {
  const byId = new Map<string, Stat>();
  let selectedId: string | undefined;
  report.forEach((stat) => {
    byId.set(stat.id, stat);
    if (stat.type === 'transport' && typeof stat.selectedCandidatePairId === 'string') selectedId = stat.selectedCandidatePairId;
  });
  let pair = selectedId ? byId.get(selectedId) : undefined;
  if (!pair) pair = [...byId.values()].find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
  if (!pair) return null;
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  const localType = candidateType(local?.candidateType);
  const remoteType = candidateType(remote?.candidateType);
  if (!local || !localType || !remoteType) return null;
  const rtt = typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
  return {
    relayed: localType === 'relay' || remoteType === 'relay',
    local: localType,
    remote: remoteType,
    protocol: typeof local.protocol === 'string' ? local.protocol : 'udp',
    ...(localType === 'relay' && typeof local.relayProtocol === 'string' ? { relayProtocol: local.relayProtocol } : {}),
    rttMs: rtt,
  };
}

/** The relay's ports, as "UDP 3478 or TCP 3478", from its TURN URLs. */
export function relayPorts(urls: readonly string[]): string {
  const ports = new Set<string>();
  for (const url of urls) {
    const m = /^(turns?):(?:\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
    if (!m) continue;
    const tls = m[1] === 'turns';
    ports.add(`${tls ? 'TLS' : (m[3] ?? 'udp').toUpperCase()} ${m[2] ?? (tls ? '5349' : '3478')}`);
  }
  return [...ports].join(' or ') || "the relay's ports";
}

export const RELAYED_MEANING = 'this network blocks direct connections between devices; traffic is relayed through the server';

/**
 * Why a connection to a peer never opened, from the local candidate types this tab gathered and what it knows of
 * the relay.
 */
export function explainUnconnected(gathered: ReadonlySet<CandidateType>, relay: RelayStatus): string {
  if (relay.kind === 'offered') {
    if (!gathered.has('relay')) return `no relay reachable: ask for ${relayPorts(relay.urls)} to the server to be opened (this network also blocks direct connections between devices)`;
    return 'no direct path and no relayed path worked: the other device may not reach the relay (it needs UDP or TCP to the server)';
  }
  if (relay.kind === 'none') return 'this network blocks direct connections between devices and the server offers no relay (start it with npm start, or enter a TURN server under Network settings)';
  return `this network blocks direct connections between devices, and this tab could not get the relay's credentials (${relay.reason})`;
}
