import { type SQL, sql } from 'drizzle-orm';
import { ValidationError } from './errors.js';

export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

export interface Page<Row> {
  edges: { cursor: string; node: Row }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A total order: a sort expression (never null) and the id as tie-breaker. */
export interface KeysetOrder<Row> {
  expr: SQL;
  id: SQL;
  /** Postgres type of `expr`, to cast the cursor's value back. */
  cast: 'text' | 'timestamptz' | 'bigint';
  direction: 'ASC' | 'DESC';
  key(row: Row): [string, string];
}

function encodeCursor(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A timestamp as keys write it: toISOString() of years 0001–9999 (PostgreSQL reads those back), or ±infinity. */
function isCursorTimestamp(value: string): boolean {
  if (value === 'infinity' || value === '-infinity') return true;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && /^\d{4}-/.test(value) && !value.startsWith('0000') && new Date(ms).toISOString() === value;
}

/** A bigint as keys write it: String() of a safe integer. */
function isCursorInteger(value: string): boolean {
  return /^-?\d{1,16}$/.test(value) && Number.isSafeInteger(Number(value));
}

/** Refuses a forged timestamp or integer value here: cast in SQL, it would fail the query (a 500). */
function decodeCursor(cursor: string, field: string, cast: KeysetOrder<unknown>['cast']): [string, string] | ValidationError {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(key) && key.length === 2 && key.every((part) => typeof part === 'string')) {
      const pair = key as [string, string];
      if (cast === 'text' || (cast === 'timestamptz' ? isCursorTimestamp(pair[0]) : isCursorInteger(pair[0]))) return pair;
    }
  } catch {
    // fall through
  }
  return ValidationError.of(field, 'is not a cursor returned by this connection');
}

/** What a page request asks for, validated: direction, size and the decoded cursor. */
interface PageRequest {
  backward: boolean;
  size: number;
  cursor: [string, string] | null;
}

function pageRequest(args: PageArgs, cast: KeysetOrder<unknown>['cast']): PageRequest | ValidationError {
  const { first, last, after, before } = args;
  if (first != null && last != null) return ValidationError.of('last', 'cannot be combined with first');
  for (const [field, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE)) {
      return ValidationError.of(field, `must be an integer from 0 to ${MAX_PAGE_SIZE}`);
    }
  }
  const backward = last != null || (before != null && first == null);
  const cursorArg = backward ? before : after;
  const cursor = cursorArg == null ? null : decodeCursor(cursorArg, backward ? 'before' : 'after', cast);
  if (cursor instanceof ValidationError) return cursor;
  return { backward, size: (backward ? last : first) ?? DEFAULT_PAGE_SIZE, cursor };
}

/** `rows` in walking order (reversed order when backward), at most size + 1 of them. */
function toPage<Row>(request: PageRequest, args: PageArgs, rows: Row[], key: (row: Row) => [string, string]): Page<Row> {
  const hasMore = rows.length > request.size;
  const pageRows = rows.slice(0, request.size);
  if (request.backward) pageRows.reverse();
  const edges = pageRows.map((node) => ({ cursor: encodeCursor(key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: request.backward ? args.before != null : hasMore,
      hasPreviousPage: request.backward ? hasMore : args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/**
 * Keyset (cursor) pagination: stable while rows are added or removed, and each page costs one
 * indexed range scan. `fetch` runs the query with the extra condition, order and limit.
 */
export async function keysetPage<Row>(
  args: PageArgs,
  order: KeysetOrder<Row>,
  fetch: (cursorCondition: SQL | undefined, orderBy: SQL[], limit: number) => Promise<Row[]>,
): Promise<Page<Row> | ValidationError> {
  const request = pageRequest(args, order.cast);
  if (request instanceof ValidationError) return request;
  const { condition, orderBy } = keysetQuery(request, order);
  const rows = request.size === 0 ? [] : await fetch(condition, orderBy, request.size + 1);
  return toPage(request, args, rows, order.key);
}

/**
 * The same page (same arguments) of several parents' lists at once, e.g. the audit trails of a page
 * of batches: `fetch` answers each parent's rows in one statement (a lateral join per parent).
 */
export async function keysetPages<Row>(
  args: PageArgs,
  order: KeysetOrder<Row>,
  parents: readonly string[],
  fetch: (cursorCondition: SQL | undefined, orderBy: SQL[], limit: number) => Promise<Map<string, Row[]>>,
): Promise<Map<string, Page<Row>> | ValidationError> {
  const request = pageRequest(args, order.cast);
  if (request instanceof ValidationError) return request;
  const { condition, orderBy } = keysetQuery(request, order);
  const rows = request.size === 0 ? new Map<string, Row[]>() : await fetch(condition, orderBy, request.size + 1);
  return new Map(parents.map((parent) => [parent, toPage(request, args, rows.get(parent) ?? [], order.key)]));
}

function keysetQuery<Row>(request: PageRequest, order: KeysetOrder<Row>): { condition: SQL | undefined; orderBy: SQL[] } {
  // Walking backward is walking the reversed order forward.
  const ascending = (order.direction === 'ASC') !== request.backward;
  let condition: SQL | undefined;
  if (request.cursor) {
    const value = sql`${request.cursor[0]}::${sql.raw(order.cast)}`;
    condition = ascending
      ? sql`(${order.expr}, ${order.id}) > (${value}, ${request.cursor[1]})`
      : sql`(${order.expr}, ${order.id}) < (${value}, ${request.cursor[1]})`;
  }
  const dir = sql.raw(ascending ? 'asc' : 'desc');
  return { condition, orderBy: [sql`${order.expr} ${dir}`, sql`${order.id} ${dir}`] };
}

/**
 * The same pages over rows already in memory, sorted in `order` (lists filtered by values computed
 * outside SQL, like deployment health). Cursors are interchangeable with keysetPage's.
 */
export function keysetPageInMemory<Row>(
  rows: Row[],
  args: PageArgs,
  order: Pick<KeysetOrder<Row>, 'key' | 'direction' | 'cast'>,
): Page<Row> | ValidationError {
  const request = pageRequest(args, order.cast);
  if (request instanceof ValidationError) return request;
  const compare = (a: [string, string], b: [string, string]) => {
    const byValue =
      order.cast === 'timestamptz'
        ? Date.parse(a[0]) - Date.parse(b[0])
        : order.cast === 'bigint'
          ? Number(a[0]) - Number(b[0])
          : a[0] < b[0]
            ? -1
            : a[0] > b[0]
              ? 1
              : 0;
    const byKey = byValue !== 0 ? byValue : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
    return order.direction === 'ASC' ? byKey : -byKey;
  };
  const walk = request.backward ? [...rows].reverse() : rows;
  const cursor = request.cursor;
  const beyond = cursor
    ? walk.filter((row) => (request.backward ? compare(order.key(row), cursor) < 0 : compare(order.key(row), cursor) > 0))
    : walk;
  return toPage(request, args, beyond.slice(0, request.size + 1), order.key);
}
