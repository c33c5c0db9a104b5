/**
 * One client's side of one secure-aggregation round (SecAgg+: Bonawitz et al. 2017, with the sparse graph of Bell et
 * al. 2020). Fresh keys each round; the self-mask seed and the mask key's private scalar are Shamir-shared among the
 * neighbours; the masked input is the quantised contribution plus PRG(self seed) plus, per neighbour, +PRG(pair
 * seed) when this client's id sorts first, else minus. In round 3 it reveals, for each neighbour, the share of one
 * secret only: the self-mask seed of a survivor or the mask key of a dropped client, never both.
 */
import { expandMask, generateKeyPair, openFrom, randomSeed, roundSalt, sealFor, sharedSecret, type EcdhKeyPair } from './crypto';
import { addInto, subtractInto } from './fixed-point';
import type { KeyAdvertisement, MaskedInput, RoundSetup, SealedShare, UnmaskRequest, UnmaskResponse } from './messages';
import { defaultDegree, MAX_ROUND_CLIENTS, neighbourGraph } from './neighbours';
import { bigIntToBytes, bytesToBigInt, FIELD_PRIME, SHARE_BYTES, splitSecret } from './shamir';

/** A sealed share pair: IV (12) + 2 field elements + GCM tag (16). */
export const SEALED_SHARE_BYTES = 12 + 2 * SHARE_BYTES + 16;

export function shareContext(from: string, to: string): string {
  return `${from}>${to}`;
}

/** The evaluation point of a holder: its 1-based place among the round's clients. */
export function holderPoint(clients: readonly string[], id: string): number {
  const i = clients.indexOf(id);
  if (i < 0) throw new Error(`secagg: ${id} is not in the round`);
  return i + 1;
}

export class SecAggClient {
  private readonly salt: Uint8Array;
  private channel?: EcdhKeyPair;
  private maskKey?: EcdhKeyPair;
  private setup?: RoundSetup;
  private selfSeed?: Uint8Array;
  private neighbours: string[] = [];
  private readonly neighbourKeys = new Map<string, KeyAdvertisement>();
  /** Shares this client holds for each neighbour that sent them: [self-mask seed share, mask-key share]. */
  private readonly held = new Map<string, [bigint, bigint]>();
  private maskedSent = false;
  private answered = false;

  constructor(
    /** Its id in the round (a live client learns it from the setup: see identifyAs). */
    private ownId: string,
    sessionId: string,
    readonly round: number,
    /** Length of the contribution vector, the same for every party (public: the model's layout). */
    readonly length: number,
  ) {
    this.salt = roundSalt(sessionId, round);
  }

  get id(): string {
    return this.ownId;
  }

  /** The id the aggregator knows this client by, told with the setup (a live client does not know it before). */
  identifyAs(id: string): void {
    if (this.setup) throw new Error('secagg: the id cannot change once the round is set up');
    this.ownId = id;
  }

  async advertise(): Promise<KeyAdvertisement> {
    [this.channel, this.maskKey] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    return { clientId: this.id, channelKey: this.channel.publicRaw, maskKey: this.maskKey.publicRaw };
  }

  /** Round 1: checks the setup against the graph it implies, then seals one share pair for each neighbour. */
  async shareSecrets(setup: RoundSetup): Promise<SealedShare[]> {
    if (!this.channel || !this.maskKey) throw new Error('secagg: shareSecrets before advertise');
    if (this.setup) throw new Error('secagg: the round was set up twice');
    // The aggregator picks the graph: a client takes none sparser than the default, nor a threshold a minority reaches.
    const n = setup.clients.length;
    if (n > MAX_ROUND_CLIENTS) throw new Error(`secagg: ${n} clients in one round, at most ${MAX_ROUND_CLIENTS}`);
    if (setup.degree < defaultDegree(n)) throw new Error(`secagg: the setup's degree ${setup.degree} is below ${defaultDegree(n)} for ${n} clients`);
    if (!(setup.threshold > setup.degree / 2)) throw new Error(`secagg: the setup's threshold ${setup.threshold} is not a majority of ${setup.degree} neighbours`);
    const graph = neighbourGraph(setup.clients, setup.graphSeed, setup.degree, setup.threshold);
    const mine = graph.neighbours.get(this.id);
    if (!mine) throw new Error(`secagg: the round's clients do not include ${this.id}`);
    for (const ad of setup.neighbourKeys) {
      if (!mine.includes(ad.clientId)) throw new Error(`secagg: the setup sent keys of ${ad.clientId}, who is not a neighbour`);
      if (this.neighbourKeys.has(ad.clientId)) throw new Error(`secagg: the setup sent keys of ${ad.clientId} twice`);
      this.neighbourKeys.set(ad.clientId, ad);
    }
    const missing = mine.filter((n) => !this.neighbourKeys.has(n));
    if (missing.length > 0) throw new Error(`secagg: the setup lacks the keys of neighbours ${missing.join(', ')}`);
    this.setup = setup;
    this.neighbours = mine;
    this.selfSeed = randomSeed();
    const points = mine.map((n) => holderPoint(graph.clients, n));
    const seedShares = splitSecret(bytesToBigInt(this.selfSeed), setup.threshold, points);
    const keyShares = splitSecret(bytesToBigInt(this.maskKey.privateScalar), setup.threshold, points);
    return Promise.all(
      mine.map(async (to, i) => {
        const plain = new Uint8Array(2 * SHARE_BYTES);
        plain.set(bigIntToBytes(seedShares[i].y, SHARE_BYTES));
        plain.set(bigIntToBytes(keyShares[i].y, SHARE_BYTES), SHARE_BYTES);
        const secret = await sharedSecret(this.channel!.privateKey, this.neighbourKeys.get(to)!.channelKey);
        return { from: this.id, to, box: await sealFor(secret, this.salt, shareContext(this.id, to), plain) };
      }),
    );
  }

  /** Round 1, receiving: the share pairs the neighbours sealed for this client (from neighbours only, once each). */
  async receiveShares(incoming: readonly SealedShare[]): Promise<void> {
    if (!this.setup || !this.channel) throw new Error('secagg: shares arrived before the round was set up');
    for (const s of incoming) {
      if (s.to !== this.id) throw new Error(`secagg: a share for ${s.to} was routed to ${this.id}`);
      if (!this.neighbours.includes(s.from)) throw new Error(`secagg: a share from ${s.from}, who is not a neighbour`);
      if (this.held.has(s.from)) throw new Error(`secagg: two shares from ${s.from}`);
      if (!(s.box instanceof Uint8Array) || s.box.length !== SEALED_SHARE_BYTES) throw new Error(`secagg: the share from ${s.from} is not ${SEALED_SHARE_BYTES} bytes`);
      const secret = await sharedSecret(this.channel.privateKey, this.neighbourKeys.get(s.from)!.channelKey);
      const plain = await openFrom(secret, this.salt, shareContext(s.from, this.id), s.box);
      if (plain.length !== 2 * SHARE_BYTES) throw new Error(`secagg: the share from ${s.from} has ${plain.length} bytes`);
      const seedShare = bytesToBigInt(plain.subarray(0, SHARE_BYTES));
      const keyShare = bytesToBigInt(plain.subarray(SHARE_BYTES));
      if (seedShare >= FIELD_PRIME || keyShare >= FIELD_PRIME) throw new Error(`secagg: the share from ${s.from} is outside the field`);
      this.held.set(s.from, [seedShare, keyShare]);
    }
  }

  /**
   * Round 2: the masked input. Pairwise masks only with neighbours whose shares arrived (the others dropped before
   * sharing and are not part of the sum), so the aggregator can remove any neighbour's mask that it must.
   */
  async mask(contribution: Uint32Array): Promise<MaskedInput> {
    if (!this.setup || !this.maskKey || !this.selfSeed) throw new Error('secagg: mask before the round was set up');
    if (this.maskedSent) throw new Error('secagg: this client already sent its masked input');
    if (contribution.length !== this.length) throw new Error(`secagg: a contribution of ${contribution.length} values, the round expects ${this.length}`);
    const masked = Uint32Array.from(contribution);
    addInto(masked, await expandMask(this.selfSeed, this.salt, this.length));
    for (const other of this.held.keys()) {
      const pair = await pairMask(this.maskKey.privateKey, this.neighbourKeys.get(other)!.maskKey, this.salt, this.length);
      if (this.id < other) addInto(masked, pair);
      else subtractInto(masked, pair);
    }
    this.maskedSent = true;
    return { clientId: this.id, masked };
  }

  /** Round 3. Refuses a request that would reveal both secrets of a neighbour, or that cannot succeed. */
  unmask(request: UnmaskRequest): UnmaskResponse {
    if (!this.setup || !this.maskedSent) throw new Error('secagg: unmask before this client sent its masked input');
    if (this.answered) throw new Error('secagg: this client already answered the unmask request');
    const survivors = new Set(request.survivors);
    const dropped = new Set(request.dropped);
    for (const d of dropped) if (survivors.has(d)) throw new Error(`secagg: the aggregator calls ${d} both a survivor and dropped`);
    if (!survivors.has(this.id)) throw new Error(`secagg: the unmask request does not list ${this.id} as a survivor`);
    if (survivors.size < this.setup.threshold) throw new Error(`secagg: only ${survivors.size} survivors, ${this.setup.threshold} needed`);
    this.answered = true;
    const point = (y: bigint) => bigIntToBytes(y, SHARE_BYTES);
    const selfMaskShares = [];
    const maskKeyShares = [];
    for (const [of, [seedShare, keyShare]] of this.held) {
      if (survivors.has(of)) selfMaskShares.push({ of, y: point(seedShare) });
      else if (dropped.has(of)) maskKeyShares.push({ of, y: point(keyShare) });
    }
    return { clientId: this.id, selfMaskShares, maskKeyShares };
  }
}

/** PRG(ECDH(mine, theirs)): the mask a pair of clients add with opposite signs. */
export async function pairMask(privateKey: CryptoKey, theirMaskKey: Uint8Array, salt: Uint8Array, length: number): Promise<Uint32Array> {
  return expandMask(await sharedSecret(privateKey, theirMaskKey), salt, length);
}

