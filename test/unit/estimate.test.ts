import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aucFromBins } from '../../src/modules/metrics/compute.js';
import {
  calibration,
  confusionFigures,
  estimateTracking,
  expectedConfusion,
  expectedPerformance,
  performanceEstimate,
} from '../../src/modules/metrics/estimate.js';
import { addAccuracy, emptyAccuracy, PROBABILITY_BINS, probabilityBin } from '../../src/modules/predictions/aggregates.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';

// Properties of the label-free (CBPE) estimate against naive sums over the exact probabilities, and
// of the calibration error against its definition. Histograms are built with ingest's own binning.

const RUNS = { numRuns: 200 };
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const histogram = (probabilities: number[]) => {
  const counts = new Array<number>(PROBABILITY_BINS).fill(0);
  for (const p of probabilities) counts[probabilityBin(p)]!++;
  return counts;
};

/** Σ over the exact probabilities, with ingest's rule (p ≥ threshold is positive). */
function naiveConfusion(probabilities: number[], threshold: number) {
  const c = { truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0 };
  for (const p of probabilities) {
    if (p >= threshold) {
      c.truePositives += p;
      c.falsePositives += 1 - p;
    } else {
      c.falseNegatives += p;
      c.trueNegatives += 1 - p;
    }
  }
  return c;
}

const probability = fc.double({ min: 0, max: 1, noNaN: true });
const probabilities = fc.array(probability, { minLength: 1, maxLength: 300 });
/** Thresholds on a bin edge: k/1000 whose product with 1000 is k again in floating point (not 0.57: 569.99…). */
const edgeThreshold = fc
  .integer({ min: 0, max: 1000 })
  .map((k) => k / 1000)
  .filter((t) => Number.isInteger(t * 1000));

describe('expected confusion counts', () => {
  it('are within 0.0005 per prediction of the exact sums when the threshold is a bin edge', () => {
    fc.assert(
      // A probability within rounding below the edge (p·1000 rounds up to it) lands in the edge's
      // bin though p < threshold: left out here, as the bound's statement says.
      fc.property(probabilities, edgeThreshold, (drawn, t) => {
        const ps = drawn.filter((p) => Math.abs(p - t) > 1e-9);
        if (ps.length === 0) return;
        const estimate = expectedConfusion(histogram(ps), t);
        const exact = naiveConfusion(ps, t);
        for (const key of Object.keys(exact) as (keyof typeof exact)[]) {
          expect(Math.abs(estimate[key] - exact[key])).toBeLessThanOrEqual(0.0005 * ps.length + 1e-9);
        }
        // Accuracy within 0.0005.
        const accuracy = confusionFigures(estimate).accuracy!;
        const exactAccuracy = (exact.truePositives + exact.trueNegatives) / ps.length;
        expect(Math.abs(accuracy - exactAccuracy)).toBeLessThanOrEqual(0.0005 + 1e-12);
      }),
      RUNS,
    );
  });

  it('keep the stated bound when the threshold falls inside a bin', () => {
    fc.assert(
      fc.property(probabilities, probability, (ps, t) => {
        const counts = histogram(ps);
        const estimate = expectedConfusion(counts, t);
        const exact = naiveConfusion(ps, t);
        const inThresholdBin = counts[Math.min(PROBABILITY_BINS - 1, Math.floor(t * PROBABILITY_BINS))]!;
        const bound = 0.0005 + (inThresholdBin / ps.length) * (Math.abs(2 * t - 1) + 0.001);
        const accuracy = confusionFigures(estimate).accuracy!;
        expect(Math.abs(accuracy - (exact.truePositives + exact.trueNegatives) / ps.length)).toBeLessThanOrEqual(bound + 1e-12);
        // The four counts always add up to the predictions.
        expect(sum(Object.values(estimate))).toBeCloseTo(ps.length, 9);
      }),
      RUNS,
    );
  });

  it('put a prediction exactly at an edge threshold on the positive side, as ingest does', () => {
    for (const t of [0, 0.25, 0.5, 0.731, 1]) {
      const c = expectedConfusion(histogram([t]), t);
      expect(c.truePositives + c.falsePositives).toBeCloseTo(t === 1 ? 0 : 1, 12); // p = 1 shares the last bin with [0.999, 1)
    }
  });
});

describe('expected figures', () => {
  it('are all null for an empty histogram', () => {
    expect(expectedPerformance(new Array<number>(PROBABILITY_BINS).fill(0), 0.5)).toEqual({
      accuracy: null,
      precision: null,
      recall: null,
      f1: null,
      auc: null,
    });
    expect(expectedPerformance(null, 0.5).accuracy).toBeNull();
  });

  it('F1 is 2TP / (2TP + FP + FN) and the harmonic mean of precision and recall', () => {
    fc.assert(
      fc.property(probabilities, edgeThreshold, (ps, t) => {
        const c = expectedConfusion(histogram(ps), t);
        const f = confusionFigures(c);
        if (f.precision !== null && f.recall !== null && f.precision + f.recall > 0) {
          expect(f.f1!).toBeCloseTo((2 * f.precision * f.recall) / (f.precision + f.recall), 9);
        }
      }),
      RUNS,
    );
  });

  it('the AUC estimate is the AUC of expected positives n·p against expected negatives n·(1 − p)', () => {
    fc.assert(
      fc.property(probabilities, (ps) => {
        const counts = histogram(ps);
        const mid = (b: number) => (b + 0.5) / PROBABILITY_BINS;
        const direct = aucFromBins(
          counts.map((n, b) => n * mid(b)),
          counts.map((n, b) => n * (1 - mid(b))),
        );
        expect(expectedPerformance(counts, 0.5).auc).toBe(direct);
        // Over two or more distinct bins it is above 0.5 (higher scores are more likely positive).
        if (counts.filter((n) => n > 0).length >= 2) expect(direct!).toBeGreaterThan(0.5);
      }),
      RUNS,
    );
  });

  it('match a calibrated model on average: a large sample of y ~ Bernoulli(p) realises about the expected accuracy', () => {
    // 200,000 draws: the realised accuracy's standard deviation is ≤ 0.5/√n ≈ 0.0011; 0.005 is > 4σ.
    let state = 7;
    const random = () => {
      state = (state * 1664525 + 1013904223) % 2 ** 32;
      return state / 2 ** 32;
    };
    const shape: TargetShape = {
      targetType: 'BINARY',
      classNames: ['no', 'yes'],
      positiveClass: 'yes',
      predictionThreshold: 0.5,
      features: [],
    };
    const sums = emptyAccuracy(shape);
    const ps: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const p = random();
      ps.push(p);
      addAccuracy(
        sums,
        shape,
        { prediction: p, probabilities: null, predictedLabel: null },
        { value: null, label: random() < p ? 'yes' : 'no' },
        1,
      );
    }
    const estimate = performanceEstimate(0.5, 1, { rowCount: ps.length, bins: histogram(ps) }, [sums]);
    expect(Math.abs(estimate.expected.accuracy! - estimate.realised.accuracy!)).toBeLessThan(0.005);
    expect(Math.abs(estimate.expected.f1! - estimate.realised.f1!)).toBeLessThan(0.005);
    expect(Math.abs(estimate.expected.auc! - estimate.realised.auc!)).toBeLessThan(0.005);
    // Uniform p, y ~ Bernoulli(p): accuracy E[max(p, 1 − p)] = 0.75, AUC 5/6.
    expect(estimate.expected.accuracy!).toBeCloseTo(0.75, 2);
    expect(estimate.expected.auc!).toBeCloseTo(5 / 6, 2);
    expect(estimate.calibration.expectedCalibrationError!).toBeLessThan(0.01);
    expect(estimate.tracking).toMatchObject({ batchesWithActuals: 1, f1BatchCount: 1, aucBatchCount: 1 });
    expect(estimate.tracking.accuracyMeanAbsoluteError!).toBeLessThan(0.005);
  });
});

describe('calibration error', () => {
  it('equals Σ (n_k/N)·|observed_k − mean_k| over 10 equal-width bins, and the max gap the largest term', () => {
    const pair = fc.tuple(probability, fc.boolean());
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 300 }), (pairs) => {
        const positive = new Array<number>(PROBABILITY_BINS).fill(0);
        const negative = new Array<number>(PROBABILITY_BINS).fill(0);
        for (const [p, y] of pairs) (y ? positive : negative)[probabilityBin(p)]!++;
        const result = calibration(positive, negative);
        // Naive: group the (binned) predictions by tenth; mean of their bin midpoints.
        const groups = Array.from({ length: 10 }, () => ({ n: 0, y: 0, p: 0 }));
        for (const [p, y] of pairs) {
          const b = probabilityBin(p);
          const g = groups[Math.floor(b / 100)]!;
          g.n++;
          g.y += y ? 1 : 0;
          g.p += (b + 0.5) / 1000;
        }
        const gaps = groups.filter((g) => g.n > 0).map((g) => ({ n: g.n, gap: Math.abs(g.y / g.n - g.p / g.n) }));
        expect(result.predictionsWithActuals).toBe(pairs.length);
        expect(result.expectedCalibrationError!).toBeCloseTo(sum(gaps.map((g) => g.n * g.gap)) / pairs.length, 9);
        expect(result.maxCalibrationGap!).toBeCloseTo(Math.max(...gaps.map((g) => g.gap)), 9);
        expect(result.bins.map((b) => b.count)).toEqual(groups.map((g) => g.n));
        expect(result.bins[3]).toMatchObject({ lower: 0.3, upper: 0.4 });
      }),
      RUNS,
    );
  });

  it('is null without actuals', () => {
    const result = calibration(null, null);
    expect(result).toMatchObject({ expectedCalibrationError: null, maxCalibrationGap: null, predictionsWithActuals: 0 });
    expect(result.bins.every((b) => b.count === 0 && b.meanPredicted === null)).toBe(true);
  });
});

describe('estimate tracking', () => {
  it('averages |estimate − realised| per batch, each figure over the batches where both are defined', () => {
    const figures = (accuracy: number | null, f1: number | null, auc: number | null) => ({
      accuracy,
      precision: null,
      recall: null,
      f1,
      auc,
    });
    const tracking = estimateTracking([
      { estimate: figures(0.8, 0.7, 0.9), realised: figures(0.7, 0.5, null) },
      { estimate: figures(0.6, null, 0.8), realised: figures(0.9, 0.4, 0.7) },
    ]);
    expect(tracking.batchesWithActuals).toBe(2);
    expect(tracking.accuracyMeanAbsoluteError).toBeCloseTo(0.2, 12);
    expect(tracking.f1MeanAbsoluteError).toBeCloseTo(0.2, 12);
    expect(tracking.f1BatchCount).toBe(1);
    expect(tracking.aucMeanAbsoluteError).toBeCloseTo(0.1, 12);
    expect(tracking.aucBatchCount).toBe(1);
    expect(estimateTracking([])).toMatchObject({ batchesWithActuals: 0, accuracyMeanAbsoluteError: null });
  });
});
