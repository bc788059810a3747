import { sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { DbOrTx } from './client.js';

/**
 * Every PostgreSQL advisory lock batchlens takes, in one place so their keys never collide.
 * Transaction-scoped locks (`…_xact_…`) end with the transaction that took them.
 */
const LOCK_CLASS = {
  /** Migrations: one server migrates at a time (session lock). */
  migrations: 7263541,
  /** Bootstrap of an empty database: one server creates the default organization. */
  bootstrap: 7263542,
  /** Predictions vs actuals of one deployment (second key: the deployment id's hash). */
  deploymentRows: 7263543,
  /** Setting up the job queue (pg-boss's schema and queue): processes starting together deadlock otherwise. */
  jobQueueSetup: 7263544,
} as const;

/** Held for the whole migration run on its own connection (a session lock). */
export async function withMigrationLock<T>(pg: postgres.Sql, work: () => Promise<T>): Promise<T> {
  await pg`select pg_advisory_lock(${LOCK_CLASS.migrations})`;
  try {
    return await work();
  } finally {
    await pg`select pg_advisory_unlock(${LOCK_CLASS.migrations})`;
  }
}

/**
 * One process at a time sets up the job queue. pg-boss works on connections of its own; this
 * session lock, on a connection reserved from our pool, only makes the other processes wait.
 */
export async function withJobQueueSetupLock<T>(pool: postgres.Sql, work: () => Promise<T>): Promise<T> {
  const connection = await pool.reserve();
  try {
    await connection`select pg_advisory_lock(${LOCK_CLASS.jobQueueSetup})`;
    try {
      return await work();
    } finally {
      await connection`select pg_advisory_unlock(${LOCK_CLASS.jobQueueSetup})`;
    }
  } finally {
    connection.release();
  }
}

/** Two servers starting on one empty database must not both bootstrap. */
export async function lockBootstrap(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS.bootstrap})`);
}

/**
 * Predictions and actuals of a deployment meet in either order. Ingest takes this lock shared
 * (ingests run side by side) and actuals exclusive, so whichever commits second sees the other's
 * rows and counts each prediction–actual pair exactly once.
 */
export async function lockDeploymentForIngest(tx: DbOrTx, deploymentId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${LOCK_CLASS.deploymentRows}, hashtext(${deploymentId}))`);
}

export async function lockDeploymentForActuals(tx: DbOrTx, deploymentId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS.deploymentRows}, hashtext(${deploymentId}))`);
}

/** Serializes the creation of one named thing (e.g. a deployment's batch of the day) by its text key. */
export async function lockName(tx: DbOrTx, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`);
}
