// The one place that tells an unexpected error apart from "the database cannot serve right now":
// REST (src/http/server.ts) and GraphQL (src/http/yoga.ts, src/http/graphql-http.ts) both answer
// with what databaseFailure() says instead of a bare 500.

export interface DatabaseFailure {
  /** 503: PostgreSQL is away or (re)starting, try again shortly; 507: its disk is full. */
  status: 503 | 507;
  /** The GraphQL error code (`extensions.code`). */
  code: 'DATABASE_UNAVAILABLE' | 'INSUFFICIENT_STORAGE';
  message: string;
  /** Seconds, for Retry-After (503 only). */
  retryAfter?: number;
}

/** postgres.js's own codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

const RETRY_AFTER_SECONDS = 2;

const unavailable = (): DatabaseFailure => ({
  status: 503,
  code: 'DATABASE_UNAVAILABLE',
  message: 'The database is unavailable (restarting or unreachable); nothing of this request was stored. Try again shortly.',
  retryAfter: RETRY_AFTER_SECONDS,
});

/**
 * What a failure of the database means for the client, or undefined for any other error (a bug: 500).
 * Looks through wrappers (drizzle's "Failed query", GraphQL's originalError) at the cause.
 * - SQLSTATE 53100 (disk_full) → 507: the server's disk is full. PostgreSQL refused the write and
 *   rolled the transaction back.
 * - connection refused / lost, SQLSTATE class 08 (connection exception), 57P01–57P03 (shut down by
 *   an administrator, after a crash, or still starting: "cannot connect now"), and the other 53xxx
 *   (out of memory, too many connections: resources that come back by themselves) → 503 with
 *   Retry-After.
 */
export function databaseFailure(error: unknown): DatabaseFailure | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string') {
      if (code === '53100') {
        return {
          status: 507,
          code: 'INSUFFICIENT_STORAGE',
          message: "The server's disk is full: the database cannot store more data. Nothing of this request was stored.",
        };
      }
      if (/^(08|53)...$/.test(code) || /^57P0[123]$/.test(code) || CONNECTION_CODES.has(code)) return unavailable();
    }
    const next = (current as { originalError?: unknown; cause?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return undefined;
}
