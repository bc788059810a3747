import { PROBABILITY_BINS } from '../predictions/aggregates.js';
import { accuracyMetrics, aucFromBins } from './compute.js';
import type { AccuracyTotals, ProbabilitySums } from './sums.js';

// Confidence-based performance estimation (CBPE) for binary classification: what accuracy,
// precision, recall, F1 and ROC AUC to expect from predicted probabilities alone, valid when the
// model is calibrated (a prediction of p is positive with probability p). Pure functions over the
// 1,000-bin probability histograms (bin b holds [b/1000, (b + 1)/1000), p = 1 in the last bin):
// the histogram of every prediction (batch_column_stats.probability_bins) and the with-actuals
// histograms of the accuracy sums (positiveBins / negativeBins).

/** The five figures an estimate and a realised value are compared on; null when undefined (no prediction, no positive …). */
export interface PerformanceFigures {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auc: number | null;
}

/** Expected confusion counts (fractional). */
export interface ExpectedConfusion {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
}

/**
 * Expected confusion counts at `threshold` (a prediction p ≥ threshold is predicted positive, as at
 * ingest). With p_b the midpoint of bin b and n_b its count: TP = Σ_{positive bins} n_b·p_b,
 * FP = Σ n_b·(1 − p_b) over the same bins, FN = Σ_{negative bins} n_b·p_b, TN = Σ n_b·(1 − p_b).
 *
 * Bins above the threshold's bin t_b = min(999, floor(threshold·1000)) are positive and bins below it
 * negative, exactly as at ingest (floor(p·1000) is monotone in p). When the threshold is a bin edge
 * (threshold·1000 an integer in floating point: the default 0.5, 0.25, 0.731 …; not every
 * three-decimal threshold — 0.57·1000 = 569.99…, so p = 0.57 lands in bin 569) bin t_b is wholly
 * positive and every bin is on the side ingest puts its predictions on (but for a probability within
 * float rounding, ~1e-13, below the threshold, whose p·1000 rounds up to the edge). Otherwise bin t_b is split at
 * the threshold in proportion to its width above and below (its predictions taken as uniform inside
 * it), each part with its own midpoint.
 *
 * Error bound against the same sums over the exact probabilities: replacing each p by a midpoint
 * moves it by ≤ 0.0005, so each expected count is within 0.0005·n and expected accuracy within
 * 0.0005; a split threshold bin of n_t predictions adds at most (n_t / n)·(|2·threshold − 1| + 0.001)
 * to the accuracy's error (its predictions' expected correctness is p or 1 − p, either side).
 */
export function expectedConfusion(counts: readonly number[], threshold: number): ExpectedConfusion {
  const bins = counts.length;
  const result: ExpectedConfusion = { truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0 };
  const positive = (n: number, p: number) => {
    result.truePositives += n * p;
    result.falsePositives += n * (1 - p);
  };
  const negative = (n: number, p: number) => {
    result.falseNegatives += n * p;
    result.trueNegatives += n * (1 - p);
  };
  const scaled = threshold * bins;
  const thresholdBin = Math.min(bins - 1, Math.floor(scaled));
  for (let b = 0; b < bins; b++) {
    const n = counts[b] ?? 0;
    if (n === 0) continue;
    const mid = (b + 0.5) / bins;
    if (b > thresholdBin) positive(n, mid);
    else if (b < thresholdBin) negative(n, mid);
    else if (scaled <= b)
      positive(n, mid); // the threshold is this bin's lower edge
    else {
      const lower = b / bins;
      const upper = (b + 1) / bins;
      const above = Math.max(0, Math.min(1, (upper - threshold) * bins));
      if (above > 0) positive(n * above, (threshold + upper) / 2);
      if (above < 1) negative(n * (1 - above), (lower + Math.min(threshold, upper)) / 2);
    }
  }
  return result;
}

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

/** Accuracy, precision, recall and F1 of (expected) confusion counts; F1 = 2TP / (2TP + FP + FN). */
export function confusionFigures(c: ExpectedConfusion): Omit<PerformanceFigures, 'auc'> {
  const n = c.truePositives + c.falsePositives + c.falseNegatives + c.trueNegatives;
  return {
    accuracy: ratio(c.truePositives + c.trueNegatives, n),
    precision: ratio(c.truePositives, c.truePositives + c.falsePositives),
    recall: ratio(c.truePositives, c.truePositives + c.falseNegatives),
    f1: ratio(2 * c.truePositives, 2 * c.truePositives + c.falsePositives + c.falseNegatives),
  };
}

/** ROC AUC estimate: the AUC of the expected positives n_b·p_b against the expected negatives n_b·(1 − p_b) per bin. */
export function expectedAuc(counts: readonly number[]): number | null {
  const bins = counts.length;
  const positives = counts.map((n, b) => n * ((b + 0.5) / bins));
  const negatives = counts.map((n, b) => n * (1 - (b + 0.5) / bins));
  return aucFromBins(positives, negatives);
}

/** The label-free estimate from a probability histogram; every figure null for an empty histogram. */
export function expectedPerformance(counts: readonly number[] | null, threshold: number): PerformanceFigures {
  if (!counts || counts.every((n) => n === 0)) return { accuracy: null, precision: null, recall: null, f1: null, auc: null };
  return { ...confusionFigures(expectedConfusion(counts, threshold)), auc: expectedAuc(counts) };
}

/** The realised figures of the predictions with actuals (confusion counts at ingest's threshold, AUC from their bins). */
export function realisedPerformance(t: AccuracyTotals | undefined): PerformanceFigures {
  const m = accuracyMetrics('BINARY', t);
  return { accuracy: m.accuracy, precision: m.ppv, recall: m.tpr, f1: m.f1, auc: m.auc };
}

/** The probability histogram of the predictions with actuals: positive + negative actuals per bin. */
export function withActualsHistogram(t: AccuracyTotals | undefined): number[] | null {
  if (!t?.positiveBins || !t.negativeBins) return null;
  const negatives = t.negativeBins;
  return t.positiveBins.map((n, b) => n + (negatives[b] ?? 0));
}

export const CALIBRATION_BINS = 10;

export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Predictions with actuals whose probability is in [lower, upper) (the last bin includes 1). */
  count: number;
  /** Mean predicted probability (bin midpoints of the 1,000 bins: within 0.0005); null when empty. */
  meanPredicted: number | null;
  /** Share of those predictions whose actual is the positive class; null when empty. */
  observedPositiveRate: number | null;
}

export interface Calibration {
  /** Σ_k (count_k / N)·|observed_k − meanPredicted_k| over the 10 equal-width bins; null without actuals. */
  expectedCalibrationError: number | null;
  /** The largest |observed_k − meanPredicted_k| over the non-empty bins; null without actuals. */
  maxCalibrationGap: number | null;
  predictionsWithActuals: number;
  bins: CalibrationBin[];
}

/** Expected calibration error over CALIBRATION_BINS equal-width bins, from the with-actuals histograms. */
export function calibration(positiveBins: readonly number[] | null, negativeBins: readonly number[] | null): Calibration {
  const size = PROBABILITY_BINS / CALIBRATION_BINS;
  const result: Calibration = { expectedCalibrationError: null, maxCalibrationGap: null, predictionsWithActuals: 0, bins: [] };
  let weightedGap = 0;
  for (let k = 0; k < CALIBRATION_BINS; k++) {
    let count = 0;
    let positives = 0;
    let predicted = 0;
    for (let b = k * size; b < (k + 1) * size; b++) {
      const pos = positiveBins?.[b] ?? 0;
      const n = pos + (negativeBins?.[b] ?? 0);
      count += n;
      positives += pos;
      predicted += n * ((b + 0.5) / PROBABILITY_BINS);
    }
    const bin: CalibrationBin = {
      lower: k / CALIBRATION_BINS,
      upper: (k + 1) / CALIBRATION_BINS,
      count,
      meanPredicted: ratio(predicted, count),
      observedPositiveRate: ratio(positives, count),
    };
    result.bins.push(bin);
    result.predictionsWithActuals += count;
    if (count > 0) {
      const gap = Math.abs(bin.observedPositiveRate! - bin.meanPredicted!);
      weightedGap += count * gap;
      result.maxCalibrationGap = Math.max(result.maxCalibrationGap ?? 0, gap);
    }
  }
  if (result.predictionsWithActuals > 0) result.expectedCalibrationError = weightedGap / result.predictionsWithActuals;
  return result;
}

/** How far estimates were from what happened, over batches with actuals (each batch weighs the same). */
export interface EstimateTracking {
  /** Batches with at least one actual: the accuracy error is averaged over them. */
  batchesWithActuals: number;
  /** Mean over those batches of |estimated accuracy − realised accuracy|, both over the batch's predictions with actuals. */
  accuracyMeanAbsoluteError: number | null;
  /** The same for F1, over the batches where both are defined (f1BatchCount). */
  f1MeanAbsoluteError: number | null;
  f1BatchCount: number;
  /** The same for ROC AUC (both classes among the actuals), over aucBatchCount batches. */
  aucMeanAbsoluteError: number | null;
  aucBatchCount: number;
}

export function estimateTracking(batches: readonly { estimate: PerformanceFigures; realised: PerformanceFigures }[]): EstimateTracking {
  const mean = (key: keyof PerformanceFigures) => {
    let sum = 0;
    let count = 0;
    for (const { estimate, realised } of batches) {
      const e = estimate[key];
      const r = realised[key];
      if (e === null || r === null) continue;
      sum += Math.abs(e - r);
      count++;
    }
    return { error: count > 0 ? sum / count : null, count };
  };
  const accuracy = mean('accuracy');
  const f1 = mean('f1');
  const auc = mean('auc');
  return {
    batchesWithActuals: batches.length,
    accuracyMeanAbsoluteError: accuracy.error,
    f1MeanAbsoluteError: f1.error,
    f1BatchCount: f1.count,
    aucMeanAbsoluteError: auc.error,
    aucBatchCount: auc.count,
  };
}

/** Everything a PerformanceEstimate answers, for one batch or merged over a selection. */
export interface PerformanceEstimateShape {
  batchCount: number;
  predictionThreshold: number;
  /** Predictions the label-free estimate is over: all of them, with or without actuals. */
  rowCount: number;
  expected: PerformanceFigures;
  predictionsWithActuals: number;
  realised: PerformanceFigures;
  /** The label-free estimate over exactly the predictions with actuals (like with like against `realised`). */
  expectedWithActuals: PerformanceFigures;
  calibration: Calibration;
  tracking: EstimateTracking;
}

const addInto = (into: number[], counts: readonly number[] | null | undefined) => {
  if (counts) for (let b = 0; b < into.length; b++) into[b]! += counts[b] ?? 0;
};

/**
 * The estimate of a set of batches: `allPredictions` is their probability histogram (merged in SQL),
 * `accuracy` their accuracy sums one entry per batch (undefined: no actual), added here and used
 * per batch for the tracking.
 */
export function performanceEstimate(
  threshold: number,
  batchCount: number,
  allPredictions: ProbabilitySums | undefined,
  accuracy: readonly (AccuracyTotals | undefined)[],
): PerformanceEstimateShape {
  const positives = new Array<number>(PROBABILITY_BINS).fill(0);
  const negatives = new Array<number>(PROBABILITY_BINS).fill(0);
  const merged: AccuracyTotals[] = [];
  const tracked: { estimate: PerformanceFigures; realised: PerformanceFigures }[] = [];
  for (const sums of accuracy) {
    if (!sums || sums.count <= 0) continue;
    merged.push(sums);
    addInto(positives, sums.positiveBins);
    addInto(negatives, sums.negativeBins);
    tracked.push({ estimate: expectedPerformance(withActualsHistogram(sums), threshold), realised: realisedPerformance(sums) });
  }
  const totals = mergedAccuracy(merged, positives, negatives);
  const all = allPredictions?.bins ?? null;
  return {
    batchCount,
    predictionThreshold: threshold,
    rowCount: all ? all.reduce((a, b) => a + b, 0) : 0,
    expected: expectedPerformance(all, threshold),
    predictionsWithActuals: totals?.count ?? 0,
    realised: realisedPerformance(totals),
    expectedWithActuals: expectedPerformance(withActualsHistogram(totals), threshold),
    calibration: calibration(positives, negatives),
    tracking: estimateTracking(tracked),
  };
}

/** The binary counters of several batches' accuracy sums added, with the histograms already added. */
function mergedAccuracy(list: AccuracyTotals[], positiveBins: number[], negativeBins: number[]): AccuracyTotals | undefined {
  if (list.length === 0) return undefined;
  const sum = (key: 'count' | 'logLossSum' | 'truePositives' | 'falsePositives' | 'trueNegatives' | 'falseNegatives') =>
    list.reduce((total, a) => total + a[key], 0);
  return {
    ...list[0]!,
    count: sum('count'),
    logLossSum: sum('logLossSum'),
    truePositives: sum('truePositives'),
    falsePositives: sum('falsePositives'),
    trueNegatives: sum('trueNegatives'),
    falseNegatives: sum('falseNegatives'),
    positiveBins,
    negativeBins,
  };
}
