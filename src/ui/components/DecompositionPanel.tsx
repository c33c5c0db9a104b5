import { memo, useMemo, useState } from 'react';
import type { RoundView, SessionSettings } from '../../session/types';
import { decompositionColumns, decompositionCoverage, hasValues } from '../chart-series';
import { UI_CONFIG } from '../config';
import { useProjector } from '../hooks';
import { useSession } from '../store';
import type { DecompositionMode } from '../../fl/protocol';
import { decompositionAdvice, validationDataOf } from '../../session/decomposition-choice';
import { UPlotChart, type ChartSeries } from './UPlotChart';

const C = UI_CONFIG.colors;

const SERIES: ChartSeries[] = [
  { label: 'local', color: C.local, width: 2 },
  { label: 'distribution shift', color: C.shift, width: 2, dash: [10, 5] },
  { label: 'aggregation', color: C.aggregation, width: 2, dash: [3, 4] },
  { label: 'global', color: C.global, width: 3.5 },
];

const MODE_NOTE: Record<SessionSettings['decomposition'], string> = {
  exact: 'Measured exactly: every client evaluates every local model on its own held-out data and reports only the loss values.',
  proxy: "Estimated on the aggregator's validation data (proxy mode): local models stay on their devices.",
  off: 'Measurement is off for this session; the host can switch it on.',
};

/** Private sessions measure no decomposition, and the host cannot switch it on. */
export const PRIVATE_DECOMPOSITION_NOTE = 'The loss decomposition is not measured in private sessions: the aggregating tab sees no local model (with secure aggregation, only their sum), so nothing can measure the terms.';

const DECOMPOSITION_CHOICES: { value: DecompositionMode; text: string }[] = [
  { value: 'exact', text: 'exact (cross-evaluation)' },
  { value: 'proxy', text: 'proxy (aggregator validation set)' },
  { value: 'off', text: 'off' },
];

/** Host only: how the decomposition is measured from the next round on. */
function ModeSelect({ mode }: { mode: DecompositionMode }) {
  const setDecomposition = useSession((s) => s.actions.setDecomposition);
  return (
    <div className="inline-form mode-select">
      <label htmlFor="decomposition-mode">Measure</label>
      <select id="decomposition-mode" value={mode} onChange={(e) => setDecomposition(e.target.value as DecompositionMode)}>
        {DECOMPOSITION_CHOICES.map((c) => (
          <option key={c.value} value={c.value}>
            {c.text}
          </option>
        ))}
      </select>
    </div>
  );
}

export const DecompositionPanel = memo(function DecompositionPanel({ rounds, settings, canChangeMode = false }: { rounds: RoundView[]; settings: SessionSettings | null; canChangeMode?: boolean }) {
  const columns = useMemo(() => decompositionColumns(rounds), [rounds]);
  const coverage = decompositionCoverage(rounds);
  const anyValue = hasValues(columns);
  const collapsed = useMemo(() => [...rounds].reverse().find((r) => r.classes?.collapse), [rounds]);
  const projector = useProjector();
  const [openTerms] = useState(() => !narrowScreen());
  // The host chose a mode that cannot measure this task (e.g. proxy on a tabular task): say so, not just "—".
  const unmeasurable = useMemo(() => {
    if (!settings) return null;
    const advice = decompositionAdvice(settings.decomposition, settings.aggregation?.mode ?? 'sync', validationDataOf(settings.task));
    return advice?.fix ? advice.problem : null;
  }, [settings]);
  return (
    <section className="panel decomposition" aria-labelledby="decomposition-title">
      <div className="panel-title-row">
        <h2 id="decomposition-title">Global loss = local + distribution shift + aggregation</h2>
        {canChangeMode && settings && !settings.privacy && <ModeSelect mode={settings.decomposition} />}
      </div>
      <details className="terms" open={openTerms}>
        <summary>What the four terms mean</summary>
        <ul className="term-caption">
          <li>
            <Swatch color={C.local} /> <strong>Local</strong>
            <span className="term-desc">: each client's own model on its own held-out data (how well local training fits).</span>
          </li>
          <li>
            <Swatch color={C.shift} dashed /> <strong>Distribution shift</strong>
            <span className="term-desc">: how much worse the local models do on everyone's data than on their own (the cost of non-IID data).</span>
          </li>
          <li>
            <Swatch color={C.aggregation} dotted /> <strong>Aggregation</strong>
            <span className="term-desc">
              : what merging the local models changes; <em>negative</em> means the merged model beats the local models on the mix of all data.
            </span>
          </li>
          <li>
            <Swatch color={C.global} thick /> <strong>Global</strong>
            <span className="term-desc">: the new global model on all clients' data; it equals the sum of the three terms.</span>
          </li>
        </ul>
      </details>
      {settings?.privacy && <p className="note">{PRIVATE_DECOMPOSITION_NOTE}</p>}
      {settings && !settings.privacy && <p className="note">{MODE_NOTE[settings.decomposition]}{settings.decomposition !== 'off' && settings.decompositionEvery > 1 ? ` Measured every ${settings.decompositionEvery} rounds.` : ''}</p>}
      {unmeasurable && (
        <p className="note warn" role="status">
          {unmeasurable}
        </p>
      )}
      {!anyValue && <p className="empty">{rounds.length === 0 ? 'No round has finished yet.' : 'The decomposition was not measured in any finished round yet.'}</p>}
      {/* The chart is there, empty, before its first values: built while the session waits, not when results arrive. */}
      {(anyValue || rounds.length === 0 || settings?.decomposition !== 'off') && (
        <UPlotChart
          columns={columns}
          series={SERIES}
          yLabel="loss (cross-entropy)"
          xMax={settings?.rounds}
          zeroLine
          height={projector ? UI_CONFIG.chart.projectorDecompositionHeight : undefined}
          ariaLabel={`Loss decomposition per round: local, distribution shift, aggregation and global loss, ${coverage.measured} of ${coverage.total} rounds measured`}
        />
      )}
      {coverage.total > 0 && coverage.measured < coverage.total && !settings?.privacy && (
        <p className="note">
          Measured in {coverage.measured} of {coverage.total} rounds; the other rounds show "—" and leave a gap in the chart.
        </p>
      )}
      {collapsed && (
        <p className="note warn" role="status">
          Round {collapsed.round}: {collapsed.classes!.collapse}. Try sample-count weighting or another strategy.
        </p>
      )}
    </section>
  );
});

/** Phones start with the term explanations folded (the chart comes first); wider screens show them. */
function narrowScreen(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(max-width: 760px)').matches;
}

function Swatch({ color, dashed, dotted, thick }: { color: string; dashed?: boolean; dotted?: boolean; thick?: boolean }) {
  const style = { borderTopColor: color, borderTopStyle: dashed ? 'dashed' : dotted ? 'dotted' : 'solid', borderTopWidth: thick ? 5 : 3 } as const;
  return <span className="swatch" style={style} aria-hidden="true" />;
}
