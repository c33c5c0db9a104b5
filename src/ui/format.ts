/** Number formatting for the dashboard. Missing values read as an em dash, never as 0 or NaN. */

export const MISSING = '—';

const isNumber = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Bytes with binary units: 0 B, 812 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (!isNumber(bytes) || bytes < 0) return MISSING;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** A loss value with 4 decimals; the minus sign is the typographic one so columns line up. */
export function formatLoss(x: number | null | undefined): string {
  if (!isNumber(x)) return MISSING;
  const s = Math.abs(x).toFixed(4);
  return x < 0 && s !== '0.0000' ? `\u2212${s}` : s;
}

/** Like formatLoss but always signed (+/−): for terms that can be negative. */
export function formatSignedLoss(x: number | null | undefined): string {
  if (!isNumber(x)) return MISSING;
  const s = formatLoss(x);
  return s.startsWith('\u2212') || s === '0.0000' ? s : `+${s}`;
}

/** An accuracy in [0, 1] as a percentage with one decimal. */
export function formatPercent(fraction: number | null | undefined): string {
  if (!isNumber(fraction)) return MISSING;
  return `${(fraction * 100).toFixed(1)} %`;
}

/** A share of work done as whole percents, never rounded up to a 100 % not reached: 0.999 reads 99%. */
export function formatShareDone(fraction: number | null | undefined): string {
  if (!isNumber(fraction)) return MISSING;
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100 + 1e-6)}%`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (!isNumber(ms) || ms < 0) return MISSING;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

/** A throughput such as 1,313 samples/s. */
export function formatRate(perSecond: number | null | undefined): string {
  if (!isNumber(perSecond) || perSecond < 0) return MISSING;
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}

/** Wall-clock time of a log entry, HH:MM:SS in the viewer's time zone. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  return String(error);
}
