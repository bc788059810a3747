import type { BaselineColumn, Deployment } from '../../db/tables.js';
import type { Baseline } from '../baselines/current.js';
import {
  accuracyMetrics,
  type ColumnDrift,
  columnDrift,
  type DriftMetric,
  type PredictedVsActual,
  predictedVsActual,
  quantileFromBins,
} from './compute.js';
import { type AccuracyEvidence, healthSettings } from './health.js';
import { type AccuracyTotals, type ColumnSums, emptyServiceSums, type ServiceSums } from './sums.js';

// What the GraphQL metric types resolve from: merged sums plus what they need to be read.

export interface ServiceHealthShape {
  sums: ServiceSums;
  batchCount: number;
}

export interface FeatureDriftShape extends ColumnDrift {
  isDrifted: boolean | null;
}

export interface DataDriftShape {
  metric: DriftMetric;
  driftThreshold: number;
  batchCount: number;
  hasBaseline: boolean;
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

export function driftShape(
  deployment: Deployment,
  baseline: Baseline | null,
  sums: ColumnSums[] | undefined,
  metric: DriftMetric,
  batchCount: number,
): DataDriftShape {
  const { driftThreshold } = healthSettings(deployment).dataDrift;
  const judged = (drift: ColumnDrift): FeatureDriftShape => ({
    ...drift,
    isDrifted: drift.score === null ? null : drift.score >= driftThreshold,
  });
  if (!baseline) return { metric, driftThreshold, batchCount, hasBaseline: false, features: [], target: null };
  const byColumn = new Map((sums ?? []).map((s) => [`${s.isPrediction}/${s.column}`, s]));
  const importance = new Map(deployment.features.map((f) => [f.name, f.importance]));
  return {
    metric,
    driftThreshold,
    batchCount,
    hasBaseline: true,
    features: baseline.columns.features.map((column) =>
      judged(columnDrift(metric, column, byColumn.get(`false/${column.name}`), importance.get(column.name) ?? null)),
    ),
    target: baseline.columns.prediction ? judged(columnDrift(metric, baseline.columns.prediction, byColumn.get('true/'), null)) : null,
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
