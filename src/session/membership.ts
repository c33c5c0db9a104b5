import type { ClientInfo } from '../fl/engine';
import type { RosterEntry } from '../fl/protocol';

/**
 * Who is in the session: slots in join order (stable across reconnects and handovers), the latest roster, and
 * which peers this tab has seen leave and not heard from since. The deterministic successor of an aggregator is
 * the lowest-slot member other than it that has not left.
 */
export class Membership {
  private readonly slots = new Map<string, number>();
  private nextSlot = 0;
  private entries: RosterEntry[] = [];
  private readonly departed = new Set<string>();
  /** Peers that said bye: no longer counted as members until they say hello again. */
  private readonly gone = new Set<string>();
  /** When this tab first and last had evidence of each peer (a message, a roster, a connection): its liveness. */
  private readonly firstSeen = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  /** Client keys (HelloMessage.clientKey) and the slot each was first given (aggregator side; never sent to peers). */
  private readonly keySlots = new Map<string, number>();

  /** The slot of `id`, assigned on first sight (aggregator side). */
  slotFor(id: string): number {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.nextSlot++;
      this.slots.set(id, slot);
    }
    return slot;
  }

  /**
   * A hello from `id` carried `key`: a key seen before gets its slot back when the peer that held that slot is no
   * longer connected (the same tab, reloaded under a new peer id), which then takes that peer's place. Returns the slot.
   */
  bindKey(id: string, key: string): number {
    const slot = this.keySlots.get(key);
    if (slot === undefined) {
      const own = this.slotFor(id);
      this.keySlots.set(key, own);
      return own;
    }
    if (this.slots.get(id) === slot) return slot;
    const holder = [...this.slots].find(([, s]) => s === slot)?.[0];
    const holderLive = holder !== undefined && this.has(holder) && !this.departed.has(holder) && !this.gone.has(holder);
    // A copy of the tab (a duplicated tab carries the same storage) while the original is still in: a slot of its own.
    if (holderLive || this.slots.has(id)) return this.slotFor(id);
    if (holder !== undefined) {
      this.slots.delete(holder);
      this.entries = this.entries.filter((e) => e.id !== holder);
    }
    this.slots.set(id, slot);
    return slot;
  }

  get roster(): RosterEntry[] {
    return this.entries;
  }

  /** The roster as sent to peers: label histograms are for the aggregator's eyes only. */
  get publicRoster(): RosterEntry[] {
    return this.entries.map((e) => ({ ...e, labelHistogram: [] }));
  }

  /** Adopts the aggregator's roster (client side), and its slots in case this tab aggregates later. */
  adopt(entries: RosterEntry[]): void {
    this.entries = [...entries].sort((a, b) => a.slot - b.slot);
    for (const e of entries) {
      this.seen(e.id);
      this.slots.set(e.id, e.slot);
      this.nextSlot = Math.max(this.nextSlot, e.slot + 1);
    }
  }

  /** Rebuilds the roster from the engine's clients plus the aggregating tab itself (aggregator side). */
  rebuild(clients: ClientInfo[], self: { id: string; name: string }): RosterEntry[] {
    for (const c of clients) this.seen(c.id);
    const entries = clients.map((c) => ({ id: c.id, name: c.name, slot: this.slotFor(c.id), backend: c.backend, numSamples: c.numSamples, labelHistogram: c.labelHistogram }));
    if (!entries.some((e) => e.id === self.id)) entries.push({ id: self.id, name: self.name, slot: this.slotFor(self.id), backend: 'none', numSamples: 0, labelHistogram: [] });
    this.entries = entries.sort((a, b) => a.slot - b.slot);
    return this.entries;
  }

  /** Drops a peer from the roster (e.g. the aggregator that was replaced). */
  remove(id: string): void {
    this.entries = this.entries.filter((e) => e.id !== id);
  }

  markLeft(id: string): void {
    this.departed.add(id);
    if (this.firstSeen.has(id)) this.seen(id);
  }

  markHeard(id: string): void {
    this.seen(id);
    this.departed.delete(id);
    this.gone.delete(id);
  }

  /** The peer left on purpose (bye). */
  markGone(id: string): void {
    this.gone.add(id);
  }

  saidBye(id: string): boolean {
    return this.gone.has(id);
  }

  private seen(id: string, now = Date.now()): void {
    if (!this.firstSeen.has(id)) this.firstSeen.set(id, now);
    this.lastSeen.set(id, now);
  }

  /**
   * The base of an aggregator's majority: the peers connected to it now, and those that were in the session at least
   * `establishedMs` and were last seen within `recentMs` (a student cut off a moment ago still counts; ids that joined
   * and vanished, or left long ago, do not). Peers that said bye never count.
   */
  liveMemberCount(connected: readonly string[], window: { establishedMs: number; recentMs: number }, now = Date.now()): number {
    const live = new Set(connected.filter((id) => !this.gone.has(id)));
    for (const [id, last] of this.lastSeen) {
      if (live.has(id) || this.gone.has(id) || !this.slots.has(id)) continue;
      if (now - last <= window.recentMs && last - this.firstSeen.get(id)! >= window.establishedMs) live.add(id);
    }
    return live.size;
  }

  hasLeft(id: string): boolean {
    return this.departed.has(id);
  }

  has(id: string): boolean {
    return this.entries.some((e) => e.id === id);
  }

  nameOf(id: string): string {
    return this.entries.find((e) => e.id === id)?.name ?? id;
  }

  /**
   * Everyone but `aggregatorId` who has not left, in the order in which they would take over. `pool: 'known'`
   * looks at every peer ever given a slot (an aggregator judging a claim from a peer it had lost), else at the roster.
   */
  successorsOf(aggregatorId: string, pool: 'roster' | 'known' = 'roster'): string[] {
    const ids = pool === 'roster' ? this.entries.map((e) => e.id) : [...this.slots.keys()];
    return ids
      .filter((id) => id !== aggregatorId && !this.departed.has(id))
      .sort((a, b) => this.slots.get(a)! - this.slots.get(b)!);
  }

  successorOf(aggregatorId: string, pool: 'roster' | 'known' = 'roster'): string | null {
    return this.successorsOf(aggregatorId, pool)[0] ?? null;
  }
}
