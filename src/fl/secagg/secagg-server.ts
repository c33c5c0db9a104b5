/**
 * The aggregator's side of one secure-aggregation round. It routes keys and sealed shares (which it cannot open),
 * adds up the masked inputs, and in round 3 rebuilds from the survivors' shares exactly what it needs to take the
 * masks off the sum: each survivor's self-mask seed and each dropped client's mask key. It never holds anything
 * that unmasks one client's input. Every message is checked against the round (sender, size, neighbours) first.
 */
import { expandMask, importPrivateScalar, PUBLIC_KEY_BYTES, roundSalt, SEED_BYTES } from './crypto';
import { addInto, subtractInto } from './fixed-point';
import type { KeyAdvertisement, MaskedInput, RevealedShare, RoundSetup, SealedShare, UnmaskRequest, UnmaskResponse } from './messages';
import { neighbourGraph, type NeighbourGraph } from './neighbours';
import { bigIntToBytes, bytesToBigInt, combineShares, SHARE_BYTES, type Share } from './shamir';
import { holderPoint, pairMask, SEALED_SHARE_BYTES } from './secagg-client';

/** A round that cannot complete (too few survivors, a share that does not fit): the sum is not produced. */
export class SecAggError extends Error {}


export interface SecAggServerOptions {
  sessionId: string;
  round: number;
  /** Length of every contribution vector. */
  length: number;
  /** The clients asked to take part (keys from anyone else are refused). */
  invited: readonly string[];
  graphSeed: number;
  /** Neighbour-graph degree and threshold (default: neighbours.ts). */
  degree?: number;
  threshold?: number;
}

export class SecAggServer {
  private readonly adverts = new Map<string, KeyAdvertisement>();
  private graph?: NeighbourGraph;
  /** Clients whose shares were routed (U1). */
  private readonly shared = new Set<string>();
  private readonly masked = new Map<string, Uint32Array>();
  private request?: UnmaskRequest;

  constructor(private readonly options: SecAggServerOptions) {
  }

  receiveAdvertisement(ad: KeyAdvertisement): void {
    if (this.graph) throw new SecAggError(`secagg: keys from ${ad.clientId} after the round was set up`);
    if (!this.options.invited.includes(ad.clientId)) throw new SecAggError(`secagg: keys from ${ad.clientId}, who is not in the round`);
    if (this.adverts.has(ad.clientId)) throw new SecAggError(`secagg: ${ad.clientId} advertised keys twice`);
    for (const key of [ad.channelKey, ad.maskKey]) {
      if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_BYTES) throw new SecAggError(`secagg: ${ad.clientId} advertised a key that is not ${PUBLIC_KEY_BYTES} bytes`);
    }
    this.adverts.set(ad.clientId, ad);
  }

  /** Closes round 0: the setup each advertising client gets (its own neighbours' keys only). */
  setups(): Map<string, RoundSetup> {
    if (this.graph) throw new SecAggError('secagg: the round was set up twice');
    const clients = [...this.adverts.keys()].sort();
    if (clients.length < 2) throw new SecAggError(`secagg: ${clients.length} client(s) advertised keys, at least 2 needed`);
    const degree = this.options.degree === undefined ? undefined : Math.min(this.options.degree, clients.length - 1);
    this.graph = neighbourGraph(clients, this.options.graphSeed, degree, this.options.threshold);
    const g = this.graph;
    return new Map(
      clients.map((c) => [c, { clients, graphSeed: this.options.graphSeed, degree: g.degree, threshold: g.threshold, neighbourKeys: g.neighbours.get(c)!.map((n) => this.adverts.get(n)!) }]),
    );
  }

  get neighbourGraph(): NeighbourGraph | undefined {
    return this.graph;
  }

  /** Round 1: one client's sealed shares (one per neighbour, nothing else); returns them by recipient for routing. */
  receiveShares(from: string, boxes: readonly SealedShare[]): SealedShare[] {
    const g = this.requireGraph();
    const mine = g.neighbours.get(from);
    if (!mine) throw new SecAggError(`secagg: shares from ${from}, who is not in the round`);
    if (this.shared.has(from)) throw new SecAggError(`secagg: ${from} sent its shares twice`);
    if (this.masked.size > 0) throw new SecAggError(`secagg: shares from ${from} after masked inputs arrived`);
    const to = boxes.map((b) => b.to).sort();
    if (to.length !== mine.length || to.some((t, i) => t !== mine[i])) throw new SecAggError(`secagg: ${from} must send exactly one share to each of its ${mine.length} neighbours`);
    for (const b of boxes) {
      if (b.from !== from) throw new SecAggError(`secagg: ${from} sent a share in the name of ${b.from}`);
      if (!(b.box instanceof Uint8Array) || b.box.length !== SEALED_SHARE_BYTES) throw new SecAggError(`secagg: a share from ${from} is not ${SEALED_SHARE_BYTES} bytes`);
    }
    this.shared.add(from);
    return [...boxes];
  }

  /** Round 2: a masked input, from a client whose shares were routed, once, of the round's length. */
  receiveMasked(input: MaskedInput): void {
    if (!this.shared.has(input.clientId)) throw new SecAggError(`secagg: a masked input from ${input.clientId}, whose shares never arrived`);
    if (this.masked.has(input.clientId)) throw new SecAggError(`secagg: ${input.clientId} sent its masked input twice`);
    if (this.request) throw new SecAggError(`secagg: a masked input from ${input.clientId} after the unmask request`);
    if (!(input.masked instanceof Uint32Array) || input.masked.length !== this.options.length) {
      throw new SecAggError(`secagg: the masked input of ${input.clientId} is not ${this.options.length} uint32 values`);
    }
    this.masked.set(input.clientId, input.masked);
  }

  /** Closes round 2: survivors (masked input arrived) and dropped (shared, then went silent). */
  unmaskRequest(): UnmaskRequest {
    if (this.request) return this.request;
    const survivors = [...this.masked.keys()].sort();
    const dropped = [...this.shared].filter((c) => !this.masked.has(c)).sort();
    this.request = { survivors, dropped };
    return this.request;
  }

  /** The ids the sum covers (after unmaskRequest). */
  get survivors(): string[] {
    return this.request?.survivors ?? [];
  }

  /**
   * Round 3: checks the survivors' responses and gathers what removes the masks: the job unmaskSum (below) runs,
   * here or elsewhere (the browser: in the aggregation worker). Throws SecAggError when a response is not what was asked.
   */
  unmaskJob(responses: readonly UnmaskResponse[]): UnmaskJob {
    const g = this.requireGraph();
    const request = this.request;
    if (!request) throw new SecAggError('secagg: finish before the unmask request');
    if (request.survivors.length < g.threshold) throw new SecAggError(`secagg: only ${request.survivors.length} clients sent masked inputs, at least ${g.threshold} needed`);
    const answered = new Set<string>();
    for (const r of responses) {
      if (!request.survivors.includes(r.clientId)) throw new SecAggError(`secagg: an unmask response from ${r.clientId}, who is not a survivor`);
      if (answered.has(r.clientId)) throw new SecAggError(`secagg: ${r.clientId} answered twice`);
      answered.add(r.clientId);
      const check = (list: readonly RevealedShare[], wanted: readonly string[], what: string) => {
        const seen = new Set<string>();
        for (const s of list) {
          if (!wanted.includes(s.of) || !g.neighbours.get(r.clientId)!.includes(s.of)) throw new SecAggError(`secagg: ${r.clientId} revealed a ${what} share of ${s.of}, which was not asked`);
          if (seen.has(s.of)) throw new SecAggError(`secagg: ${r.clientId} revealed two ${what} shares of ${s.of}`);
          if (!(s.y instanceof Uint8Array) || s.y.length !== SHARE_BYTES) throw new SecAggError(`secagg: a ${what} share from ${r.clientId} is not ${SHARE_BYTES} bytes`);
          seen.add(s.of);
        }
      };
      check(r.selfMaskShares, request.survivors, 'self-mask');
      check(r.maskKeyShares, request.dropped, 'mask-key');
    }
    const maskKeys: Record<string, Uint8Array> = {};
    for (const id of [...request.survivors, ...request.dropped]) maskKeys[id] = this.adverts.get(id)!.maskKey;
    return {
      sessionId: this.options.sessionId,
      round: this.options.round,
      length: this.options.length,
      clients: g.clients,
      graphSeed: this.options.graphSeed,
      degree: g.degree,
      threshold: g.threshold,
      survivors: request.survivors,
      dropped: request.dropped,
      masked: request.survivors.map((id) => this.masked.get(id)!),
      maskKeys,
      responses: [...responses],
    };
  }

  /** Round 3, in-process: the exact sum (mod 2^32) of the survivors' contributions (see unmaskJob and unmaskSum). */
  async finish(responses: readonly UnmaskResponse[]): Promise<Uint32Array> {
    return unmaskSum(this.unmaskJob(responses));
  }

  private requireGraph(): NeighbourGraph {
    if (!this.graph) throw new SecAggError('secagg: the round is not set up yet');
    return this.graph;
  }
}



/** Everything that takes the masks off a secure round's sum: public data only (no input can be unmasked from it). */
export interface UnmaskJob {
  sessionId: string;
  round: number;
  length: number;
  clients: string[];
  graphSeed: number;
  degree: number;
  threshold: number;
  survivors: string[];
  dropped: string[];
  /** The survivors' masked inputs, in the order of `survivors`. */
  masked: Uint32Array[];
  /** The mask public key each survivor and dropped client advertised. */
  maskKeys: Record<string, Uint8Array>;
  /** The survivors' responses, already checked against the request (SecAggServer.unmaskJob). */
  responses: UnmaskResponse[];
}

/**
 * Rebuilds each survivor's self-mask seed and each dropped client's mask key from the revealed shares and removes
 * their masks from the sum of the masked inputs. Throws SecAggError, producing nothing, when a secret cannot be
 * rebuilt from the shares that came.
 */
export async function unmaskSum(job: UnmaskJob): Promise<Uint32Array> {
  const g = neighbourGraph(job.clients, job.graphSeed, job.degree, job.threshold);
  const salt = roundSalt(job.sessionId, job.round);
  const seedShares = new Map<string, Share[]>();
  const keyShares = new Map<string, Share[]>();
  for (const r of job.responses) {
    const x = holderPoint(g.clients, r.clientId);
    for (const s of r.selfMaskShares) seedShares.set(s.of, [...(seedShares.get(s.of) ?? []), { x, y: bytesToBigInt(s.y) }]);
    for (const s of r.maskKeyShares) keyShares.set(s.of, [...(keyShares.get(s.of) ?? []), { x, y: bytesToBigInt(s.y) }]);
  }
  const rebuild = (of: string, shares: Map<string, Share[]>, what: string): Uint8Array => {
    const got = shares.get(of) ?? [];
    if (got.length < g.threshold) throw new SecAggError(`secagg: ${got.length} of ${g.threshold} needed ${what} shares of ${of} came back; the round cannot be unmasked`);
    try {
      return bigIntToBytes(combineShares(got, g.threshold), SEED_BYTES);
    } catch (e) {
      throw new SecAggError(`secagg: the ${what} of ${of} cannot be rebuilt: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const survivors = new Set(job.survivors);
  const sum = new Uint32Array(job.length);
  for (const masked of job.masked) addInto(sum, masked);
  for (const id of job.survivors) subtractInto(sum, await expandMask(rebuild(id, seedShares, 'self-mask seed'), salt, job.length));
  for (const id of job.dropped) {
    const scalar = rebuild(id, keyShares, 'mask key');
    let key: CryptoKey;
    try {
      key = await importPrivateScalar(scalar, job.maskKeys[id]);
    } catch {
      throw new SecAggError(`secagg: the rebuilt mask key of ${id} does not match the key it advertised`);
    }
    // Each surviving neighbour added +mask when its id sorts before the dropped one, else -mask: take that back.
    for (const v of g.neighbours.get(id)!) {
      if (!survivors.has(v)) continue;
      const mask = await pairMask(key, job.maskKeys[v], salt, job.length);
      if (v < id) subtractInto(sum, mask);
      else addInto(sum, mask);
    }
  }
  return sum;
}
