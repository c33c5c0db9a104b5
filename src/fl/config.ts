import { numberDefault } from './settings';

/** Every timing constant of a federated session, in one place. */
export const FL_TIMING = {
  /** How long the aggregator waits for the selected clients' updates before aggregating what arrived (the declared deadline). */
  roundDeadlineMs: numberDefault('deadline') * 1000,
  /** How long it waits for cross-evaluation results (exact decomposition). */
  evalDeadlineMs: 60_000,
  /** Secure aggregation: how long each of its short steps (keys, shares, unmask) waits before it goes on without the late. */
  secureStepMs: 15_000,
  /** How long waitForClients waits by default. */
  joinWaitMs: 300_000,
} as const;

export type FlTiming = { -readonly [K in keyof typeof FL_TIMING]: number };
