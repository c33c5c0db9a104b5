/** Polls `condition` every 10 ms of real time; rejects after timeoutMs, naming the condition. */
export function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${condition.toString()}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
