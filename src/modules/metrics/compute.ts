import type { BaselineColumn } from '../../db/tables.js';
import { type BinLabel, binLabels } from '../baselines/binning.js';
import { bucketValue, sketchQuantile } from '../predictions/sketch.js';
import { chiSquareHomogeneity } from './significance.js';
import type { AccuracyTotals, ColumnSums, ServiceSums } from './sums.js';

// Metrics from merged sums: pure functions, the same for a whole selection and for one batch.

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

export function executionTimeQuantile(sums: ServiceSums, q: number): number | null {
  return sketchQuantile(sums.buckets, q);
}

/** Requests slower than `thresholdMs`, read from the sketch (each bucket judged by its representative value, ±0.5%). */
export function slowRequests(sums: ServiceSums, thresholdMs: number): number {
  return sums.buckets.reduce((n, [bucket, count]) => (bucketValue(bucket) > thresholdMs ? n + count : n), 0);
}

export const serviceRates = (sums: ServiceSums) => ({
  userErrorRate: ratio(sums.userErrorCount, sums.requestCount),
  serverErrorRate: ratio(sums.serverErrorCount, sums.requestCount),
  meanExecutionTime: ratio(sums.executionTimeSum, sums.executionTimeCount),
});

export type DriftMetric = 'PSI' | 'JS_DIVERGENCE' | 'HELLINGER' | 'KL_DIVERGENCE';
/** Shares of exactly zero are replaced by this before PSI and KL (whose terms are undefined at 0). */
export const ZERO_SHARE = 0.0001;

function shares(counts: number[]): number[] | null {
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 0 ? counts.map((c) => c / total) : null;
}

/**
 * Distance of the current distribution from the baseline's over the same bins (plus missing).
 * PSI = Σ (a − e)·ln(a/e); KL = Σ a·ln(a/e) (current ‖ baseline); both after replacing zero shares
 * by 0.0001. JS divergence with log base 2 (0…1); Hellinger distance √(½ Σ (√a − √e)²) (0…1).
 */
export function driftScore(metric: DriftMetric, baselineCounts: number[], currentCounts: number[]): number | null {
  const e = shares(baselineCounts);
  const a = shares(currentCounts);
  if (!e || !a || e.length !== a.length) return null;
  let score = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    switch (metric) {
      case 'PSI': {
        const x = ai || ZERO_SHARE;
        const y = ei || ZERO_SHARE;
        score += (x - y) * Math.log(x / y);
        break;
      }
      case 'KL_DIVERGENCE': {
        const x = ai || ZERO_SHARE;
        const y = ei || ZERO_SHARE;
        score += x * Math.log(x / y);
        break;
      }
      case 'JS_DIVERGENCE': {
        const m = (ai + ei) / 2;
        if (ai > 0) score += 0.5 * ai * Math.log2(ai / m);
        if (ei > 0) score += 0.5 * ei * Math.log2(ei / m);
        break;
      }
      case 'HELLINGER':
        score += (Math.sqrt(ai) - Math.sqrt(ei)) ** 2;
        break;
    }
  }
  return metric === 'HELLINGER' ? Math.sqrt(score / 2) : score;
}

export interface BinShare extends BinLabel {
  count: number;
  share: number;
}

export function binShares(column: BaselineColumn, counts: number[]): BinShare[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return binLabels(column).map((bin, i) => ({ ...bin, count: counts[i] ?? 0, share: total ? (counts[i] ?? 0) / total : 0 }));
}

export interface ColumnDrift {
  name: string;
  importance: number | null;
  /** null when either side has no row binned by the current baseline. */
  score: number | null;
  /** Rows of the current selection binned by the current baseline. */
  sampleSize: number;
  /** Rows of the reference: the training baseline's, or the reference selection's binned rows. */
  referenceSampleSize: number;
  /** Chi-square test of homogeneity on the two histograms' counts (significance.ts); null when score is. */
  pValue: number | null;
  reference: BinShare[];
  current: BinShare[];
}

/**
 * One column's drift: `referenceCounts` are the training baseline's own counts or a reference
 * selection's merged bin counts (null: no row binned), over the baseline's bins.
 */
export function columnDrift(
  metric: DriftMetric,
  baseline: BaselineColumn,
  referenceCounts: number[] | null,
  sums: ColumnSums | undefined,
  importance: number | null,
): ColumnDrift {
  const bins = baseline.counts.length;
  const current = sums?.binCounts ?? new Array<number>(bins).fill(0);
  const reference = referenceCounts ?? new Array<number>(bins).fill(0);
  const sampleSize = sums?.binnedRowCount ?? 0;
  const referenceSampleSize = reference.reduce((a, b) => a + b, 0);
  const comparable = sampleSize > 0 && referenceSampleSize > 0;
  return {
    name: baseline.name,
    importance,
    score: comparable ? driftScore(metric, reference, current) : null,
    sampleSize,
    referenceSampleSize,
    pValue: comparable ? (chiSquareHomogeneity(current, reference)?.pValue ?? null) : null,
    reference: binShares(baseline, reference),
    current: binShares(baseline, current),
  };
}

/** ROC AUC from positives / negatives per probability bin (ties within a bin count half). */
export function aucFromBins(positives: number[], negatives: number[]): number | null {
  const P = positives.reduce((a, b) => a + b, 0);
  const N = negatives.reduce((a, b) => a + b, 0);
  if (P === 0 || N === 0) return null;
  let area = 0;
  let truePositivesAbove = 0;
  for (let i = positives.length - 1; i >= 0; i--) {
    area += negatives[i]! * (truePositivesAbove + positives[i]! / 2);
    truePositivesAbove += positives[i]!;
  }
  return area / (P * N);
}

export interface AccuracyMetrics {
  count: number;
  logLoss: number | null;
  auc: number | null;
  accuracy: number | null;
  f1: number | null;
  tpr: number | null;
  ppv: number | null;
  rmse: number | null;
  mae: number | null;
  r2: number | null;
  mape: number | null;
}

export function accuracyMetrics(targetType: 'BINARY' | 'MULTICLASS' | 'REGRESSION', t: AccuracyTotals | undefined): AccuracyMetrics {
  const none: AccuracyMetrics = {
    count: 0,
    logLoss: null,
    auc: null,
    accuracy: null,
    f1: null,
    tpr: null,
    ppv: null,
    rmse: null,
    mae: null,
    r2: null,
    mape: null,
  };
  if (!t || t.count <= 0) return none;
  const n = t.count;
  if (targetType === 'REGRESSION') {
    const totalSquares = t.sumSquaredActual - (t.sumActual * t.sumActual) / n;
    // Σy² − (Σy)²/n cancels: below its rounding error (up to ~4n·ε·Σy², doubled here) the actuals do not vary: no R².
    const roundingError = 8 * n * Number.EPSILON * t.sumSquaredActual;
    return {
      ...none,
      count: n,
      rmse: Math.sqrt(Math.max(0, t.sumSquaredError / n)),
      mae: t.sumAbsoluteError / n,
      r2: totalSquares > roundingError ? 1 - t.sumSquaredError / totalSquares : null,
      mape: t.nonZeroActualCount > 0 ? (100 * t.sumAbsolutePercentageError) / t.nonZeroActualCount : null,
    };
  }
  if (targetType === 'MULTICLASS') {
    const confusion = t.confusion ?? [];
    const classes = Math.round(Math.sqrt(confusion.length));
    let correct = 0;
    for (let i = 0; i < classes; i++) correct += confusion[i * classes + i] ?? 0;
    return { ...none, count: n, logLoss: t.logLossSum / n, accuracy: correct / n };
  }
  const tpr = ratio(t.truePositives, t.truePositives + t.falseNegatives);
  const ppv = ratio(t.truePositives, t.truePositives + t.falsePositives);
  return {
    ...none,
    count: n,
    logLoss: t.logLossSum / n,
    auc: t.positiveBins && t.negativeBins ? aucFromBins(t.positiveBins, t.negativeBins) : null,
    accuracy: (t.truePositives + t.trueNegatives) / n,
    tpr,
    ppv,
    // Precision and recall both 0 (no true positive): F1 is 0 (2TP / (2TP + FP + FN)), not undefined.
    f1: tpr !== null && ppv !== null ? (tpr + ppv > 0 ? (2 * tpr * ppv) / (tpr + ppv) : 0) : null,
  };
}

/** Predictions per class (share of all counted). */
export interface ClassCount {
  className: string;
  count: number;
  share: number;
}

/** What the predictions with actuals predicted next to what happened: the predicted-vs-actual series. */
export interface PredictedVsActual {
  meanActual: number | null;
  meanPredicted: number | null;
  actualClasses: ClassCount[];
  predictedClasses: ClassCount[];
}

function classCounts(classNames: readonly string[], counts: number[]): ClassCount[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return classNames.map((className, i) => ({ className, count: counts[i] ?? 0, share: total ? (counts[i] ?? 0) / total : 0 }));
}

/**
 * From the accuracy sums alone (no new aggregate): regression Σprediction = Σerror + Σactual, exact;
 * binary outcomes from the confusion counts at the threshold, the mean probability from the
 * probability bins' midpoints (each within half a bin, 0.0005, of the probability it holds);
 * multiclass from the confusion matrix (rows actual, columns predicted).
 */
export function predictedVsActual(
  targetType: 'BINARY' | 'MULTICLASS' | 'REGRESSION',
  classNames: readonly string[] | null,
  positiveClass: string | null,
  t: AccuracyTotals | undefined,
): PredictedVsActual {
  const n = t?.count ?? 0;
  const classes = classNames ?? [];
  const zeros = () => new Array<number>(classes.length).fill(0);
  if (targetType === 'REGRESSION') {
    return {
      meanActual: t && n > 0 ? t.sumActual / n : null,
      meanPredicted: t && n > 0 ? (t.sumError + t.sumActual) / n : null,
      actualClasses: [],
      predictedClasses: [],
    };
  }
  if (targetType === 'BINARY') {
    const actual = zeros();
    const predicted = zeros();
    const positive = classes.indexOf(positiveClass ?? '');
    const negative = positive === 0 ? 1 : 0;
    let meanPredicted: number | null = null;
    if (t && n > 0 && positive !== -1 && classes.length === 2) {
      actual[positive] = t.truePositives + t.falseNegatives;
      actual[negative] = t.trueNegatives + t.falsePositives;
      predicted[positive] = t.truePositives + t.falsePositives;
      predicted[negative] = t.trueNegatives + t.falseNegatives;
      if (t.positiveBins && t.negativeBins) {
        let sum = 0;
        for (let i = 0; i < t.positiveBins.length; i++)
          sum += ((i + 0.5) / t.positiveBins.length) * (t.positiveBins[i]! + (t.negativeBins[i] ?? 0));
        meanPredicted = sum / n;
      }
    }
    return {
      meanActual: t && n > 0 ? (t.truePositives + t.falseNegatives) / n : null,
      meanPredicted,
      actualClasses: classCounts(classes, actual),
      predictedClasses: classCounts(classes, predicted),
    };
  }
  const actual = zeros();
  const predicted = zeros();
  const k = classes.length;
  const confusion = t?.confusion ?? [];
  for (let a = 0; a < k; a++) {
    for (let p = 0; p < k; p++) {
      const count = confusion[a * k + p] ?? 0;
      actual[a]! += count;
      predicted[p]! += count;
    }
  }
  return {
    meanActual: null,
    meanPredicted: null,
    actualClasses: classCounts(classes, actual),
    predictedClasses: classCounts(classes, predicted),
  };
}

/** The q-quantile of a numeric column from its bin counts, interpolating linearly inside a bin (open end bins end at their edge). */
export function quantileFromBins(column: BaselineColumn, counts: number[], q: number): number | null {
  if (column.kind !== 'numeric') return null;
  const valueBins = counts.slice(0, column.edges.length + 1);
  const total = valueBins.reduce((a, b) => a + b, 0);
  if (total === 0 || column.edges.length === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < valueBins.length; i++) {
    const count = valueBins[i]!;
    if (count > 0 && seen + count >= rank) {
      const lower = column.edges[i - 1] ?? column.edges[0]!;
      const upper = column.edges[i] ?? column.edges.at(-1)!;
      // Clamped: lower + (upper − lower)·1 may round one ulp past upper, and the next bin starts at
      // upper, which would make the quantile decrease by an ulp as q grows.
      return Math.min(upper, Math.max(lower, lower + ((upper - lower) * (rank - seen)) / count));
    }
    seen += count;
  }
  return column.edges.at(-1)!;
}
