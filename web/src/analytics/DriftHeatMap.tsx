import { useId, useMemo, useRef, useState } from 'preact/hooks';
import { formatCount, formatNumber } from '../app/format';
import { ErrorNote, Loading } from '../app/ui';
import { DataDriftMatrixDocument, type DataDriftMatrixQuery, type DriftMetric, type DriftStatus } from '../generated/graphql';
import type { BatchSelection } from '../selection/BatchSelector';
import { useAnalysis } from './common';

// The drift matrix as a heat map: a table whose cell (i, j) is batch i (row, current) against batch j
// (column, reference), coloured by score — light blues below the drift threshold, oranges to dark red
// from it on — with DRIFTED cells marked (●) and unjudged ones hatched. A table, so every cell has
// its row and column headers for screen readers; one cell at a time is in the tab order and the
// arrow keys move between cells (the ARIA grid pattern); the focused or hovered cell is read out
// below the grid.

/** The most batches the API compares in one matrix. */
export const MATRIX_LIMIT = 100;

export const STATUS_TEXT: Record<DriftStatus, string> = {
  DRIFTED: 'Drifted',
  NOT_DRIFTED: 'Not drifted',
  INSUFFICIENT_DATA: 'Insufficient data',
  NO_DATA: 'No data',
};

/** A p-value readable at any size (1e-12 is not "0"). */
export function formatPValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return value !== 0 && value < 0.001 ? value.toExponential(1) : formatNumber(value);
}

type Rgb = readonly [number, number, number];
const LOW_START: Rgb = [246, 248, 250];
const LOW_END: Rgb = [117, 165, 214];
const HIGH_START: Rgb = [247, 166, 99];
const HIGH_END: Rgb = [128, 20, 12];

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as unknown as Rgb;
const css = (c: Rgb) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
/** The share of the legend's bar below the threshold. */
const LOW_SHARE = 0.35;
const clamp01 = (t: number) => Math.max(0, Math.min(1, t));

/** The scale's top: twice the threshold, or the largest score when higher. */
function scaleTop(threshold: number, scores: readonly (number | null)[]): number {
  const largest = Math.max(0, ...scores.filter((score): score is number => score !== null && Number.isFinite(score)));
  return Math.max(threshold > 0 ? threshold * 2 : 1, largest);
}

/** The colour of a score: blues up to the threshold, then orange to dark red up to the scale's top (and beyond). */
function scoreColor(score: number, threshold: number, top: number): { background: string; dark: boolean } {
  if (score < threshold) return { background: css(mix(LOW_START, LOW_END, clamp01(score / threshold))), dark: false };
  const t = top > threshold ? clamp01((score - threshold) / (top - threshold)) : 1;
  return { background: css(mix(HIGH_START, HIGH_END, t)), dark: t > 0.45 };
}

interface Cell {
  row: string;
  column: string;
  score: number | null;
  pValue: number | null;
  status: DriftStatus;
}

function describe(cell: Cell, scoreLabel: string): string {
  const against = cell.row === cell.column ? `${cell.row} against itself` : `${cell.row} against ${cell.column}`;
  return `${against}: ${scoreLabel} ${formatNumber(cell.score)}, p-value ${formatPValue(cell.pValue)}, ${STATUS_TEXT[cell.status].toLowerCase()}`;
}

export interface DriftHeatMapProps {
  deploymentId: string;
  /** The tab's selection and how many batches it holds. */
  selection: BatchSelection;
  batchCount: number;
  /** The selection's batch ids, oldest first (to keep the newest 100 of a larger pick). */
  batchIds: readonly string[];
  /** A feature, or null for the target. */
  feature: string | null;
  featureLabel: string;
  metric: DriftMetric;
  scoreLabel: string;
}

/** The selection to draw: all of it, or its newest MATRIX_LIMIT batches. */
function matrixSelection(selection: BatchSelection, batchCount: number, batchIds: readonly string[]): BatchSelection {
  if (batchCount <= MATRIX_LIMIT) return selection;
  const model = selection.modelId ? { modelId: selection.modelId } : {};
  return selection.batchIds ? { batchIds: batchIds.slice(-MATRIX_LIMIT), ...model } : { last: MATRIX_LIMIT, ...model };
}

export function DriftHeatMap({
  deploymentId,
  selection,
  batchCount,
  batchIds,
  feature,
  featureLabel,
  metric,
  scoreLabel,
}: DriftHeatMapProps) {
  const ids = useId();
  const batches = matrixSelection(selection, batchCount, batchIds);
  const { data, error, loading } = useAnalysis(deploymentId, DataDriftMatrixDocument, { id: deploymentId, batches, feature, metric });
  /** The readout's setter (the readout re-renders alone: hovering must not redraw up to 10,000 cells). */
  const say = useRef<(text: string) => void>(() => {});
  const matrix = data?.deployment?.driftMatrix;
  const title = `Drift between batches: ${featureLabel}`;
  const grid = useMemo(
    () => (matrix ? <MatrixGrid matrix={matrix} scoreLabel={scoreLabel} labelledBy={`${ids}-title`} say={say} /> : null),
    [matrix, scoreLabel, ids],
  );
  const capped = batchCount > MATRIX_LIMIT;

  if (!matrix) {
    return (
      <section class="heatmap" aria-labelledby={`${ids}-title`}>
        <h3 id={`${ids}-title`}>{title}</h3>
        <ErrorNote error={error} />
        {loading ? <Loading /> : null}
      </section>
    );
  }
  const names = matrix.batches.map((batch) => batch.name);
  const n = names.length;
  const threshold = matrix.driftThreshold;
  const top = scaleTop(
    threshold,
    matrix.rows.flatMap((row) => row.scores),
  );
  const compact = cellSize(n) < 18;
  // The legend gives the blues (0 to the threshold) a fixed share: each part of the scale is linear on its own.
  const lowEnd = LOW_SHARE * 100;
  const gradient = `linear-gradient(to right, ${css(LOW_START)} 0%, ${css(LOW_END)} ${lowEnd}%, ${css(HIGH_START)} ${lowEnd}%, ${css(HIGH_END)} 100%)`;

  return (
    <section class="heatmap" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>{title}</h3>
      <p class="hint">
        Each cell is the row’s batch (current) against the column’s batch (reference), oldest first; ● marks a drift that is significant
        (p-value ≤ {formatNumber(matrix.significanceLevel)}) and at least the drift threshold. Hatched cells have fewer than{' '}
        {formatCount(matrix.minSampleSize)} rows on a side and are not judged.
      </p>
      {capped ? (
        <p class="note" role="note">
          The selection holds {formatCount(batchCount)} batches; the matrix compares at most {MATRIX_LIMIT}, so it shows the newest{' '}
          {formatCount(n)}.
        </p>
      ) : null}
      {!matrix.hasBaseline || n === 0 ? (
        <p class="muted">Nothing to compare.</p>
      ) : (
        <>
          <div class="heatmap-legend" aria-hidden="true">
            <span class="heatmap-legend-label">{scoreLabel}</span>
            <div class="heatmap-scale">
              <div class="heatmap-gradient" style={{ background: gradient }} />
              <div class="heatmap-threshold" style={{ left: `${lowEnd}%` }}>
                <span>threshold {formatNumber(threshold)}</span>
              </div>
              <span class="heatmap-tick heatmap-tick-start">0</span>
              <span class="heatmap-tick heatmap-tick-end">{formatNumber(top)}</span>
            </div>
            <span class="heatmap-key">
              <span class="heatmap-swatch heatmap-drifted" style={{ background: css(HIGH_END) }}>
                ●
              </span>{' '}
              drifted
            </span>
            <span class="heatmap-key">
              <span class="heatmap-swatch heatmap-unjudged" /> insufficient data
            </span>
            <span class="heatmap-key">
              <span class="heatmap-swatch heatmap-no-data" /> no data
            </span>
          </div>
          <p class="visually-hidden">
            Colour scale of {scoreLabel}: light blue from 0 up to the drift threshold {formatNumber(threshold)}, orange to dark red from the
            threshold up to {formatNumber(top)} and above.
          </p>
          {compact ? (
            <p class="muted small">
              Rows and columns: {names[0]} (top, left) to {names[n - 1]} (bottom, right).
            </p>
          ) : null}
          <div class="table-scroll">{grid}</div>
          <Readout bind={say} />
        </>
      )}
    </section>
  );
}

type Matrix = NonNullable<DataDriftMatrixQuery['deployment']>['driftMatrix'];

/** The cell size in pixels: up to 36, smaller with more batches (600 px in all), at least 7. */
const cellSize = (n: number) => Math.max(7, Math.min(36, Math.floor(600 / Math.max(1, n))));

function Readout({ bind }: { bind: { current: (text: string) => void } }) {
  const [text, setText] = useState('');
  bind.current = setText;
  return (
    <p class="heatmap-readout" aria-live="polite">
      {text || 'Hover over or focus a cell (arrow keys move) to read it here.'}
    </p>
  );
}

/**
 * The grid itself, drawn once per answer. One cell is in the tab order (roving tabindex, moved on the
 * DOM: re-rendering every cell per key press would be slow at 100 × 100); focus, hover and keys are
 * handled on the table.
 */
function MatrixGrid({
  matrix,
  scoreLabel,
  labelledBy,
  say,
}: {
  matrix: Matrix;
  scoreLabel: string;
  labelledBy: string;
  say: { current: (text: string) => void };
}) {
  const active = useRef({ i: 0, j: 0 });
  const names = matrix.batches.map((batch) => batch.name);
  const n = names.length;
  const threshold = matrix.driftThreshold;
  const top = scaleTop(
    threshold,
    matrix.rows.flatMap((row) => row.scores),
  );
  const size = cellSize(n);
  const compact = size < 18;
  const cellAt = (i: number, j: number): Cell => {
    const row = matrix.rows[i];
    return {
      row: names[i] ?? '',
      column: names[j] ?? '',
      score: row?.scores[j] ?? null,
      pValue: row?.pValues[j] ?? null,
      status: row?.statuses[j] ?? 'NO_DATA',
    };
  };
  active.current = { i: Math.min(active.current.i, n - 1), j: Math.min(active.current.j, n - 1) };
  const position = (target: EventTarget | null) => {
    const cell = (target as HTMLElement | null)?.closest?.<HTMLElement>('td[data-cell]');
    const [i, j] = (cell?.dataset.cell ?? '').split('-').map(Number);
    return cell && i !== undefined && j !== undefined ? { cell, i, j } : null;
  };
  const onFocusIn = (event: FocusEvent) => {
    const at = position(event.target);
    if (!at) return;
    const table = event.currentTarget as HTMLElement;
    table.querySelector<HTMLElement>(`[data-cell="${active.current.i}-${active.current.j}"]`)?.setAttribute('tabindex', '-1');
    at.cell.setAttribute('tabindex', '0');
    active.current = { i: at.i, j: at.j };
    say.current(describe(cellAt(at.i, at.j), scoreLabel));
  };
  const onMouseMove = (event: MouseEvent) => {
    const at = position(event.target);
    if (at) say.current(describe(cellAt(at.i, at.j), scoreLabel));
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const { i, j } = active.current;
    const move = moves[event.key];
    const next = move
      ? { i: i + move[0], j: j + move[1] }
      : event.key === 'Home'
        ? { i, j: 0 }
        : event.key === 'End'
          ? { i, j: n - 1 }
          : null;
    if (!next || !position(event.target)) return;
    event.preventDefault();
    const table = event.currentTarget as HTMLElement;
    const clampIndex = (k: number) => Math.max(0, Math.min(n - 1, k));
    table.querySelector<HTMLElement>(`[data-cell="${clampIndex(next.i)}-${clampIndex(next.j)}"]`)?.focus();
  };

  return (
    <table
      class={`heatmap-grid${compact ? ' compact' : ''}`}
      // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: a data table as an ARIA grid (arrow keys move between cells), as in the ARIA practices' data grid
      role="grid"
      aria-labelledby={labelledBy}
      style={{ '--cell': `${size}px` }}
      onKeyDown={onKeyDown}
      onFocusIn={onFocusIn}
      onMouseMove={onMouseMove}
    >
      <thead>
        <tr>
          <td />
          {names.map((name, j) => (
            <th key={matrix.batches[j]!.id} scope="col" class="heatmap-column-head">
              <span class={compact ? 'visually-hidden' : 'heatmap-column'}>{name}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {matrix.rows.map((row, i) => (
          <tr key={row.batchId}>
            <th scope="row" class="heatmap-row-head">
              <span class={compact ? 'visually-hidden' : 'heatmap-row'}>{names[i]}</span>
            </th>
            {names.map((_, j) => {
              const cell = cellAt(i, j);
              const text = describe(cell, scoreLabel);
              const color = cell.score === null || cell.status === 'NO_DATA' ? null : scoreColor(cell.score, threshold, top);
              const classes = ['heatmap-cell', `heatmap-${cell.status.toLowerCase().replace('_', '-')}`, color?.dark ? 'on-dark' : ''];
              return (
                <td
                  key={j}
                  class={classes.join(' ')}
                  style={color ? { backgroundColor: color.background } : undefined}
                  title={text}
                  aria-label={text}
                  tabIndex={active.current.i === i && active.current.j === j ? 0 : -1}
                  data-cell={`${i}-${j}`}
                  data-score={cell.score === null ? '' : String(cell.score)}
                  data-status={cell.status}
                >
                  {cell.status === 'DRIFTED' ? <span aria-hidden="true">●</span> : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
