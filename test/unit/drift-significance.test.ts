import { describe, expect, it } from 'vitest';
import { driftScore } from '../../src/modules/metrics/compute.js';
import { type DriftRule, driftMatrix, judgeDrift } from '../../src/modules/metrics/drift.js';
import { benjaminiHochberg, chiSquareHomogeneity } from '../../src/modules/metrics/significance.js';

// Drift that knows how big a batch is: the chi-square test and the Benjamini–Hochberg correction
// against formulas written out here, then simulated batches where the truth is known — no drift,
// a tiny drift, a large drift — at sample sizes from 30 to 10⁶.

// ---------------------------------------------------------------------------------------------
// Reference formulas

/** Pearson's X² over the full 2 × k table, textbook form: Σ (observed − expected)² / expected over cells with expected > 0. */
function referenceStatistic(a: number[], b: number[]): { statistic: number; df: number } {
  const rows = [a, b];
  const rowTotals = rows.map((r) => r.reduce((x, y) => x + y, 0));
  const total = rowTotals[0]! + rowTotals[1]!;
  const columns = a.map((_, j) => a[j]! + b[j]!);
  let statistic = 0;
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < a.length; j++) {
      const expected = (rowTotals[i]! * columns[j]!) / total;
      if (expected > 0) statistic += (rows[i]![j]! - expected) ** 2 / expected;
    }
  return { statistic, df: columns.filter((c) => c > 0).length - 1 };
}

/** The chi-square upper tail for an even df (closed form): e^(−x/2) Σ_{i<df/2} (x/2)^i / i!. */
function evenDfUpperTail(x: number, df: number): number {
  let term = 1;
  let sum = 1;
  for (let i = 1; i < df / 2; i++) {
    term *= x / 2 / i;
    sum += term;
  }
  return Math.exp(-x / 2) * sum;
}

/** ln Γ(z) (Lanczos, g = 7), for the density below. */
function lnGamma(z: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const x = z - 1;
  let a = c[0]!;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The chi-square upper tail by Simpson integration of the density from x to x + 60·√df + 200. */
function integratedUpperTail(x: number, df: number): number {
  const density = (u: number) => (u <= 0 ? 0 : Math.exp((df / 2 - 1) * Math.log(u) - u / 2 - (df / 2) * Math.LN2 - lnGamma(df / 2)));
  const end = x + 60 * Math.sqrt(df) + 200;
  const steps = 20_000;
  const h = (end - x) / steps;
  let sum = density(x) + density(end);
  for (let i = 1; i < steps; i++) sum += (i % 2 ? 4 : 2) * density(x + i * h);
  return (sum * h) / 3;
}

/** Benjamini–Hochberg by its definition: adjusted p₍ᵢ₎ = min over j ≥ i of m·p₍ⱼ₎/j, capped at 1. */
function referenceBH(p: number[]): number[] {
  const m = p.length;
  const order = p.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
  const adjusted = new Array<number>(m);
  order.forEach(({ index }, i) => {
    let best = 1;
    for (let j = i; j < m; j++) best = Math.min(best, (m * order[j]!.value) / (j + 1));
    adjusted[index] = best;
  });
  return adjusted;
}

// ---------------------------------------------------------------------------------------------
// Simulated batches

/** Mulberry32: a seeded generator whose consecutive draws pair well (Box–Muller needs two at once). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson draws (Knuth below 50, the normal approximation above): independent Poisson counts conditioned on their total are multinomial. */
function poisson(next: () => number, lambda: number): number {
  if (lambda < 50) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = next();
    while (p > limit) {
      k++;
      p *= next();
    }
    return k;
  }
  const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

/** A histogram of about n rows over `shares` (a multinomial sample, drawn as Poisson counts). */
const histogram = (next: () => number, n: number, shares: number[]) => shares.map((s) => poisson(next, n * s));

/** Ten equal decile bins plus an empty missing bin: a numeric feature binned by its training deciles. */
const DECILES = [...new Array<number>(10).fill(0.1), 0];
/** The same feature with its mass moved by `fraction` from the lower to the upper half of the bins. */
function shifted(fraction: number): number[] {
  return DECILES.map((s, i) => (i < 5 ? s * (1 - fraction) : i < 10 ? s * (1 + fraction) : 0));
}

const RULE: DriftRule = { driftThreshold: 0.15, significanceLevel: 0.05, minSampleSize: 30 };
const FEATURES = 10;
const SIZES = [30, 100, 1000, 10_000, 100_000, 1_000_000];

/**
 * `replicates` batches of `n` rows with FEATURES features each, current drawn from `current`, the
 * reference (a training baseline of max(n, 10,000) rows) from the decile shares; per batch whether
 * any feature was significant after BH, and whether any was DRIFTED (significant and PSI ≥ 0.15).
 */
function simulate(seed: number, n: number, current: number[], replicates: number) {
  const next = random(seed);
  let significant = 0;
  let drifted = 0;
  for (let r = 0; r < replicates; r++) {
    const family = Array.from({ length: FEATURES }, (_, f) => {
      const cur = histogram(next, n, current);
      const ref = histogram(next, Math.max(n, 10_000), DECILES);
      const sampleSize = cur.reduce((a, b) => a + b, 0);
      const referenceSampleSize = ref.reduce((a, b) => a + b, 0);
      return {
        name: `f${f}`,
        importance: null,
        score: driftScore('PSI', ref, cur),
        sampleSize,
        referenceSampleSize,
        pValue: chiSquareHomogeneity(cur, ref)?.pValue ?? null,
        reference: [],
        current: [],
      };
    });
    const judged = judgeDrift(family, RULE);
    if (judged.some((f) => f.adjustedPValue !== null && f.adjustedPValue <= RULE.significanceLevel)) significant++;
    if (judged.some((f) => f.status === 'DRIFTED')) drifted++;
  }
  return { significant: significant / replicates, drifted: drifted / replicates };
}

// ---------------------------------------------------------------------------------------------

describe('the chi-square test of homogeneity on two histograms', () => {
  it('matches the textbook statistic, and the closed-form upper tail for even df', () => {
    const next = random(7);
    for (let trial = 0; trial < 200; trial++) {
      const bins = 3 + 2 * Math.floor(next() * 4); // 3, 5, 7, 9 occupied bins: df 2, 4, 6, 8
      const a = Array.from({ length: bins }, () => 1 + Math.floor(next() * 200));
      const b = Array.from({ length: bins }, () => 1 + Math.floor(next() * 200));
      const test = chiSquareHomogeneity([...a, 0], [...b, 0])!; // an empty bin on both sides is left out
      const reference = referenceStatistic(a, b);
      expect(test.degreesOfFreedom).toBe(reference.df);
      expect(test.statistic).toBeCloseTo(reference.statistic, 9);
      expect(test.pValue).toBeCloseTo(evenDfUpperTail(reference.statistic, reference.df), 12);
    }
  });

  it('matches the integrated density for odd df, down to tiny p-values', () => {
    for (const [a, b] of [
      [
        [10, 20, 30, 40],
        [12, 18, 33, 37],
      ],
      [
        [100, 80, 60, 40, 20, 10, 5, 2, 1, 1, 0, 3],
        [90, 85, 70, 35, 25, 8, 4, 3, 2, 0, 1, 2],
      ],
      [
        [500, 100, 20, 5],
        [100, 500, 20, 5],
      ],
    ] as const) {
      const test = chiSquareHomogeneity([...a], [...b])!;
      const reference = referenceStatistic([...a], [...b]);
      expect(test.degreesOfFreedom % 2).toBe(1);
      const expected = integratedUpperTail(reference.statistic, reference.df);
      expect(Math.abs(test.pValue - expected) / expected).toBeLessThan(1e-6);
    }
  });

  it('has no test for an empty side, and p = 1 when every row sits in one bin', () => {
    expect(chiSquareHomogeneity([0, 0, 0], [1, 2, 3])).toBeNull();
    expect(chiSquareHomogeneity([5, 0], [9, 0])).toEqual({ statistic: 0, degreesOfFreedom: 0, pValue: 1 });
  });
});

describe('Benjamini–Hochberg', () => {
  it('equals its definition, leaving untested features out of the family', () => {
    const next = random(11);
    for (let trial = 0; trial < 200; trial++) {
      const p = Array.from({ length: 1 + Math.floor(next() * 30) }, () => (next() < 0.3 ? next() * 0.01 : next()));
      const withGaps = p.flatMap((value) => (next() < 0.2 ? [null, value] : [value]));
      const adjusted = benjaminiHochberg(withGaps);
      const reference = referenceBH(p);
      expect(adjusted.filter((x) => x !== null).length).toBe(p.length);
      expect(adjusted.map((x) => x === null)).toEqual(withGaps.map((x) => x === null));
      const tested = adjusted.filter((x): x is number => x !== null);
      for (const [i, x] of tested.entries()) expect(x).toBeCloseTo(reference[i]!, 12);
    }
  });
});

describe('simulated batches where the truth is known', () => {
  it('without drift, alarms about as often as the significance level at every size, and never DRIFTED at large sizes', () => {
    const replicates = 800;
    // Under no drift at all, BH keeps the chance of any significant feature at ≤ α; the binomial
    // standard error of a rate near 0.05 over 800 batches is 0.0077: 0.05 ± 0.025 is > 3 SE.
    for (const [i, n] of SIZES.entries()) {
      const rate = simulate(100 + i, n, DECILES, replicates);
      console.log(`no drift, n = ${n}: any feature significant in ${rate.significant} of batches, DRIFTED in ${rate.drifted}`);
      expect(rate.significant, `n = ${n}`).toBeGreaterThan(0.025);
      expect(rate.significant, `n = ${n}`).toBeLessThan(0.075);
      expect(rate.drifted).toBeLessThanOrEqual(rate.significant);
      if (n >= 1000) expect(rate.drifted, `n = ${n}`).toBe(0);
    }
  });

  it('flags a tiny drift as significant at 10⁶ rows, yet not DRIFTED (PSI far below the threshold)', () => {
    const tiny = shifted(0.02); // PSI ≈ 0.0016
    expect(driftScore('PSI', DECILES, tiny)!).toBeLessThan(0.002);
    const rate = simulate(200, 1_000_000, tiny, 50);
    expect(rate.significant).toBe(1);
    expect(rate.drifted).toBe(0);
  });

  it('detects a large drift more often as batches grow, surely from 1,000 rows', () => {
    const large = shifted(0.5); // PSI ≈ 0.27
    const psi = driftScore('PSI', DECILES, large)!;
    expect(psi).toBeGreaterThan(0.2);
    const rates = SIZES.map((n, i) => simulate(300 + i, n, large, 200).drifted);
    console.log(`large drift (PSI ${psi.toFixed(3)}), DRIFTED rate by size: ${SIZES.map((n, i) => `${n}: ${rates[i]}`).join(', ')}`);
    for (let i = 1; i < rates.length; i++) expect(rates[i]!, `n = ${SIZES[i]}`).toBeGreaterThanOrEqual(rates[i - 1]! - 0.05);
    expect(rates[0]!).toBeLessThan(0.9); // 30 rows: often not significant
    for (let i = 2; i < rates.length; i++) expect(rates[i], `n = ${SIZES[i]}`).toBe(1);
  });

  it('does not judge a batch below the minimum sample size', () => {
    const strict = { ...RULE, minSampleSize: 100 };
    const next = random(5);
    const cur = histogram(next, 30, shifted(0.5));
    const ref = histogram(next, 10_000, DECILES);
    const [judged] = judgeDrift(
      [
        {
          name: 'x',
          importance: null,
          score: driftScore('PSI', ref, cur),
          sampleSize: cur.reduce((a, b) => a + b, 0),
          referenceSampleSize: 10_000,
          pValue: chiSquareHomogeneity(cur, ref)!.pValue,
          reference: [],
          current: [],
        },
      ],
      strict,
    );
    expect(judged!.status).toBe('INSUFFICIENT_DATA');
    expect(judged!.adjustedPValue).toBeNull();
  });
});

describe('the drift matrix', () => {
  it('scores each batch against each other: 0 on the diagonal, symmetric p-values, KL in both directions', () => {
    const next = random(21);
    const histograms = [histogram(next, 500, DECILES), histogram(next, 500, shifted(0.5)), null, histogram(next, 20, DECILES)];
    for (const metric of ['PSI', 'KL_DIVERGENCE'] as const) {
      const cells = driftMatrix(metric, histograms, { ...RULE, minSampleSize: 100 });
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          const cell = cells[i]![j]!;
          if (!histograms[i] || !histograms[j]) {
            expect(cell).toEqual({ score: null, pValue: null, status: 'NO_DATA' });
            continue;
          }
          expect(cell.score).toBeCloseTo(i === j ? 0 : driftScore(metric, histograms[j]!, histograms[i]!)!, 12);
          expect(cell.pValue).toBe(i === j ? 1 : chiSquareHomogeneity(histograms[i]!, histograms[j]!)!.pValue);
          expect(cell.pValue).toBe(cells[j]![i]!.pValue);
          if (i === 3 || j === 3) expect(cell.status).toBe('INSUFFICIENT_DATA');
        }
      if (metric === 'PSI') expect(cells[0]![1]!.status).toBe('DRIFTED'); // KL ≈ 0.13 stays under 0.15
      expect(cells[0]![0]!.status).toBe('NOT_DRIFTED');
    }
  });
});
