import { drizzle } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { type DomainError, isError, type Result } from '../errors.js';
import { type LiveEvent, outbox, publishCommitted } from '../events/hub.js';
import type { Db, Tx } from './client.js';
import * as tables from './tables.js';

/**
 * Runs `work` inside `begin`'s transaction; an expected failure (a DomainError it returns) rolls
 * the transaction back and is returned, anything thrown propagates.
 */
async function rollbackOnError<Handle, T>(
  begin: (run: (handle: Handle) => Promise<T>) => Promise<T>,
  work: (handle: Handle) => Promise<Result<T>>,
): Promise<Result<T>> {
  const rollback = new Error('rollback');
  let failure: DomainError | undefined;
  // What the transaction announces for live views (Redis transport): published once it committed.
  const announced = new Map<string, LiveEvent>();
  try {
    const committed = await outbox.run(announced, () =>
      begin(async (handle) => {
        const result = await work(handle);
        if (isError(result)) {
          failure = result;
          throw rollback;
        }
        return result;
      }),
    );
    publishCommitted(announced);
    return committed;
  } catch (error) {
    if (error === rollback && failure) return failure;
    throw error;
  }
}

/** A drizzle transaction, rolled back when `work` returns an expected error. */
export function transactionResult<T>(db: Db, work: (tx: Tx) => Promise<Result<T>>): Promise<Result<T>> {
  return rollbackOnError<Tx, T>((run) => db.transaction(run), work);
}

/** A transaction as both drizzle (for the query builder) and postgres.js (for COPY and LISTEN-free raw SQL). */
export interface PgTransaction {
  db: Db;
  pg: postgres.TransactionSql;
}

export function pgTransactionResult<T>(sql: postgres.Sql, work: (tx: PgTransaction) => Promise<Result<T>>): Promise<Result<T>> {
  return rollbackOnError<PgTransaction, T>(
    (run) =>
      sql.begin((pg) => {
        // drizzle reads client.options, which postgres.js transaction handles lack; they share the pool's.
        const client = Object.assign(pg, { options: sql.options }) as unknown as postgres.Sql;
        return run({ db: drizzle(client, { schema: tables }), pg });
      }) as Promise<T>,
    work,
  );
}
