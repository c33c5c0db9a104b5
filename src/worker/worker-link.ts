/**
 * The main-thread end of a small helper worker (Comlink): waits for it to start (a ping), rejects the calls still
 * waiting when it dies, and says whether it can be used. Its users fall back to doing the work on this thread.
 */
import * as Comlink from 'comlink';

export type WorkerEndpoint = Comlink.Endpoint & { terminate?(): void };

export interface WorkerLinkOptions {
  /** Who the worker is, for errors: e.g. "the decode worker". */
  name: string;
  /** What happens instead when it cannot be used, logged once: e.g. "Decoding peers' messages on the main thread". */
  fallback: string;
  startTimeoutMs: number;
}

export class WorkerLink<Api extends { ping(): true }> {
  readonly remote: Comlink.Remote<Api>;
  /** True once the worker answered; false if it failed to start. */
  private readonly started: Promise<boolean>;
  /** Set once the worker died (failed module load, uncaught error, stopped). */
  private failure: Error | null = null;
  /** Rejects the calls still waiting for the worker, so none waits forever when it dies. */
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(
    private readonly worker: WorkerEndpoint,
    private readonly options: WorkerLinkOptions,
  ) {
    this.remote = Comlink.wrap<Api>(worker);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.fail(new Error(`${options.name} failed: ${(event as ErrorEvent).message || 'it could not be loaded'}`));
    });
    this.started = this.whenStarted();
  }

  /** Whether calls can go to the worker (it started and has not died). */
  async usable(): Promise<boolean> {
    return (await this.started) && !this.failure;
  }

  get dead(): boolean {
    return this.failure !== null;
  }

  /** `reply`, or a rejection once the worker dies. */
  call<T>(reply: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      reply.then(resolve, reject).finally(() => this.waiting.delete(reject));
    });
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
    this.worker.terminate?.();
  }

  private async whenStarted(): Promise<boolean> {
    const { name, fallback, startTimeoutMs } = this.options;
    const timer = setTimeout(() => this.fail(new Error(`${name} did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    try {
      await this.call(this.remote.ping() as Promise<true>);
      return true;
    } catch (error) {
      console.warn(`${fallback}:`, error instanceof Error ? error.message : error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
