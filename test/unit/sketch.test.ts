import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketValue, SKETCH_RELATIVE_ACCURACY, sketchBucket, sketchQuantile, ZERO_BUCKET } from '../../src/modules/predictions/sketch.js';

// Property tests of the execution-time sketch against exact quantiles of the raw values.

const RUNS = { numRuns: 300 };
const ALPHA = SKETCH_RELATIVE_ACCURACY;
/** What sketch.ts documents: values at or below 1e-6 ms count as zero. */
const MIN_POSITIVE = 1e-6;
/** Slack for the floating-point rounding of log / pow on top of the declared accuracy α. */
const FLOAT_SLACK = 1e-12;

/** The value the sketch stands for, exactly: anything at or below MIN_POSITIVE (zero, negatives) is 0. */
const asCounted = (value: number) => (value <= MIN_POSITIVE ? 0 : value);

/** |estimate − exact| ≤ α·exact (+ float slack): the sketch's declared accuracy. */
function withinAccuracy(estimate: number, exact: number): boolean {
  return Math.abs(estimate - exact) <= (ALPHA + FLOAT_SLACK) * Math.abs(exact);
}

/** The [bucket, count] pairs of `values`, as the ingest path builds them (one count per value). */
function bucketsOf(values: number[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const value of values) {
    const bucket = sketchBucket(value);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return [...counts];
}

/**
 * The exact quantile the sketch estimates: sketchQuantile takes rank q·(n − 1) and answers the
 * bucket holding the element at that rank rounded down, i.e. the "lower" quantile sorted[⌊q(n−1)⌋].
 */
function exactLowerQuantile(values: number[], q: number): number {
  const sorted = values.map(asCounted).sort((a, b) => a - b);
  const clamped = Math.min(Math.max(q, 0), 1);
  return sorted[Math.floor(clamped * (sorted.length - 1))]!;
}

const positive = fc.double({ min: 1.000001e-6, max: 1e12, noNaN: true });
/** Execution times: mostly ordinary ms, some huge or tiny, some zero or negative (counted as zero). */
const executionTime = fc.oneof(
  { arbitrary: fc.double({ min: 0, max: 10_000, noNaN: true }), weight: 4 },
  { arbitrary: positive, weight: 2 },
  { arbitrary: fc.constantFrom(0, -0, 1e-7, MIN_POSITIVE, -1, -1e9), weight: 1 },
);
const quantileLevel = fc.oneof(fc.constantFrom(0, 0.5, 0.9, 0.99, 1), fc.double({ min: 0, max: 1, noNaN: true }));

describe('sketchBucket and bucketValue', () => {
  it('represent any positive value within the declared relative accuracy', () => {
    fc.assert(
      fc.property(positive, (value) => withinAccuracy(bucketValue(sketchBucket(value)), value)),
      RUNS,
    );
  });

  it('represent the bucket boundaries γ^k themselves within the declared relative accuracy', () => {
    const gamma = (1 + ALPHA) / (1 - ALPHA);
    fc.assert(
      fc.property(fc.integer({ min: -2700, max: 5000 }), (k) => {
        const value = gamma ** k;
        return value <= MIN_POSITIVE || withinAccuracy(bucketValue(sketchBucket(value)), value);
      }),
      RUNS,
    );
  });

  it('put zero, negative and tiny values (≤ 1e-6) in the zero bucket, which stands for 0', () => {
    expect(bucketValue(ZERO_BUCKET)).toBe(0);
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: MIN_POSITIVE, noNaN: true }), (value) => sketchBucket(value) === ZERO_BUCKET),
      RUNS,
    );
  });

  it('are monotone: a larger value never lands in a lower bucket', () => {
    fc.assert(
      fc.property(executionTime, executionTime, (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        return sketchBucket(low) <= sketchBucket(high) && bucketValue(sketchBucket(low)) <= bucketValue(sketchBucket(high));
      }),
      RUNS,
    );
  });

  it('give every positive value above 1e-6 a bucket distinct from the zero bucket', () => {
    fc.assert(
      fc.property(positive, (value) => sketchBucket(value) !== ZERO_BUCKET && bucketValue(sketchBucket(value)) > 0),
      RUNS,
    );
  });
});

describe('sketchQuantile', () => {
  it('is within the declared relative accuracy of the exact lower quantile sorted[⌊q(n−1)⌋]', () => {
    fc.assert(
      fc.property(fc.array(executionTime, { minLength: 1, maxLength: 300 }), quantileLevel, (values, q) => {
        const estimate = sketchQuantile(bucketsOf(values), q);
        expect(estimate).not.toBeNull();
        const exact = exactLowerQuantile(values, q);
        expect(withinAccuracy(estimate!, exact), `estimate ${estimate} vs exact ${exact}`).toBe(true);
      }),
      RUNS,
    );
  });

  it('answers 0 exactly when the quantile falls on a zero, negative or tiny value', () => {
    fc.assert(
      fc.property(fc.array(executionTime, { minLength: 1, maxLength: 100 }), quantileLevel, (values, q) => {
        const exact = exactLowerQuantile(values, q);
        return exact !== 0 || sketchQuantile(bucketsOf(values), q) === 0;
      }),
      RUNS,
    );
  });

  it('does not depend on the order of the pairs, on zero-count pairs, or on a bucket split over several pairs', () => {
    fc.assert(
      fc.property(
        fc.array(executionTime, { minLength: 1, maxLength: 100 }),
        quantileLevel,
        fc.array(fc.integer({ min: -3000, max: 3000 }), { maxLength: 5 }),
        (values, q, emptyBuckets) => {
          const buckets = bucketsOf(values);
          // Each bucket's count split in two pairs (a count of 1 gives a pair of 0), then reversed.
          const rewritten: [number, number][] = [
            ...emptyBuckets.map((bucket): [number, number] => [bucket, 0]),
            ...buckets.flatMap(([bucket, count]): [number, number][] => [
              [bucket, Math.floor(count / 2)],
              [bucket, count - Math.floor(count / 2)],
            ]),
          ].reverse();
          expect(sketchQuantile(rewritten, q)).toBe(sketchQuantile(buckets, q));
        },
      ),
      RUNS,
    );
  });

  it('merges: the quantile of summed bucket counts of several batches is that of all their values at once', () => {
    fc.assert(
      fc.property(fc.array(fc.array(executionTime, { maxLength: 50 }), { minLength: 1, maxLength: 5 }), quantileLevel, (batches, q) => {
        const summed = new Map<number, number>();
        for (const batch of batches) for (const [bucket, count] of bucketsOf(batch)) summed.set(bucket, (summed.get(bucket) ?? 0) + count);
        expect(sketchQuantile(summed, q)).toBe(sketchQuantile(bucketsOf(batches.flat()), q));
      }),
      RUNS,
    );
  });

  it('is non-decreasing in q', () => {
    fc.assert(
      fc.property(fc.array(executionTime, { minLength: 1, maxLength: 100 }), quantileLevel, quantileLevel, (values, q1, q2) => {
        const buckets = bucketsOf(values);
        const [low, high] = q1 <= q2 ? [q1, q2] : [q2, q1];
        return sketchQuantile(buckets, low)! <= sketchQuantile(buckets, high)!;
      }),
      RUNS,
    );
  });

  it('clamps q to [0, 1]: below 0 answers the minimum, above 1 the maximum', () => {
    fc.assert(
      fc.property(
        fc.array(executionTime, { minLength: 1, maxLength: 100 }),
        fc.double({ min: 1, max: 1e6, noNaN: true, minExcluded: true }),
        (values, beyond) => {
          const buckets = bucketsOf(values);
          expect(sketchQuantile(buckets, -beyond)).toBe(sketchQuantile(buckets, 0));
          expect(sketchQuantile(buckets, 1 + beyond)).toBe(sketchQuantile(buckets, 1));
          expect(withinAccuracy(sketchQuantile(buckets, 0)!, Math.min(...values.map(asCounted)))).toBe(true);
          expect(withinAccuracy(sketchQuantile(buckets, 1)!, Math.max(...values.map(asCounted)))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('is null without values (no pairs, or only zero counts)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3000, max: 3000 }), { maxLength: 5 }), quantileLevel, (buckets, q) => {
        expect(sketchQuantile([], q)).toBeNull();
        expect(
          sketchQuantile(
            buckets.map((bucket): [number, number] => [bucket, 0]),
            q,
          ),
        ).toBeNull();
      }),
      { numRuns: 50 },
    );
  });
});
