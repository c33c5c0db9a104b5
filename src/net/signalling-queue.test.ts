import { describe, expect, it } from 'vitest';
import { AbsentPeerQueue, type QueueLimits } from './signalling-queue';

const LIMITS: QueueLimits = {
  queuedPerDestination: 3,
  queuedBytesPerDestination: 100,
  queuedPerSender: 4,
  queuedBytesPerSender: 150,
  queuedTotal: 6,
  queuedBytesTotal: 200,
  queueExpiryMs: 5_000,
};

const msg = (src: string, sender: string, bytes: number, tag = '') => ({ src, sender, data: `${tag}${'x'.repeat(bytes - tag.length)}` });

describe('AbsentPeerQueue', () => {
  it('caps each destination in messages and bytes, refusing the new message and keeping the first ones', () => {
    const q = new AbsentPeerQueue(LIMITS);
    expect(q.add('d', msg('s1', 'A', 10, 'offer'), 0)).toBeNull();
    expect(q.add('d', msg('s2', 'B', 10), 0)).toBeNull();
    expect(q.add('d', msg('s3', 'C', 10), 0)).toBeNull();
    expect(q.add('d', msg('s4', 'D', 10), 0)).toBe('destination');
    expect(q.add('e', msg('s1', 'A', 90), 0)).toBeNull();
    expect(q.add('e', msg('s2', 'B', 11), 0)).toBe('destination');
    expect(q.take('d').map((m) => m.src)).toEqual(['s1', 's2', 's3']);
    expect(q.size).toEqual({ destinations: 1, messages: 1, bytes: 90 });
  });

  it('caps each sending address and the whole queue, in messages and bytes', () => {
    const q = new AbsentPeerQueue(LIMITS);
    for (const d of ['d1', 'd2', 'd3', 'd4']) expect(q.add(d, msg('s', 'A', 10), 0)).toBeNull();
    expect(q.add('d5', msg('s', 'A', 10), 0)).toBe('sender');
    expect(q.add('d5', msg('t', 'B', 100), 0)).toBeNull();
    expect(q.add('d6', msg('t', 'B', 60), 0)).toBe('sender');
    // 4 + 1 messages, 140 bytes held: C may add one more message, not two; and not 70 bytes.
    expect(q.add('d6', msg('u', 'C', 70), 0)).toBe('total');
    expect(q.add('d6', msg('u', 'C', 10), 0)).toBeNull();
    expect(q.add('d7', msg('v', 'D', 1), 0)).toBe('total');
    expect(q.size).toEqual({ destinations: 6, messages: 6, bytes: 150 });
    // Delivering frees the sender's and the total share.
    q.take('d1');
    expect(q.add('d8', msg('s', 'A', 10), 0)).toBeNull();
  });

  it('counts bytes as UTF-8', () => {
    const q = new AbsentPeerQueue(LIMITS);
    expect(q.add('d', { src: 's', sender: 'A', data: 'é'.repeat(50) }, 0)).toBeNull();
    expect(q.size.bytes).toBe(100);
    expect(q.add('d', { src: 's', sender: 'A', data: 'x' }, 0)).toBe('destination');
  });

  it('expires a destination queueExpiryMs after its first message, answering each sender once', () => {
    const q = new AbsentPeerQueue(LIMITS);
    q.add('d', msg('s1', 'A', 10), 1_000);
    q.add('d', msg('s1', 'A', 10), 3_000);
    q.add('d', msg('s2', 'B', 10), 4_000);
    q.add('e', msg('s1', 'A', 10), 4_000);
    expect(q.expire(5_999)).toEqual([]);
    expect(q.expire(6_000)).toEqual([
      { src: 's1', dst: 'd' },
      { src: 's2', dst: 'd' },
    ]);
    expect(q.size).toEqual({ destinations: 1, messages: 1, bytes: 10 });
    expect(q.take('d')).toEqual([]);
    expect(q.expire(9_000)).toEqual([{ src: 's1', dst: 'e' }]);
    expect(q.size).toEqual({ destinations: 0, messages: 0, bytes: 0 });
  });
});
