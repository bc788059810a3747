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
  cast: 'text' | 'timestamptz';
  direction: 'ASC' | 'DESC';
  key(row: Row): [string, string];
}

function encodeCursor(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, field: string): [string, string] | ValidationError {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(key) && key.length === 2 && key.every((part) => typeof part === 'string')) {
      return key as [string, string];
    }
  } catch {
    // fall through
  }
  return ValidationError.of(field, 'is not a cursor returned by this connection');
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
  const { first, last, after, before } = args;
  if (first != null && last != null) return ValidationError.of('last', 'cannot be combined with first');
  for (const [field, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE)) {
      return ValidationError.of(field, `must be an integer from 0 to ${MAX_PAGE_SIZE}`);
    }
  }
  const backward = last != null || (before != null && first == null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const cursorArg = backward ? before : after;
  const field = backward ? 'before' : 'after';
  // Walking backward is walking the reversed order forward.
  const ascending = (order.direction === 'ASC') !== backward;
  let condition: SQL | undefined;
  if (cursorArg != null) {
    const key = decodeCursor(cursorArg, field);
    if (key instanceof ValidationError) return key;
    const value = sql`${key[0]}::${sql.raw(order.cast)}`;
    condition = ascending
      ? sql`(${order.expr}, ${order.id}) > (${value}, ${key[1]})`
      : sql`(${order.expr}, ${order.id}) < (${value}, ${key[1]})`;
  }
  const dir = sql.raw(ascending ? 'asc' : 'desc');
  const rows = size === 0 ? [] : await fetch(condition, [sql`${order.expr} ${dir}`, sql`${order.id} ${dir}`], size + 1);
  const hasMore = rows.length > size;
  const pageRows = rows.slice(0, size);
  if (backward) pageRows.reverse();
  const edges = pageRows.map((node) => ({ cursor: encodeCursor(order.key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? before != null : hasMore,
      hasPreviousPage: backward ? hasMore : after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
