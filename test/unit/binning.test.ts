import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CategoricalBaselineColumn, NumericBaselineColumn } from '../../src/db/tables.js';
import { binCount, binIndex, binLabels, missingBin } from '../../src/modules/baselines/binning.js';

// Property tests of baseline binning against a naive linear scan of the edges / category list.

const RUNS = { numRuns: 300 };

/** Strictly increasing finite edges (0 and −0 count as one), as tables.ts documents them. */
const edgesArb = fc
  .uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 12, comparator: 'SameValueZero' })
  .map((edges) => edges.sort((a, b) => a - b));

const numericColumn = edgesArb.map(
  (edges): NumericBaselineColumn => ({
    kind: 'numeric',
    name: 'x',
    edges,
    mean: null,
    std: null,
    counts: new Array<number>(edges.length + 2).fill(0),
  }),
);

const categoricalColumn = fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 25 }).map(
  (values): CategoricalBaselineColumn => ({
    kind: 'categorical',
    name: 'c',
    values,
    counts: new Array<number>(values.length + 2).fill(0),
  }),
);

/** A column and values for it: arbitrary numbers, ±Infinity, and the edges themselves (bin boundaries). */
const numericCase = numericColumn.chain((column) =>
  fc.record({
    column: fc.constant(column),
    values: fc.array(
      fc.oneof(
        fc.double({ noNaN: true }),
        column.edges.length ? fc.constantFrom(...column.edges) : fc.constant(0),
        column.edges.length ? fc.constantFrom(...column.edges).map((edge) => edge - Number.EPSILON * Math.abs(edge)) : fc.constant(-1),
      ),
      { minLength: 1, maxLength: 20 },
    ),
  }),
);

/** A column and values for it: known categories, unknown strings, and numbers (stringified by binIndex). */
const categoricalCase = categoricalColumn.chain((column) =>
  fc.record({
    column: fc.constant(column),
    values: fc.array(
      fc.oneof(
        column.values.length ? fc.constantFrom(...column.values) : fc.constant('a'),
        fc.string({ maxLength: 4 }),
        fc.integer({ min: -5, max: 20 }),
      ),
      { minLength: 1, maxLength: 20 },
    ),
  }),
);

/** Naive numeric rule: the number of edges ≤ value (PostgreSQL's width_bucket). */
const naiveNumericBin = (edges: number[], value: number) => edges.filter((edge) => edge <= value).length;

/** Naive categorical rule: the first position of the value's text, else "other" (after all values). */
function naiveCategoricalBin(values: string[], value: string | number): number {
  for (let i = 0; i < values.length; i++) if (values[i] === String(value)) return i;
  return values.length;
}

describe('binCount and missingBin', () => {
  it('numeric: one bin per gap between edges plus the two open ends, then the missing bin last', () => {
    fc.assert(
      fc.property(numericColumn, (column) => {
        expect(binCount(column)).toBe(column.edges.length + 2);
        expect(missingBin(column)).toBe(binCount(column) - 1);
        expect(binIndex(column, null)).toBe(missingBin(column));
      }),
      RUNS,
    );
  });

  it('categorical: one bin per value, then "other", then the missing bin last', () => {
    fc.assert(
      fc.property(categoricalColumn, (column) => {
        expect(binCount(column)).toBe(column.values.length + 2);
        expect(missingBin(column)).toBe(binCount(column) - 1);
        expect(binIndex(column, null)).toBe(missingBin(column));
      }),
      RUNS,
    );
  });
});

describe('binIndex (numeric)', () => {
  it('equals the number of edges ≤ value, by linear scan, for numbers and their text forms', () => {
    fc.assert(
      fc.property(numericCase, ({ column, values }) => {
        for (const value of values) {
          expect(binIndex(column, value)).toBe(naiveNumericBin(column.edges, value));
          expect(binIndex(column, String(value))).toBe(naiveNumericBin(column.edges, value));
        }
      }),
      RUNS,
    );
  });

  it('never answers the missing bin for a value, and stays within the value bins', () => {
    fc.assert(
      fc.property(numericCase, ({ column, values }) => {
        for (const value of values) {
          const bin = binIndex(column, value);
          expect(bin).toBeGreaterThanOrEqual(0);
          expect(bin).toBeLessThan(missingBin(column));
        }
      }),
      RUNS,
    );
  });

  it('puts every value in the bin whose label bounds hold it: lower ≤ value < upper (null = open)', () => {
    fc.assert(
      fc.property(numericCase, ({ column, values }) => {
        const labels = binLabels(column);
        for (const value of values) {
          const { lower, upper } = labels[binIndex(column, value)]!;
          expect(lower === null || lower <= value).toBe(true);
          expect(upper === null || value < upper).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('is monotone in the value', () => {
    fc.assert(
      fc.property(numericCase, ({ column, values }) => {
        const sorted = [...values].sort((a, b) => a - b);
        const bins = sorted.map((value) => binIndex(column, value));
        for (let i = 1; i < bins.length; i++) expect(bins[i]!).toBeGreaterThanOrEqual(bins[i - 1]!);
      }),
      RUNS,
    );
  });
});

describe('binIndex (categorical)', () => {
  it('equals the position found by a linear scan of the values, "other" for unknown values', () => {
    fc.assert(
      fc.property(categoricalCase, ({ column, values }) => {
        for (const value of values) expect(binIndex(column, value)).toBe(naiveCategoricalBin(column.values, value));
      }),
      RUNS,
    );
  });

  it('gives each known value its own label, and everything else the "other" bin', () => {
    fc.assert(
      fc.property(categoricalCase, ({ column, values }) => {
        const labels = binLabels(column);
        for (const value of values) {
          const label = labels[binIndex(column, value)]!.label;
          expect(label).toBe(column.values.includes(String(value)) ? String(value) : 'other');
          expect(binIndex(column, value)).not.toBe(missingBin(column));
        }
      }),
      RUNS,
    );
  });
});

describe('binLabels', () => {
  it('numeric: one label per bin, contiguous [lower, upper) ranges over the edges, open at both ends, then "missing"', () => {
    fc.assert(
      fc.property(numericColumn, (column) => {
        const labels = binLabels(column);
        const { edges } = column;
        expect(labels).toHaveLength(binCount(column));
        expect(labels.at(-1)).toEqual({ label: 'missing', lower: null, upper: null });
        const valueBins = labels.slice(0, -1);
        expect(valueBins.map((bin) => bin.lower)).toEqual([null, ...edges]);
        expect(valueBins.map((bin) => bin.upper)).toEqual([...edges, null]);
        for (const bin of valueBins) expect(bin.label).toBe(`[${bin.lower ?? '-inf'}, ${bin.upper ?? '+inf'})`);
      }),
      RUNS,
    );
  });

  it('categorical: one label per value in order, then "other" and "missing", without bounds', () => {
    fc.assert(
      fc.property(categoricalColumn, (column) => {
        const labels = binLabels(column);
        expect(labels).toHaveLength(binCount(column));
        expect(labels.map((bin) => bin.label)).toEqual([...column.values, 'other', 'missing']);
        for (const bin of labels) expect([bin.lower, bin.upper]).toEqual([null, null]);
      }),
      RUNS,
    );
  });
});
