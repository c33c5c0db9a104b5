/**
 * Runs `fn` in a task of its own, after the tasks already queued (input, rendering, messages), without a timer:
 * browsers clamp nested setTimeout(0) to >= 4 ms and run a hidden tab's timers at most once a second, while
 * MessageChannel messages are neither clamped nor throttled. setImmediate where it exists (Node).
 */
export function nextTask(fn: () => void): void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (g.setImmediate) {
    g.setImmediate(fn);
    return;
  }
  if (typeof MessageChannel !== 'undefined') {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      fn();
    };
    channel.port2.postMessage(null);
    return;
  }
  setTimeout(fn, 0);
}

/** A promise that settles in a task of its own (see nextTask). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => nextTask(resolve));
}
