/** Every timing and limit of the session layer, in one place. */
export const SESSION_TIMING = {
  /** How often the aggregator sends its roster as a heartbeat. */
  heartbeatMs: 1_000,
  /** Silence of the aggregator after which its deterministic successor asks the others to vote it in. */
  silenceMs: 5_000,
  /**
   * Membership by liveness: a peer no longer connected to the aggregator still counts in its majority when it was in the
   * session at least memberEstablishedMs and was last seen within memberRecentMs (ids that join and vanish never count;
   * a side cut off for less than memberRecentMs still counts, so the side without a majority pauses and merges back).
   */
  memberEstablishedMs: 5_000,
  memberRecentMs: 60_000,
  /** A candidacy without a majority within this fails; it is retried after the next silence. */
  voteTimeoutMs: 2_000,
  /** Pause before retrying a round that could not run (too few clients). */
  retryRoundMs: 1_000,
  /** How long join() waits for the aggregator's welcome. */
  welcomeTimeoutMs: 15_000,
  /** How many clients next in line receive the global model after each round. */
  checkpointReplicas: 2,
  /** Exact decomposition sends every local model to every participant: above this many it falls back to proxy. */
  exactDecompositionMaxParticipants: 10,
} as const;

export type SessionTiming = { -readonly [K in keyof typeof SESSION_TIMING]: number };
