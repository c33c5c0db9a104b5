import type { SessionConfig } from '../fl/protocol';

export interface Welcome {
  slot: number;
  config: SessionConfig;
}

/** join()'s wait for the aggregator's welcome: settled by the welcome, a refusal, or the timeout. */
export class PendingWelcome {
  readonly promise: Promise<Welcome>;
  private settle: { resolve: (w: Welcome) => void; reject: (e: Error) => void } | null = null;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(timeoutMs: number) {
    this.promise = new Promise<Welcome>((resolve, reject) => (this.settle = { resolve, reject }));
    this.timer = setTimeout(() => this.reject(new Error(`no answer from the session's aggregator within ${timeoutMs / 1000} s (wrong code or secret?)`)), timeoutMs);
  }

  get open(): boolean {
    return this.settle !== null;
  }

  resolve(welcome: Welcome): void {
    clearTimeout(this.timer);
    this.settle?.resolve(welcome);
    this.settle = null;
  }

  reject(error: Error): void {
    clearTimeout(this.timer);
    this.settle?.reject(error);
    this.settle = null;
  }
}
