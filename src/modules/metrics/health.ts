import type { Deployment } from '../../db/tables.js';
import type { AccuracyMetrics } from './compute.js';
import { serviceRates } from './compute.js';
import type { DriftRule, JudgedDrift } from './drift.js';
import { accuracyIntervals, DEFAULT_CONFIDENCE_LEVEL, INTERVAL_METRICS } from './intervals.js';
import type { AccuracyTotals, ServiceSums } from './sums.js';

// Prediction health indicators (C9): a status per area over the last N batches of a deployment.

export const BATCH_COUNT_CHOICES = [1, 5, 10, 50, 100, 1000, 10_000] as const;
export const ACCURACY_METRICS = ['LOG_LOSS', 'AUC', 'ACCURACY', 'F1', 'TPR', 'PPV', 'RMSE', 'MAE', 'R2', 'MAPE'] as const;
export type AccuracyMetricName = (typeof ACCURACY_METRICS)[number];
const HIGHER_IS_BETTER = new Set<AccuracyMetricName>(['AUC', 'ACCURACY', 'F1', 'TPR', 'PPV', 'R2']);
export const CLASSIFICATION_ONLY = new Set<AccuracyMetricName>(['LOG_LOSS', 'AUC', 'ACCURACY', 'F1', 'TPR', 'PPV']);
/** How a threshold is judged reached: by the point value, or only when the whole confidence interval is past it. */
export const ACCURACY_JUDGMENTS = ['POINT', 'CONFIDENCE_INTERVAL'] as const;
export type AccuracyJudgment = (typeof ACCURACY_JUDGMENTS)[number];

export type HealthStatus = 'PASSING' | 'AT_RISK' | 'FAILING' | 'UNKNOWN';

export interface HealthFilter {
  service?: readonly HealthStatus[] | null | undefined;
  drift?: readonly HealthStatus[] | null | undefined;
  accuracy?: readonly HealthStatus[] | null | undefined;
}

export interface ResolvedHealthSettings {
  service: { batchCount: number; errorRateAtRisk: number; errorRateFailing: number };
  dataDrift: {
    batchCount: number;
    driftThreshold: number;
    /** The false-discovery rate α of the Benjamini–Hochberg correction across a deployment's features. */
    significanceLevel: number;
    /** Rows each side of a comparison needs before its drift is judged (else INSUFFICIENT_DATA). */
    minSampleSize: number;
    importanceThreshold: number;
    lowImportanceAtRiskCount: number | null;
    lowImportanceFailingCount: number | null;
    highImportanceAtRiskCount: number | null;
    highImportanceFailingCount: number | null;
    excludedFeatures: string[];
  };
  accuracy: {
    batchCount: number;
    metric: AccuracyMetricName;
    atRiskThreshold: number | null;
    failingThreshold: number | null;
    judgeBy: AccuracyJudgment;
    confidenceLevel: number;
  };
}

/** The settings in force: stored values over the defaults. */
export function healthSettings(deployment: Deployment): ResolvedHealthSettings {
  const stored = deployment.healthSettings;
  return {
    service: { batchCount: 10, errorRateAtRisk: 0.01, errorRateFailing: 0.05, ...stored.service },
    dataDrift: {
      batchCount: 10,
      driftThreshold: 0.15,
      significanceLevel: 0.05,
      minSampleSize: 100,
      importanceThreshold: 0.5,
      lowImportanceAtRiskCount: 1,
      lowImportanceFailingCount: null,
      highImportanceAtRiskCount: 1,
      highImportanceFailingCount: 1,
      excludedFeatures: [],
      ...stored.dataDrift,
    },
    accuracy: {
      batchCount: 10,
      atRiskThreshold: null,
      failingThreshold: null,
      ...stored.accuracy,
      judgeBy: (stored.accuracy?.judgeBy as AccuracyJudgment | undefined) ?? 'POINT',
      confidenceLevel: stored.accuracy?.confidenceLevel ?? DEFAULT_CONFIDENCE_LEVEL,
      metric: (stored.accuracy?.metric as AccuracyMetricName | undefined) ?? (deployment.targetType === 'REGRESSION' ? 'RMSE' : 'LOG_LOSS'),
    },
  };
}

/** The rule drift is judged by (drift threshold, significance level, minimum sample size), from the settings in force. */
export function driftRule(deployment: Deployment): DriftRule {
  const { driftThreshold, significanceLevel, minSampleSize } = healthSettings(deployment).dataDrift;
  return { driftThreshold, significanceLevel, minSampleSize };
}

export interface Indicator {
  status: HealthStatus;
  reason: string;
  batchCount: number;
}

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;

export function serviceIndicator(
  settings: ResolvedHealthSettings['service'],
  sums: ServiceSums | undefined,
  batchCount: number,
): Indicator {
  if (!sums || sums.requestCount === 0)
    return { status: 'UNKNOWN', reason: `no requests in the last ${settings.batchCount} batches`, batchCount };
  const { userErrorRate, serverErrorRate } = serviceRates(sums);
  const rate = (userErrorRate ?? 0) + (serverErrorRate ?? 0);
  const detail = `error rate ${percent(rate)} (user ${percent(userErrorRate ?? 0)}, server ${percent(serverErrorRate ?? 0)}) over ${sums.requestCount} requests`;
  if (rate >= settings.errorRateFailing)
    return { status: 'FAILING', reason: `${detail} ≥ ${percent(settings.errorRateFailing)}`, batchCount };
  if (rate >= settings.errorRateAtRisk)
    return { status: 'AT_RISK', reason: `${detail} ≥ ${percent(settings.errorRateAtRisk)}`, batchCount };
  return { status: 'PASSING', reason: `${detail} below ${percent(settings.errorRateAtRisk)}`, batchCount };
}

export function driftIndicator(
  settings: ResolvedHealthSettings['dataDrift'],
  features: JudgedDrift[] | null,
  batchCount: number,
): Indicator {
  if (features === null) return { status: 'UNKNOWN', reason: 'no training baseline', batchCount };
  const considered = features.filter((f) => f.status !== 'NO_DATA' && !settings.excludedFeatures.includes(f.name));
  if (considered.length === 0)
    return { status: 'UNKNOWN', reason: `no binned predictions in the last ${settings.batchCount} batches`, batchCount };
  const judged = considered.filter((f) => f.status !== 'INSUFFICIENT_DATA');
  if (judged.length === 0) {
    const rows = Math.min(...considered.map((f) => f.sampleSize));
    return {
      status: 'UNKNOWN',
      reason: `insufficient data: ${rows} binned rows in the last ${settings.batchCount} batches, fewer than the minimum sample size ${settings.minSampleSize}`,
      batchCount,
    };
  }
  const drifted = judged.filter((f) => f.status === 'DRIFTED');
  const high = drifted.filter((f) => (f.importance ?? 0) >= settings.importanceThreshold).map((f) => f.name);
  const low = drifted.filter((f) => (f.importance ?? 0) < settings.importanceThreshold).map((f) => f.name);
  const reaches = (count: number, limit: number | null) => limit !== null && limit > 0 && count >= limit;
  const names = (list: string[]) => list.join(', ');
  const rule = `significant at false-discovery rate ${settings.significanceLevel} and score ≥ ${settings.driftThreshold}`;
  if (reaches(high.length, settings.highImportanceFailingCount) || reaches(low.length, settings.lowImportanceFailingCount)) {
    return {
      status: 'FAILING',
      reason: `drifted (${rule}): ${names([...high, ...low])} (high importance: ${names(high) || 'none'})`,
      batchCount,
    };
  }
  if (reaches(high.length, settings.highImportanceAtRiskCount) || reaches(low.length, settings.lowImportanceAtRiskCount)) {
    return {
      status: 'AT_RISK',
      reason: `drifted (${rule}): ${names([...high, ...low])} (high importance: ${names(high) || 'none'})`,
      batchCount,
    };
  }
  const skipped = considered.length - judged.length;
  return {
    status: 'PASSING',
    reason: `no feature drifted (${rule})${skipped ? `; ${skipped} with fewer than ${settings.minSampleSize} rows not judged` : ''}`,
    batchCount,
  };
}

const metricValue: Record<AccuracyMetricName, (m: AccuracyMetrics) => number | null> = {
  LOG_LOSS: (m) => m.logLoss,
  AUC: (m) => m.auc,
  ACCURACY: (m) => m.accuracy,
  F1: (m) => m.f1,
  TPR: (m) => m.tpr,
  PPV: (m) => m.ppv,
  RMSE: (m) => m.rmse,
  MAE: (m) => m.mae,
  R2: (m) => m.r2,
  MAPE: (m) => m.mape,
};

/** What the accuracy rule reads: the metrics, and the sums and target type its intervals come from. */
export interface AccuracyEvidence extends AccuracyMetrics {
  targetType: 'BINARY' | 'MULTICLASS' | 'REGRESSION';
  totals: AccuracyTotals | undefined;
}

const round = (value: number) => value.toPrecision(4);

/**
 * By the point: a threshold is reached when the value is at or past it. By the confidence interval:
 * only when the whole interval is (higher-is-better metrics: upper ≤ threshold; lower-is-better:
 * lower ≥ threshold), so a small batch whose point crossed by chance stays within thresholds. A
 * metric without an interval (LOG_LOSS, R2, MAPE: settings refuse the pair, but the metric may be
 * changed after judgeBy) is judged by its point, and the reason says so; MAE of one prediction
 * (no interval) is UNKNOWN.
 */
export function accuracyIndicator(settings: ResolvedHealthSettings['accuracy'], evidence: AccuracyEvidence, batchCount: number): Indicator {
  const value = metricValue[settings.metric](evidence);
  if (evidence.count === 0 || value === null)
    return { status: 'UNKNOWN', reason: `no predictions with actuals in the last ${settings.batchCount} batches`, batchCount };
  let shown = `${settings.metric} ${round(value)} over ${evidence.count} predictions with actuals`;
  let low = value;
  let high = value;
  if (settings.judgeBy === 'CONFIDENCE_INTERVAL') {
    const interval = accuracyIntervals(evidence.targetType, evidence.totals, settings.confidenceLevel, evidence).find(
      (i) => i.metric === settings.metric,
    );
    if (interval) {
      low = interval.lower;
      high = interval.upper;
      shown += `, ${round(settings.confidenceLevel * 100)}% interval [${round(low)}, ${round(high)}]`;
    } else if ((INTERVAL_METRICS as readonly string[]).includes(settings.metric)) {
      // MAE of a single prediction: no variance, so no interval to judge by.
      return { status: 'UNKNOWN', reason: `${shown}: too few for a confidence interval`, batchCount };
    } else {
      shown += ` (no confidence interval for ${settings.metric}: judged by the point)`;
    }
  }
  if (settings.atRiskThreshold === null && settings.failingThreshold === null) {
    return { status: 'UNKNOWN', reason: `${shown}; no accuracy thresholds are set`, batchCount };
  }
  const higher = HIGHER_IS_BETTER.has(settings.metric);
  const worse = (threshold: number | null) => threshold !== null && (higher ? high <= threshold : low >= threshold);
  const what = low === high ? '' : ' (the whole interval)';
  if (worse(settings.failingThreshold))
    return { status: 'FAILING', reason: `${shown} reached the failing threshold ${settings.failingThreshold}${what}`, batchCount };
  if (worse(settings.atRiskThreshold))
    return { status: 'AT_RISK', reason: `${shown} reached the at-risk threshold ${settings.atRiskThreshold}${what}`, batchCount };
  return { status: 'PASSING', reason: `${shown} within thresholds`, batchCount };
}
