import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import { lockName } from '../../db/locks.js';
import { type Deployment, type MonitoringBatch, monitoringBatches } from '../../db/tables.js';
import { BatchLockedError, BatchQuotaExceededError, isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { nameSchema, parseInput } from '../../validation.js';
import { createBatchInTransaction, getQuota } from '../batches/service.js';

// Which batch a request's predictions go to: an existing one by id, a new one from a prefix, or the
// deployment's batch of unassigned predictions of the day.

/** `<prefix> - YYYY-MM-DD HH:MM:SS` in UTC. */
export function prefixedBatchName(prefix: string, at = new Date()): string {
  return `${prefix} - ${at.toISOString().slice(0, 19).replace('T', ' ')}`;
}

export interface BatchTarget {
  batchId?: string | null | undefined;
  batchPrefix?: string | null | undefined;
}

const batchTargetInput = z.object({
  batchId: z.string().min(1, 'must not be empty').nullish(),
  batchPrefix: nameSchema(480).nullish(),
});

/** The deployment's batch for predictions reported without a batch on the UTC day of `at`. */
export function unassignedBatchName(at = new Date()): string {
  return `Unassigned predictions - ${at.toISOString().slice(0, 10)}`;
}

function parseTarget(target: BatchTarget) {
  const parsed = parseInput(batchTargetInput, target);
  if (isError(parsed)) return parsed;
  if (parsed.batchId && parsed.batchPrefix) return ValidationError.of('batchPrefix', 'give either batchId or batchPrefix, not both');
  return parsed;
}

/**
 * The batch rows go to, locked (FOR UPDATE) until the transaction ends: a lock racing with an
 * ingest waits for it, or the ingest sees the lock and is refused whole. With a prefix, a new
 * batch is created (and counted against the quota) in the same transaction. With neither, the
 * deployment's batch for unassigned predictions of the UTC day (created on first use).
 */
export async function resolveIngestBatch(
  db: Db,
  viewer: Viewer,
  deployment: Deployment,
  target: BatchTarget,
): Promise<Result<MonitoringBatch>> {
  const parsed = parseTarget(target);
  if (isError(parsed)) return parsed;
  if (parsed.batchPrefix) return createBatchInTransaction(db, viewer, deployment, { name: prefixedBatchName(parsed.batchPrefix) });
  if (!parsed.batchId) return unassignedBatch(db, viewer, deployment);
  const [batch] = await db
    .select()
    .from(monitoringBatches)
    .where(
      and(
        eq(monitoringBatches.id, parsed.batchId),
        eq(monitoringBatches.deploymentId, deployment.id),
        eq(monitoringBatches.organizationId, viewer.organizationId),
        sql`${monitoringBatches.deletedAt} is null`,
      ),
    )
    // NO KEY UPDATE: excludes a concurrent lock/unlock or ingest, not the foreign-key checks of aggregate writes.
    .for('no key update');
  if (!batch) return new NotFoundError('MonitoringBatch');
  if (batch.isLocked) return new BatchLockedError(batch.id);
  return batch;
}

async function unassignedBatch(db: Db, viewer: Viewer, deployment: Deployment): Promise<Result<MonitoringBatch>> {
  const name = unassignedBatchName();
  // Concurrent first requests of the day must not create two.
  await lockName(db, `${deployment.id}/${name}`);
  const [existing] = await db
    .select()
    .from(monitoringBatches)
    .where(
      and(eq(monitoringBatches.deploymentId, deployment.id), eq(monitoringBatches.name, name), sql`${monitoringBatches.deletedAt} is null`),
    )
    .for('no key update');
  if (existing) return existing.isLocked ? new BatchLockedError(existing.id) : existing;
  return createBatchInTransaction(db, viewer, deployment, { name, description: 'Predictions reported without a batch id' });
}

/**
 * What resolveIngestBatch would refuse, found by reading alone (no lock, nothing created, no quota
 * taken): for callers that must refuse before costly work, such as scoring rows on a model backend.
 * The ingest transaction checks again under its locks, so a batch locked in between is still refused.
 */
export async function checkIngestBatch(db: Db, viewer: Viewer, deployment: Deployment, target: BatchTarget): Promise<Result<null>> {
  const parsed = parseTarget(target);
  if (isError(parsed)) return parsed;
  let existing: MonitoringBatch | undefined;
  if (parsed.batchId || !parsed.batchPrefix) {
    [existing] = await db
      .select()
      .from(monitoringBatches)
      .where(
        and(
          parsed.batchId ? eq(monitoringBatches.id, parsed.batchId) : eq(monitoringBatches.name, unassignedBatchName()),
          eq(monitoringBatches.deploymentId, deployment.id),
          eq(monitoringBatches.organizationId, viewer.organizationId),
          sql`${monitoringBatches.deletedAt} is null`,
        ),
      );
    if (existing) return existing.isLocked ? new BatchLockedError(existing.id) : null;
    if (parsed.batchId) return new NotFoundError('MonitoringBatch');
  }
  // A batch will be created (from the prefix, or the day's first unassigned one): the quota must allow it.
  const quota = await getQuota(db, viewer, deployment.id);
  if (isError(quota)) return quota;
  return quota.remaining === 0 ? new BatchQuotaExceededError(quota) : null;
}
