import { drizzle } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { type DomainError, isError, type Result } from '../errors.js';
import type { Db, Tx } from './client.js';
import * as tables from './tables.js';

/**
 * The after-commit work of each transaction in progress, by its handles (drizzle's and
 * postgres.js's), keyed so repeats collapse. (Not an AsyncLocalStorage: on Node 20 one turns on
 * promise hooks for the whole process, ~2 µs more of CPU per ingested row.)
 */
const pendingAfterCommit = new WeakMap<object, Map<string, () => void>>();

/**
 * Runs `run` once the transaction of `tx` (a handle given by transactionResult or
 * pgTransactionResult) commits, never if it rolls back; for any other handle, at once. Work
 * registered twice under one key runs once.
 */
export function afterCommit(tx: object, key: string, run: () => void): void {
  const pending = pendingAfterCommit.get(tx);
  if (pending) pending.set(key, run);
  else run();
}

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
  const committedWork = new Map<string, () => void>();
  try {
    const committed = await begin(async (handle) => {
      pendingAfterCommit.set(handle as object, committedWork);
      const { db, pg } = handle as Partial<PgTransaction>;
      if (db) pendingAfterCommit.set(db, committedWork);
      if (pg) pendingAfterCommit.set(pg, committedWork);
      const result = await work(handle);
      if (isError(result)) {
        failure = result;
        throw rollback;
      }
      return result;
    });
    for (const run of committedWork.values()) run();
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
