/**
 * What a tab can take home from a session: the run's metrics (CSV, and JSON in the simulator's schema) and the
 * partition (label counts per peer). Plain data in, text out; the model files come from the worker (model-export).
 */
import { describePartition } from '../fl/data/partition';
import type { ModelSpec } from '../fl/model-spec';
import { parseRunResult, type RunResult } from '../fl/result-schema';
import type { PeerView, RoundPrivacyView, RoundView, SessionState } from './types';

const byRound = (rounds: readonly RoundView[]) => [...new Map(rounds.map((r) => [r.round, r])).values()].sort((a, b) => a.round - b.round);

function csvCell(x: string | number | null | undefined): string {
  if (x === null || x === undefined || (typeof x === 'number' && !Number.isFinite(x))) return '';
  const s = String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: string[], rows: (string | number | null | undefined)[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export const METRICS_CSV_COLUMNS = [
  'round',
  'accuracy',
  'test_loss',
  'global_loss',
  'local_loss',
  'shift_loss',
  'aggregation_loss',
  'decomposition_mode',
  'participants',
  'missing',
  'train_ms',
  'aggregate_ms',
  'eval_ms',
  'bytes_sent',
  'bytes_received',
  // Private sessions: the (epsilon, delta) spent so far, the round's noise multiplier and sampling rate, and how
  // many contributions its sum holds.
  'epsilon',
  'delta',
  'noise_multiplier',
  'sampling_rate',
  'survivors',
];

/** One row per round; an empty cell is a value that was not measured (never 0). */
export function metricsCsv(rounds: readonly RoundView[]): string {
  return csv(
    METRICS_CSV_COLUMNS,
    byRound(rounds).map((r) => {
      const d = r.decomposition;
      const known = r.trainMs + r.aggregateMs + r.evalMs > 0; // timings are known to the aggregating tab only
      const p = r.privacy;
      return [
        r.round,
        r.accuracy,
        r.loss,
        d?.global,
        d?.local,
        d?.shift,
        d?.aggregation,
        d ? (r.decompositionMode ?? '') : 'not measured',
        r.participantCount,
        r.missing.join(' '),
        known ? Math.round(r.trainMs) : null,
        known ? Math.round(r.aggregateMs) : null,
        known ? Math.round(r.evalMs) : null,
        r.bytesSent,
        r.bytesReceived,
        p?.epsilon,
        p?.delta,
        p?.noiseMultiplier,
        p?.samplingRate,
        p?.survivors,
      ];
    }),
  );
}

/** Peers that hold data, with histograms padded to the same number of classes. */
function dataPeers(peers: readonly PeerView[]): { peer: PeerView; histogram: number[] }[] {
  const withData = peers.filter((p) => p.numSamples > 0 && p.labelHistogram.length > 0);
  const classes = Math.max(0, ...withData.map((p) => p.labelHistogram.length));
  return withData.map((peer) => ({ peer, histogram: Array.from({ length: classes }, (_, j) => peer.labelHistogram[j] ?? 0) }));
}

/** Label counts (training samples) per peer: one row per peer, one column per class. */
export function partitionCsv(peers: readonly PeerView[]): string {
  const rows = dataPeers(peers);
  const classes = rows[0]?.histogram.length ?? 0;
  return csv(
    ['peer_id', 'name', 'samples', ...Array.from({ length: classes }, (_, j) => `class_${j}`)],
    rows.map(({ peer, histogram }) => [peer.id, peer.name, peer.numSamples, ...histogram]),
  );
}

type ExportFacts = Pick<SessionState, 'code' | 'role' | 'settings' | 'rounds' | 'peers' | 'backend'> & { modelSpec: ModelSpec };

/** The run in the simulator's schema (validated before it is returned). */
export function runResultJson(s: ExportFacts): RunResult {
  if (!s.settings) throw new Error('the session settings are not known yet');
  const st = s.settings;
  const rows = dataPeers(s.peers);
  const rounds = byRound(s.rounds);
  const accuracies = rounds.map((r) => r.accuracy).filter((a): a is number => a !== null);
  const lastPrivate = [...rounds].reverse().find((r) => r.privacy)?.privacy;
  const result = {
    source: 'browser' as const,
    config: {
      data: `browser session ${s.code ?? ''}`.trim(),
      model: s.modelSpec.kind,
      clients: rows.length,
      partition: st.demoPartition,
      strategy: st.strategy,
      rounds: st.rounds,
      localEpochs: st.localEpochs,
      batchSize: st.batchSize,
      learningRate: st.learningRate,
      ...(st.optimizer ? { optimizer: st.optimizer } : {}),
      ...(st.momentum !== undefined ? { momentum: st.momentum } : {}),
      fraction: st.fraction,
      seed: st.seed,
      codec: st.codec,
      ...(st.robust ? { robust: st.robust } : {}),
      ...(st.privacy ? { privacy: st.privacy } : {}),
    },
    backend: { name: s.backend?.name ?? 'unknown', reason: `this tab (${s.role ?? 'no role'}): ${s.backend?.message ?? 'no backend report'}` },
    model: s.modelSpec,
    partition: {
      histograms: rows.map((r) => r.histogram),
      summary: rows.length > 0 ? describePartition(rows.map((r) => r.histogram)) : null,
      peers: rows.map(({ peer }) => ({ id: peer.id, name: peer.name })),
    },
    rounds: rounds.map((r) => ({
      round: r.round,
      accuracy: r.accuracy,
      loss: r.loss,
      decomposition: r.decomposition,
      participants: r.participantCount,
      bytes: r.bytesSent + r.bytesReceived,
      trainMs: r.trainMs,
      aggregateMs: r.aggregateMs,
      evalMs: r.evalMs,
      decompositionMode: r.decomposition ? (r.decompositionMode ?? null) : null,
      ...(r.classes ? { perClassAccuracy: r.classes.perClassAccuracy, predictedShare: r.classes.predictedShare, collapse: r.classes.collapse } : {}),
      // The aggregating tab's record of what its defence left out, clipped or capped, and why.
      ...(r.screening && r.screening.length > 0 ? { screening: r.screening } : {}),
      ...(r.privacy ? { privacy: roundPrivacy(r.privacy) } : {}),
    })),
    final: { accuracy: rounds.at(-1)?.accuracy ?? null, bestAccuracy: accuracies.length > 0 ? Math.max(...accuracies) : null },
    ...(st.privacy ? { privacy: { settings: st.privacy, epsilon: lastPrivate?.epsilon ?? null, delta: st.privacy.delta } } : {}),
  };
  return parseRunResult(result);
}

/** A private round as the file records it (the budget is in the settings). */
function roundPrivacy(p: RoundPrivacyView) {
  return { epsilon: p.epsilon, delta: p.delta, noiseMultiplier: p.noiseMultiplier, samplingRate: p.samplingRate, survivors: p.survivors, secure: p.secure };
}

/** File names for the downloads, e.g. "fedtab-ABC123-metrics.csv". */
export function exportFileName(code: string | null, what: string): string {
  return `fedtab-${code ?? 'session'}-${what}`;
}
