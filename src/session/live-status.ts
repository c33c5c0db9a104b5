/**
 * Live status of a session as this tab sees it on the wire: which round runs now, and what each peer is doing.
 * Fed with the protocol messages the tab sends and receives (the controller taps its transport), plus this tab's
 * own activity and the finished rounds' records. Pure: no timers, no DOM; `now` is passed in.
 *
 * Aggregating tab: a round-start it sends to a peer means "training round r"; that peer's update means
 * "update sent"; an error report means "left out: <reason>"; a finished round that lists the peer as missing means
 * "missing in round r"; its progress reports (checked by the engine first) say how much of its training is done.
 * Client tab: a round-start from the aggregator means round r runs; a round-result, a roster or a welcome tell which
 * rounds are done (a late joiner learns the round from them).
 */
import { assertNever } from '../fl/exhaustive';
import type { Message } from '../fl/protocol';
import type { ScreeningVerdict } from '../fl/robust';
import type { PeerStatus } from './types';

export interface PeerLiveStatus {
  status: PeerStatus;
  /** Round the status refers to (0 when none). */
  round: number;
  /** When the status began (ms, the clock passed in). */
  since: number;
  /** Why, for 'left-out' (the client's own words) and 'missing'. */
  detail: string | null;
  /** For 'training': the share of its local training the peer last reported done (0..1). */
  fraction?: number;
}

export interface RoundMarks {
  /** Highest round whose start this tab saw (sent or received). */
  started: number;
  /** Highest round known to be finished. */
  finished: number;
}

interface FinishedRound {
  round: number;
  participants: string[];
  missing: string[];
  /** What the aggregator's robust screening did to updates of this round (the aggregating tab's records only). */
  screening?: readonly ScreeningVerdict[];
}

const BOUNDED_WORDS = { clipped: 'clipped', capped: 'weight capped' } as const;

export class LiveStatusTracker {
  private readonly peers = new Map<string, PeerLiveStatus>();
  private started = 0;
  private finished = 0;
  private seenFinished = 0;
  private readonly contributed = new Set<number>();
  private readonly assignmentRounds = new Map<number, number>();
  /** This tab's peer id (its own updates are counted as its contribution). */
  selfId: string | null = null;

  constructor(private readonly clock: () => number = Date.now) {}

  /** Rounds this tab contributed to before a reload (kept by the tab's session storage). */
  restoreContributions(rounds: readonly number[]): void {
    for (const r of rounds) this.contributed.add(r);
  }

  /** Rounds to which this tab sent an update, ascending. */
  get selfContributions(): number[] {
    return [...this.contributed].sort((a, b) => a - b);
  }

  get marks(): RoundMarks {
    return { started: this.started, finished: Math.max(this.finished, this.seenFinished) };
  }

  /** The round running now (started and not finished), or null between rounds. */
  get activeRound(): number | null {
    const m = this.marks;
    return m.started > m.finished ? m.started : null;
  }

  status(peerId: string): PeerLiveStatus | null {
    return this.peers.get(peerId) ?? null;
  }

  private setPeer(id: string, status: PeerStatus, round: number, detail: string | null = null): void {
    this.peers.set(id, { status, round, since: this.clock(), detail });
  }

  /** The round a round-start's work goes into (the one after the version it carries), remembered by assignment. */
  private noteAssignment(m: { version: number; assignment: number }): number {
    const round = m.version + 1;
    this.assignmentRounds.set(m.assignment, round);
    // Only the latest few matter: an update answers one of the newest assignments.
    if (this.assignmentRounds.size > 64) this.assignmentRounds.delete(this.assignmentRounds.keys().next().value!);
    return round;
  }

  private roundOfAssignment(assignment: number): number {
    return this.assignmentRounds.get(assignment) ?? this.started;
  }

  /** A message this tab sent to `to`. */
  sent(to: string, m: Message): void {
    switch (m.type) {
      case 'round-start': {
        const round = this.noteAssignment(m);
        this.started = Math.max(this.started, round);
        this.setPeer(to, 'training', round);
        return;
      }
      case 'eval-request':
        this.setPeer(to, 'evaluating', m.round);
        return;
      case 'update':
      case 'secagg': {
        // A private session's contribution is the masked input; the other secure-aggregation steps are bookkeeping.
        if (m.type === 'secagg' && m.step !== 'masked') return;
        const round = this.roundOfAssignment(m.assignment);
        this.contributed.add(round);
        if (this.selfId) this.setPeer(this.selfId, 'uploaded', round);
        return;
      }
      case 'error':
        if (this.selfId) this.setPeer(this.selfId, 'left-out', this.started, m.reason);
        return;
      case 'hello':
      case 'welcome':
      case 'redirect':
      case 'roster':
      case 'checkpoint':
      case 'vote-request':
      case 'vote':
      case 'session-state':
      case 'reclaim':
      case 'handback':
      case 'progress':
      case 'eval-result':
      case 'round-result':
      case 'bye':
      case 'auth-hello':
      case 'auth-challenge':
      case 'auth-proof':
      case 'secagg-round':
        return;
      default:
        return assertNever(m, 'message');
    }
  }

  /** A message this tab received from `from`. */
  received(from: string, m: Message): void {
    switch (m.type) {
      case 'update':
      case 'secagg': {
        if (m.type === 'secagg' && m.step !== 'masked') return;
        const round = this.roundOfAssignment(m.assignment);
        const prev = this.peers.get(from);
        if (!prev || prev.round <= round) this.setPeer(from, 'uploaded', round);
        return;
      }
      case 'eval-result':
        this.setPeer(from, 'uploaded', m.round);
        return;
      case 'error': {
        const round = this.peers.get(from)?.round ?? this.started;
        this.setPeer(from, 'left-out', round, m.reason);
        return;
      }
      case 'bye':
        this.setPeer(from, 'left', this.started);
        return;
      case 'round-start': {
        const round = this.noteAssignment(m);
        this.started = Math.max(this.started, round);
        this.finished = Math.max(this.finished, m.version);
        return;
      }
      case 'round-result':
        this.finished = Math.max(this.finished, m.round);
        this.started = Math.max(this.started, m.round);
        return;
      case 'roster':
      case 'welcome':
        this.finished = Math.max(this.finished, m.round);
        this.started = Math.max(this.started, m.round);
        return;
      case 'hello':
      case 'redirect':
      case 'checkpoint':
      case 'vote-request':
      case 'vote':
      case 'session-state':
      case 'reclaim':
      case 'handback':
      case 'progress':
      case 'eval-request':
      case 'auth-hello':
      case 'auth-challenge':
      case 'auth-proof':
      case 'secagg-round':
        return;
      default:
        return assertNever(m, 'message');
    }
  }

  /** A peer reported how far its training of `round` got: kept while it trains that round (the status and its start stay). */
  progress(peerId: string, round: number, fraction: number): void {
    const s = this.peers.get(peerId);
    if (s?.status === 'training' && s.round === round) this.peers.set(peerId, { ...s, fraction });
  }

  /** A peer's connection closed. */
  left(peerId: string): void {
    this.setPeer(peerId, 'left', this.started);
  }

  /** The aggregator's records of finished rounds: marks the selected peers that sent nothing as missing. */
  roundsFinished(rounds: FinishedRound[]): void {
    for (const r of rounds) {
      if (r.round <= this.seenFinished) continue;
      this.seenFinished = r.round;
      for (const id of r.participants) {
        if (id === this.selfId) this.contributed.add(r.round);
        const prev = this.peers.get(id);
        if (prev && prev.round === r.round && (prev.status === 'training' || prev.status === 'evaluating')) this.setPeer(id, 'uploaded', r.round);
      }
      // The defence's verdicts: an update left out says why; one it scaled down says by how much.
      const bounded = new Map<string, string[]>();
      for (const v of r.screening ?? []) {
        if (v.action === 'left-out') this.setPeer(v.clientId, 'left-out', r.round, v.reason);
        else bounded.set(v.clientId, [...(bounded.get(v.clientId) ?? []), `${BOUNDED_WORDS[v.action]}: ${v.reason}`]);
      }
      for (const [id, notes] of bounded) {
        const prev = this.peers.get(id);
        if (prev?.status === 'uploaded' && prev.round === r.round) this.peers.set(id, { ...prev, detail: notes.join('; ') });
      }
      for (const id of r.missing) {
        const prev = this.peers.get(id);
        if (prev && (prev.status === 'left-out' || prev.status === 'left') && prev.round === r.round) continue;
        if (prev?.status === 'left') continue;
        this.setPeer(id, 'missing', r.round, `no update in time for round ${r.round}`);
      }
    }
  }

  /**
   * A peer's status for display. A peer never asked to train (or not in the running round) is 'idle', or
   * 'no-data' when it announced no samples.
   */
  view(peerId: string, numSamples: number): PeerLiveStatus {
    const s = this.peers.get(peerId);
    const active = this.activeRound;
    if (s) {
      // "training"/"update sent" belong to one round; once a later round started without this peer, it waits.
      const stale = (s.status === 'training' || s.status === 'uploaded' || s.status === 'evaluating') && active !== null && s.round < active;
      if (!stale) return s;
      return { status: numSamples > 0 ? 'idle' : 'no-data', round: active, since: s.since, detail: numSamples > 0 ? `not selected for round ${active}` : null };
    }
    // A fixed `since` (not now): an unchanged status must compare equal between refreshes.
    return { status: numSamples > 0 ? 'idle' : 'no-data', round: 0, since: 0, detail: null };
  }

  /** This tab's own status, from its training activity (its messages to itself never cross the network). */
  setSelf(selfId: string, activity: 'training' | 'evaluating' | 'idle', round: number): void {
    this.selfId = selfId;
    if (activity === 'idle') {
      const prev = this.peers.get(selfId);
      if (prev && (prev.status === 'training' || prev.status === 'evaluating')) this.setPeer(selfId, 'uploaded', prev.round);
      return;
    }
    this.setPeer(selfId, activity, round);
  }

}
