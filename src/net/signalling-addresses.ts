/**
 * Node only, no sockets: what the signalling server counts per remote address (an IPv4 address or an IPv6 /64) and
 * how it shares its places among addresses. Connections are opaque handles of type C.
 */

export interface AddressLimits {
  /** Open signalling sockets on the whole server. */
  maxConnections: number;
  /** Open signalling sockets from one address. */
  maxConnectionsPerAddress: number;
  /** Registration attempts (socket upgrades) from one address per window. */
  maxRegistrationsPerWindow: number;
  /** Id probes (answers that tell whether an id is registered) for one address per window; then its upgrades are refused. */
  maxIdProbesPerWindow: number;
  windowMs: number;
  /** Addresses tracked at once; beyond it, upgrades from new addresses are refused until some go idle. */
  maxTrackedAddresses: number;
}

export type Refusal = 'perAddress' | 'probes' | 'registrations' | 'global' | 'addresses';

/** Admitted, possibly in the place of `evicted` (a connection of the address holding the most places). */
export type Admission<C> = { admitted: true; evicted?: C } | { admitted: false; reason: Refusal };

interface Probe {
  at: number;
  /** The id asked about, where asking again about it within the window is not a new probe (undefined: always new). */
  id?: string;
}

interface AddressRecord<C> {
  /** Open connections, oldest first. */
  open: Set<C>;
  registrations: number[];
  probes: Probe[];
}

/** Drops entries older than the window from the front (entries are in time order). */
function prune<T>(entries: T[], at: (entry: T) => number, now: number, windowMs: number): number {
  let stale = 0;
  while (stale < entries.length && now - at(entries[stale]) >= windowMs) stale++;
  if (stale > 0) entries.splice(0, stale);
  return entries.length;
}

/** The rate-limit key of a remote address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1];
  if (!remote.includes(':')) return remote;
  const [head, tail = ''] = remote.split('%')[0].split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = remote.includes('::') && tail ? tail.split(':') : [];
  const groups = remote.includes('::') ? [...headParts, ...Array(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts] : headParts;
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * Per-address connection, registration and probe accounting.
 *
 * Places are shared fairly: when the server is full, a newcomer takes the newest place of the address holding the
 * most, provided that address holds at least two more than the newcomer's address. An attacker therefore cannot keep
 * a real host out without holding about as few places per address as the host's address does: with A addresses it
 * holds at most maxConnections / A each, and a host's address (holding none) gets in while that is 2 or more.
 */
export class AddressBook<C> {
  private readonly records = new Map<string, AddressRecord<C>>();
  private openTotal = 0;

  constructor(
    private readonly limits: AddressLimits,
    private readonly now: () => number,
  ) {}

  /** Counts a registration attempt from `address` and gives it a place, or says why not. */
  admit(address: string, connection: C): Admission<C> {
    const t = this.now();
    let record = this.records.get(address);
    if (!record) {
      if (this.records.size >= this.limits.maxTrackedAddresses) this.forgetIdle(t);
      if (this.records.size >= this.limits.maxTrackedAddresses) return { admitted: false, reason: 'addresses' };
      record = { open: new Set(), registrations: [], probes: [] };
      this.records.set(address, record);
    }
    if (record.open.size >= this.limits.maxConnectionsPerAddress) return { admitted: false, reason: 'perAddress' };
    if (this.recentProbes(record, t) >= this.limits.maxIdProbesPerWindow) return { admitted: false, reason: 'probes' };
    if (prune(record.registrations, (at) => at, t, this.limits.windowMs) >= this.limits.maxRegistrationsPerWindow) return { admitted: false, reason: 'registrations' };
    let evicted: C | undefined;
    if (this.openTotal >= this.limits.maxConnections) {
      evicted = this.evictFromHeaviest(record.open.size);
      if (evicted === undefined) return { admitted: false, reason: 'global' };
    }
    record.registrations.push(t);
    record.open.add(connection);
    this.openTotal++;
    return evicted === undefined ? { admitted: true } : { admitted: true, evicted };
  }

  /** Frees the place of a closed connection (nothing if it was evicted or never admitted). */
  release(address: string, connection: C): void {
    if (this.records.get(address)?.open.delete(connection)) this.openTotal--;
  }

  /** Counts an answer that told `address` whether an id is registered (an "ID-TAKEN" answer). */
  recordProbe(address: string): void {
    this.records.get(address)?.probes.push({ at: this.now() });
  }

  /**
   * Whether `address` may learn whether `id` is registered (a message to it that is queued and later answered
   * "EXPIRE" if nobody takes the id). Counts it unless the address already asked about `id` within the window;
   * false once the address is at its probe limit.
   */
  tryProbe(address: string, id: string): boolean {
    const record = this.records.get(address);
    if (!record) return false;
    const t = this.now();
    const count = this.recentProbes(record, t);
    if (record.probes.some((p) => p.id === id)) return true;
    if (count >= this.limits.maxIdProbesPerWindow) return false;
    record.probes.push({ at: t, id });
    return true;
  }

  get openConnections(): number {
    return this.openTotal;
  }

  get trackedAddresses(): number {
    return this.records.size;
  }

  /** Open connections of `address`. */
  openFrom(address: string): number {
    return this.records.get(address)?.open.size ?? 0;
  }

  private recentProbes(record: AddressRecord<C>, t: number): number {
    return prune(record.probes, (p) => p.at, t, this.limits.windowMs);
  }

  /** The newest connection of the address holding the most places, if it holds at least `newcomerHolds` + 2. */
  private evictFromHeaviest(newcomerHolds: number): C | undefined {
    let heaviest: AddressRecord<C> | undefined;
    for (const record of this.records.values()) if (!heaviest || record.open.size > heaviest.open.size) heaviest = record;
    if (!heaviest || heaviest.open.size < newcomerHolds + 2) return undefined;
    let newest: C | undefined;
    for (const connection of heaviest.open) newest = connection;
    heaviest.open.delete(newest as C);
    this.openTotal--;
    return newest;
  }

  private forgetIdle(t: number): void {
    for (const [key, r] of this.records) {
      if (r.open.size === 0 && prune(r.registrations, (at) => at, t, this.limits.windowMs) === 0 && this.recentProbes(r, t) === 0) this.records.delete(key);
    }
  }
}
