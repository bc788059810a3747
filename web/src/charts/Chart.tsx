import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../app/format';

// The one chart of the dashboard: a uPlot canvas wrapped for Preact (made on mount, given new data
// with setData, remade only when the series' look changes, sized with its container, destroyed on
// unmount). Every chart has an accessible name that summarises it and a data table (in a
// disclosure) holding every plotted value, for screen readers and keyboard users.

/** Colours with at least 3:1 contrast on white (WCAG non-text contrast), told apart by dashes too. */
export const CHART_COLORS = {
  blue: '#0b5cad',
  orange: '#c2410c',
  green: '#1a7f37',
  purple: '#8250df',
  teal: '#0e7c86',
  red: '#b42318',
  gray: '#6e7781',
} as const;

/** Series colours in order, for charts with a series per class or per metric. */
export const SERIES_COLORS: readonly string[] = [
  CHART_COLORS.blue,
  CHART_COLORS.orange,
  CHART_COLORS.green,
  CHART_COLORS.purple,
  CHART_COLORS.teal,
];

export interface ChartSeries {
  label: string;
  values: readonly (number | null)[];
  color: string;
  /** line (default; points shown while there are few), bars, or points only (a scatter). */
  kind?: 'line' | 'bars' | 'points';
  dashed?: boolean;
  /** Bars of two series side by side: -1 left of the x position, 1 right of it. */
  barSide?: -1 | 1;
}

/** The x axis: named positions (batches, bins) placed 0, 1, 2 …; or numbers (ascending). */
export type ChartX =
  | { kind: 'categories'; label: string; labels: readonly string[] }
  | {
      kind: 'values';
      label: string;
      values: readonly number[];
      /** What each point is (the table's first column: rowHeader). */
      rowLabels: readonly string[];
      rowHeader: string;
      range?: [number, number];
    };

/** A horizontal reference line (a threshold), dashed. */
export interface ChartLine {
  label: string;
  value: number;
  color: string;
}

export interface ChartProps {
  title: string;
  x: ChartX;
  series: readonly ChartSeries[];
  /** What the y values are ("Predictions", "Drift score (PSI)"). */
  yLabel: string;
  /** y values as read in the axis, the table and the summary. */
  format?: (value: number) => string;
  lines?: readonly ChartLine[];
  /** The y axis starts at 0 (counts, rates). */
  fromZero?: boolean;
  height?: number;
  /** What one x position is, plural, for the summary ("batches", "bins"). */
  itemsLabel: string;
}

const AXIS_COLOR = '#57606a';
const GRID_COLOR = '#e5e8eb';
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** Points are drawn on lines while there are at most this many (a lone value must be visible). */
const MAX_POINTS_SHOWN = 60;
/** Longest x label drawn on the axis (the table has the whole name). */
const MAX_LABEL = 16;

const shorten = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);
const finite = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value);

function xValues(x: ChartX): number[] {
  return x.kind === 'categories' ? x.labels.map((_, i) => i) : [...x.values];
}

function rowLabels(x: ChartX): readonly string[] {
  return x.kind === 'categories' ? x.labels : x.rowLabels;
}

/** "Predictions per batch, 5 batches: Predictions from 10 to 40 (last 25)." */
export function chartSummary(props: Pick<ChartProps, 'title' | 'x' | 'series' | 'lines' | 'itemsLabel' | 'format'>): string {
  const format = props.format ?? formatNumber;
  const count = rowLabels(props.x).length;
  const parts = props.series.map((series) => {
    const values = series.values.filter(finite);
    if (!values.length) return `${series.label}: no values`;
    const last = [...series.values].reverse().find(finite);
    const min = Math.min(...values);
    const max = Math.max(...values);
    return min === max
      ? `${series.label} ${format(min)}`
      : `${series.label} from ${format(min)} to ${format(max)}${last === undefined ? '' : ` (last ${format(last)})`}`;
  });
  const lines = (props.lines ?? []).map((line) => `${line.label} ${format(line.value)}`);
  return `${props.title}, ${count} ${props.itemsLabel}: ${[...parts, ...lines].join('; ')}.`;
}

export function Chart(props: ChartProps) {
  const { title, x, series, yLabel, lines = [], fromZero = false, height = 240, itemsLabel } = props;
  const format = props.format ?? formatNumber;
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const headingId = useId();
  const labels = rowLabels(x);
  // Keyed by content: a parent's fresh arrays with the same values do not redraw the chart.
  const dataKey = JSON.stringify([xValues(x), series.map((s) => s.values)]);
  const data = useMemo<uPlot.AlignedData>(() => [xValues(x), ...series.map((s) => s.values.map((v) => (finite(v) ? v : null)))], [dataKey]);
  // The live values the uPlot callbacks read (the chart is only remade when its look changes).
  const current = useRef({ x, lines, format, fromZero });
  current.current = { x, lines, format, fromZero };
  const look = JSON.stringify({
    kind: x.kind,
    xLabel: x.label,
    range: x.kind === 'values' ? x.range : null,
    series: series.map(({ label, color, kind, dashed, barSide }) => ({ label, color, kind, dashed, barSide })),
    few: labels.length <= MAX_POINTS_SHOWN,
    height,
    yLabel,
  });
  const empty = labels.length === 0;

  useEffect(() => {
    const element = container.current;
    if (!element || empty) return;
    const few = labels.length <= MAX_POINTS_SHOWN;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: {
        x: {
          time: false,
          range: (_u, min, max) => {
            const now = current.current.x;
            if (now.kind === 'categories') return [-0.5, Math.max(0.5, now.labels.length - 0.5)];
            if (now.range) return now.range;
            return min === max ? [min - 1, max + 1] : [min, max];
          },
        },
        y: {
          range: (_u, dataMin, dataMax) => {
            const limits = current.current.lines.map((line) => line.value);
            let min = Math.min(dataMin ?? 0, ...limits);
            let max = Math.max(dataMax ?? 0, ...limits);
            if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
            if (current.current.fromZero) min = Math.min(0, min);
            if (min === max) return [min - (Math.abs(min) || 1) * 0.5, max + (Math.abs(max) || 1) * 0.5];
            const pad = (max - min) * 0.08;
            return [current.current.fromZero && min >= 0 ? 0 : min - pad, max + pad];
          },
        },
      },
      axes: [
        {
          label: x.label,
          font: FONT,
          labelFont: `600 ${FONT}`,
          stroke: AXIS_COLOR,
          grid: { stroke: GRID_COLOR, width: 1 },
          ticks: { stroke: GRID_COLOR, width: 1 },
          ...(x.kind === 'categories'
            ? {
                // One split per named position, thinned so labels do not overlap (~110 px each).
                splits: (u: uPlot) => {
                  const n = (current.current.x as { labels: readonly string[] }).labels.length;
                  const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 110))));
                  return Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
                },
                values: (_u: uPlot, splits: number[]) =>
                  splits.map((i) => shorten((current.current.x as { labels: readonly string[] }).labels[i] ?? '')),
              }
            : { values: (_u: uPlot, splits: number[]) => splits.map((v) => formatNumber(v)) }),
        },
        {
          label: yLabel,
          font: FONT,
          labelFont: `600 ${FONT}`,
          stroke: AXIS_COLOR,
          size: 64,
          grid: { stroke: GRID_COLOR, width: 1 },
          ticks: { stroke: GRID_COLOR, width: 1 },
          values: (_u: uPlot, splits: number[]) => splits.map((v) => current.current.format(v)),
        },
      ],
      series: [
        { label: x.label },
        ...series.map((s): uPlot.Series => {
          const base = { label: s.label, stroke: s.color, width: 2, ...(s.dashed ? { dash: [8, 5] } : {}) };
          if (s.kind === 'bars') {
            return {
              ...base,
              fill: s.color,
              paths: uPlot.paths.bars!({ size: [s.barSide ? 0.38 : 0.6, 64], align: s.barSide ?? 0 }),
              points: { show: false },
            };
          }
          if (s.kind === 'points') {
            return { ...base, paths: () => null, points: { show: true, size: 10, stroke: s.color, fill: s.color, width: 1 } };
          }
          return { ...base, points: { show: few, size: 7, stroke: s.color, fill: '#fff', width: 2 } };
        }),
      ],
      hooks: {
        draw: [
          (u) => {
            // Reference lines across the plotting area, dashed, in their own colour.
            const ctx = u.ctx;
            for (const line of current.current.lines) {
              const y = Math.round(u.valToPos(line.value, 'y', true));
              ctx.save();
              ctx.strokeStyle = line.color;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.restore();
            }
          },
        ],
        setCursor: [(u) => setHover(u.cursor.idx ?? null)],
      },
    };
    const chart = new uPlot(options, data, element);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Remade only when the look changes; new values go through setData below.
  }, [look, empty]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const summary = chartSummary({ title, x, series, lines, itemsLabel, format });
  const readout = hover !== null && labels[hover] !== undefined ? hoverText(labels[hover]!, series, hover, format) : null;
  return (
    <figure class="chart" aria-labelledby={headingId}>
      <figcaption>
        <h3 id={headingId}>{title}</h3>
        <ul class="chart-legend">
          {series.map((s) => (
            <li key={s.label}>
              <span
                class={`swatch${s.dashed ? ' dashed' : ''}${s.kind === 'points' ? ' point' : ''}`}
                style={{ '--swatch': s.color }}
                aria-hidden="true"
              />
              {s.label}
            </li>
          ))}
          {lines.map((line) => (
            <li key={line.label}>
              <span class="swatch dashed reference" style={{ '--swatch': line.color }} aria-hidden="true" />
              {line.label} ({format(line.value)})
            </li>
          ))}
        </ul>
      </figcaption>
      {empty ? (
        <p class="chart-empty">No {itemsLabel} to show.</p>
      ) : (
        <div class="chart-canvas" role="img" aria-label={summary} ref={container} />
      )}
      <p class="chart-readout" aria-hidden="true">
        {readout ?? '\u00a0'}
      </p>
      <details class="chart-data">
        <summary>Data table: {title}</summary>
        <table class="data-table">
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{x.kind === 'values' ? x.rowHeader : x.label}</th>
              {x.kind === 'values' ? (
                <th scope="col" class="number">
                  {x.label}
                </th>
              ) : null}
              {series.map((s) => (
                <th key={s.label} scope="col" class="number">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr key={`${i}:${label}`}>
                <th scope="row">{label}</th>
                {x.kind === 'values' ? <td class="number">{formatNumber(x.values[i])}</td> : null}
                {series.map((s) => {
                  const value = s.values[i];
                  return (
                    <td key={s.label} class="number">
                      {finite(value) ? format(value) : '—'}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function hoverText(label: string, series: readonly ChartSeries[], index: number, format: (value: number) => string): string {
  const values = series.map((s) => {
    const value = s.values[index];
    return `${s.label} ${finite(value) ? format(value) : '—'}`;
  });
  return `${label}: ${values.join(' · ')}`;
}
