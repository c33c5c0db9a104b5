import type { ClockedRecord, ClockedResult } from './async-simulation';
import { formatDevices } from './devices';
import { formatStaleness } from '../fl/async/staleness';
import { verdictSummary } from '../fl/robust';

const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Table header for the simulated-clock runs: accuracy against simulated time. */
export function clockedHeader(): string {
  return ['step', 'sim s', 'accuracy', 'test loss', 'updates', 'mean tau', 'max tau', 'dropped', 'local', 'shift', 'aggregation', 'global', 'screened']
    .map((h) => h.padStart(11))
    .join(' ');
}

export function clockedRow(r: ClockedRecord): string {
  const mean = r.staleness.length ? r.staleness.reduce((a, b) => a + b, 0) / r.staleness.length : NaN;
  const d = r.decomposition;
  return [String(r.step), fmt(r.simTime, 2), fmt(r.accuracy), fmt(r.loss), String(r.clients.length), fmt(mean, 2), String(Math.max(0, ...r.staleness)), String(r.dropped), fmt(d?.local), fmt(d?.shift), fmt(d?.aggregation), fmt(d?.global)]
    .map((c) => c.padStart(11))
    .join(' ')
    .concat(`  ${verdictSummary(r.screening) || '-'}`);
}

export function clockedSummary(result: ClockedResult): string {
  const c = result.clock;
  const how = c.mode === 'sync' ? `sync${c.deadline !== null ? `, deadline ${c.deadline} s` : ''}` : `async, buffer ${c.async.bufferSize}, staleness ${formatStaleness(c.async.staleness)}${c.async.maxStaleness !== null ? `, max ${c.async.maxStaleness}` : ''}${c.async.participation === 'duration' ? ', duration-weighted' : ''}`;
  const lines = [
    `final accuracy ${fmt(result.final.accuracy)}  best ${fmt(result.final.bestAccuracy)}  at ${fmt(result.final.simTime, 2)} simulated s  (${how}; devices ${formatDevices(c.devices)}${c.intertwined ? ', intertwined' : ''}; ${result.config.strategy.name}, ${result.config.clients} clients, backend ${result.backend.name})`,
  ];
  if (result.slowClasses.length) lines.push(`classes held only by slow devices ${result.slowClasses.join(', ')}: accuracy ${fmt(result.final.slowClassAccuracy)}`);
  lines.push(`updates used per client ${result.final.contributions.join(' ')}; dropped ${result.final.droppedUpdates}; refused ${result.final.refusedUpdates}`);
  lines.push(`staleness histogram (tau: count) ${result.final.stalenessHistogram.map((n, tau) => `${tau}:${n}`).filter((s) => !s.endsWith(':0')).join(' ')}`);
  return lines.join('\n');
}
