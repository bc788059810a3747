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
