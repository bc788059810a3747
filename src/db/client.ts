import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as tables from './tables.js';

export type Db = PostgresJsDatabase<typeof tables>;
/** A transaction handle: drizzle's transaction object is a Db with rollback(). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  /** The same pool through postgres.js (COPY, LISTEN, temporary tables). */
  pg: postgres.Sql;
  close(): Promise<void>;
}

export interface ConnectOptions {
  max?: number;
  /** Called for every statement sent; tests count statements with it. */
  onQuery?: (query: string) => void;
}

export function connect(url: string, options: ConnectOptions = {}): Database {
  const pg = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Reconnect quickly once the database is back (the default backoff grows to 20 s, so a server
    // would stay unhealthy long after a database restart): ≤ 1 s between attempts.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1),
    transform: { undefined: null },
    debug: options.onQuery ? (_connection, query) => options.onQuery?.(query) : undefined,
  });
  const db = drizzle(pg, { schema: tables });
  return {
    db,
    pg,
    close: () => pg.end({ timeout: 5 }),
  };
}
