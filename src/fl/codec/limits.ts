/**
 * Every bound the wire format and message validation enforce, in one place.
 * A decoder never allocates or accepts more than these allow, whatever a peer sends.
 */
export interface WireLimits {
  /** Largest frame, header included. WebRTC DataChannels close on messages above 256 KB (stack-notes). */
  maxFrameBytes: number;
  /** Largest reassembled message (msgpack bytes). */
  maxMessageBytes: number;
  /** Incomplete messages a per-peer assembler keeps; the oldest is dropped to make room. */
  maxMessagesInFlight: number;
  /** Bytes an assembler buffers across all incomplete messages; the oldest are dropped beyond it. */
  maxBufferedBytes: number;
  /** How many completed message ids an assembler remembers to reject replayed frames. */
  rememberedCompletedIds: number;
  /** clientName, backend, reason, requestId. */
  maxStringLength: number;
  maxTensorsPerWeightSet: number;
  maxTensorNameLength: number;
  maxTensorRank: number;
  /** eval-request models and eval-result losses. */
  maxModelsPerEvalRequest: number;
  /** Label histogram length and ModelSpec numClasses. */
  maxClasses: number;
  /** Hidden layers of an mlp/tabular ModelSpec. */
  maxHiddenLayers: number;
  /** Any single ModelSpec size: input dimension, units, filters, features. */
  maxModelDimension: number;
  /** Entries of any msgpack map in a message (messages have a handful of fields). */
  maxMapEntries: number;
  /** Peers listed in one roster message. */
  maxPeers: number;
}

export const WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxFrameBytes: 256 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxMessagesInFlight: 8,
  maxBufferedBytes: 128 * 1024 * 1024,
  rememberedCompletedIds: 256,
  maxStringLength: 1024,
  maxTensorsPerWeightSet: 1024,
  maxTensorNameLength: 256,
  maxTensorRank: 8,
  maxModelsPerEvalRequest: 64,
  maxClasses: 10_000,
  maxHiddenLayers: 64,
  maxModelDimension: 1 << 20,
  maxMapEntries: 64,
  maxPeers: 1024,
});

/** WIRE_LIMITS with some fields replaced. */
export function wireLimits(overrides: Partial<WireLimits> = {}): Readonly<WireLimits> {
  return Object.freeze({ ...WIRE_LIMITS, ...overrides });
}
