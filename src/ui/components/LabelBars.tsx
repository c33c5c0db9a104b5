import { memo } from 'react';
import { UI_CONFIG } from '../config';
import { describeHistogram, labelBars } from '../label-bars';

/** Most classes for which the large chart writes the class number under each bar. */
const MAX_CLASS_NUMBERS = 20;

/**
 * Label counts as a small inline bar chart (one bar per class, counts only: no samples are shown). Memoised: the
 * peers table re-renders on every status change, the counts change only when a peer's data does.
 */
export const LabelBars = memo(function LabelBars({ counts, large = false }: { counts: number[]; large?: boolean }) {
  if (counts.length === 0) return <span className="muted">—</span>;
  const bars = labelBars(counts);
  const barWidth = large ? 16 : 7;
  const gap = large ? 4 : 2;
  const plotHeight = large ? 64 : 24;
  const numbers = large && bars.length <= MAX_CLASS_NUMBERS;
  const height = plotHeight + (numbers ? 14 : 0);
  const width = bars.length * (barWidth + gap) - gap;
  const description = `label counts: ${describeHistogram(counts)}`;
  return (
    <svg className="label-bars" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={description}>
      <title>{description}</title>
      <line x1={0} x2={width} y1={plotHeight - 0.5} y2={plotHeight - 0.5} stroke="#767676" strokeWidth={1} />
      {bars.map((b) => {
        const h = b.count > 0 ? Math.max(1.5, b.height * (plotHeight - 1)) : 0;
        const x = b.label * (barWidth + gap);
        return (
          <g key={b.label}>
            <rect x={x} y={plotHeight - 1 - h} width={barWidth} height={h} fill={UI_CONFIG.colors.labelBar} />
            {numbers && (
              <text x={x + barWidth / 2} y={height - 2} textAnchor="middle" fontSize={11} fill="#333">
                {b.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
});
