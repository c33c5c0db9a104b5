import type { StalenessConfig } from './staleness';

/** How a session aggregates: synchronous rounds, or asynchronous buffered steps. Plain data: it travels in SessionConfig. */
export type AggregationMode =
  | { mode: 'sync' }
  | {
      mode: 'async';
      /** M: an aggregation step every M updates. */
      bufferSize: number;
      staleness: StalenessConfig;
      /** Updates more than this many steps stale are dropped (null: never). */
      maxStaleness: number | null;
    };

export const AGGREGATION_MODES = ['sync', 'async'] as const;

export const SYNC_AGGREGATION: AggregationMode = { mode: 'sync' };
