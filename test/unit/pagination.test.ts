import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { DEFAULT_PAGE_SIZE, keysetPageInMemory, MAX_PAGE_SIZE, type Page, type PageArgs } from '../../src/pagination.js';

// Property tests of in-memory keyset pagination against a naive sort + slice of the same rows.

const RUNS = { numRuns: 200 };

interface Row {
  value: string;
  id: string;
}
type Order = { key: (row: Row) => [string, string]; direction: 'ASC' | 'DESC'; cast: 'text' | 'timestamptz' | 'bigint' };

const key = (row: Row): [string, string] => [row.value, row.id];

/**
 * Naive order: by value then id, JavaScript string order (timestamps are ISO strings of one fixed
 * length, whose text order is their time order) or, for bigint, numeric order; reversed for DESC.
 */
function naiveSort(rows: Row[], direction: 'ASC' | 'DESC', cast: Order['cast']): Row[] {
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const value = (a: string, b: string) => (cast === 'bigint' ? Number(a) - Number(b) : text(a, b));
  const sorted = [...rows].sort((a, b) => value(a.value, b.value) || text(a.id, b.id));
  return direction === 'ASC' ? sorted : sorted.reverse();
}

const BASE_MS = Date.UTC(2024, 0, 1);
/** Few distinct sort values so that ties (broken by id) are common. */
const textValue = fc.string({ maxLength: 2, unit: fc.constantFrom('a', 'b', 'B', 'é', ' ') });
const timestampValue = fc.integer({ min: 0, max: 6 }).map((k) => new Date(BASE_MS + k * 86_399_999).toISOString());
/** Counts whose text order differs from their numeric order (9 < 10 < 100). */
const integerValue = fc.constantFrom(0, 9, 10, 100, 12_345_678_901).map(String);

/** Rows with unique ids, sorted in their order (keysetPageInMemory's precondition). */
const sortedCase = fc
  .record({
    cast: fc.constantFrom('text' as const, 'timestamptz' as const, 'bigint' as const),
    direction: fc.constantFrom('ASC' as const, 'DESC' as const),
  })
  .chain(({ cast, direction }) =>
    fc.record({
      order: fc.constant<Order>({ key, cast, direction }),
      rows: fc
        .uniqueArray(
          fc.record({
            value: cast === 'text' ? textValue : cast === 'bigint' ? integerValue : timestampValue,
            id: fc.string({ minLength: 1, maxLength: 4 }),
          }),
          {
            selector: (row) => row.id,
            maxLength: 40,
          },
        )
        .map((rows) => naiveSort(rows, direction, cast)),
      size: fc.integer({ min: 1, max: 12 }),
    }),
  );

function page(rows: Row[], args: PageArgs, order: Order): Page<Row> {
  const result = keysetPageInMemory(rows, args, order);
  if (result instanceof ValidationError) throw new Error(`unexpected ValidationError: ${result.message}`);
  return result;
}

/** The rows' cursors, from one page holding them all. */
function cursorsOf(rows: Row[], order: Order): string[] {
  return page(rows, { first: MAX_PAGE_SIZE }, order).edges.map((edge) => edge.cursor);
}

function expectConsistentCursors(p: Page<Row>): void {
  expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
  expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
}

describe('keysetPageInMemory: walking all pages', () => {
  it('forward (first / after endCursor) yields every row exactly once, in order, in full pages but the last', () => {
    fc.assert(
      fc.property(sortedCase, ({ rows, order, size }) => {
        const seen: Row[] = [];
        let args: PageArgs = { first: size };
        for (let i = 0; ; i++) {
          const p = page(rows, args, order);
          expectConsistentCursors(p);
          const remaining = rows.length - seen.length;
          expect(p.edges).toHaveLength(Math.min(size, remaining));
          expect(p.pageInfo.hasNextPage).toBe(remaining > size);
          expect(p.pageInfo.hasPreviousPage).toBe(i > 0);
          seen.push(...p.edges.map((edge) => edge.node));
          if (!p.pageInfo.hasNextPage) break;
          args = { first: size, after: p.pageInfo.endCursor };
        }
        expect(seen).toEqual(rows);
      }),
      RUNS,
    );
  });

  it('backward (last / before startCursor) yields every row exactly once, each page in order, in full pages but the first', () => {
    fc.assert(
      fc.property(sortedCase, ({ rows, order, size }) => {
        let seen: Row[] = [];
        let args: PageArgs = { last: size };
        for (let i = 0; ; i++) {
          const p = page(rows, args, order);
          expectConsistentCursors(p);
          const remaining = rows.length - seen.length;
          expect(p.edges).toHaveLength(Math.min(size, remaining));
          expect(p.pageInfo.hasPreviousPage).toBe(remaining > size);
          expect(p.pageInfo.hasNextPage).toBe(i > 0);
          seen = [...p.edges.map((edge) => edge.node), ...seen];
          if (!p.pageInfo.hasPreviousPage) break;
          args = { last: size, before: p.pageInfo.startCursor };
        }
        expect(seen).toEqual(rows);
      }),
      RUNS,
    );
  });
});

describe('keysetPageInMemory: one page from a cursor', () => {
  const withIndex = sortedCase
    .filter(({ rows }) => rows.length > 0)
    .chain((c) => fc.record({ c: fc.constant(c), index: fc.integer({ min: 0, max: c.rows.length - 1 }) }));

  it('first n after row i is the naive slice (i, i + n]', () => {
    fc.assert(
      fc.property(withIndex, ({ c: { rows, order, size }, index }) => {
        const p = page(rows, { first: size, after: cursorsOf(rows, order)[index] }, order);
        expect(p.edges.map((edge) => edge.node)).toEqual(rows.slice(index + 1, index + 1 + size));
        expect(p.pageInfo.hasNextPage).toBe(index + 1 + size < rows.length);
        expect(p.pageInfo.hasPreviousPage).toBe(true);
      }),
      RUNS,
    );
  });

  it('last n before row i is the naive slice [i − n, i)', () => {
    fc.assert(
      fc.property(withIndex, ({ c: { rows, order, size }, index }) => {
        const p = page(rows, { last: size, before: cursorsOf(rows, order)[index] }, order);
        expect(p.edges.map((edge) => edge.node)).toEqual(rows.slice(Math.max(0, index - size), index));
        expect(p.pageInfo.hasPreviousPage).toBe(index - size > 0);
        expect(p.pageInfo.hasNextPage).toBe(true);
      }),
      RUNS,
    );
  });

  it('still works from the cursor of a row removed since: the page starts just past where it was', () => {
    fc.assert(
      fc.property(withIndex, ({ c: { rows, order, size }, index }) => {
        const cursor = cursorsOf(rows, order)[index];
        const remaining = rows.filter((_, i) => i !== index);
        const forward = page(remaining, { first: size, after: cursor }, order);
        expect(forward.edges.map((edge) => edge.node)).toEqual(rows.slice(index + 1, index + 1 + size));
        const backward = page(remaining, { last: size, before: cursor }, order);
        expect(backward.edges.map((edge) => edge.node)).toEqual(rows.slice(Math.max(0, index - size), index));
      }),
      RUNS,
    );
  });

  it(`pages ${DEFAULT_PAGE_SIZE} rows by default, forward, and also backward when only before is given`, () => {
    fc.assert(
      fc.property(withIndex, ({ c: { rows, order }, index }) => {
        expect(page(rows, {}, order).edges.map((edge) => edge.node)).toEqual(rows.slice(0, DEFAULT_PAGE_SIZE));
        const before = page(rows, { before: cursorsOf(rows, order)[index] }, order);
        expect(before.edges.map((edge) => edge.node)).toEqual(rows.slice(Math.max(0, index - DEFAULT_PAGE_SIZE), index));
      }),
      RUNS,
    );
  });

  it('first: 0 / last: 0 give an empty page that still says whether rows lie beyond the cursor', () => {
    fc.assert(
      fc.property(sortedCase, ({ rows, order }) => {
        const forward = page(rows, { first: 0 }, order);
        expect(forward.edges).toEqual([]);
        expect(forward.pageInfo).toEqual({ hasNextPage: rows.length > 0, hasPreviousPage: false, startCursor: null, endCursor: null });
        const backward = page(rows, { last: 0 }, order);
        expect(backward.edges).toEqual([]);
        expect(backward.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: rows.length > 0, startCursor: null, endCursor: null });
      }),
      RUNS,
    );
  });
});

describe('keysetPageInMemory: refused arguments', () => {
  /** The ValidationError the code answers (never throws), naming the field at fault. */
  function expectRefused(rows: Row[], args: PageArgs, order: Order, field: string): void {
    const result = keysetPageInMemory(rows, args, order);
    expect(result).toBeInstanceOf(ValidationError);
    expect((result as ValidationError).fieldErrors.map((e) => e.field)).toEqual([field]);
  }

  /** A naive reading of the cursor format: base64url of a JSON [string, string]. */
  function naiveIsCursor(cursor: string): boolean {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
      return Array.isArray(parsed) && parsed.length === 2 && parsed.every((part) => typeof part === 'string');
    } catch {
      return false;
    }
  }

  const base64url = (text: string) => Buffer.from(text).toString('base64url');
  const badCursor = fc
    .oneof(
      fc.string(),
      fc.jsonValue().map((json) => base64url(JSON.stringify(json))),
      fc.constantFrom(
        base64url('["a"]'),
        base64url('["a","b","c"]'),
        base64url('[1,"b"]'),
        base64url('{"0":"a","1":"b"}'),
        base64url('"ab"'),
      ),
    )
    .filter((cursor) => !naiveIsCursor(cursor));

  it('refuses cursors that are not base64url JSON pairs of strings, naming after / before', () => {
    fc.assert(
      fc.property(sortedCase, badCursor, ({ rows, order, size }, cursor) => {
        expectRefused(rows, { first: size, after: cursor }, order, 'after');
        expectRefused(rows, { last: size, before: cursor }, order, 'before');
        expectRefused(rows, { before: cursor }, order, 'before');
      }),
      RUNS,
    );
  });

  it('refuses, for a timestamp order, a well-formed cursor whose sort value is not a timestamp', () => {
    // ("infinity" is a timestamp to PostgreSQL: batch orders put unset times there.)
    const notTimestamp = fc.string().filter((value) => Number.isNaN(Date.parse(value)) && !/^[+-]?infinity$/.test(value));
    fc.assert(
      fc.property(
        sortedCase.filter(({ order }) => order.cast === 'timestamptz'),
        notTimestamp,
        fc.string(),
        ({ rows, order, size }, value, id) => {
          const cursor = base64url(JSON.stringify([value, id]));
          expectRefused(rows, { first: size, after: cursor }, order, 'after');
          expectRefused(rows, { last: size, before: cursor }, order, 'before');
        },
      ),
      RUNS,
    );
  });

  it('refuses, for an integer order, a well-formed cursor whose sort value is not a safe integer', () => {
    const notInteger = fc.oneof(
      fc.string().filter((value) => !/^-?\d+$/.test(value)),
      fc.constantFrom('1.5', '1e3', '99999999999999999999', ' 7', '+7'),
    );
    fc.assert(
      fc.property(
        sortedCase.filter(({ order }) => order.cast === 'bigint'),
        notInteger,
        fc.string(),
        ({ rows, order, size }, value, id) => {
          const cursor = base64url(JSON.stringify([value, id]));
          expectRefused(rows, { first: size, after: cursor }, order, 'after');
          expectRefused(rows, { last: size, before: cursor }, order, 'before');
        },
      ),
      RUNS,
    );
  });

  it('refuses first and last together, and page sizes that are not integers from 0 to the maximum', () => {
    const badSize = fc.oneof(
      fc.integer({ min: MAX_PAGE_SIZE + 1 }),
      fc.integer({ max: -1 }),
      fc.double({ noNaN: false }).filter((x) => !Number.isInteger(x)),
    );
    fc.assert(
      fc.property(sortedCase, badSize, fc.integer({ min: 0, max: MAX_PAGE_SIZE }), ({ rows, order }, bad, good) => {
        expectRefused(rows, { first: good, last: good }, order, 'last');
        expectRefused(rows, { first: bad }, order, 'first');
        expectRefused(rows, { last: bad }, order, 'last');
      }),
      RUNS,
    );
  });
});
