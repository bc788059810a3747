import { type ColumnDrift, type DriftMetric, driftScore, ZERO_SHARE } from './compute.js';
import { benjaminiHochberg, chiSquareHomogeneity } from './significance.js';

// Judging drift: a column has drifted only when the change is both statistically significant
// (Benjamini–Hochberg across the compared features) and practically large (score ≥ threshold),
// and only when both sides hold enough rows to say anything.

export type DriftStatus = 'DRIFTED' | 'NOT_DRIFTED' | 'INSUFFICIENT_DATA' | 'NO_DATA';

/** The settings a judgement reads (the data drift health settings). */
export interface DriftRule {
  driftThreshold: number;
  significanceLevel: number;
  minSampleSize: number;
}

export interface JudgedDrift extends ColumnDrift {
  /** The p-value after the Benjamini–Hochberg adjustment across the family it was judged in. */
  adjustedPValue: number | null;
  status: DriftStatus;
}

/** Whether a comparison of these sample sizes is judged at all. */
export function driftStatusBeforeTest(drift: ColumnDrift, rule: DriftRule): DriftStatus | null {
  if (drift.score === null || drift.pValue === null) return 'NO_DATA';
  if (Math.min(drift.sampleSize, drift.referenceSampleSize) < rule.minSampleSize) return 'INSUFFICIENT_DATA';
  return null;
}

/**
 * Judges a family of comparisons together (a deployment's features: 200 features at α = 0.05 do
 * not fail by chance): the p-values of the columns with enough rows are adjusted by
 * Benjamini–Hochberg; a column is DRIFTED when its adjusted p-value ≤ significanceLevel and its
 * score ≥ driftThreshold.
 */
export function judgeDrift(family: readonly ColumnDrift[], rule: DriftRule): JudgedDrift[] {
  const before = family.map((drift) => driftStatusBeforeTest(drift, rule));
  const adjusted = benjaminiHochberg(family.map((drift, i) => (before[i] === null ? drift.pValue : null)));
  return family.map((drift, i) => {
    const q = adjusted[i] ?? null;
    const status: DriftStatus =
      before[i] ?? (q !== null && q <= rule.significanceLevel && drift.score! >= rule.driftThreshold ? 'DRIFTED' : 'NOT_DRIFTED');
    return { ...drift, adjustedPValue: q, status };
  });
}

export interface DriftCell {
  score: number | null;
  pValue: number | null;
  status: DriftStatus;
}

/** A histogram's shares with zeros replaced (as PSI and KL see them) and their logarithms, computed once per batch. */
interface Prepared {
  counts: number[];
  size: number;
  shares: Float64Array;
  logs: Float64Array;
}

function prepare(counts: number[] | null): Prepared | null {
  const size = counts ? counts.reduce((a, b) => a + b, 0) : 0;
  if (!counts || size === 0) return null;
  const shares = new Float64Array(counts.length);
  const logs = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    shares[i] = counts[i]! / size || ZERO_SHARE;
    logs[i] = Math.log(shares[i]!);
  }
  return { counts, size, shares, logs };
}

/**
 * driftScore of `current` against `reference` — PSI and KL from the prepared shares and logarithms
 * (Σ (a − e)(ln a − ln e) and Σ a (ln a − ln e): the same sums, without a logarithm per pair), the
 * others by driftScore itself.
 */
function pairScore(metric: DriftMetric, reference: Prepared, current: Prepared): number | null {
  if (metric !== 'PSI' && metric !== 'KL_DIVERGENCE') return driftScore(metric, reference.counts, current.counts);
  if (reference.shares.length !== current.shares.length) return null;
  let score = 0;
  for (let i = 0; i < current.shares.length; i++) {
    const a = current.shares[i]!;
    score += (metric === 'PSI' ? a - reference.shares[i]! : a) * (current.logs[i]! - reference.logs[i]!);
  }
  return score;
}

/**
 * Every histogram against every other (row: current, column: reference), over the same bins; each
 * cell judged on its own (one feature: no correction across features). The p-value is symmetric, so
 * each pair is tested once; the score too, but for KL divergence.
 */
export function driftMatrix(metric: DriftMetric, histograms: readonly (number[] | null)[], rule: DriftRule): DriftCell[][] {
  const n = histograms.length;
  const prepared = histograms.map(prepare);
  const cells: DriftCell[][] = histograms.map(() => new Array<DriftCell>(n));
  const noData: DriftCell = { score: null, pValue: null, status: 'NO_DATA' };
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = prepared[i];
      const b = prepared[j];
      if (!a || !b) {
        cells[i]![j] = cells[j]![i] = noData;
        continue;
      }
      const pValue = i === j ? 1 : (chiSquareHomogeneity(a.counts, b.counts)?.pValue ?? null);
      const enough = Math.min(a.size, b.size) >= rule.minSampleSize;
      const judge = (score: number | null): DriftCell => ({
        score,
        pValue,
        status: !enough
          ? 'INSUFFICIENT_DATA'
          : pValue !== null && score !== null && pValue <= rule.significanceLevel && score >= rule.driftThreshold
            ? 'DRIFTED'
            : 'NOT_DRIFTED',
      });
      const forward = i === j ? 0 : pairScore(metric, b, a);
      cells[i]![j] = judge(forward);
      if (i !== j) cells[j]![i] = judge(metric === 'KL_DIVERGENCE' ? pairScore(metric, a, b) : forward);
    }
  }
  return cells;
}
