/**
 * What this tab keeps of its session across a reload: the TabSession (code, secret, name, its key, whether it
 * aggregates, its host key seed, whether the run was going, the rounds it contributed to) and, while it aggregates,
 * the HostSnapshot it resumes from. The controller decides when; this object reads and writes the stores.
 */
import { randomClientKey, wasAggregating, type HostSnapshot, type HostSnapshotStore, type TabSession, type TabSessionStore } from '../resume-store';

export class TabMemory {
  /** This tab's key in its session (TabSession.clientKey), once it is in one. */
  clientKey = '';
  /** The host's key seed, on the tab that hosted this session (see ../host-key.ts). */
  hostSeed: string | null = null;
  /** Whether the TabSession says this tab aggregates (null: not written in this session yet). */
  private aggregating: boolean | null = null;

  constructor(
    private readonly tabs: TabSessionStore | undefined,
    private readonly snapshots: HostSnapshotStore | undefined,
    private readonly warn: (text: string) => void,
  ) {}

  /** The session kept from before a reload, if any. */
  load(): TabSession | null {
    return this.tabs?.load() ?? null;
  }

  /** The kept session as a reload offers it: 'host' when this tab aggregated it (hosted it, or took over). */
  resumable(): Pick<TabSession, 'code' | 'role' | 'name'> | null {
    const saved = this.load();
    return saved ? { code: saved.code, role: wasAggregating(saved) ? 'host' : 'client', name: saved.name } : null;
  }

  /** This tab's snapshot of the session, if there is one (older snapshots carry no key: the host's). */
  async ownSnapshot(saved: TabSession): Promise<HostSnapshot | null> {
    const snapshot = await this.snapshots?.load(saved.code).catch(() => null);
    return snapshot && (snapshot.clientKey === undefined || snapshot.clientKey === saved.clientKey) ? snapshot : null;
  }

  /** Takes up the key and host seed of a kept session (resuming it). */
  adopt(saved: TabSession): void {
    this.clientKey = saved.clientKey;
    this.hostSeed = saved.hostSeed ?? null;
  }

  /**
   * Writes down that this tab is in session `code` (as its host or a client): the same session keeps its key, host
   * seed and contributions; another one gets a new key. Returns the key.
   */
  remember(role: 'host' | 'client', code: string, secret: string, name: string): string {
    const previous = this.load();
    const same = previous !== null && previous.code === code && previous.secret === secret;
    const clientKey = same ? previous.clientKey : randomClientKey();
    const hostSeed = same && previous.hostSeed ? previous.hostSeed : role === 'host' ? this.hostSeed : null;
    this.hostSeed = hostSeed ?? null;
    this.aggregating = role === 'host';
    this.tabs?.save({
      code,
      secret,
      role: previous?.code === code && previous.role === 'host' ? 'host' : role,
      clientKey,
      name,
      aggregating: this.aggregating,
      ...(hostSeed ? { hostSeed } : {}),
      ...(same && previous.contributed ? { contributed: previous.contributed } : {}),
    });
    this.clientKey = clientKey;
    return clientKey;
  }

  /**
   * The TabSession follows whether this tab aggregates session `code`: a tab that took over resumes the session
   * after a reload, as a host does; one that stopped aggregating (a later term replaced it) rejoins as a client, and
   * its snapshot, stale now, goes.
   */
  aggregates(code: string | null, aggregating: boolean): void {
    if (aggregating === this.aggregating) return;
    const was = this.aggregating;
    this.aggregating = aggregating;
    const saved = this.load();
    if (!saved || saved.code !== code) return;
    if (saved.aggregating !== aggregating) this.tabs?.save({ ...saved, aggregating });
    if (was && !aggregating) {
      void this.ownSnapshot(saved).then((s) => (s && this.aggregating === false ? this.snapshots?.forget(saved.code) : undefined)).catch(() => undefined);
    }
  }

  /** Whether the aggregating tab runs rounds, so that it runs on when resumed after a reload. */
  keepRunning(code: string | null, running: boolean): void {
    const saved = this.load();
    if (saved && saved.code === code && (saved.running ?? false) !== running) this.tabs?.save({ ...saved, running });
  }

  /** The rounds this tab contributed to, so "your updates went into N rounds" survives a reload. */
  keepContributions(code: string | null, rounds: number[]): void {
    const saved = this.load();
    if (saved && saved.code === code) this.tabs?.save({ ...saved, contributed: rounds });
  }

  /** The rounds this tab contributed to in session `code` before a reload. */
  contributions(code: string | null): number[] {
    const saved = this.load();
    return saved && saved.code === code ? (saved.contributed ?? []) : [];
  }

  /** Whether there is a place to keep snapshots (else an aggregating tab cannot resume after a reload). */
  get keepsSnapshots(): boolean {
    return this.snapshots !== undefined;
  }

  /** Keeps the session as this tab aggregates it (host or successor), for a reload. */
  saveSnapshot(snapshot: Omit<HostSnapshot, 'clientKey' | 'savedAt'>): void {
    this.snapshots?.save({ ...snapshot, clientKey: this.clientKey, savedAt: Date.now() }).catch((e: unknown) => this.warn(`could not keep the session for a reload: ${e instanceof Error ? e.message : String(e)}`));
  }

  forgetSnapshot(code: string): Promise<void> {
    return this.snapshots?.forget(code).catch(() => undefined) ?? Promise.resolve();
  }

  /** Leaving on purpose: nothing to resume or rejoin after a reload (the aggregating tab's snapshot goes too). */
  forget(): void {
    const saved = this.load();
    if (!saved) return;
    this.tabs?.clear();
    if (wasAggregating(saved)) void this.forgetSnapshot(saved.code);
  }

  /** This tab's part in the session ended (what it keeps for a reload stays). */
  endSession(): void {
    this.aggregating = null;
    this.hostSeed = null;
  }
}
