import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { assertValidPeerId, keepPeerId, randomPeerId } from './create-peer';

describe('peer ids', () => {
  it('makes random ids that peerjs accepts and that differ', () => {
    const ids = new Set(Array.from({ length: 50 }, () => randomPeerId('host')));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^host[0-9a-f]{20}$/);
      expect(() => assertValidPeerId(id)).not.toThrow();
    }
  });

  it('rejects ids peerjs would refuse, saying which', () => {
    expect(() => assertValidPeerId('-leading')).toThrow('peer id "-leading" is invalid');
    expect(() => assertValidPeerId('a/b')).toThrow('peer id "a/b" is invalid');
    expect(() => assertValidPeerId('')).toThrow('is invalid');
    expect(() => assertValidPeerId('tab-a_1 x')).not.toThrow();
  });
});

/** A peerjs Peer as keepPeerId sees it; `reconnect` answers with the next scripted outcome. */
class FakeSignallingPeer {
  readonly id = 'fedtab-0123456789abcdef0123';
  disconnected = false;
  destroyed = false;
  attempts = 0;
  /** What the server answers to each reconnect: the id is back, the id is taken, or nothing at all. */
  outcomes: Array<'open' | 'taken' | 'silent'> = [];
  private readonly listeners = new Map<string, Set<() => void>>();
  on(event: string, fn: () => void) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(fn);
  }
  off(event: string, fn: () => void) {
    this.listeners.get(event)?.delete(fn);
  }
  emit(event: string) {
    for (const fn of [...(this.listeners.get(event) ?? [])]) fn();
  }
  /** The signalling socket drops (peerjs: disconnect, 'disconnected'). */
  drop() {
    this.disconnect();
  }
  disconnect() {
    if (this.disconnected) return;
    this.disconnected = true;
    this.emit('disconnected');
  }
  reconnect() {
    if (!this.disconnected) throw new Error('not disconnected');
    this.disconnected = false;
    this.attempts++;
    const outcome = this.outcomes.shift() ?? 'open';
    // peerjs answers asynchronously; an ID-TAKEN answer aborts, which disconnects again.
    if (outcome === 'open') setTimeout(() => this.emit('open'), 5);
    else if (outcome === 'taken') setTimeout(() => this.disconnect(), 5);
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  listenerCount() {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

describe('keepPeerId: the host reclaims its id when its signalling socket comes back', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reconnects with backoff, keeps retrying while a squatter holds the id, and resets after it is back', async () => {
    const peer = new FakeSignallingPeer();
    const states: string[] = [];
    keepPeerId(peer, { initialDelayMs: 1000, maxDelayMs: 4000, openTimeoutMs: 10_000, onState: (s, n) => states.push(`${s}${n}`) });
    peer.outcomes = ['taken', 'taken', 'taken', 'taken', 'open'];
    peer.drop();
    expect(states).toEqual(['lost0']);
    await vi.advanceTimersByTimeAsync(999);
    expect(peer.attempts).toBe(0);
    await vi.advanceTimersByTimeAsync(1); // 1 s
    expect(peer.attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(5 + 2000); // taken, then 2 s
    expect(peer.attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(5 + 4000); // taken, then 4 s
    expect(peer.attempts).toBe(3);
    await vi.advanceTimersByTimeAsync(5 + 3999); // capped at 4 s
    expect(peer.attempts).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(peer.attempts).toBe(4);
    await vi.advanceTimersByTimeAsync(5 + 4000);
    expect(peer.attempts).toBe(5);
    await vi.advanceTimersByTimeAsync(5);
    expect(peer.disconnected).toBe(false);
    expect(states).toEqual(['lost0', 'retrying1', 'retrying2', 'retrying3', 'retrying4', 'retrying5', 'reclaimed5']);
    // The backoff starts over after a success.
    peer.drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(peer.attempts).toBe(6);
  });

  it('abandons an attempt that never answers and tries again', async () => {
    const peer = new FakeSignallingPeer();
    keepPeerId(peer, { initialDelayMs: 100, maxDelayMs: 100, openTimeoutMs: 500 });
    peer.outcomes = ['silent', 'open'];
    peer.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(peer.attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(peer.disconnected).toBe(true);
    await vi.advanceTimersByTimeAsync(100 + 5);
    expect(peer.attempts).toBe(2);
    expect(peer.disconnected).toBe(false);
  });

  it('stops for good when the peer is destroyed, or when stopped', async () => {
    const peer = new FakeSignallingPeer();
    keepPeerId(peer, { initialDelayMs: 100 });
    peer.destroy();
    peer.drop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(peer.attempts).toBe(0);
    expect(peer.listenerCount()).toBe(0);

    const other = new FakeSignallingPeer();
    const stop = keepPeerId(other, { initialDelayMs: 100 });
    other.drop();
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(other.attempts).toBe(0);
  });
});
