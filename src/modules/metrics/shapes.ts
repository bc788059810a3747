import type { BaselineColumn, Deployment } from '../../db/tables.js';
import type { Baseline } from '../baselines/current.js';
import { accuracyMetrics, columnDrift, type DriftMetric, type PredictedVsActual, predictedVsActual, quantileFromBins } from './compute.js';
import { type DriftRule, type JudgedDrift, judgeDrift } from './drift.js';
import { type AccuracyEvidence, driftRule } from './health.js';
import { type AccuracyTotals, type ColumnSums, emptyServiceSums, type ServiceSums } from './sums.js';

// What the GraphQL metric types resolve from: merged sums plus what they need to be read.

export interface ServiceHealthShape {
  sums: ServiceSums;
  batchCount: number;
}

export type FeatureDriftShape = JudgedDrift;

/** What a selection's drift is measured against. */
export type DriftReferenceKind = 'TRAINING_BASELINE' | 'SELECTION' | 'PREVIOUS_BATCH';

export interface DriftReference {
  kind: DriftReferenceKind;
  /** The reference batches (none for the training baseline). */
  batchIds: string[];
  /** Their merged sums (undefined: none of their rows). */
  sums: ColumnSums[] | undefined;
}

export const TRAINING_BASELINE: DriftReference = { kind: 'TRAINING_BASELINE', batchIds: [], sums: undefined };

export interface DataDriftShape extends DriftRule {
  metric: DriftMetric;
  batchCount: number;
  hasBaseline: boolean;
  reference: DriftReference;
  features: FeatureDriftShape[];
  target: FeatureDriftShape | null;
}

export interface AccuracyShape extends AccuracyEvidence, PredictedVsActual {
  batchCount: number;
}

export interface PredictionStatsShape {
  batchCount: number;
  rowCount: number;
  meanPrediction: number | null;
  column: BaselineColumn | null;
  binCounts: number[] | null;
  classDistribution: { className: string; count: number; share: number }[];
}

export const serviceShape = (sums: ServiceSums | undefined, batchCount: number): ServiceHealthShape => ({
  sums: sums ?? emptyServiceSums(),
  batchCount,
});

/** Keyed `${isPrediction}/${column}`, as driftShape looks columns up. */
const byColumn = (sums: ColumnSums[] | undefined) => new Map((sums ?? []).map((s) => [`${s.isPrediction}/${s.column}`, s]));

/**
 * A selection's drift against `reference` over the current baseline's bins: the features judged
 * as one family (drift.ts), the target on its own.
 */
export function driftShape(
  deployment: Deployment,
  baseline: Baseline | null,
  sums: ColumnSums[] | undefined,
  metric: DriftMetric,
  batchCount: number,
  reference: DriftReference = TRAINING_BASELINE,
): DataDriftShape {
  const rule = driftRule(deployment);
  const base = { ...rule, metric, batchCount, reference };
  if (!baseline) return { ...base, hasBaseline: false, features: [], target: null };
  const current = byColumn(sums);
  const referenceSums = byColumn(reference.sums);
  const importance = new Map(deployment.features.map((f) => [f.name, f.importance]));
  const compare = (column: BaselineColumn, key: string, weight: number | null) =>
    columnDrift(
      metric,
      column,
      reference.kind === 'TRAINING_BASELINE' ? column.counts : (referenceSums.get(key)?.binCounts ?? null),
      current.get(key),
      weight,
    );
  const prediction = baseline.columns.prediction;
  return {
    ...base,
    hasBaseline: true,
    features: judgeDrift(
      baseline.columns.features.map((column) => compare(column, `false/${column.name}`, importance.get(column.name) ?? null)),
      rule,
    ),
    target: prediction ? judgeDrift([compare(prediction, 'true/', null)], rule)[0]! : null,
  };
}

export const accuracyShape = (deployment: Deployment, totals: AccuracyTotals | undefined, batchCount: number): AccuracyShape => ({
  ...accuracyMetrics(deployment.targetType, totals),
  ...predictedVsActual(deployment.targetType, deployment.classNames, deployment.positiveClass, totals),
  targetType: deployment.targetType,
  totals,
  batchCount,
});

export function predictionShape(
  deployment: Deployment,
  baseline: Baseline | null,
  sums: ColumnSums[] | undefined,
  labelCounts: number[] | undefined,
  batchCount: number,
): PredictionStatsShape {
  const prediction = (sums ?? []).find((s) => s.isPrediction);
  const present = prediction ? prediction.rowCount - prediction.missingCount : 0;
  const total = (labelCounts ?? []).reduce((a, b) => a + b, 0);
  return {
    batchCount,
    rowCount: prediction?.rowCount ?? 0,
    meanPrediction: deployment.targetType !== 'MULTICLASS' && present > 0 ? prediction!.sum / present : null,
    column: baseline?.columns.prediction ?? null,
    binCounts: prediction?.binCounts ?? null,
    classDistribution: (deployment.classNames ?? []).map((className, i) => ({
      className,
      count: labelCounts?.[i] ?? 0,
      share: total ? (labelCounts?.[i] ?? 0) / total : 0,
    })),
  };
}

export function predictionPercentile(shape: PredictionStatsShape, q: number): number | null {
  return shape.column && shape.binCounts ? quantileFromBins(shape.column, shape.binCounts, q) : null;
}
