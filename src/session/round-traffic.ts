/** Splits a transport's running byte totals into per-round amounts. */
export class RoundTraffic {
  private last = { bytesSent: 0, bytesReceived: 0 };
  /** A client's traffic per round, closed when the next round starts (the round's result may arrive later). */
  private readonly closed = new Map<number, { bytesSent: number; bytesReceived: number }>();

  constructor(private readonly totals: () => { bytesSent: number; bytesReceived: number }) {}

  /** Bytes since the previous call. */
  sinceLast(): { bytesSent: number; bytesReceived: number } {
    const now = this.totals();
    const delta = { bytesSent: now.bytesSent - this.last.bytesSent, bytesReceived: now.bytesReceived - this.last.bytesReceived };
    this.last = now;
    return delta;
  }

  /** Closes `round`'s traffic now (its result has not arrived yet). */
  close(round: number): void {
    if (!this.closed.has(round)) this.closed.set(round, this.sinceLast());
  }

  /** The traffic of `round`: closed earlier, or everything since the last call. */
  take(round: number): { bytesSent: number; bytesReceived: number } {
    const t = this.closed.get(round) ?? this.sinceLast();
    this.closed.delete(round);
    return t;
  }
}
