import { memo, useMemo } from 'react';
import type { PrivacySettings } from '../../fl/private-aggregation';
import type { RoundView } from '../../session/types';
import { hasValues } from '../chart-series';
import { UI_CONFIG } from '../config';
import { useProjector } from '../hooks';
import { epsilonColumns, formatDelta, formatEpsilon, latestPrivacy, privacyProtects, privacySpentText, secureSumText } from '../privacy-view';
import { UPlotChart, type ChartSeries } from './UPlotChart';
import { PRIVATE_DECOMPOSITION_NOTE } from './DecompositionPanel';

const SERIES: ChartSeries[] = [{ label: 'epsilon', color: UI_CONFIG.colors.epsilon, width: 3, digits: 2 }];

/**
 * A private session's main panel: the privacy spent so far, what the aggregating tab learned in the last round, epsilon
 * per round, and why the loss decomposition is not there (unless `decompositionMeasured`: a replayed simulator run).
 */
export const PrivacyPanel = memo(function PrivacyPanel({
  privacy,
  rounds,
  totalRounds,
  decompositionMeasured = false,
}: {
  privacy: PrivacySettings;
  rounds: RoundView[];
  totalRounds?: number;
  decompositionMeasured?: boolean;
}) {
  const projector = useProjector();
  const latest = latestPrivacy(rounds);
  const columns = useMemo(() => epsilonColumns(rounds), [rounds]);
  const sum = latest && secureSumText(latest);
  return (
    <section className="panel privacy" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      {latest ? (
        <p className="big-numbers" data-testid="privacy-spent">
          {latest.epsilon === null ? (
            <span>{privacySpentText(latest)}</span>
          ) : (
            <span>
              <span className="big">{formatEpsilon(latest.epsilon)}</span> epsilon{latest.budget !== null ? ` of ${latest.budget}` : ', no budget'} (delta {formatDelta(latest.delta)})
            </span>
          )}
          <span className="muted">after round {latest.round}</span>
        </p>
      ) : (
        <p className="empty">No private round has finished yet.</p>
      )}
      {sum && (
        <p data-testid="privacy-sum">
          {sum} in round {latest.round}.
        </p>
      )}
      <ul className="privacy-protects">
        {privacyProtects(privacy).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
      {privacy.noiseMultiplier > 0 && hasValues(columns) && (
        <UPlotChart
          columns={columns}
          series={SERIES}
          yLabel="epsilon"
          yRange={privacy.budget !== null ? [0, privacy.budget] : undefined}
          xMax={totalRounds}
          height={projector ? UI_CONFIG.chart.projectorPrivacyHeight : undefined}
          ariaLabel="Epsilon spent after each round"
        />
      )}
      {!decompositionMeasured && <p className="note">{PRIVATE_DECOMPOSITION_NOTE}</p>}
    </section>
  );
});
