/**
 * A client's side of a private session's round: its contribution (clipped, noised, weighted, see
 * ./private-aggregation.ts) and, with secure aggregation, its part in the SecAgg+ round (./secagg). It holds the
 * round's secrets (private keys, the self-mask seed, the neighbours' shares) and never lets them out: what it returns
 * is what the protocol sends. In the browser it lives in the training worker (the main thread only relays); in Node
 * (the simulator, tests) in-process. One round at a time: a new assignment forgets the previous one.
 */
import { cryptoNormal, type NormalSource } from './dp/clip-noise';
import { clippedNoisedUpdate, clientContribution, contributionPlan, type ContributionSpec } from './private-aggregation';
import type { ContributionSpecWire, SecAggRoundMessage } from './protocol';
import { quantise } from './secagg/fixed-point';
import { SecAggClient } from './secagg/secagg-client';
import type { Extras } from './strategies/types';
import type { WeightSet } from './weights';

/** What a client trained, as the party needs it. */
export interface TrainedUpdate {
  delta: WeightSet;
  extras?: Extras;
  numSamples: number;
}

export type SetupStep = Extract<SecAggRoundMessage, { step: 'setup' }>;
export type UnmaskStep = Extract<SecAggRoundMessage, { step: 'unmask' }>;

export interface PrivateParty {
  /** Client-level DP without secure aggregation: the update clipped and noised, its weight as its sample count. */
  contribute(update: TrainedUpdate, spec: ContributionSpecWire): Promise<{ update: TrainedUpdate; clipped: boolean }>;
  /** Fresh keys for a secure round (`length` values per contribution). */
  advertise(assignment: number, length: number): Promise<{ channelKey: Uint8Array; maskKey: Uint8Array }>;
  /** The setup arrived: checks it, and seals one share pair per neighbour. */
  share(setup: SetupStep): Promise<Array<{ to: string; box: Uint8Array }>>;
  /** The shares the neighbours sealed for this client. */
  receive(assignment: number, shares: ReadonlyArray<{ from: string; box: Uint8Array }>): Promise<void>;
  /** The masked contribution, as little-endian uint32 bytes. */
  mask(assignment: number, update: TrainedUpdate, spec: ContributionSpecWire): Promise<{ masked: Uint8Array; clipped: boolean; clamped: number }>;
  /** The unmask request: the shares this client may reveal (refuses a request that would unmask anyone). */
  reveal(request: UnmaskStep): Promise<{ selfMaskShares: Array<{ of: string; y: Uint8Array }>; maskKeyShares: Array<{ of: string; y: Uint8Array }> }>;
}

/** The spec as private-aggregation uses it: the extras are the update's, in name order. */
function fullSpec(spec: ContributionSpecWire, update: TrainedUpdate): ContributionSpec {
  return { clipNorm: spec.clipNorm, noiseStd: spec.noiseStd, maxWeight: spec.maxWeight, uniform: spec.uniform, extras: Object.keys(update.extras ?? {}).sort() };
}

export class LocalPrivateParty implements PrivateParty {
  private round: { assignment: number; client: SecAggClient; clients: number } | null = null;

  constructor(private readonly noise: NormalSource = cryptoNormal) {}

  async contribute(update: TrainedUpdate, spec: ContributionSpecWire): Promise<{ update: TrainedUpdate; clipped: boolean }> {
    const out = clippedNoisedUpdate({ clientId: 'self', ...update }, fullSpec(spec, update), this.noise);
    const { delta, extras, numSamples } = out.update;
    return { update: { delta, numSamples, ...(extras ? { extras } : {}) }, clipped: out.clipped };
  }

  async advertise(assignment: number, length: number): Promise<{ channelKey: Uint8Array; maskKey: Uint8Array }> {
    const client = new SecAggClient('', 'fedtab', assignment, length);
    this.round = { assignment, client, clients: 0 };
    const ad = await client.advertise();
    return { channelKey: ad.channelKey, maskKey: ad.maskKey };
  }

  async share(setup: SetupStep): Promise<Array<{ to: string; box: Uint8Array }>> {
    const round = this.current(setup.assignment);
    round.client.identifyAs(setup.you);
    round.clients = setup.clients.length;
    const boxes = await round.client.shareSecrets({ clients: setup.clients, graphSeed: setup.graphSeed, degree: setup.degree, threshold: setup.threshold, neighbourKeys: setup.neighbourKeys });
    return boxes.map((b) => ({ to: b.to, box: b.box }));
  }

  async receive(assignment: number, shares: ReadonlyArray<{ from: string; box: Uint8Array }>): Promise<void> {
    const round = this.current(assignment);
    await round.client.receiveShares(shares.map((s) => ({ from: s.from, to: round.client.id, box: s.box })));
  }

  async mask(assignment: number, update: TrainedUpdate, spec: ContributionSpecWire): Promise<{ masked: Uint8Array; clipped: boolean; clamped: number }> {
    const round = this.current(assignment);
    if (round.clients === 0) throw new Error('secagg: mask before the round was set up');
    const contribution = clientContribution({ clientId: round.client.id, ...update }, fullSpec(spec, update), this.noise);
    const q = quantise(contribution.values, contributionPlan(spec, round.clients));
    const input = await round.client.mask(q.ring);
    return { masked: ringBytes(input.masked), clipped: contribution.clipped, clamped: q.clamped };
  }

  async reveal(request: UnmaskStep): Promise<{ selfMaskShares: Array<{ of: string; y: Uint8Array }>; maskKeyShares: Array<{ of: string; y: Uint8Array }> }> {
    const round = this.current(request.assignment);
    const r = round.client.unmask({ survivors: request.survivors, dropped: request.dropped });
    this.round = null; // the round's secrets are spent
    return { selfMaskShares: r.selfMaskShares, maskKeyShares: r.maskKeyShares };
  }

  private current(assignment: number) {
    if (this.round?.assignment !== assignment) throw new Error(`secagg: no secure round is open for assignment ${assignment}`);
    return this.round;
  }
}

/** Ring elements as little-endian bytes (what the masked message carries). */
export function ringBytes(ring: Uint32Array): Uint8Array {
  const out = new Uint8Array(ring.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < ring.length; i++) view.setUint32(4 * i, ring[i], true);
  return out;
}

/** The ring elements of a masked message's bytes (a multiple of 4; checked by the caller). */
export function ringOf(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}
