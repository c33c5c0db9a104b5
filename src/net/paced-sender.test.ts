import { describe, expect, it } from 'vitest';
import { PacedSender } from './paced-sender';

/** A sender with a manual scheduler: `tick()` runs the next task. */
function world(bytesPerTask = 100, maxQueuedBytesPerPeer = 1000) {
  const sent: Array<{ task: number; to: string; bytes: number; tag: number }> = [];
  const tasks: Array<() => void> = [];
  let task = 0;
  const sender = new PacedSender(
    (to, frames) => sent.push({ task, to, bytes: frames.reduce((n, f) => n + f.byteLength, 0), tag: frames[0][0] }),
    { bytesPerTask, maxQueuedBytesPerPeer },
    (fn) => tasks.push(fn),
  );
  const msg = (tag: number, ...sizes: number[]) => sizes.map((n) => new Uint8Array(n).fill(tag));
  const tick = () => {
    task++;
    const run = tasks.splice(0);
    run.forEach((fn) => fn());
    return run.length;
  };
  const drain = () => {
    let n = 0;
    while (tasks.length > 0 && n++ < 100) tick();
  };
  return { sender, sent, msg, tick, drain, pendingTasks: () => tasks.length };
}

describe('PacedSender', () => {
  it('sends small messages at once, in the caller\'s task', () => {
    const w = world();
    expect(w.sender.send('a', w.msg(1, 10))).toBe(true);
    expect(w.sender.send('b', w.msg(2, 20, 20))).toBe(true);
    expect(w.sent).toEqual([{ task: 0, to: 'a', bytes: 10, tag: 1 }, { task: 0, to: 'b', bytes: 40, tag: 2 }]);
  });

  it('spreads a broadcast of a large message over tasks: at most the budget per task, a larger message alone', () => {
    const w = world(100);
    for (const to of ['a', 'b', 'c', 'd']) w.sender.send(to, w.msg(7, 60));
    expect(w.sent.map((s) => [s.task, s.to])).toEqual([[0, 'a']]);
    w.drain();
    expect(w.sent.map((s) => [s.task, s.to])).toEqual([[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd']]);
    const big = world(100);
    big.sender.send('a', big.msg(1, 500));
    big.sender.send('b', big.msg(1, 500));
    big.drain();
    expect(big.sent.map((s) => [s.task, s.to, s.bytes])).toEqual([[0, 'a', 500], [1, 'b', 500]]);
  });

  it('keeps each peer\'s order: a later small message waits behind a queued one to the same peer, not to others', () => {
    const w = world(100);
    w.sender.send('a', w.msg(1, 90));
    w.sender.send('b', w.msg(2, 90)); // over budget: queued
    w.sender.send('b', w.msg(3, 5)); // must follow message 2
    w.sender.send('a', w.msg(4, 5)); // a has nothing queued and fits: goes now
    expect(w.sent.map((s) => s.tag)).toEqual([1, 4]);
    w.drain();
    expect(w.sent.map((s) => s.tag)).toEqual([1, 4, 2, 3]);
  });

  it('refuses what would overfill a peer\'s queue, and sends nothing after close', () => {
    const w = world(100, 150);
    w.sender.send('a', w.msg(1, 100));
    expect(w.sender.send('a', w.msg(2, 100))).toBe(true);
    expect(w.sender.queuedBytes('a')).toBe(100);
    expect(w.sender.send('a', w.msg(3, 100))).toBe(false);
    expect(w.sender.send('b', w.msg(4, 100))).toBe(true); // another peer's queue is its own
    w.sender.close();
    w.drain();
    expect(w.sent.map((s) => s.tag)).toEqual([1]);
    expect(w.sender.send('c', w.msg(5, 1))).toBe(false);
  });

  it('stops scheduling once idle', () => {
    const w = world(100);
    w.sender.send('a', w.msg(1, 50));
    w.drain();
    expect(w.pendingTasks()).toBe(0);
    expect(w.sender.forget('a')).toBe(0);
  });

  it('flush sends what waits at once, in order (all of it, or one peer\'s): a goodbye behind a model still goes', () => {
    const w = world(100);
    w.sender.send('a', w.msg(1, 100));
    w.sender.send('a', w.msg(2, 100));
    w.sender.send('a', w.msg(3, 5));
    w.sender.send('b', w.msg(4, 100));
    w.sender.flush('a');
    expect(w.sent.map((s) => s.tag)).toEqual([1, 2, 3]);
    w.sender.flush();
    expect(w.sent.map((s) => [s.task, s.tag])).toEqual([[0, 1], [0, 2], [0, 3], [0, 4]]);
    w.drain();
    expect(w.sent).toHaveLength(4);
  });

  it('queues a message sent with later = true even when the budget allows it', () => {
    const w = world(100);
    w.sender.send('a', w.msg(1, 10), true);
    expect(w.sent).toHaveLength(0);
    w.drain();
    expect(w.sent.map((s) => [s.task, s.tag])).toEqual([[1, 1]]);
  });
});
