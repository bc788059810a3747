import chisquareQuantile from '@stdlib/stats-base-dists-chisquare-quantile';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { type AccuracyMetrics, accuracyMetrics } from './compute.js';
import type { AccuracyTotals } from './sums.js';

// Confidence intervals of accuracy metrics, from the merged sums alone (pure). Each treats the
// predictions with actuals of the selection as independent draws from the population the batch
// stands for; the interval is for that population's metric.

export const DEFAULT_CONFIDENCE_LEVEL = 0.95;
export const MIN_CONFIDENCE_LEVEL = 0.5;
export const MAX_CONFIDENCE_LEVEL = 0.999;

export const INTERVAL_METRICS = ['AUC', 'ACCURACY', 'F1', 'TPR', 'PPV', 'RMSE', 'MAE'] as const;
export type IntervalMetric = (typeof INTERVAL_METRICS)[number];

/** Metrics without an interval, and why: the sums hold no second moment of what they average. */
export const NO_INTERVAL = {
  LOG_LOSS: 'the sums hold Σ log loss but not Σ (log loss)², so its variance is unknown',
  R2: 'the sums hold no cross moment of errors and actuals, which the variance of R² needs',
  MAPE: 'the sums hold Σ |error|/|actual| but not its square, so its variance is unknown',
} as const;

export const INTERVAL_METHODS = ['WILSON', 'WILSON_JACCARD', 'HANLEY_MCNEIL', 'CHI_SQUARE', 'NORMAL'] as const;
export type IntervalMethod = (typeof INTERVAL_METHODS)[number];

export const INTERVAL_METHOD_DESCRIPTIONS: Record<IntervalMethod, string> = {
  WILSON: 'Wilson score interval of a binomial proportion (accuracy, TPR = TP/(TP+FN), PPV = TP/(TP+FP)).',
  WILSON_JACCARD:
    'F1: the Wilson interval of the Jaccard index J = TP/(TP+FP+FN) (given TP+FP+FN, TP is binomial with rate J), mapped through the increasing F1 = 2J/(1+J).',
  HANLEY_MCNEIL:
    'ROC AUC ± z·SE with the Hanley & McNeil (1982) standard error from AUC, P positives and N negatives (Q1 = A/(2−A), Q2 = 2A²/(1+A)), clipped to [0, 1].',
  CHI_SQUARE:
    'RMSE: assumes errors independent normal with mean 0, so Σe²/σ² is χ² with n degrees of freedom: [√(Σe²/χ²₁₋α/₂,ₙ), √(Σe²/χ²α/₂,ₙ)]. A biased model (mean error ≠ 0) makes it too narrow.',
  NORMAL:
    'MAE ± z·s/√n, s² = n/(n−1)·(Σe²/n − (Σ|e|/n)²) (both sums are stored): the central limit theorem for the mean absolute error, lower end clipped at 0.',
};

export interface MetricInterval {
  metric: IntervalMetric;
  value: number;
  lower: number;
  upper: number;
  level: number;
  method: IntervalMethod;
}

/** Two-sided critical value: Φ⁻¹(1 − α/2) for a confidence level 1 − α. */
export const criticalValue = (level: number) => normalQuantile(1 - (1 - level) / 2, 0, 1);

/** Wilson score interval for `successes` out of `trials` (trials > 0). */
export function wilson(successes: number, trials: number, z: number): [number, number] {
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Exactly 0 and 1 at the ends (the formula gives them up to rounding).
  return [successes <= 0 ? 0 : Math.max(0, center - half), successes >= trials ? 1 : Math.min(1, center + half)];
}

/** Hanley & McNeil (1982) standard error of a ROC AUC `a` from `positives` and `negatives`. */
export function hanleyMcNeilSe(a: number, positives: number, negatives: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  const variance = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives);
  return Math.sqrt(Math.max(0, variance));
}

/** [lower, upper] of the population RMSE from Σe² over n errors (normal, mean 0). */
export function rmseInterval(sumSquaredError: number, n: number, level: number): [number, number] {
  const alpha = 1 - level;
  return [Math.sqrt(sumSquaredError / chisquareQuantile(1 - alpha / 2, n)), Math.sqrt(sumSquaredError / chisquareQuantile(alpha / 2, n))];
}

/** [lower, upper] of the population MAE from Σ|e| and Σe² over n ≥ 2 errors. */
export function maeInterval(sumAbsoluteError: number, sumSquaredError: number, n: number, z: number): [number, number] {
  const mean = sumAbsoluteError / n;
  const variance = (Math.max(0, sumSquaredError / n - mean * mean) * n) / (n - 1);
  const half = z * Math.sqrt(variance / n);
  return [Math.max(0, mean - half), mean + half];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * The interval of every metric of the target type that has one and a value (regression: RMSE,
 * MAE (n ≥ 2); binary: ACCURACY, TPR, PPV, F1, AUC; multiclass: ACCURACY).
 */
export function accuracyIntervals(
  targetType: 'BINARY' | 'MULTICLASS' | 'REGRESSION',
  totals: AccuracyTotals | undefined,
  level: number = DEFAULT_CONFIDENCE_LEVEL,
  metrics: AccuracyMetrics = accuracyMetrics(targetType, totals),
): MetricInterval[] {
  if (!totals || totals.count <= 0) return [];
  const z = criticalValue(level);
  const n = totals.count;
  const list: MetricInterval[] = [];
  const add = (metric: IntervalMetric, value: number | null, method: IntervalMethod, bounds: () => [number, number] | null) => {
    if (value === null) return;
    const b = bounds();
    if (b) list.push({ metric, value, lower: b[0], upper: b[1], level, method });
  };
  if (targetType === 'REGRESSION') {
    add('RMSE', metrics.rmse, 'CHI_SQUARE', () => rmseInterval(totals.sumSquaredError, n, level));
    add('MAE', metrics.mae, 'NORMAL', () => (n >= 2 ? maeInterval(totals.sumAbsoluteError, totals.sumSquaredError, n, z) : null));
    return list;
  }
  if (targetType === 'MULTICLASS') {
    const confusion = totals.confusion ?? [];
    const classes = Math.round(Math.sqrt(confusion.length));
    let correct = 0;
    for (let i = 0; i < classes; i++) correct += confusion[i * classes + i] ?? 0;
    add('ACCURACY', metrics.accuracy, 'WILSON', () => wilson(correct, n, z));
    return list;
  }
  const { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = totals;
  add('ACCURACY', metrics.accuracy, 'WILSON', () => wilson(tp + tn, n, z));
  add('TPR', metrics.tpr, 'WILSON', () => wilson(tp, tp + fn, z));
  add('PPV', metrics.ppv, 'WILSON', () => wilson(tp, tp + fp, z));
  add('F1', metrics.f1, 'WILSON_JACCARD', () => {
    const m = tp + fp + fn;
    if (m <= 0) return null;
    const [lower, upper] = wilson(tp, m, z);
    return [(2 * lower) / (1 + lower), (2 * upper) / (1 + upper)];
  });
  add('AUC', metrics.auc, 'HANLEY_MCNEIL', () => {
    const a = metrics.auc!;
    const se = hanleyMcNeilSe(a, sum(totals.positiveBins ?? []), sum(totals.negativeBins ?? []));
    return [Math.max(0, a - z * se), Math.min(1, a + z * se)];
  });
  return list;
}

export function isValidConfidenceLevel(level: number): boolean {
  return Number.isFinite(level) && level >= MIN_CONFIDENCE_LEVEL && level <= MAX_CONFIDENCE_LEVEL;
}

export const CONFIDENCE_LEVEL_RULE = `must be between ${MIN_CONFIDENCE_LEVEL} and ${MAX_CONFIDENCE_LEVEL}`;
