import { useMemo } from 'react';
import type { RoundView, SessionSettings } from '../../session/types';
import { decompositionColumns, decompositionCoverage, hasValues } from '../chart-series';
import { UI_CONFIG } from '../config';
import { UPlotChart, type ChartSeries } from './UPlotChart';
import { RoundsTable } from './RoundsTable';

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

export function DecompositionPanel({ rounds, settings }: { rounds: RoundView[]; settings: SessionSettings | null }) {
  const columns = useMemo(() => decompositionColumns(rounds), [rounds]);
  const coverage = decompositionCoverage(rounds);
  const anyValue = hasValues(columns);
  const collapsed = [...rounds].reverse().find((r) => r.classes?.collapse);
  return (
    <section className="panel decomposition" aria-labelledby="decomposition-title">
      <h2 id="decomposition-title">
        Global loss = local + distribution shift + aggregation
      </h2>
      <ul className="term-caption">
        <li>
          <Swatch color={C.local} /> <strong>Local</strong>: each client's own model on its own held-out data (how well local training fits).
        </li>
        <li>
          <Swatch color={C.shift} dashed /> <strong>Distribution shift</strong>: how much worse the local models do on everyone's data than on their own (the cost of non-IID data).
        </li>
        <li>
          <Swatch color={C.aggregation} dotted /> <strong>Aggregation</strong>: what merging the local models changes; <em>negative</em> means the merged model beats the local models on the mix of all data.
        </li>
        <li>
          <Swatch color={C.global} thick /> <strong>Global</strong>: the new global model on all clients' data; it equals the sum of the three terms.
        </li>
      </ul>
      {settings && <p className="note">{MODE_NOTE[settings.decomposition]}{settings.decomposition !== 'off' && settings.decompositionEvery > 1 ? ` Measured every ${settings.decompositionEvery} rounds.` : ''}</p>}
      {anyValue ? (
        <UPlotChart
          columns={columns}
          series={SERIES}
          yLabel="loss (cross-entropy)"
          xMax={settings?.rounds}
          zeroLine
          ariaLabel={`Loss decomposition per round: local, distribution shift, aggregation and global loss, ${coverage.measured} of ${coverage.total} rounds measured`}
        />
      ) : (
        <p className="empty">{rounds.length === 0 ? 'No round has finished yet.' : 'The decomposition was not measured in any finished round yet.'}</p>
      )}
      {coverage.total > 0 && coverage.measured < coverage.total && (
        <p className="note">
          Measured in {coverage.measured} of {coverage.total} rounds; the other rounds show "—" and leave a gap in the chart.
        </p>
      )}
      {collapsed && (
        <p className="note warn" role="status">
          Round {collapsed.round}: {collapsed.classes!.collapse}. Try sample-count weighting or another strategy.
        </p>
      )}
      <RoundsTable rounds={rounds} />
    </section>
  );
}

function Swatch({ color, dashed, dotted, thick }: { color: string; dashed?: boolean; dotted?: boolean; thick?: boolean }) {
  const style = { borderTopColor: color, borderTopStyle: dashed ? 'dashed' : dotted ? 'dotted' : 'solid', borderTopWidth: thick ? 5 : 3 } as const;
  return <span className="swatch" style={style} aria-hidden="true" />;
}
