/**
 * At most one report per key (a peer) per interval: a peer that keeps sending malformed messages gets one line in the
 * log every so often, with a count of what was left out, not a line per message.
 */
export class ReportThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The text to report now, or null: counted, and mentioned in the key's next report. */
  pass(key: string, text: string): string | null {
    const t = this.now();
    const last = this.last.get(key);
    if (last && t - last.at < this.intervalMs) {
      last.suppressed++;
      return null;
    }
    this.last.set(key, { at: t, suppressed: 0 });
    return last?.suppressed ? `${text} (and ${last.suppressed} more like it since the previous report)` : text;
  }

  /** The key is gone (the peer left): nothing to remember for it. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
