import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartColumns } from '../chart-series';
import { UI_CONFIG } from '../config';
import { useProjector } from '../hooks';

export interface ChartSeries {
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** Which y scale: 'y' (left axis, default) or 'y2' (right axis). */
  scale?: 'y' | 'y2';
  /** Digits in the legend's live value. */
  digits?: number;
}

export interface UPlotChartProps {
  columns: ChartColumns;
  series: ChartSeries[];
  yLabel: string;
  y2Label?: string;
  /** Fixed range of the left axis (e.g. 0..100 for percent). */
  yRange?: [number, number];
  /** Last round of the run, so the x axis spans the whole run from the start. */
  xMax?: number;
  /** Draw a line at y = 0 (for terms that can be negative). */
  zeroLine?: boolean;
  /** Accessible description of what the chart shows. */
  ariaLabel: string;
  /** Plot height in CSS pixels (default: UI_CONFIG.chart, by projector mode). */
  height?: number;
}

/** The last finite value of a series (what the legend shows while no point is hovered, e.g. on a phone). */
function lastValue(values: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

const AXIS_COLOR = '#1a1a1a';
const GRID_COLOR = '#d4d4d4';

function xRange(dataMin: number | null, dataMax: number | null, xMax: number | undefined): [number, number] {
  const lo = Math.min(1, dataMin ?? 1);
  let hi = Math.max(xMax ?? 1, dataMax ?? 1);
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}

function buildOptions(p: UPlotChartProps, width: number, height: number, projector: boolean): uPlot.Options {
  const fontPx = projector ? 18 : 12;
  const font = `${fontPx}px system-ui, sans-serif`;
  const labelFont = `bold ${fontPx}px system-ui, sans-serif`;
  const axisBase = { stroke: AXIS_COLOR, font, labelFont, grid: { stroke: GRID_COLOR, width: 1 }, ticks: { stroke: GRID_COLOR, width: 1 } };
  const hasY2 = p.series.some((s) => s.scale === 'y2');
  const axes: uPlot.Axis[] = [
    { ...axisBase, label: 'round', labelSize: fontPx + 8, size: fontPx * 2 + 14, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
    { ...axisBase, scale: 'y', label: p.yLabel, labelSize: fontPx + 8, size: fontPx * 4 + 10 },
  ];
  if (hasY2) {
    axes.push({ ...axisBase, scale: 'y2', side: 1, label: p.y2Label ?? '', labelSize: fontPx + 8, size: fontPx * 4 + 10, grid: { show: false } });
  }
  const pointSize = projector ? 9 : 6;
  return {
    width,
    height,
    scales: {
      x: { time: false, range: (_u, min, max) => xRange(min, max, p.xMax) },
      ...(p.yRange ? { y: { range: p.yRange } } : {}),
    },
    axes,
    series: [
      { label: 'round', value: (_u, v) => (v == null ? '' : String(v)) },
      ...p.series.map((s): uPlot.Series => ({
        label: s.label,
        stroke: s.color,
        width: (s.width ?? 2) * (projector ? 1.5 : 1),
        dash: s.dash,
        scale: s.scale ?? 'y',
        spanGaps: false,
        points: { show: true, size: pointSize, fill: s.color, stroke: s.color },
        // Without a cursor (no hover, e.g. on a phone) the legend shows the latest value; a gap reads as a dash.
        value: (u, v, seriesIdx) => {
          const shown = v == null && u.cursor.idx == null ? lastValue(u.data[seriesIdx] as ArrayLike<number | null>) : v;
          return shown == null ? '—' : shown.toFixed(s.digits ?? 4);
        },
      })),
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    hooks: p.zeroLine
      ? {
          draw: [
            (u) => {
              const y = u.valToPos(0, 'y', true);
              if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = AXIS_COLOR;
              ctx.lineWidth = Math.max(1, devicePixelRatio);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.restore();
            },
          ],
        }
      : {},
  };
}

/** Runs `task` in a later task of its own (when the page is idle, or after at most 200 ms). */
function later(task: () => void): { cancel(): void } {
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(task, { timeout: 200 });
    return { cancel: () => cancelIdleCallback(id) };
  }
  const id = setTimeout(task, 0);
  return { cancel: () => clearTimeout(id) };
}

/** A uPlot line chart that follows its container's width. Rebuilt when its shape changes, re-fed when data does. */
export function UPlotChart(props: UPlotChartProps) {
  const projector = useProjector();
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(0);
  const height = props.height ?? (projector ? UI_CONFIG.chart.projectorHeight : UI_CONFIG.chart.height);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      setWidth(Math.max(UI_CONFIG.chart.minWidth, w));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Everything but the data and the size: a change here rebuilds the chart.
  const shapeKey = useMemo(
    () => JSON.stringify([props.series, props.yLabel, props.y2Label, props.yRange, props.xMax, props.zeroLine, projector]),
    [props.series, props.yLabel, props.y2Label, props.yRange, props.xMax, props.zeroLine, projector],
  );
  const ready = width > 0;

  // The latest props and size, for a chart built a moment after the render that asked for it.
  const latest = useRef({ props, width, height });
  latest.current = { props, width, height };

  useEffect(() => {
    const el = container.current;
    if (!ready || !el) return;
    let u: uPlot | null = null;
    // Built in a task of its own: charts appear together with a round's results, and building them all in that
    // render's task would make one long main-thread task of it.
    const build = later(() => {
      const { props: p, width: w, height: h } = latest.current;
      u = new uPlot(buildOptions(p, w, h, projector), p.columns as uPlot.AlignedData, el);
      plot.current = u;
    });
    return () => {
      build.cancel();
      u?.destroy();
      plot.current = null;
    };
    // Rebuild only on shape changes (shapeKey covers the props used); data and size have their own effects below.
  }, [shapeKey, ready]);

  // New data is drawn in a task of its own too (the latest data only, if several arrive before it runs): redrawing
  // every chart in the render's task made one long task of a round's results.
  useEffect(() => {
    if (!plot.current) return;
    const draw = later(() => {
      const u = plot.current;
      if (!u) return;
      u.setData(latest.current.props.columns as uPlot.AlignedData);
      // Refresh the legend's "latest value" when nothing is hovered.
      if (u.cursor.idx == null) u.setLegend({ idx: null as unknown as number });
    });
    return () => draw.cancel();
  }, [props.columns]);

  useEffect(() => {
    if (ready) plot.current?.setSize({ width, height });
  }, [width, height, ready]);

  return <div className="chart" ref={container} role="img" aria-label={props.ariaLabel} />;
}
