/**
 * A mergeable quantile sketch for execution times (the DDSketch idea): a value v > 0 goes to the
 * log-spaced bucket ceil(log_γ v) with γ = (1 + α) / (1 − α). Every value in a bucket is within
 * relative error α of the bucket's representative, so any quantile read from summed bucket counts
 * is too. Buckets of many batches merge by adding their counts.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.005;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (ms) count as zero. */
const MIN_POSITIVE = 1e-6;
export const ZERO_BUCKET = -1_000_000;

export function sketchBucket(value: number): number {
  return value <= MIN_POSITIVE ? ZERO_BUCKET : Math.ceil(Math.log(value) / LOG_GAMMA);
}

/** The value a bucket stands for: within ±α of everything in it. */
export function bucketValue(bucket: number): number {
  return bucket === ZERO_BUCKET ? 0 : (2 * GAMMA ** bucket) / (GAMMA + 1);
}

/** The q-quantile (0 ≤ q ≤ 1) of the values counted in `buckets` ([bucket, count] pairs, any order); null when empty. */
export function sketchQuantile(buckets: Iterable<readonly [number, number]>, q: number): number | null {
  const sorted = [...buckets].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * (total - 1);
  let seen = 0;
  for (const [bucket, count] of sorted) {
    seen += count;
    if (seen > rank) return bucketValue(bucket);
  }
  return bucketValue(sorted.at(-1)![0]);
}
