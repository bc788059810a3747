import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CategoricalBaselineColumn, NumericBaselineColumn } from '../../src/db/tables.js';
import { binLabels } from '../../src/modules/baselines/binning.js';
import {
  accuracyMetrics,
  aucFromBins,
  binShares,
  columnDrift,
  type DriftMetric,
  driftScore,
  executionTimeQuantile,
  quantileFromBins,
  serviceRates,
  slowRequests,
  ZERO_SHARE,
} from '../../src/modules/metrics/compute.js';
import { type ColumnSums, mergeServiceSums, type ServiceSums } from '../../src/modules/metrics/sums.js';
import { type AccuracySums, addAccuracy, emptyAccuracy, PROBABILITY_BINS } from '../../src/modules/predictions/aggregates.js';
import { SKETCH_RELATIVE_ACCURACY, sketchBucket } from '../../src/modules/predictions/sketch.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';

// Property tests of the metrics computed from merged sums, against naive implementations working
// on the raw histograms / predictions. Sums are built by the real ingest function (addAccuracy).

const RUNS = { numRuns: 200 };

/** |actual − expected| ≤ rel·|expected| + abs (±Infinity: equal; sums of huge values overflow alike). */
function expectClose(actual: number | null, expected: number, rel = 1e-9, abs = 1e-12): void {
  expect(actual).not.toBeNull();
  if (!Number.isFinite(expected)) return void expect(actual).toBe(expected);
  expect(Math.abs(actual! - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// Drift

/** Bin counts with many empty bins (to exercise the zero-share handling). */
const count = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 100_000 }));
const histogramPair = fc
  .integer({ min: 1, max: 20 })
  .chain((bins) => fc.tuple(fc.array(count, { minLength: bins, maxLength: bins }), fc.array(count, { minLength: bins, maxLength: bins })))
  .filter(([e, a]) => sum(e) > 0 && sum(a) > 0);

const shares = (counts: number[]) => counts.map((c) => c / sum(counts));
/** compute.ts: "Shares of exactly zero are replaced by this before PSI and KL" (and not renormalized). */
const withoutZeros = (values: number[]) => values.map((share) => (share === 0 ? ZERO_SHARE : share));

function naivePsi(baseline: number[], current: number[]): number {
  const e = withoutZeros(shares(baseline));
  const a = withoutZeros(shares(current));
  let total = 0;
  for (let i = 0; i < a.length; i++) total += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return total;
}

/** KL(current ‖ baseline), after the zero-share replacement. */
function naiveKl(baseline: number[], current: number[]): number {
  const e = withoutZeros(shares(baseline));
  const a = withoutZeros(shares(current));
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i]! * Math.log(a[i]! / e[i]!);
  return total;
}

/** Shannon entropy in bits, 0·log 0 = 0. */
const entropy = (p: number[]) => -sum(p.map((x) => (x > 0 ? x * Math.log2(x) : 0)));

/** Jensen–Shannon divergence in its entropy form: H(M) − (H(A) + H(E)) / 2, M the mixture. */
function naiveJs(baseline: number[], current: number[]): number {
  const e = shares(baseline);
  const a = shares(current);
  const m = a.map((x, i) => (x + e[i]!) / 2);
  return entropy(m) - (entropy(a) + entropy(e)) / 2;
}

/** Squared Hellinger distance in its Bhattacharyya form: 1 − Σ √(a·e). */
function naiveHellingerSquared(baseline: number[], current: number[]): number {
  const e = shares(baseline);
  const a = shares(current);
  return 1 - sum(a.map((x, i) => Math.sqrt(x * e[i]!)));
}

const driftMetric = fc.constantFrom<DriftMetric>('PSI', 'JS_DIVERGENCE', 'HELLINGER', 'KL_DIVERGENCE');

describe('PSI', () => {
  it('equals the naive sum of (a − e)·ln(a/e) over bins, zero shares replaced by ZERO_SHARE', () => {
    fc.assert(
      fc.property(histogramPair, ([e, a]) => expectClose(driftScore('PSI', e, a), naivePsi(e, a))),
      RUNS,
    );
  });

  it('is non-negative, symmetric, and the sum of the two KL divergences', () => {
    fc.assert(
      fc.property(histogramPair, ([e, a]) => {
        const psi = driftScore('PSI', e, a)!;
        expect(psi).toBeGreaterThanOrEqual(0);
        expectClose(driftScore('PSI', a, e), psi);
        expectClose(driftScore('KL_DIVERGENCE', e, a)! + driftScore('KL_DIVERGENCE', a, e)!, psi, 1e-9, 1e-12);
      }),
      RUNS,
    );
  });
});

describe('KL divergence', () => {
  it('equals the naive Σ a·ln(a/e) (current ‖ baseline), zero shares replaced by ZERO_SHARE', () => {
    fc.assert(
      fc.property(histogramPair, ([e, a]) => expectClose(driftScore('KL_DIVERGENCE', e, a), naiveKl(e, a))),
      RUNS,
    );
  });

  it('is non-negative when no share is zero (Gibbs inequality)', () => {
    fc.assert(
      fc.property(
        histogramPair.filter(([e, a]) => [...e, ...a].every((c) => c > 0)),
        ([e, a]) => driftScore('KL_DIVERGENCE', e, a)! >= -1e-15,
      ),
      RUNS,
    );
  });
});

describe('JS divergence', () => {
  it('equals the entropy form H(M) − (H(A) + H(E))/2 in bits, lies in [0, 1] and is symmetric', () => {
    fc.assert(
      fc.property(histogramPair, ([e, a]) => {
        const js = driftScore('JS_DIVERGENCE', e, a)!;
        expectClose(js, naiveJs(e, a), 1e-9, 1e-12);
        expect(js).toBeGreaterThanOrEqual(-1e-15);
        expect(js).toBeLessThanOrEqual(1 + 1e-12);
        expectClose(driftScore('JS_DIVERGENCE', a, e), js, 1e-9, 1e-15);
      }),
      RUNS,
    );
  });
});

describe('Hellinger distance', () => {
  it('squared equals the Bhattacharyya form 1 − Σ √(a·e), lies in [0, 1] and is symmetric', () => {
    fc.assert(
      fc.property(histogramPair, ([e, a]) => {
        const h = driftScore('HELLINGER', e, a)!;
        expect(Math.abs(h * h - naiveHellingerSquared(e, a))).toBeLessThanOrEqual(1e-12);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(1 + 1e-12);
        expectClose(driftScore('HELLINGER', a, e), h, 1e-9, 1e-15);
      }),
      RUNS,
    );
  });
});

describe('driftScore (every metric)', () => {
  it('is 0 for proportional histograms, and 1 (JS, Hellinger) for disjoint ones', () => {
    fc.assert(
      fc.property(driftMetric, histogramPair, fc.integer({ min: 2, max: 50 }), (metric, [e], factor) => {
        expect(
          Math.abs(
            driftScore(
              metric,
              e,
              e.map((c) => c * factor),
            )!,
          ),
        ).toBeLessThanOrEqual(1e-12);
        if (metric === 'JS_DIVERGENCE' || metric === 'HELLINGER') {
          const disjoint = [...e.map(() => 0), ...e];
          expectClose(driftScore(metric, [...e, ...e.map(() => 0)], disjoint), 1, 1e-12);
        }
      }),
      RUNS,
    );
  });

  it('depends only on shares: scaling either histogram leaves it unchanged', () => {
    fc.assert(
      fc.property(driftMetric, histogramPair, fc.integer({ min: 2, max: 1000 }), (metric, [e, a], factor) => {
        const score = driftScore(metric, e, a)!;
        expectClose(
          driftScore(
            metric,
            e.map((c) => c * factor),
            a,
          ),
          score,
          1e-9,
          1e-12,
        );
        expectClose(
          driftScore(
            metric,
            e,
            a.map((c) => c * factor),
          ),
          score,
          1e-9,
          1e-12,
        );
      }),
      RUNS,
    );
  });

  it('is null when either histogram is empty or the bin counts differ in length', () => {
    fc.assert(
      fc.property(driftMetric, histogramPair, count, (metric, [e, a], extra) => {
        expect(
          driftScore(
            metric,
            e.map(() => 0),
            a,
          ),
        ).toBeNull();
        expect(
          driftScore(
            metric,
            e,
            a.map(() => 0),
          ),
        ).toBeNull();
        expect(driftScore(metric, e, [...a, extra])).toBeNull();
        expect(driftScore(metric, [], [])).toBeNull();
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bin shares and column drift

const numericColumn = fc.uniqueArray(fc.integer({ min: -10_000, max: 10_000 }), { minLength: 0, maxLength: 10 }).chain((ints) => {
  const edges = ints.sort((a, b) => a - b).map((i) => i / 10);
  return fc
    .array(count, { minLength: edges.length + 2, maxLength: edges.length + 2 })
    .map((counts): NumericBaselineColumn => ({ kind: 'numeric', name: 'x', edges, mean: null, std: null, counts }));
});
const categoricalColumn = fc
  .uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 8 })
  .chain((values) =>
    fc
      .array(count, { minLength: values.length + 2, maxLength: values.length + 2 })
      .map((counts): CategoricalBaselineColumn => ({ kind: 'categorical', name: 'c', values, counts })),
  );
const anyColumn = fc.oneof(numericColumn, categoricalColumn);

describe('binShares', () => {
  // Counts as stored: one per bin, or fewer (absent trailing bins count 0).
  const columnAndCounts = anyColumn.chain((column) =>
    fc.record({ column: fc.constant(column), counts: fc.array(count, { maxLength: column.counts.length }) }),
  );

  it('gives one entry per bin label, with its count (0 when absent) and count / total, shares summing to 1', () => {
    fc.assert(
      fc.property(columnAndCounts, ({ column, counts }) => {
        const result = binShares(column, counts);
        const labels = binLabels(column);
        expect(result).toHaveLength(labels.length);
        const total = sum(counts);
        result.forEach((bin, i) => {
          expect({ label: bin.label, lower: bin.lower, upper: bin.upper }).toEqual(labels[i]);
          expect(bin.count).toBe(counts[i] ?? 0);
          expect(bin.share).toBe(total ? (counts[i] ?? 0) / total : 0);
        });
        if (total > 0) expectClose(sum(result.map((bin) => bin.share)), 1, 1e-12);
      }),
      RUNS,
    );
  });
});

describe('columnDrift', () => {
  const columnSums = (binCounts: number[] | null, binnedRowCount: number): ColumnSums => ({
    column: 'x',
    isPrediction: false,
    binCounts,
    binnedRowCount,
    rowCount: binnedRowCount,
    missingCount: 0,
    sum: 0,
    sumOfSquares: 0,
  });

  it('scores the current bin counts against the baseline counts, with the binned row count as sample size', () => {
    fc.assert(
      fc.property(
        driftMetric,
        anyColumn.chain((column) =>
          fc.record({
            column: fc.constant(column),
            current: fc.array(count, { minLength: column.counts.length, maxLength: column.counts.length }),
          }),
        ),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        (metric, { column, current }, importance) => {
          const binned = sum(current);
          const drift = columnDrift(metric, column, column.counts, columnSums(current, binned), importance);
          expect(drift.name).toBe(column.name);
          expect(drift.importance).toBe(importance);
          expect(drift.sampleSize).toBe(binned);
          expect(drift.referenceSampleSize).toBe(sum(column.counts));
          expect(drift.score).toBe(binned > 0 && sum(column.counts) > 0 ? driftScore(metric, column.counts, current) : null);
          expect(drift.pValue === null).toBe(drift.score === null);
          expect(drift.reference).toEqual(binShares(column, column.counts));
          expect(drift.current).toEqual(binShares(column, current));
        },
      ),
      RUNS,
    );
  });

  it('has no score and empty current bins without sums', () => {
    fc.assert(
      fc.property(driftMetric, anyColumn, (metric, column) => {
        const drift = columnDrift(metric, column, column.counts, undefined, null);
        expect(drift.score).toBeNull();
        expect(drift.sampleSize).toBe(0);
        expect(drift.current.map((bin) => [bin.count, bin.share])).toEqual(column.counts.map(() => [0, 0]));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// ROC AUC

/** Exact ROC AUC by counting (positive, negative) pairs: 1 when the positive scores higher, ½ on ties. */
function pairCountAuc(positiveScores: number[], negativeScores: number[]): number | null {
  if (positiveScores.length === 0 || negativeScores.length === 0) return null;
  let wins = 0;
  for (const p of positiveScores) for (const n of negativeScores) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positiveScores.length * negativeScores.length);
}

/** A histogram as the list of its bins' indices, one per count. */
const expand = (histogram: number[]) => histogram.flatMap((c, bin) => new Array<number>(c).fill(bin));

const smallHistogramPair = fc
  .integer({ min: 1, max: 20 })
  .chain((bins) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 8 }), { minLength: bins, maxLength: bins }),
      fc.array(fc.integer({ min: 0, max: 8 }), { minLength: bins, maxLength: bins }),
    ),
  );

describe('aucFromBins', () => {
  it('equals the exact ROC AUC of the histograms by pair counting, ties within a bin as ½', () => {
    fc.assert(
      fc.property(smallHistogramPair, ([positives, negatives]) => {
        const exact = pairCountAuc(expand(positives), expand(negatives));
        if (exact === null) expect(aucFromBins(positives, negatives)).toBeNull();
        else expectClose(aucFromBins(positives, negatives), exact, 1e-12);
      }),
      RUNS,
    );
  });

  it('is complementary: swapping positives and negatives gives 1 − AUC', () => {
    fc.assert(
      fc.property(
        smallHistogramPair.filter(([p, n]) => sum(p) > 0 && sum(n) > 0),
        ([positives, negatives]) => expectClose(aucFromBins(negatives, positives), 1 - aucFromBins(positives, negatives)!, 1e-12, 1e-12),
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Accuracy, from sums built by the ingest path's addAccuracy

const CLIP = 1e-15;
const clip = (p: number) => Math.min(Math.max(p, CLIP), 1 - CLIP);

const binaryShape = (threshold: number): TargetShape => ({
  targetType: 'BINARY',
  classNames: ['no', 'yes'],
  positiveClass: 'yes',
  predictionThreshold: threshold,
  features: [],
});

interface BinaryPair {
  p: number;
  positive: boolean;
}

function binarySums(shape: TargetShape, pairs: BinaryPair[]): AccuracySums {
  const sums = emptyAccuracy(shape);
  for (const { p, positive } of pairs) {
    const label = p >= shape.predictionThreshold ? 'yes' : 'no';
    addAccuracy(
      sums,
      shape,
      { prediction: p, probabilities: [1 - p, p], predictedLabel: label },
      { value: null, label: positive ? 'yes' : 'no' },
      1,
    );
  }
  return sums;
}

const threshold = fc.oneof(fc.constantFrom(0.5, 0.4, 0, 1), fc.double({ min: 0, max: 1, noNaN: true }));
const binaryCase = threshold.chain((t) =>
  fc.record({
    threshold: fc.constant(t),
    pairs: fc.array(
      fc.record({
        p: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, t, 0.5, 1e-16, 1 - 1e-16, 0.0005, 0.9995)),
        positive: fc.boolean(),
      }),
      { minLength: 1, maxLength: 150 },
    ),
  }),
);

describe('accuracyMetrics (BINARY)', () => {
  it('log loss, accuracy, TPR and PPV equal their naive values over the raw predictions', () => {
    fc.assert(
      fc.property(binaryCase, ({ threshold: t, pairs }) => {
        const m = accuracyMetrics('BINARY', binarySums(binaryShape(t), pairs));
        const tp = pairs.filter(({ p, positive }) => positive && p >= t).length;
        const fp = pairs.filter(({ p, positive }) => !positive && p >= t).length;
        const fn = pairs.filter(({ p, positive }) => positive && p < t).length;
        const tn = pairs.filter(({ p, positive }) => !positive && p < t).length;
        expect(m.count).toBe(pairs.length);
        expectClose(m.logLoss, sum(pairs.map(({ p, positive }) => -Math.log(positive ? clip(p) : 1 - clip(p)))) / pairs.length);
        expectClose(m.accuracy, (tp + tn) / pairs.length, 1e-15);
        if (tp + fn > 0) expectClose(m.tpr, tp / (tp + fn), 1e-15);
        else expect(m.tpr).toBeNull();
        if (tp + fp > 0) expectClose(m.ppv, tp / (tp + fp), 1e-15);
        else expect(m.ppv).toBeNull();
        expect([m.rmse, m.mae, m.r2, m.mape]).toEqual([null, null, null, null]);
      }),
      RUNS,
    );
  });

  it('F1 is 2·TP / (2·TP + FP + FN) whenever precision and recall are both defined, else null', () => {
    fc.assert(
      fc.property(binaryCase, ({ threshold: t, pairs }) => {
        const m = accuracyMetrics('BINARY', binarySums(binaryShape(t), pairs));
        const tp = pairs.filter(({ p, positive }) => positive && p >= t).length;
        const fp = pairs.filter(({ p, positive }) => !positive && p >= t).length;
        const fn = pairs.filter(({ p, positive }) => positive && p < t).length;
        if (tp + fn > 0 && tp + fp > 0) expectClose(m.f1, (2 * tp) / (2 * tp + fp + fn), 1e-12);
        else expect(m.f1).toBeNull();
      }),
      RUNS,
    );
  });

  it('AUC from the probability bins is within ½ · (same-bin pairs) / (P·N) of the exact AUC of the raw scores', () => {
    fc.assert(
      fc.property(binaryCase, ({ threshold: t, pairs }) => {
        const m = accuracyMetrics('BINARY', binarySums(binaryShape(t), pairs));
        const positives = pairs.filter((pair) => pair.positive).map(({ p }) => p);
        const negatives = pairs.filter((pair) => !pair.positive).map(({ p }) => p);
        const exact = pairCountAuc(positives, negatives);
        if (exact === null) {
          expect(m.auc).toBeNull();
          return;
        }
        const bin = (p: number) => Math.min(PROBABILITY_BINS - 1, Math.floor(p * PROBABILITY_BINS));
        let sameBin = 0;
        for (const p of positives) for (const n of negatives) if (bin(p) === bin(n) && p !== n) sameBin++;
        expect(m.auc).not.toBeNull();
        expect(Math.abs(m.auc! - exact)).toBeLessThanOrEqual((0.5 * sameBin) / (positives.length * negatives.length) + 1e-12);
      }),
      RUNS,
    );
  });

  it('removing pairs (sign −1, a replaced actual) gives the sums of the pairs kept', () => {
    fc.assert(
      fc.property(
        binaryCase.chain((c) =>
          fc.record({ c: fc.constant(c), removed: fc.array(fc.boolean(), { minLength: c.pairs.length, maxLength: c.pairs.length }) }),
        ),
        ({ c: { threshold: t, pairs }, removed }) => {
          const shape = binaryShape(t);
          const sums = binarySums(shape, pairs);
          pairs.forEach(({ p, positive }, i) => {
            if (removed[i]) {
              const predicted = { prediction: p, probabilities: [1 - p, p], predictedLabel: p >= t ? 'yes' : 'no' };
              addAccuracy(sums, shape, predicted, { value: null, label: positive ? 'yes' : 'no' }, -1);
            }
          });
          const kept = binarySums(
            shape,
            pairs.filter((_, i) => !removed[i]),
          );
          const { logLossSum, ...counts } = sums;
          const { logLossSum: keptLogLoss, ...keptCounts } = kept;
          expect(counts).toEqual(keptCounts);
          const scale = sum(pairs.map(({ p, positive }) => -Math.log(positive ? clip(p) : 1 - clip(p))));
          expect(Math.abs(logLossSum - keptLogLoss)).toBeLessThanOrEqual(1e-12 * scale + 1e-12);
        },
      ),
      RUNS,
    );
  });
});

describe('accuracyMetrics (MULTICLASS)', () => {
  const multiclassCase = fc.integer({ min: 2, max: 5 }).chain((k) =>
    fc.record({
      classes: fc.constant(Array.from({ length: k }, (_, i) => `c${i}`)),
      rows: fc.array(
        fc.record({
          weights: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: k, maxLength: k }),
          actual: fc.integer({ min: 0, max: k - 1 }),
        }),
        { minLength: 1, maxLength: 100 },
      ),
    }),
  );

  it('log loss and accuracy equal their naive values over the raw predictions; binary and regression metrics are null', () => {
    fc.assert(
      fc.property(multiclassCase, ({ classes, rows }) => {
        const shape: TargetShape = {
          targetType: 'MULTICLASS',
          classNames: classes,
          positiveClass: null,
          predictionThreshold: 0.5,
          features: [],
        };
        const sums = emptyAccuracy(shape);
        let logLoss = 0;
        let correct = 0;
        for (const { weights, actual } of rows) {
          const total = sum(weights);
          const probabilities = total > 0 ? weights.map((w) => w / total) : weights.map(() => 1 / classes.length);
          // rows.ts: the predicted label is the argmax, the first one on ties.
          const predicted = probabilities.indexOf(Math.max(...probabilities));
          addAccuracy(
            sums,
            shape,
            { prediction: null, probabilities, predictedLabel: classes[predicted]! },
            { value: null, label: classes[actual]! },
            1,
          );
          logLoss += -Math.log(clip(probabilities[actual]!));
          if (predicted === actual) correct++;
        }
        const m = accuracyMetrics('MULTICLASS', sums);
        expect(m.count).toBe(rows.length);
        expectClose(m.logLoss, logLoss / rows.length);
        expectClose(m.accuracy, correct / rows.length, 1e-15);
        expect([m.auc, m.f1, m.tpr, m.ppv, m.rmse, m.mae, m.r2, m.mape]).toEqual(new Array(8).fill(null));
      }),
      RUNS,
    );
  });
});

describe('accuracyMetrics (REGRESSION)', () => {
  const shape: TargetShape = { targetType: 'REGRESSION', classNames: null, positiveClass: null, predictionThreshold: 0.5, features: [] };
  type Pair = [prediction: number, actual: number];

  function regressionSums(pairs: Pair[]): AccuracySums {
    const sums = emptyAccuracy(shape);
    for (const [prediction, actual] of pairs) {
      addAccuracy(sums, shape, { prediction, probabilities: null, predictedLabel: null }, { value: actual, label: null }, 1);
    }
    return sums;
  }

  // Magnitudes below 1e-100 become 0: their squares underflow into subnormals, which no tolerance here covers.
  const value = fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => (Math.abs(v) < 1e-100 ? 0 : v)),
    fc.integer({ min: -5, max: 5 }),
    fc.double({ min: 1e8, max: 1e8 + 10, noNaN: true }),
  );
  const pairs = fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 100 });

  it('RMSE, MAE and MAPE (percent, over actuals ≠ 0) equal their naive values over the raw pairs', () => {
    fc.assert(
      fc.property(pairs, (raw) => {
        const m = accuracyMetrics('REGRESSION', regressionSums(raw));
        const errors = raw.map(([p, y]) => p - y);
        expect(m.count).toBe(raw.length);
        expectClose(m.rmse, Math.sqrt(sum(errors.map((e) => e * e)) / raw.length));
        expectClose(m.mae, sum(errors.map(Math.abs)) / raw.length);
        const nonZero = raw.filter(([, y]) => y !== 0);
        if (nonZero.length) expectClose(m.mape, (100 * sum(nonZero.map(([p, y]) => Math.abs((p - y) / y)))) / nonZero.length);
        else expect(m.mape).toBeNull();
        expect([m.logLoss, m.auc, m.accuracy, m.f1, m.tpr, m.ppv]).toEqual(new Array(6).fill(null));
      }),
      RUNS,
    );
  });

  it('R² equals the two-pass 1 − SSE / Σ(y − ȳ)², within the rounding of the one-pass Σy² − (Σy)²/n the sums allow', () => {
    fc.assert(
      fc.property(pairs, (raw) => {
        const r2 = accuracyMetrics('REGRESSION', regressionSums(raw)).r2;
        const n = raw.length;
        const actuals = raw.map(([, y]) => y);
        const mean = sum(actuals) / n;
        const totalSquares = sum(actuals.map((y) => (y - mean) ** 2));
        const sse = sum(raw.map(([p, y]) => (p - y) ** 2));
        // Σy² − (Σy)²/n is exact up to about n·ε·Σy² (float summation), which may dwarf Σ(y − ȳ)².
        const rounding = 16 * n * Number.EPSILON * sum(actuals.map((y) => y * y));
        if (actuals.every((y) => y === actuals[0])) {
          expect(r2).toBeNull();
        } else if (r2 === null) {
          expect(totalSquares).toBeLessThanOrEqual(rounding);
        } else {
          const expected = 1 - sse / totalSquares;
          expect(Math.abs(r2 - expected)).toBeLessThanOrEqual(Math.abs(1 - expected) * (1e-9 + rounding / totalSquares));
        }
      }),
      RUNS,
    );
  });

  it('R² is null when every actual is the same (nothing to explain), whatever the predictions', () => {
    fc.assert(
      fc.property(value, fc.array(value, { minLength: 1, maxLength: 100 }), (actual, predictions) => {
        expect(accuracyMetrics('REGRESSION', regressionSums(predictions.map((p): Pair => [p, actual]))).r2).toBeNull();
      }),
      RUNS,
    );
  });

  it('all metrics are null without pairs', () => {
    for (const targetType of ['BINARY', 'MULTICLASS', 'REGRESSION'] as const) {
      const m = accuracyMetrics(targetType, undefined);
      expect(m.count).toBe(0);
      expect(Object.values(m).filter((v) => v !== 0 && v !== null)).toEqual([]);
      expect(accuracyMetrics(targetType, emptyAccuracy(shape)).count).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Service health

interface Request {
  timeMs: number | null;
  userError: boolean;
  serverError: boolean;
}

/** ServiceSums as the ingest path sums them (aggregates.ts addRequest), from raw requests. */
function serviceSumsOf(requests: Request[]): ServiceSums {
  const buckets = new Map<number, number>();
  const times = requests.flatMap((r) => (r.timeMs === null ? [] : [r.timeMs]));
  for (const time of times) buckets.set(sketchBucket(time), (buckets.get(sketchBucket(time)) ?? 0) + 1);
  return {
    requestCount: requests.length,
    predictionCount: requests.length,
    userErrorCount: requests.filter((r) => r.userError).length,
    serverErrorCount: requests.filter((r) => r.serverError).length,
    executionTimeCount: times.length,
    executionTimeSum: sum(times),
    executionTimeMin: times.length ? Math.min(...times) : null,
    executionTimeMax: times.length ? Math.max(...times) : null,
    buckets: [...buckets],
    consumerCount: 0,
  };
}

const request = fc.record({
  timeMs: fc.option(fc.oneof(fc.double({ min: 0, max: 60_000, noNaN: true }), fc.constantFrom(0, 1, 100)), { freq: 5 }),
  userError: fc.boolean(),
  serverError: fc.boolean(),
});
const requests = fc.array(request, { maxLength: 150 });
const ALPHA = SKETCH_RELATIVE_ACCURACY;

describe('executionTimeQuantile', () => {
  it('is within the sketch accuracy of the exact lower quantile of the times, null without times', () => {
    fc.assert(
      fc.property(requests, fc.double({ min: 0, max: 1, noNaN: true }), (raw, q) => {
        const times = raw.flatMap((r) => (r.timeMs === null ? [] : [r.timeMs <= 1e-6 ? 0 : r.timeMs])).sort((a, b) => a - b);
        const quantile = executionTimeQuantile(serviceSumsOf(raw), q);
        if (times.length === 0) expect(quantile).toBeNull();
        else expectClose(quantile, times[Math.floor(q * (times.length - 1))]!, ALPHA + 1e-12, 0);
      }),
      RUNS,
    );
  });

  it('over batches merged by mergeServiceSums equals that over all their requests at once', () => {
    fc.assert(
      fc.property(fc.array(requests, { minLength: 1, maxLength: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), (batches, q) => {
        const merged = mergeServiceSums(batches.map(serviceSumsOf));
        const all = serviceSumsOf(batches.flat());
        expect(executionTimeQuantile(merged, q)).toBe(executionTimeQuantile(all, q));
        const rates = serviceRates(merged);
        const expected = serviceRates(all);
        expect([rates.userErrorRate, rates.serverErrorRate]).toEqual([expected.userErrorRate, expected.serverErrorRate]);
        if (expected.meanExecutionTime === null) expect(rates.meanExecutionTime).toBeNull();
        else expectClose(rates.meanExecutionTime, expected.meanExecutionTime, 1e-12, 1e-12);
      }),
      RUNS,
    );
  });
});

describe('slowRequests', () => {
  it('counts every time above threshold/(1 − α) and none at or below threshold/(1 + α)', () => {
    fc.assert(
      fc.property(requests, fc.oneof(fc.constantFrom(0, 100, 1000), fc.double({ min: 0, max: 60_000, noNaN: true })), (raw, threshold) => {
        // sketch.ts: times at or below 1e-6 ms count as zero.
        const times = raw.flatMap((r) => (r.timeMs === null ? [] : [r.timeMs <= 1e-6 ? 0 : r.timeMs]));
        const slow = slowRequests(serviceSumsOf(raw), threshold);
        const surelySlow = times.filter((t) => t > (threshold / (1 - ALPHA)) * (1 + 1e-12)).length;
        const maybeSlow = times.filter((t) => t > (threshold / (1 + ALPHA)) * (1 - 1e-12)).length;
        expect(slow).toBeGreaterThanOrEqual(surelySlow);
        expect(slow).toBeLessThanOrEqual(maybeSlow);
      }),
      RUNS,
    );
  });

  it('is non-increasing in the threshold', () => {
    fc.assert(
      fc.property(
        requests,
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        (raw, a, b) => {
          const sums = serviceSumsOf(raw);
          return slowRequests(sums, Math.min(a, b)) >= slowRequests(sums, Math.max(a, b));
        },
      ),
      RUNS,
    );
  });
});

describe('serviceRates', () => {
  it('are the naive error shares of requests and the mean of reported times, null with nothing to divide by', () => {
    fc.assert(
      fc.property(requests, (raw) => {
        const rates = serviceRates(serviceSumsOf(raw));
        const times = raw.flatMap((r) => (r.timeMs === null ? [] : [r.timeMs]));
        expect(rates.userErrorRate).toBe(raw.length ? raw.filter((r) => r.userError).length / raw.length : null);
        expect(rates.serverErrorRate).toBe(raw.length ? raw.filter((r) => r.serverError).length / raw.length : null);
        if (times.length === 0) expect(rates.meanExecutionTime).toBeNull();
        else expectClose(rates.meanExecutionTime, sum(times) / times.length, 1e-12, 1e-12);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Quantiles from baseline bins

/**
 * The distribution quantileFromBins reads from the bins: each interior bin's count spread evenly over
 * [edges[i−1], edges[i]], the open end bins' counts at their edge. Its CDF at x, counting a point
 * mass at x (inclusive) or not (left limit).
 */
function binnedCdf(edges: number[], counts: number[], x: number, inclusive: boolean): number {
  let total = 0;
  for (let i = 0; i <= edges.length; i++) {
    const c = counts[i] ?? 0;
    const lower = i === 0 ? edges[0]! : edges[i - 1]!;
    const upper = i === edges.length ? edges.at(-1)! : edges[i]!;
    if (lower === upper) total += (inclusive ? x >= lower : x > lower) ? c : 0;
    else total += c * Math.min(1, Math.max(0, (x - lower) / (upper - lower)));
  }
  return total;
}

describe('quantileFromBins', () => {
  const withEdges = numericColumn.filter((column) => column.edges.length > 0);
  const nonEmpty = withEdges.filter((column) => sum(column.counts.slice(0, column.edges.length + 1)) > 0);
  const level = fc.oneof(fc.constantFrom(0, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true }));

  it('is a q-quantile of the binned distribution: F(x−) ≤ q·total ≤ F(x), linear inside bins', () => {
    fc.assert(
      fc.property(nonEmpty, level, (column, q) => {
        const { edges, counts } = column;
        const x = quantileFromBins(column, counts, q);
        expect(x).not.toBeNull();
        const total = sum(counts.slice(0, edges.length + 1));
        const rank = q * total;
        const tolerance = 1e-9 * total;
        // x may be one ulp off a bin's end (lower + (upper − lower)·1 rounds): read F a few ulps to either side.
        const ulps = 4 * Number.EPSILON * Math.max(Math.abs(edges[0]!), Math.abs(edges.at(-1)!));
        expect(binnedCdf(edges, counts, x! - ulps, false)).toBeLessThanOrEqual(rank + tolerance);
        expect(binnedCdf(edges, counts, x! + ulps, true)).toBeGreaterThanOrEqual(rank - tolerance);
      }),
      RUNS,
    );
  });

  it('lies within the bins holding values (between the first and the last non-empty bin, ±1 ulp of interpolation)', () => {
    fc.assert(
      fc.property(nonEmpty, level, (column, q) => {
        const { edges, counts } = column;
        const x = quantileFromBins(column, counts, q)!;
        const valueBins = counts.slice(0, edges.length + 1);
        const first = valueBins.findIndex((c) => c > 0);
        const last = valueBins.length - 1 - [...valueBins].reverse().findIndex((c) => c > 0);
        const low = first === 0 ? edges[0]! : edges[first - 1]!;
        const high = last === edges.length ? edges.at(-1)! : edges[last]!;
        // lower + (upper − lower)·1 may round one ulp past upper.
        const ulp = 4 * Number.EPSILON * Math.max(Math.abs(low), Math.abs(high));
        expect(x).toBeGreaterThanOrEqual(low - ulp);
        expect(x).toBeLessThanOrEqual(high + ulp);
      }),
      RUNS,
    );
  });

  it('is non-decreasing in q and ignores the missing bin', () => {
    fc.assert(
      fc.property(nonEmpty, level, level, count, (column, q1, q2, missing) => {
        const { counts } = column;
        const [low, high] = q1 <= q2 ? [q1, q2] : [q2, q1];
        expect(quantileFromBins(column, counts, low)!).toBeLessThanOrEqual(quantileFromBins(column, counts, high)!);
        const otherMissing = [...counts.slice(0, -1), missing];
        expect(quantileFromBins(column, otherMissing, q1)).toBe(quantileFromBins(column, counts, q1));
      }),
      {
        ...RUNS,
        // Found by CI: the median ends exactly on an edge whose interpolation rounded one ulp past it,
        // above the maximum.
        examples: [
          [{ kind: 'numeric', name: 'x', edges: [-260.6, -218.4, 322.8], mean: null, std: null, counts: [0, 1, 2, 3, 1] }, 1, 0.5, 0],
        ],
      },
    );
  });

  it('is null for categorical columns, columns without edges, and bins without values', () => {
    fc.assert(
      fc.property(categoricalColumn, numericColumn, level, count, (categorical, numeric, q, missing) => {
        expect(quantileFromBins(categorical, categorical.counts, q)).toBeNull();
        const noValues = [...numeric.counts.slice(0, -1).map(() => 0), missing];
        expect(quantileFromBins(numeric, noValues, q)).toBeNull();
        if (numeric.edges.length === 0) expect(quantileFromBins(numeric, numeric.counts, q)).toBeNull();
      }),
      RUNS,
    );
  });
});
