/**
 * Every bound the wire format and message validation enforce, in one place.
 * A decoder never allocates or accepts more than these allow, whatever a peer sends.
 */
export interface WireLimits {
  /** Largest frame, header included. WebRTC DataChannels close on messages above 256 KB (peerjs maxMessageSize). */
  maxFrameBytes: number;
  /** Largest reassembled message (msgpack bytes): the protocol's absolute bound. Transports apply a smaller per-peer limit. */
  maxMessageBytes: number;
  /**
   * Largest message a peer may send before it is admitted (proved it knows the join secret): one frame, header
   * included, holding a small handshake message. Nothing larger is decoded for an unadmitted peer.
   */
  maxPreAdmissionBytes: number;
  /** Largest message from an admitted peer until the session sets a limit from its model size. */
  defaultPeerMessageBytes: number;
  /** Containers (maps, arrays) nested in one another; a message needs at most six (a checkpoint's server state). */
  maxNestingDepth: number;
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
  /**
   * Objects (maps, arrays, strings, binaries) in one message: by default what the protocol's messages can hold
   * (maxObjectsPerMessage); a decoder may be given a smaller bound (the session's, see session-limits.ts).
   */
  maxObjects: number;
}

/** Objects (map, array, str, bin) in one wire tensor: its map, four keys, name, codec, shape array and data blob. */
export const OBJECTS_PER_WIRE_TENSOR = 9;
/** Objects in one roster entry: its map, six keys, id, name, backend and label histogram. */
export const OBJECTS_PER_ROSTER_ENTRY = 11;
/** Objects of a message besides its weight sets and roster: type, config, metrics, model spec, their keys. */
export const ENVELOPE_OBJECTS = 1024;

/**
 * Most objects (maps, arrays, strings, binaries) any protocol message holds. Tensors travel as binary blobs, so even the
 * largest message has few: a checkpoint's weights plus a full server state, or an eval-request's models, at most
 * maxTensorsPerWeightSet wire tensors per weight set; or a roster of maxPeers entries. The msgpack scan refuses more
 * before anything is built: each object costs the decoder tens of bytes however few bytes it took on the wire.
 */
export function maxObjectsPerMessage(limits: Pick<WireLimits, 'maxMapEntries' | 'maxModelsPerEvalRequest' | 'maxTensorsPerWeightSet' | 'maxPeers'>): number {
  const weightSets = 1 + Math.max(limits.maxMapEntries, limits.maxModelsPerEvalRequest);
  const tensorObjects = weightSets * limits.maxTensorsPerWeightSet * OBJECTS_PER_WIRE_TENSOR;
  return Math.max(tensorObjects, limits.maxPeers * OBJECTS_PER_ROSTER_ENTRY) + ENVELOPE_OBJECTS;
}

const PROTOCOL_LIMITS = {
  maxFrameBytes: 256 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxPreAdmissionBytes: 4 * 1024,
  defaultPeerMessageBytes: 8 * 1024 * 1024,
  maxNestingDepth: 8,
  maxMessagesInFlight: 8,
  // One message of the largest size; a decoder may be given a smaller bound (see the wire codec).
  maxBufferedBytes: 64 * 1024 * 1024,
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
};

export const WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({ ...PROTOCOL_LIMITS, maxObjects: maxObjectsPerMessage(PROTOCOL_LIMITS) });

/** Bounds on connections of peers not yet admitted (see the PeerTransport's admission settings). */
export const ADMISSION_LIMITS = Object.freeze({
  /** Incoming unadmitted connections held at once. */
  maxPendingConnections: 32,
  /** New incoming unadmitted connections accepted per second (bursts of as many). */
  maxNewConnectionsPerSecond: 16,
  /** A connection not admitted within this time is closed. */
  admissionTimeoutMs: 10_000,
  /** Connections one peer may hold at once (two when both sides connect simultaneously). */
  maxLinksPerPeer: 2,
});

/** WIRE_LIMITS with some fields replaced. */
export function wireLimits(overrides: Partial<WireLimits> = {}): Readonly<WireLimits> {
  return Object.freeze({ ...WIRE_LIMITS, ...overrides });
}

/** Longest msgpack array any message holds: the largest of the protocol's list bounds. */
export function maxArrayEntries(limits: WireLimits): number {
  return Math.max(
    limits.maxClasses,
    limits.maxPeers,
    limits.maxTensorsPerWeightSet,
    limits.maxModelsPerEvalRequest,
    limits.maxHiddenLayers,
    limits.maxTensorRank,
  );
}

/** Longest msgpack string in UTF-8 bytes: the string limits count characters, of up to 4 bytes each. */
export function maxStringBytes(limits: WireLimits): number {
  return 4 * Math.max(limits.maxStringLength, limits.maxTensorNameLength);
}
