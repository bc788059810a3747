import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Viewer } from '../../context.js';
import type { DbOrTx } from '../../db/client.js';
import { type BatchAuditEvent, type BatchFieldChange, batchAuditAction, batchAuditEvents, type MonitoringBatch } from '../../db/tables.js';
import type { Result } from '../../errors.js';
import { idType } from '../../ids.js';
import { type KeysetOrder, keysetPages, type Page, type PageArgs } from '../../pagination.js';

// The audit trail of a batch: who created, edited, locked (sealed), unlocked and deleted it, who added
// rows, request statistics or actuals to it, and when. Every
// change writes its event in the change's own transaction (a change rolled back leaves none), from
// the services, so GraphQL, REST, ingest and jobs are all recorded. The events keep no foreign key
// to the batch: the trail is still readable after the batch is deleted and purged.

export type BatchAuditActionName = (typeof batchAuditAction.enumValues)[number];
export const batchAuditActions = batchAuditAction.enumValues;

export interface BatchAuditRecord {
  action: BatchAuditActionName;
  changes?: BatchFieldChange[];
  modelId?: string;
  /** ROWS_ADDED: the rows stored; ACTUALS_MATCHED: the predictions that got an actual. */
  rowCount?: number;
  /** LOCKED: the seal's fingerprint; UNLOCKED: the one cleared; ACTUALS_MATCHED: the accuracy fingerprint after. */
  fingerprint?: string | null;
}

/** Records one change of `batch` by `viewer`. Call inside the transaction that makes the change. */
export async function recordBatchEvent(tx: DbOrTx, viewer: Viewer, batch: BatchOfEvent, record: BatchAuditRecord): Promise<void> {
  await recordBatchEvents(tx, viewer, [{ batch, ...record }]);
}

/** What an event needs of its batch. */
type BatchOfEvent = Pick<MonitoringBatch, 'id' | 'organizationId' | 'deploymentId'>;

/** Records changes of several batches by `viewer` in one insert (actuals touch many batches at once). */
export async function recordBatchEvents(
  tx: DbOrTx,
  viewer: Viewer,
  records: readonly (BatchAuditRecord & { batch: BatchOfEvent })[],
): Promise<void> {
  if (records.length === 0) return;
  // Work the server does for a user (a batch prediction job's run) has no token of its own.
  const tokenId = idType(viewer.tokenId) === 'ApiToken' ? viewer.tokenId : null;
  await tx.insert(batchAuditEvents).values(
    records.map(({ batch, ...record }) => ({
      organizationId: batch.organizationId,
      deploymentId: batch.deploymentId,
      batchId: batch.id,
      action: record.action,
      actorId: viewer.userId,
      tokenId,
      modelId: record.modelId ?? null,
      changes: record.changes ?? [],
      rowCount: record.rowCount ?? null,
      fingerprint: record.fingerprint ?? null,
    })),
  );
}

type AuditedValue = string | Date | boolean | number | null | undefined;

/** A field's value as the trail keeps it: text, timestamps in ISO-8601, null for none. */
export function auditValue(value: AuditedValue): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/** The fields whose value differs between `before` and `after` (only those present in `after`). */
export function fieldChanges(before: object, after: object, fields: readonly string[]): BatchFieldChange[] {
  const changes: BatchFieldChange[] = [];
  for (const field of fields) {
    if (!(field in after)) continue;
    const old = auditValue((before as Record<string, AuditedValue>)[field]);
    const value = auditValue((after as Record<string, AuditedValue>)[field]);
    if (old !== value) changes.push({ field, before: old, after: value });
  }
  return changes;
}

/** Newest first: a batch's changes are serialized by its row lock, so the identity orders them as they happened. */
const newestFirst: KeysetOrder<BatchAuditEvent> = {
  expr: sql`${batchAuditEvents.id}`,
  id: sql`${batchAuditEvents.id}`,
  cast: 'bigint',
  direction: 'DESC',
  key: (event) => [String(event.id), String(event.id)],
};

/**
 * The trails of several batches of the organization, one page each with the same page arguments,
 * in ONE statement (a lateral join per batch id). A batch of another organization (or one that
 * never existed) has an empty trail. With `deploymentId`, only events of that deployment.
 */
export async function auditTrails(
  db: DbOrTx,
  organizationId: string,
  batchIds: readonly string[],
  args: PageArgs,
  deploymentId?: string,
): Promise<Result<Map<string, Page<BatchAuditEvent>>>> {
  return keysetPages(args, newestFirst, batchIds, async (condition, orderBy, limit) => {
    const byBatch = new Map<string, BatchAuditEvent[]>(batchIds.map((id) => [id, []]));
    if (batchIds.length === 0) return byBatch;
    const conditions: (SQL | undefined)[] = [
      eq(batchAuditEvents.organizationId, organizationId),
      sql`${batchAuditEvents.batchId} = wanted.id`,
      condition,
    ];
    if (deploymentId !== undefined) conditions.push(eq(batchAuditEvents.deploymentId, deploymentId));
    const page = db
      .select()
      .from(batchAuditEvents)
      .where(and(...conditions))
      .orderBy(...orderBy)
      .limit(limit);
    const rows = await db.execute<Record<string, unknown>>(sql`
      select e.* from unnest(${sql`array[${sql.join(
        batchIds.map((id) => sql`${id}`),
        sql`, `,
      )}]::text[]`}) as wanted(id)
      cross join lateral (${page}) e`);
    for (const row of rows) {
      const event = toEvent(row);
      byBatch.get(event.batchId)?.push(event);
    }
    return byBatch;
  });
}

/** A raw row of batch_audit_events (snake_case, as db.execute returns it) as drizzle's type. */
function toEvent(row: Record<string, unknown>): BatchAuditEvent {
  return {
    id: Number(row.id),
    organizationId: row.organization_id as string,
    deploymentId: row.deployment_id as string,
    batchId: row.batch_id as string,
    action: row.action as BatchAuditActionName,
    actorId: row.actor_id as string,
    tokenId: (row.token_id as string | null) ?? null,
    occurredAt: new Date(row.occurred_at as string),
    modelId: (row.model_id as string | null) ?? null,
    changes: row.changes as BatchFieldChange[],
    rowCount: row.row_count === null || row.row_count === undefined ? null : Number(row.row_count),
    fingerprint: (row.fingerprint as string | null) ?? null,
  };
}
