import type { AggregationMode } from '../fl/async/mode';
import type { LedgerState } from '../fl/dp/accountant';
import type { EngineConfig, RoundEngine, RoundReport } from '../fl/engine';

/**
 * What the session needs of its aggregator engine: RoundEngine (synchronous rounds) or AsyncRoundEngine
 * (asynchronous buffered aggregation, one step reported as one round; its report also carries each update's staleness).
 */
export type AggregatorEngine = Pick<RoundEngine, 'currentRound' | 'globalWeights' | 'serverState' | 'connectedClients' | 'dispose' | 'setDecompositionMode'> & {
  runRound(): Promise<(RoundReport & { staleness?: number[] }) | null>;
  /** Synchronous rounds: asks a client the running round did not ask to train it too (see RoundEngine). */
  addToRunningRound?(id: string): boolean;
  /** Why no round may run any more (a private session's budget is spent), or null/absent. */
  readonly finished?: string | null;
  /** A private session's privacy ledger after the latest round (null/absent: none). */
  readonly privacyLedger?: LedgerState | null;
};

/** The engine's config plus how the session aggregates (sync rounds when absent). */
export type SessionEngineConfig = EngineConfig & { aggregation?: AggregationMode };
