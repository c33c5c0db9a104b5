import type { LogEntry } from '../session/types';
import { UI_CONFIG } from './config';

/** A log line as shown: a repeated one with its count, e.g. "round 1 not run: … (x37)". */
export function entryText(e: LogEntry): string {
  return e.count && e.count > 1 ? `${e.text} (x${e.count})` : e.text;
}

/** The newest entries first; at most `limit` of them. */
export function latestEntries(log: readonly LogEntry[], limit: number = UI_CONFIG.logLimit): LogEntry[] {
  return log.slice(-limit).reverse();
}
