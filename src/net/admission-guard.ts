/**
 * Bookkeeping for connections of peers not yet admitted: a token bucket for new connections, and per-reason
 * counters of closed connections that report at most once per interval (a flood must not become a log flood).
 * Time comes from Date.now(), so fake timers drive it in tests.
 */

/** Why a connection was closed (or refused) by the transport's guards. */
export type RejectionReason =
  /** Unadmitted peer sent a DataChannel message larger than maxPreAdmissionBytes. */
  | 'oversized'
  /** Unadmitted peer sent a frame that did not hold one whole message. */
  | 'fragmented'
  /** Unadmitted peer sent bytes that did not decode to a valid message. */
  | 'undecodable'
  /** Unadmitted peer sent a message type outside the pre-admission allowlist. */
  | 'forbidden-type'
  /** Unadmitted peer sent non-binary data other than the heartbeat. */
  | 'not-binary'
  /** More incoming unadmitted connections than maxPendingConnections. */
  | 'pending-limit'
  /** More new incoming connections per second than maxNewConnectionsPerSecond. */
  | 'rate-limit'
  /** Not admitted within admissionTimeoutMs. */
  | 'admission-timeout'
  /** More connections from one peer than maxLinksPerPeer. */
  | 'too-many-links'
  /** Admitted peer sent more bytes without completing a message than its message limit allows. */
  | 'message-limit'
  /** Admitted peer completed messages faster than they could be decoded: more waiting than a link may hold. */
  | 'decode-backlog'
  /** Admitted peer sent maxRefusedMessages refused messages (oversized, undecodable, invalid) within refusedMessagesWindowMs. */
  | 'refused-messages'
  /** Incoming connection not using raw serialization. */
  | 'serialization'
  /** Incoming connection of an unadmitted peer that failed, closed before opening or fell silent. */
  | 'lost-before-admission';

export const REJECTION_REASONS: readonly RejectionReason[] = [
  'oversized',
  'fragmented',
  'undecodable',
  'forbidden-type',
  'not-binary',
  'pending-limit',
  'rate-limit',
  'admission-timeout',
  'too-many-links',
  'message-limit',
  'decode-backlog',
  'refused-messages',
  'serialization',
  'lost-before-admission',
];

export type RejectionCounts = Record<RejectionReason, number>;

/** Allows `perSecond` events per second on average, in bursts of up to `perSecond`. */
export class RateLimiter {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** True (and one token spent) if another event is allowed now. */
  tryTake(): boolean {
    const now = Date.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/**
 * Counts rejections per reason. `note` returns a line to report for the first rejection of a reason and then at
 * most one per `intervalMs` (summing up the ones in between), otherwise null.
 */
export class RejectionCounter {
  private readonly counts: RejectionCounts = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as RejectionCounts;
  private readonly reportedAt = new Map<RejectionReason, { at: number; count: number }>();

  constructor(private readonly intervalMs: number) {}

  note(reason: RejectionReason, detail: string): string | null {
    const count = ++this.counts[reason];
    const now = Date.now();
    const last = this.reportedAt.get(reason);
    if (last && now - last.at < this.intervalMs) return null;
    this.reportedAt.set(reason, { at: now, count });
    const since = last ? count - last.count : count;
    return `closed ${since} connection${since === 1 ? '' : 's'} (${reason}${last ? ` since ${now - last.at} ms ago` : ''}, ${count} in all); latest: ${detail}`;
  }

  /** Counts one rejection the caller reports itself. */
  count(reason: RejectionReason): void {
    this.counts[reason]++;
  }

  snapshot(): RejectionCounts {
    return { ...this.counts };
  }
}
