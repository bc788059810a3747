// The binning the server does, computed here from raw values: deciles of the training baseline as
// bin edges (as PostgreSQL's percentile_cont finds them), and counts per bin.

/** PostgreSQL's percentile_cont: linear interpolation at position q·(n−1) of the sorted values. */
export function percentileCont(sorted: number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** The distinct deciles (10 %, 20 % … 90 %) of the present values: a numeric column's bin edges. */
export function decileEdges(values: (number | null)[]): number[] {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const d = percentileCont(present, q / 10);
    if (edges.length === 0 || d > edges.at(-1)!) edges.push(d);
  }
  return edges;
}

/** Counts per bin: below the first edge, between edges, at or above the last edge, then missing values. */
export function binCounts(edges: number[], values: (number | null)[]): number[] {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const v of values) counts[v === null ? edges.length + 1 : edges.filter((e) => e <= v).length]!++;
  return counts;
}

// Reference formulas of confidence intervals, typed out from their papers (test/unit/intervals.test.ts,
// test/metrics/accuracy-intervals.test.ts).

/** Φ⁻¹(0.975). */
export const Z95 = 1.959963984540054;

/** Wilson (1927) in its textbook closed form: (x + z²/2)/(n + z²) ± z√n/(n + z²)·√(p̂q̂ + z²/(4n)). */
export function wilsonReference(x: number, n: number, z = Z95): [number, number] {
  const p = x / n;
  const center = (x + (z * z) / 2) / (n + z * z);
  const half = ((z * Math.sqrt(n)) / (n + z * z)) * Math.sqrt(p * (1 - p) + (z * z) / (4 * n));
  return [center - half, center + half];
}

/** Hanley & McNeil (1982), eq. 2: SE² = (A(1−A) + (nA − 1)(Q1 − A²) + (nN − 1)(Q2 − A²)) / (nA·nN). */
export function hanleyMcNeilReference(auc: number, positives: number, negatives: number): [number, number] {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc ** 2) / (1 + auc);
  const se = Math.sqrt((auc * (1 - auc) + (positives - 1) * (q1 - auc ** 2) + (negatives - 1) * (q2 - auc ** 2)) / (positives * negatives));
  return [Math.max(0, auc - Z95 * se), Math.min(1, auc + Z95 * se)];
}

/** Wilson–Hilferty: χ²_{q,k} ≈ k·(1 − 2/(9k) + z_q·√(2/(9k)))³ (relative error < 10⁻³ from k = 30). */
export const chiSquareWilsonHilferty = (z: number, k: number) => k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
