import gammainc from '@stdlib/math-base-special-gammainc';
import { describe, expect, it } from 'vitest';
import { aucFromBins } from '../../src/modules/metrics/compute.js';
import { accuracyIntervals, type IntervalMetric, type MetricInterval } from '../../src/modules/metrics/intervals.js';
import type { AccuracyTotals } from '../../src/modules/metrics/sums.js';
import { chiSquareWilsonHilferty, hanleyMcNeilReference, wilsonReference, Z95 } from '../helpers/statistics.js';

// Confidence intervals of accuracy metrics on simulated batches whose truth is known, at sample
// sizes 30 … 10⁶. Batches are drawn as their sufficient statistics (binomial counts, a chi-square
// Σe², multinomial bin counts), never as 10⁶ rows, with exact samplers; each interval is checked
// against a reference formula typed out here, and its coverage against the nominal level.
//
// Tolerance of a coverage estimate from R replicates: 4 binomial standard errors, 4·√(c(1−c)/R)
// (R = 2000: ±0.0195), plus what the method itself is known to miss by (the Wilson interval's
// coverage oscillates with n and p; it is computed exactly here and the allowance checked).

const SIZES = [30, 100, 1000, 10_000, 100_000, 1_000_000] as const;
const LEVEL = 0.95;

const standardErrors = (coverage: number, replicates: number) => 4 * Math.sqrt((coverage * (1 - coverage)) / replicates);

// ---------------------------------------------------------------------------------------------
// Seeded exact samplers

/** sfc32: a small fast generator with a 128-bit state (the LCG of test/helpers is too short for 10⁸ draws). */
function generator(seed: number) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  const uniform = () => {
    let u = next();
    while (u === 0) u = next();
    return u;
  };
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    for (;;) {
      const x = 2 * uniform() - 1;
      const y = 2 * uniform() - 1;
      const r = x * x + y * y;
      if (r > 0 && r < 1) {
        const f = Math.sqrt((-2 * Math.log(r)) / r);
        spare = y * f;
        return x * f;
      }
    }
  };
  /** Marsaglia & Tsang (2000), shape ≥ 1. */
  const gamma = (shape: number) => {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v = (1 + c * x) ** 3;
      if (v > 0 && Math.log(uniform()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const beta = (a: number, b: number) => {
    const x = gamma(a);
    return x / (x + gamma(b));
  };
  /** Binomial(n, p) by inversion of its CDF: exact, O(np), for small means (p ≤ ½). */
  const inversion = (n: number, p: number) => {
    const u = uniform();
    const ratio = p / (1 - p);
    let k = 0;
    let pk = (1 - p) ** n;
    let cdf = pk;
    while (u > cdf && k < n) {
      pk *= ((n - k) / (k + 1)) * ratio;
      k++;
      cdf += pk;
    }
    return k;
  };
  /**
   * Exact Binomial(n, p): Knuth's split (TAOCP 3.4.1) at the a-th order statistic of n uniforms, a
   * Beta(a, n+1−a), until the mean is small enough for inversion.
   */
  const binomial = (trials: number, rate: number): number => {
    if (rate > 0.5) return trials - binomial(trials, 1 - rate);
    let n = trials;
    let p = rate;
    let count = 0;
    while (n * p >= 30) {
      const a = 1 + Math.floor(n / 2);
      const b = n + 1 - a;
      const x = beta(a, b);
      if (x >= p) {
        n = a - 1;
        p /= x;
      } else {
        count += a;
        n = b - 1;
        p = (p - x) / (1 - x);
      }
    }
    return count + (n > 0 && p > 0 ? inversion(n, p) : 0);
  };
  /**
   * Binomial(n, p) exact while its variance is below 30, else a rounded normal (skewness < 0.2): for
   * the 2,000 bin counts of a 10⁶-row batch, whose AUC averages over them all, at a fraction of the cost.
   */
  const roughBinomial = (n: number, p: number) => {
    const variance = n * p * (1 - p);
    if (variance < 30) return binomial(n, p);
    return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(variance) * normal())));
  };
  /** Multinomial counts by conditional binomials. */
  const multinomial = (trials: number, probabilities: number[], draw = binomial) => {
    let left = trials;
    let mass = 1;
    return probabilities.map((q) => {
      const k = left > 0 && q > 0 ? (q >= mass ? left : draw(left, q / mass)) : 0;
      left -= k;
      mass -= q;
      return k;
    });
  };
  return { uniform, normal, gamma, binomial, roughBinomial, multinomial };
}

/** Φ(x) through the regularized incomplete gamma: Φ(x) = ½ + ½·sign(x)·P(½, x²/2). */
const normalCdf = (x: number) => (Number.isFinite(x) ? 0.5 + 0.5 * Math.sign(x) * gammainc((x * x) / 2, 0.5) : x > 0 ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Reference formulas

/** Exact coverage of the Wilson interval for Binomial(n, p): Σ pmf(x) over the x whose interval holds p. */
function wilsonExactCoverage(n: number, p: number): number {
  const mode = Math.floor((n + 1) * p);
  const ratio = p / (1 - p);
  let total = 0;
  let covered = 0;
  const visit = (x: number, w: number) => {
    total += w;
    const [lo, hi] = wilsonReference(x, n);
    if (lo <= p && p <= hi) covered += w;
  };
  visit(mode, 1);
  for (let x = mode, w = 1; x < n && w > 1e-18; x++) {
    w *= ((n - x) / (x + 1)) * ratio;
    visit(x + 1, w);
  }
  for (let x = mode, w = 1; x > 0 && w > 1e-18; x--) {
    w *= x / (n - x + 1) / ratio;
    visit(x - 1, w);
  }
  return covered / total;
}

function totals(partial: Partial<AccuracyTotals> & { count: number }): AccuracyTotals {
  return {
    logLossSum: 0,
    positiveBins: null,
    negativeBins: null,
    truePositives: 0,
    falsePositives: 0,
    trueNegatives: 0,
    falseNegatives: 0,
    sumError: 0,
    sumAbsoluteError: 0,
    sumSquaredError: 0,
    sumActual: 0,
    sumSquaredActual: 0,
    sumAbsolutePercentageError: 0,
    nonZeroActualCount: 0,
    confusion: null,
    ...partial,
  };
}

function intervalOf(list: MetricInterval[], metric: IntervalMetric): MetricInterval {
  const found = list.find((i) => i.metric === metric);
  expect(found, metric).toBeDefined();
  return found!;
}

function expectBounds(interval: MetricInterval, [lower, upper]: [number, number], rel = 1e-12): void {
  expect(Math.abs(interval.lower - lower), `${interval.metric} lower ${interval.lower} vs ${lower}`).toBeLessThanOrEqual(
    rel * Math.abs(lower) + 1e-15,
  );
  expect(Math.abs(interval.upper - upper), `${interval.metric} upper ${interval.upper} vs ${upper}`).toBeLessThanOrEqual(
    rel * Math.abs(upper) + 1e-15,
  );
}

/** How far Wilson's exact coverage strays from 95% (computed by wilsonExactCoverage for p = 0.3 … 0.75). */
const wilsonAllowance = (n: number) => (n <= 30 ? 0.025 : n <= 100 ? 0.015 : 0.005);

interface Tally {
  covered: number;
  width: number;
}

/** Coverage within 4 SE plus the method's allowance, and widths falling with n (∝ 1/√n once n ≥ 1000). */
function expectCoverageAndShrinking(name: string, tallies: Tally[], replicates: number, allowance: (n: number) => number): void {
  tallies.forEach((tally, i) => {
    const n = SIZES[i]!;
    const coverage = tally.covered / replicates;
    expect(Math.abs(coverage - LEVEL), `${name} coverage ${coverage} at n = ${n}`).toBeLessThanOrEqual(
      standardErrors(LEVEL, replicates) + allowance(n),
    );
  });
  for (let i = 1; i < tallies.length; i++) {
    const ratio = tallies[i - 1]!.width / tallies[i]!.width;
    expect(ratio, `${name} width ratio from n = ${SIZES[i - 1]} to ${SIZES[i]}`).toBeGreaterThan(1);
    // 10× the rows: √10 ≈ 3.16 narrower.
    if (SIZES[i - 1]! >= 1000) expect(Math.abs(ratio - Math.sqrt(10)), `${name} width ratio ${ratio}`).toBeLessThan(0.1);
  }
}

// ---------------------------------------------------------------------------------------------

describe('the Wilson interval', () => {
  it('has the closed form, and an exact coverage near 95% from 30 to 10⁶ rows', () => {
    for (const [x, n] of [
      [0, 30],
      [30, 30],
      [7, 30],
      [512, 1000],
      [123_456, 1_000_000],
    ] as const) {
      const [interval] = accuracyIntervals('MULTICLASS', totals({ count: n, confusion: [x, n - x, 0, 0] }));
      expectBounds(interval!, wilsonReference(x, n));
    }
    for (const n of SIZES) {
      // Wilson's coverage oscillates with n and p (Brown, Cai & DasGupta 2001): 0.930 at n = 30, p = 0.3.
      for (const p of [0.3, 0.75])
        expect(Math.abs(wilsonExactCoverage(n, p) - LEVEL), `n = ${n}, p = ${p}`).toBeLessThanOrEqual(wilsonAllowance(n));
    }
  });
});

describe('binary classification: accuracy, TPR, PPV (Wilson) and F1 (Wilson of the Jaccard index)', () => {
  // The confusion cells' true shares: accuracy 0.75, TPR 2/3, PPV 4/7, F1 = 2·0.2/(2·0.2 + 0.15 + 0.1) = 8/13.
  const cells = { tp: 0.2, fn: 0.1, fp: 0.15, tn: 0.55 };
  const truth: Record<'ACCURACY' | 'TPR' | 'PPV' | 'F1', number> = {
    ACCURACY: cells.tp + cells.tn,
    TPR: cells.tp / (cells.tp + cells.fn),
    PPV: cells.tp / (cells.tp + cells.fp),
    F1: (2 * cells.tp) / (2 * cells.tp + cells.fp + cells.fn),
  };
  const REPLICATES = 2000;

  it('match the reference formulas and cover the true rates near 95% at every size', () => {
    const draw = generator(15);
    const tallies = Object.fromEntries(Object.keys(truth).map((m) => [m, SIZES.map(() => ({ covered: 0, width: 0 }))])) as Record<
      keyof typeof truth,
      Tally[]
    >;
    const outside: MetricInterval[] = [];
    SIZES.forEach((n, s) => {
      for (let r = 0; r < REPLICATES; r++) {
        const [tp, fn, fp, tn] = draw.multinomial(n, [cells.tp, cells.fn, cells.fp, cells.tn]) as [number, number, number, number];
        const list = accuracyIntervals(
          'BINARY',
          totals({ count: n, truePositives: tp, falseNegatives: fn, falsePositives: fp, trueNegatives: tn }),
        );
        const references = {
          ACCURACY: wilsonReference(tp + tn, n),
          TPR: wilsonReference(tp, tp + fn),
          PPV: wilsonReference(tp, tp + fp),
          F1: wilsonReference(tp, tp + fp + fn).map((j) => (2 * j) / (1 + j)) as [number, number],
        };
        for (const metric of Object.keys(truth) as (keyof typeof truth)[]) {
          const interval = intervalOf(list, metric);
          if (r < 20) {
            expectBounds(interval, references[metric], 1e-10);
            expect(interval.method).toBe(metric === 'F1' ? 'WILSON_JACCARD' : 'WILSON');
          }
          if (!(interval.lower <= interval.value && interval.value <= interval.upper)) outside.push(interval);
          const tally = tallies[metric][s]!;
          if (interval.lower <= truth[metric] && truth[metric] <= interval.upper) tally.covered++;
          tally.width += (interval.upper - interval.lower) / REPLICATES;
        }
      }
    });
    expect(outside, 'intervals without their point').toEqual([]);
    const exactAccuracyCoverage = SIZES.map((n) => wilsonExactCoverage(n, truth.ACCURACY));
    // Accuracy's trials are fixed (n): the simulated coverage must match the exact one within 4 SE.
    tallies.ACCURACY.forEach((tally, s) => {
      const exact = exactAccuracyCoverage[s]!;
      expect(Math.abs(tally.covered / REPLICATES - exact), `accuracy at n = ${SIZES[s]}`).toBeLessThanOrEqual(
        standardErrors(exact, REPLICATES),
      );
    });
    for (const metric of Object.keys(truth) as (keyof typeof truth)[])
      expectCoverageAndShrinking(metric, tallies[metric], REPLICATES, wilsonAllowance);
  });

  it('gives no interval without the counts a rate needs, and F1 = 0 an interval from 0', () => {
    const list = accuracyIntervals('BINARY', totals({ count: 40, trueNegatives: 30, falseNegatives: 10 }));
    expect(list.map((i) => i.metric).sort()).toEqual(['ACCURACY', 'TPR']);
    const f1 = intervalOf(
      accuracyIntervals('BINARY', totals({ count: 40, falsePositives: 5, trueNegatives: 30, falseNegatives: 5 })),
      'F1',
    );
    expect(f1.value).toBe(0);
    expect(f1.lower).toBe(0);
    expect(f1.upper).toBeCloseTo((2 * wilsonReference(0, 10)[1]) / (1 + wilsonReference(0, 10)[1]), 12);
  });
});

describe('ROC AUC (Hanley & McNeil) on a binormal score model in 1,000 probability bins', () => {
  // Negatives' scores N(0, 1), positives' N(μ, 1): true AUC Φ(μ/√2). The server bins a probability;
  // here the probability is the logistic of the score, so bin i holds scores in [logit(i/1000), logit((i+1)/1000)).
  const MU = 1;
  const BINS = 1000;
  const PREVALENCE = 0.3;
  const REPLICATES = 1000;
  const logit = (p: number) => (p <= 0 ? -Infinity : p >= 1 ? Infinity : Math.log(p / (1 - p)));
  const binProbabilities = (mean: number) =>
    Array.from({ length: BINS }, (_, i) => normalCdf(logit((i + 1) / BINS) - mean) - normalCdf(logit(i / BINS) - mean));
  const negative = binProbabilities(0);
  const positive = binProbabilities(MU);
  // What the binned AUC estimates: P(bin⁺ > bin⁻) + ½P(bin⁺ = bin⁻); within 10⁻⁵ of Φ(μ/√2).
  let below = 0;
  let binnedTruth = 0;
  for (let i = 0; i < BINS; i++) {
    binnedTruth += positive[i]! * (below + negative[i]! / 2);
    below += negative[i]!;
  }

  it('matches the reference formula and covers the true AUC at every size', () => {
    expect(Math.abs(binnedTruth - normalCdf(MU / Math.SQRT2))).toBeLessThan(1e-5);
    const draw = generator(1982);
    const tallies = SIZES.map(() => ({ covered: 0, width: 0 }));
    SIZES.forEach((n, s) => {
      const positives = Math.round(n * PREVALENCE);
      const negatives = n - positives;
      for (let r = 0; r < REPLICATES; r++) {
        const positiveBins = draw.multinomial(positives, positive, draw.roughBinomial);
        const negativeBins = draw.multinomial(negatives, negative, draw.roughBinomial);
        const interval = intervalOf(accuracyIntervals('BINARY', totals({ count: n, positiveBins, negativeBins })), 'AUC');
        if (r < 20) {
          expect(interval.method).toBe('HANLEY_MCNEIL');
          expect(interval.value).toBe(aucFromBins(positiveBins, negativeBins));
        }
        if (r < 20) expectBounds(interval, hanleyMcNeilReference(interval.value, positives, negatives), 1e-10);
        if (interval.lower <= binnedTruth && binnedTruth <= interval.upper) tallies[s]!.covered++;
        tallies[s]!.width += (interval.upper - interval.lower) / REPLICATES;
      }
    });
    // Hanley & McNeil's Q1, Q2 are exact for exponential scores; for these binormal ones they overstate
    // the variance a little (measured: 0.95–0.97 from 100 rows), and with 9 positives (30 rows) the
    // normal approximation is rough (0.93): allowed 0.02 either way.
    expectCoverageAndShrinking('AUC', tallies, REPLICATES, () => 0.02);
  });
});

describe('RMSE (chi-square) and MAE (normal) of normal zero-mean errors', () => {
  const SIGMA = 2.5;
  const REPLICATES = 2000;

  it('RMSE matches the Wilson–Hilferty reference and covers σ at every size', () => {
    const draw = generator(1936);
    const tallies = SIZES.map(() => ({ covered: 0, width: 0 }));
    SIZES.forEach((n, s) => {
      for (let r = 0; r < REPLICATES; r++) {
        // Σe² = σ²·χ²ₙ, and χ²ₙ = 2·Gamma(n/2).
        const sumSquaredError = SIGMA * SIGMA * 2 * draw.gamma(n / 2);
        const interval = intervalOf(accuracyIntervals('REGRESSION', totals({ count: n, sumSquaredError })), 'RMSE');
        if (r < 20) {
          expect(interval.method).toBe('CHI_SQUARE');
          expect(interval.value).toBeCloseTo(Math.sqrt(sumSquaredError / n), 12);
        }
        if (r < 20)
          expectBounds(
            interval,
            [Math.sqrt(sumSquaredError / chiSquareWilsonHilferty(Z95, n)), Math.sqrt(sumSquaredError / chiSquareWilsonHilferty(-Z95, n))],
            1e-3,
          );
        if (interval.lower <= SIGMA && SIGMA <= interval.upper) tallies[s]!.covered++;
        tallies[s]!.width += (interval.upper - interval.lower) / REPLICATES;
      }
    });
    // Exact under its assumption: no allowance beyond the replicates.
    expectCoverageAndShrinking('RMSE', tallies, REPLICATES, () => 0);
  });

  it('MAE matches mean ± z·s/√n and covers σ√(2/π) at every size', () => {
    const draw = generator(1733);
    const trueMae = SIGMA * Math.sqrt(2 / Math.PI);
    // Half-normal moments, for drawing (Σ|e|, Σe²) of 10⁵ and 10⁶ rows as a bivariate normal (the CLT
    // is exact to ~10⁻³ there): E|e| = σ√(2/π), Var|e| = σ²(1 − 2/π), Var e² = 2σ⁴, Cov(|e|, e²) = σ³√(2/π).
    const varAbs = SIGMA ** 2 * (1 - 2 / Math.PI);
    const varSq = 2 * SIGMA ** 4;
    const cov = SIGMA ** 3 * Math.sqrt(2 / Math.PI);
    const tallies = SIZES.map(() => ({ covered: 0, width: 0 }));
    SIZES.forEach((n, s) => {
      for (let r = 0; r < REPLICATES; r++) {
        let sumAbsoluteError = 0;
        let sumSquaredError = 0;
        if (n <= 10_000) {
          for (let i = 0; i < n; i++) {
            const e = SIGMA * draw.normal();
            sumAbsoluteError += Math.abs(e);
            sumSquaredError += e * e;
          }
        } else {
          const a = draw.normal();
          const b = draw.normal();
          const rho = cov / Math.sqrt(varAbs * varSq);
          sumAbsoluteError = n * trueMae + Math.sqrt(n * varAbs) * a;
          sumSquaredError = n * SIGMA ** 2 + Math.sqrt(n * varSq) * (rho * a + Math.sqrt(1 - rho * rho) * b);
        }
        const interval = intervalOf(accuracyIntervals('REGRESSION', totals({ count: n, sumAbsoluteError, sumSquaredError })), 'MAE');
        if (r < 20) {
          expect(interval.method).toBe('NORMAL');
          const mean = sumAbsoluteError / n;
          const sd = Math.sqrt((sumSquaredError - n * mean * mean) / (n - 1));
          expectBounds(interval, [mean - (Z95 * sd) / Math.sqrt(n), mean + (Z95 * sd) / Math.sqrt(n)], 1e-9);
        }
        if (interval.lower <= trueMae && trueMae <= interval.upper) tallies[s]!.covered++;
        tallies[s]!.width += (interval.upper - interval.lower) / REPLICATES;
      }
    });
    // A normal approximation of a skewed mean: at n = 30 its coverage is a little short of nominal.
    expectCoverageAndShrinking('MAE', tallies, REPLICATES, (n) => (n <= 100 ? 0.015 : 0));
  });

  it('no interval for LogLoss, R² or MAPE; none for MAE of one row', () => {
    const list = accuracyIntervals(
      'REGRESSION',
      totals({ count: 1, sumAbsoluteError: 2, sumSquaredError: 4, sumActual: 3, sumSquaredActual: 9 }),
    );
    expect(list.map((i) => i.metric)).toEqual(['RMSE']);
    const binary = accuracyIntervals('BINARY', totals({ count: 10, logLossSum: 3, truePositives: 5, trueNegatives: 5 }));
    expect(binary.map((i) => i.metric)).not.toContain('LOG_LOSS');
    expect(accuracyIntervals('REGRESSION', undefined)).toEqual([]);
  });

  it('widens with the level', () => {
    const t = totals({ count: 500, sumAbsoluteError: 1000, sumSquaredError: 3000 });
    const width = (level: number) => accuracyIntervals('REGRESSION', t, level).map((i) => i.upper - i.lower);
    const [w90, w95, w99] = [width(0.9), width(0.95), width(0.99)];
    w95.forEach((w, i) => {
      expect(w).toBeGreaterThan(w90[i]!);
      expect(w99[i]!).toBeGreaterThan(w);
    });
  });
});
