import { useMemo, memo } from 'react';
import type { RoundView, SessionSettings } from '../../session/types';
import { accuracyColumns, hasValues, orderedRounds } from '../chart-series';
import { UI_CONFIG } from '../config';
import { useProjector } from '../hooks';
import { formatLoss, formatPercent } from '../format';
import { UPlotChart, type ChartSeries } from './UPlotChart';

const SERIES: ChartSeries[] = [
  { label: 'accuracy %', color: UI_CONFIG.colors.accuracy, width: 3, digits: 1 },
  { label: 'test loss', color: UI_CONFIG.colors.testLoss, width: 2, dash: [8, 4], scale: 'y2' },
];

export const AccuracyPanel = memo(function AccuracyPanel({ rounds, settings, runningRound = null }: { rounds: RoundView[]; settings: SessionSettings | null; runningRound?: number | null }) {
  const projector = useProjector();
  const columns = useMemo(() => accuracyColumns(rounds), [rounds]);
  const latest = orderedRounds(rounds).reverse().find((r) => r.accuracy !== null || r.loss !== null);
  return (
    <section className="panel accuracy" aria-labelledby="accuracy-title">
      <h2 id="accuracy-title">Global model on test data</h2>
      {latest && (
        <p className="big-numbers">
          <span>
            <span className="big">{formatPercent(latest.accuracy)}</span> accuracy
          </span>
          <span>
            <span className="big">{formatLoss(latest.loss)}</span> test loss
          </span>
          <span className="muted">
            after round {latest.round}
            {runningRound !== null && runningRound > latest.round + 1 ? ` (round ${runningRound - 1} is being evaluated)` : ''}
          </span>
        </p>
      )}
      {!hasValues(columns) && (
        <p className="empty">
          {rounds.length === 0 ? 'No round has finished yet.' : rounds.length === 1 ? 'Evaluating the first global model…' : 'The aggregator holds no test data, so there is no accuracy to show.'}
        </p>
      )}
      {/* The chart is there, empty, before its first values: built while the session waits, not when results arrive
          (the test-set accuracy of a round arrives a moment after the round). */}
      {(hasValues(columns) || rounds.length < 2) && (
        <UPlotChart
          columns={columns}
          series={SERIES}
          yLabel="accuracy %"
          y2Label="test loss"
          yRange={[0, 100]}
          xMax={settings?.rounds}
          height={projector ? UI_CONFIG.chart.projectorAccuracyHeight : undefined}
          ariaLabel="Accuracy and test loss of the global model per round"
        />
      )}
    </section>
  );
});
