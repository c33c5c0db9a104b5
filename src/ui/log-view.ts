import type { LogEntry } from '../session/types';
import { UI_CONFIG } from './config';

/** The newest entries first; at most `limit` of them. */
export function latestEntries(log: readonly LogEntry[], limit: number = UI_CONFIG.logLimit): LogEntry[] {
  return log.slice(-limit).reverse();
}
