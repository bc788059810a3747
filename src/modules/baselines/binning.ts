import type { BaselineColumn } from '../../db/tables.js';

// How a value falls into a baseline column's bins. The same rule is written in SQL for re-binning
// stored rows (width_bucket over the same edges, see baselines/service.ts): keep the two in step.

/** Value bins plus one missing bin (numeric), or value bins, "other" and missing (categorical). */
export function binCount(column: BaselineColumn): number {
  return column.kind === 'numeric' ? column.edges.length + 2 : column.values.length + 2;
}

export function missingBin(column: BaselineColumn): number {
  return binCount(column) - 1;
}

/**
 * Numeric: the number of edges ≤ value (bin i holds edges[i-1] ≤ v < edges[i]), as PostgreSQL's
 * width_bucket(v, edges) counts. Categorical: the value's position, or "other". null → missing.
 */
export function binIndex(column: BaselineColumn, value: number | string | null): number {
  if (value === null) return missingBin(column);
  if (column.kind === 'categorical') {
    const index = column.values.indexOf(String(value));
    return index === -1 ? column.values.length : index;
  }
  const numeric = typeof value === 'number' ? value : Number(value);
  const { edges } = column;
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (edges[mid]! <= numeric) low = mid + 1;
    else high = mid;
  }
  return low;
}

export interface BinLabel {
  label: string;
  /** Numeric bins: inclusive lower bound (null = open). */
  lower: number | null;
  /** Numeric bins: exclusive upper bound (null = open). */
  upper: number | null;
}

export function binLabels(column: BaselineColumn): BinLabel[] {
  if (column.kind === 'categorical') {
    return [
      ...column.values.map((value) => ({ label: value, lower: null, upper: null })),
      { label: 'other', lower: null, upper: null },
      { label: 'missing', lower: null, upper: null },
    ];
  }
  const { edges } = column;
  const bins: BinLabel[] = [];
  for (let i = 0; i <= edges.length; i++) {
    const lower = i === 0 ? null : edges[i - 1]!;
    const upper = i === edges.length ? null : edges[i]!;
    bins.push({ label: `[${lower ?? '-inf'}, ${upper ?? '+inf'})`, lower, upper });
  }
  bins.push({ label: 'missing', lower: null, upper: null });
  return bins;
}
