/**
 * Browser: watches the RTCPeerConnections of a peerjs Peer (incoming and outgoing): which route each open one
 * took, and, for an attempt that never opened, why (from the candidate types this tab gathered and the relay).
 */
import { explainUnconnected, routeFromStats, type CandidateType, type ConnectionRoute, type StatsLike } from './connection-route';
import type { RelayStatus } from './relay-servers';

export interface NetworkReport {
  relay: RelayStatus;
  /** Route of the open connection to each peer. */
  routes: Record<string, ConnectionRoute>;
  /** Peers whose latest connection attempt has not opened in time, with why. */
  unconnected: Record<string, string>;
}

/** What this needs of a peerjs DataConnection. */
export interface WatchedConnection {
  readonly peer: string;
  readonly peerConnection?: { getStats(): Promise<StatsLike>; addEventListener(type: 'icecandidate', listener: (event: { candidate: { type?: string | null } | null }) => void): void };
  on(event: 'open' | 'close', listener: () => void): unknown;
}

interface Attempt {
  connection: WatchedConnection;
  gathered: Set<CandidateType>;
  opened: boolean;
  closed: boolean;
  startedAt: number;
}

export interface ConnectionWatchOptions {
  /** An attempt that has not opened after this long counts as unconnected. */
  unconnectedAfterMs: number;
  /** Peers remembered at once (oldest forgotten first). */
  maxPeers: number;
}

export const CONNECTION_WATCH: Readonly<ConnectionWatchOptions> = { unconnectedAfterMs: 8_000, maxPeers: 256 };

export class ConnectionWatch {
  private readonly latest = new Map<string, Attempt>();

  constructor(
    private readonly relay: () => RelayStatus,
    private readonly options: ConnectionWatchOptions = CONNECTION_WATCH,
    private readonly now: () => number = Date.now,
  ) {}

  track(connection: WatchedConnection): void {
    const attempt: Attempt = { connection, gathered: new Set(), opened: false, closed: false, startedAt: this.now() };
    this.latest.delete(connection.peer);
    this.latest.set(connection.peer, attempt);
    if (this.latest.size > this.options.maxPeers) this.latest.delete(this.latest.keys().next().value!);
    connection.peerConnection?.addEventListener('icecandidate', (event) => {
      const type = event.candidate?.type;
      if (type === 'host' || type === 'srflx' || type === 'prflx' || type === 'relay') attempt.gathered.add(type);
    });
    connection.on('open', () => (attempt.opened = true));
    connection.on('close', () => (attempt.closed = true));
  }

  /** Why the latest attempt to `peerId` has not opened; undefined when it opened, or is young and still trying. */
  explain(peerId: string): string | undefined {
    const attempt = this.latest.get(peerId);
    if (!attempt || attempt.opened) return undefined;
    if (!attempt.closed && this.now() - attempt.startedAt < this.options.unconnectedAfterMs) return undefined;
    return explainUnconnected(attempt.gathered, this.relay());
  }

  async report(): Promise<NetworkReport> {
    const routes: Record<string, ConnectionRoute> = {};
    const unconnected: Record<string, string> = {};
    await Promise.all(
      [...this.latest].map(async ([peerId, attempt]) => {
        if (attempt.opened && !attempt.closed) {
          const stats = await attempt.connection.peerConnection?.getStats().catch(() => null);
          const route = stats ? routeFromStats(stats) : null;
          if (route) routes[peerId] = route;
          return;
        }
        const why = this.explain(peerId);
        if (why) unconnected[peerId] = why;
      }),
    );
    return { relay: this.relay(), routes, unconnected };
  }
}
