import gammainc from '@stdlib/math-base-special-gammainc';

// Whether a change between two histograms is more than chance: pure functions over bin counts.

export interface ChiSquareTest {
  statistic: number;
  degreesOfFreedom: number;
  /** P(χ² ≥ statistic) under "both samples come from one distribution"; 1 when fewer than two bins hold rows. */
  pValue: number;
}

/**
 * Pearson's chi-square test of homogeneity on a 2 × k table: the current sample's counts per bin
 * against the reference sample's, over the same bins. Bins empty on both sides are left out (they
 * carry no information), so df = (bins holding rows) − 1. Expected counts are the pooled shares times
 * each sample's size. The upper tail comes from the regularized incomplete gamma function
 * (Q(df/2, χ²/2)), accurate far below 1e−16. null when either sample is empty.
 */
export function chiSquareHomogeneity(current: readonly number[], reference: readonly number[]): ChiSquareTest | null {
  const bins = Math.max(current.length, reference.length);
  let currentTotal = 0;
  let referenceTotal = 0;
  for (let i = 0; i < bins; i++) {
    currentTotal += current[i] ?? 0;
    referenceTotal += reference[i] ?? 0;
  }
  if (currentTotal <= 0 || referenceTotal <= 0) return null;
  const total = currentTotal + referenceTotal;
  let statistic = 0;
  let occupied = 0;
  for (let i = 0; i < bins; i++) {
    const a = current[i] ?? 0;
    const b = reference[i] ?? 0;
    const pooled = a + b;
    if (pooled <= 0) continue;
    occupied++;
    const expectedA = (currentTotal * pooled) / total;
    const expectedB = (referenceTotal * pooled) / total;
    statistic += (a - expectedA) ** 2 / expectedA + (b - expectedB) ** 2 / expectedB;
  }
  const degreesOfFreedom = occupied - 1;
  if (degreesOfFreedom < 1) return { statistic: 0, degreesOfFreedom: 0, pValue: 1 };
  return { statistic, degreesOfFreedom, pValue: Math.min(1, gammainc(statistic / 2, degreesOfFreedom / 2, true, true)) };
}

/**
 * Benjamini–Hochberg adjusted p-values (the "q-values" of step-up FDR control): sorted ascending,
 * p₍ᵢ₎·m/i, made monotone from the largest down, capped at 1. A test is significant at false-discovery
 * rate α when its adjusted p-value is ≤ α. nulls (no test) are not in the family and stay null.
 */
export function benjaminiHochberg(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues.flatMap((p, index) => (p === null ? [] : [{ p, index }])).sort((x, y) => x.p - y.p);
  const adjusted: (number | null)[] = pValues.map(() => null);
  const m = tested.length;
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const { p, index } = tested[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    adjusted[index] = running;
  }
  return adjusted;
}
