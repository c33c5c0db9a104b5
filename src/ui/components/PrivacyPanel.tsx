import { memo, useMemo } from 'react';
import type { PrivacySettings } from '../../fl/private-aggregation';
import type { RoundView } from '../../session/types';
import { hasValues } from '../chart-series';
import { UI_CONFIG } from '../config';
import { epsilonColumns, latestPrivacy, privacyProtects, privacySpentText, secureSumText } from '../privacy-view';
import { UPlotChart, type ChartSeries } from './UPlotChart';

const SERIES: ChartSeries[] = [{ label: 'epsilon', color: UI_CONFIG.colors.epsilon, width: 3, digits: 2 }];

/** A private session: the privacy spent so far, what the aggregating tab learned in the last round, epsilon per round. */
export const PrivacyPanel = memo(function PrivacyPanel({ privacy, rounds, totalRounds }: { privacy: PrivacySettings; rounds: RoundView[]; totalRounds?: number }) {
  const latest = latestPrivacy(rounds);
  const columns = useMemo(() => epsilonColumns(rounds), [rounds]);
  const sum = latest && secureSumText(latest);
  return (
    <section className="panel privacy" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      {latest ? (
        <p className="big-numbers" data-testid="privacy-spent">
          <span>{privacySpentText(latest)}</span>
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
          height={UI_CONFIG.chart.privacyHeight}
          ariaLabel="Epsilon spent after each round"
        />
      )}
    </section>
  );
});
