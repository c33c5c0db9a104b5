/**
 * Refused messages per admitted peer within a sliding window: a peer whose messages keep being refused (oversized,
 * undecodable, invalid) is cut off rather than decoded over and over. Keeps at most `max` times per peer; time comes
 * from Date.now(), so fake timers drive it in tests.
 */
export class RefusalWindow {
  private readonly times = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** One more refused message from `peerId`; true when that makes `max` within the window (the count then starts over). */
  note(peerId: string): boolean {
    const now = Date.now();
    const recent = (this.times.get(peerId) ?? []).filter((at) => now - at < this.windowMs);
    recent.push(now);
    if (recent.length >= this.max) {
      this.times.delete(peerId);
      return true;
    }
    this.times.set(peerId, recent);
    return false;
  }

  /** The peer is gone: nothing to remember for it. */
  forget(peerId: string): void {
    this.times.delete(peerId);
  }
}
