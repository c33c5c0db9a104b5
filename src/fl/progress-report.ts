/**
 * How far a client's local training got, and when it tells its aggregator (the `progress` message): the fraction of
 * the round's batches done, sent at most once per interval, and only when the whole percentage moved.
 */
import type { TrainProgress } from './train';

export const PROGRESS_REPORT = {
  /** At most one report per this interval; the newest fraction goes out when it ends. */
  intervalMs: 750,
} as const;

/** Share of the round's local work done, 0..1: batches done over all local epochs. */
export function trainingFraction(p: Pick<TrainProgress, 'epoch' | 'batch' | 'batchesPerEpoch'>, localEpochs: number | null): number {
  const epochs = Math.max(1, localEpochs ?? 1);
  const perEpoch = Math.max(1, p.batchesPerEpoch);
  return Math.min(1, (p.epoch + Math.min(p.batch, perEpoch) / perEpoch) / epochs);
}

/** A fraction a peer may report: finite, in [0, 1]. */
export function isFraction(x: number): boolean {
  return Number.isFinite(x) && x >= 0 && x <= 1;
}

/**
 * Throttles one round's progress reports: the first goes out at once (the round started), later ones at most once
 * per interval, each carrying the newest fraction (floored to whole percents, so an unchanged percentage is not
 * sent again). stop() drops what is pending: once the update is sent, a late report would only confuse the table.
 */
export class ProgressReporter {
  private lastSent: number | null = null;
  private pending: number | null = null;
  private cooldown: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly send: (fraction: number) => void,
    private readonly intervalMs: number = PROGRESS_REPORT.intervalMs,
  ) {}

  report(fraction: number): void {
    if (this.stopped || !Number.isFinite(fraction)) return;
    // (+1e-6: 0.29 * 100 is 28.999…)
    const percent = Math.floor(Math.min(1, Math.max(0, fraction)) * 100 + 1e-6) / 100;
    if (percent === this.lastSent) {
      this.pending = null;
      return;
    }
    if (this.cooldown) this.pending = percent;
    else this.emit(percent);
  }

  stop(): void {
    this.stopped = true;
    this.pending = null;
    if (this.cooldown) clearTimeout(this.cooldown);
    this.cooldown = null;
  }

  private emit(fraction: number): void {
    this.lastSent = fraction;
    this.pending = null;
    this.send(fraction);
    this.cooldown = setTimeout(() => {
      this.cooldown = null;
      if (this.pending !== null) this.emit(this.pending);
    }, this.intervalMs);
  }
}
