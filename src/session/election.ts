import { PROTOCOL_VERSION, type VoteMessage, type VoteRequestMessage } from '../fl/protocol';

export interface ElectionTiming {
  /** How often the aggregator's heartbeat (its roster) goes out. */
  heartbeatMs: number;
  /** The deterministic successor asks for votes once the aggregator has been silent this long. */
  silenceMs: number;
  /** A candidacy without a majority of granted votes within this fails (and is retried after the next silence). */
  voteTimeoutMs: number;
}

export interface ElectionHooks {
  selfId: string;
  timing: ElectionTiming;
  /** The deterministic successor of `aggregatorId` in this tab's view of the session. */
  successorOf(aggregatorId: string): string | null;
  /** Aggregator side: whether this tab no longer reaches a majority of the session (then a later term may replace it). */
  lostMajority(): boolean;
  /** Whether this tab holds what it needs to aggregate (the configuration and a checkpoint). */
  canAggregate(): boolean;
  /** Peers to ask for votes when replacing `previous` (this tab excluded). */
  voters(previous: string): string[];
  /**
   * Whether the silent aggregator still counts in the electorate. It does unless it left on purpose (bye): a
   * majority of everyone, the silent aggregator included, is what rules out two aggregators after a partition, since
   * the side without the aggregator can only win it when the aggregator's side is a minority.
   */
  countsInElectorate(previous: string): boolean;
  send(to: string, message: VoteRequestMessage | VoteMessage): void;
  /** This tab won a majority: it aggregates `term` from now on, replacing `previous`. */
  onElected(term: number, previous: string): void;
  /** The aggregator has been silent past the deadline (this tab may try to reach it again). */
  onSilent?(aggregatorId: string): void;
  log?(level: 'info' | 'warn', text: string): void;
}

interface Candidacy {
  term: number;
  previous: string;
  voters: Set<string>;
  /** Everyone whose majority decides: this tab, the voters, and the silent aggregator unless it left on purpose. */
  electorate: number;
  grants: Set<string>;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Who aggregates, in which term, and when that changes. One aggregator per term; a higher term replaces a lower
 * one. A takeover needs three things: the aggregator silent past a deadline (a peer-left event alone does not
 * count), the candidate being the deterministic successor, and a majority of the session (the silent aggregator
 * counted, unless it said bye) granting their vote (each grants only if it has lost the aggregator too, and votes once
 * per term). So a partition or a flapping link can replace the aggregator only on the side that holds the majority.
 */
export class Election {
  private currentTerm = 0;
  private leader: string | null = null;
  private lastHeardAt = 0;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly votedFor = new Map<number, string>();
  private candidacy: Candidacy | null = null;
  private highestTermTried = 0;
  private redirect: { id: string; term: number } | null = null;
  private closed = false;

  constructor(private readonly hooks: ElectionHooks) {}

  get term(): number {
    return this.currentTerm;
  }

  get aggregatorId(): string | null {
    return this.leader;
  }

  /** Whether the aggregator this tab follows has been silent past the deadline. */
  get aggregatorSilent(): boolean {
    return this.leader !== null && this.leader !== this.hooks.selfId && this.silentFor() >= this.hooks.timing.silenceMs;
  }

  /** Follows `aggregatorId` in `term`: after a welcome, an accepted claim, a redirect, or this tab's own election. */
  follow(aggregatorId: string, term: number): void {
    this.currentTerm = term;
    this.leader = aggregatorId;
    this.lastHeardAt = Date.now();
    this.redirect = null;
    this.endCandidacy();
    this.armSilenceCheck(this.hooks.timing.silenceMs);
  }

  /** A message from `from` arrived: proof of life when it is the aggregator. */
  heard(from: string): void {
    if (from === this.leader) this.lastHeardAt = Date.now();
  }

  isStale(term: number): boolean {
    return term < this.currentTerm;
  }

  /** A round or roster message of this term from this term's aggregator. */
  isCurrent(from: string, term: number | undefined): boolean {
    return from === this.leader && term === this.currentTerm;
  }

  /**
   * Whether `from`, claiming to aggregate `term`, is to be followed: only for a higher term, and only when it is the
   * candidate this tab voted for, the one its aggregator redirected it to, or the deterministic successor of the
   * current aggregator while that one is lost to this tab (an aggregator: while it has lost its majority). Anyone
   * else announcing itself is ignored, and so is the successor while the aggregator is alive and well.
   */
  acceptsClaim(from: string, term: number): boolean {
    if (term <= this.currentTerm || this.leader === null) return false;
    if (this.redirect && this.redirect.id === from && term >= this.redirect.term) return true;
    if (this.votedFor.get(term) === from) return true;
    const lost = this.leader === this.hooks.selfId ? this.hooks.lostMajority() : this.lostLeader();
    return lost && this.hooks.successorOf(this.leader) === from;
  }

  /** The current aggregator stepped down in favour of `id`, which aggregates `term`. */
  redirectTo(id: string, term: number): void {
    if (term > this.currentTerm) this.redirect = { id, term };
  }

  onVoteRequest(from: string, m: VoteRequestMessage): void {
    const granted =
      m.term > this.currentTerm &&
      m.previous === this.leader &&
      this.hooks.successorOf(m.previous) === from &&
      this.lostLeader() &&
      (this.votedFor.get(m.term) ?? from) === from;
    if (granted) this.votedFor.set(m.term, from);
    this.hooks.send(from, { type: 'vote', v: PROTOCOL_VERSION, term: m.term, granted });
  }

  onVote(from: string, m: VoteMessage): void {
    const c = this.candidacy;
    if (!c || m.term !== c.term || !c.voters.has(from) || !m.granted) return;
    c.grants.add(from);
    this.concludeIfWon();
  }

  dispose(): void {
    this.closed = true;
    this.endCandidacy();
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }

  private silentFor(): number {
    return Date.now() - this.lastHeardAt;
  }

  /** A voter only needs half the deadline of silence: the candidate asks after the full deadline of its own. */
  private lostLeader(): boolean {
    return this.leader !== null && this.leader !== this.hooks.selfId && this.silentFor() >= this.hooks.timing.silenceMs / 2;
  }

  private armSilenceCheck(afterMs: number): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    if (this.closed || this.leader === null || this.leader === this.hooks.selfId) return;
    this.silenceTimer = setTimeout(() => this.checkSilence(), Math.max(1, afterMs));
  }

  private checkSilence(): void {
    this.silenceTimer = null;
    const leader = this.leader;
    if (this.closed || leader === null || leader === this.hooks.selfId) return;
    const remaining = this.hooks.timing.silenceMs - this.silentFor();
    if (remaining > 0) return this.armSilenceCheck(remaining);
    this.hooks.onSilent?.(leader);
    if (!this.candidacy && this.hooks.successorOf(leader) === this.hooks.selfId && this.hooks.canAggregate()) this.stand(leader);
    this.armSilenceCheck(this.hooks.timing.silenceMs);
  }

  private stand(previous: string): void {
    const term = Math.max(this.currentTerm, this.highestTermTried) + 1;
    this.highestTermTried = term;
    this.votedFor.set(term, this.hooks.selfId);
    const voters = new Set(this.hooks.voters(previous).filter((id) => id !== this.hooks.selfId && id !== previous));
    const electorate = voters.size + 1 + (this.hooks.countsInElectorate(previous) ? 1 : 0);
    this.hooks.log?.('info', `the aggregator is silent; asking ${voters.size} peers to take over in term ${term}`);
    const timer = setTimeout(() => {
      if (this.candidacy?.term !== term) return;
      this.hooks.log?.('warn', `no majority for term ${term} (${this.candidacy.grants.size} of ${electorate})`);
      this.candidacy = null;
    }, this.hooks.timing.voteTimeoutMs);
    this.candidacy = { term, previous, voters, electorate, grants: new Set([this.hooks.selfId]), timer };
    for (const id of voters) this.hooks.send(id, { type: 'vote-request', v: PROTOCOL_VERSION, term, previous });
    this.concludeIfWon();
  }

  private concludeIfWon(): void {
    const c = this.candidacy;
    if (!c || 2 * c.grants.size <= c.electorate) return;
    this.follow(this.hooks.selfId, c.term);
    this.hooks.onElected(c.term, c.previous);
  }

  private endCandidacy(): void {
    if (this.candidacy) clearTimeout(this.candidacy.timer);
    this.candidacy = null;
  }
}
