/** A byte budget that refills at a steady rate up to a burst size: each TURN allocation's bandwidth limit. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burstBytes: number,
    private readonly now: () => number,
  ) {
    this.tokens = burstBytes;
    this.last = now();
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when the budget does not hold them. */
  take(bytes: number): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}
