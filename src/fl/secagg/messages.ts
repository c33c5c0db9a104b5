/** What secure aggregation's parties send each other in one round, as plain data (typed arrays for bytes). */

/** Round 0, client to aggregator: two fresh P-256 public keys, one for sealing shares, one for the pairwise masks. */
export interface KeyAdvertisement {
  clientId: string;
  channelKey: Uint8Array;
  maskKey: Uint8Array;
}

/** The round's public setup, aggregator to each client: who takes part, the graph's seed, and the neighbours' keys. */
export interface RoundSetup {
  /** Every client that advertised keys, sorted. */
  clients: string[];
  graphSeed: number;
  degree: number;
  threshold: number;
  /** The advertisements of this client's neighbours, and only theirs. */
  neighbourKeys: KeyAdvertisement[];
}

/** A share pair sealed for one neighbour (AES-GCM under their channel key agreement). */
export interface SealedShare {
  from: string;
  to: string;
  box: Uint8Array;
}

/** Round 2, client to aggregator: its quantised contribution plus its self mask and pairwise masks, mod 2^32. */
export interface MaskedInput {
  clientId: string;
  masked: Uint32Array;
}

/** Round 3, aggregator to each survivor: who sent a masked input, and who sent shares but no input. */
export interface UnmaskRequest {
  survivors: string[];
  dropped: string[];
}

/** One share of one neighbour's secret: the field element, big-endian. */
export interface RevealedShare {
  of: string;
  y: Uint8Array;
}

/** Round 3, survivor to aggregator: self-mask shares of surviving neighbours, mask-key shares of dropped ones. */
export interface UnmaskResponse {
  clientId: string;
  selfMaskShares: RevealedShare[];
  maskKeyShares: RevealedShare[];
}
