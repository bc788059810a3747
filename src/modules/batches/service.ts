import { and, eq, getTableColumns, gte, ilike, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx, Tx } from '../../db/client.js';
import { lockDeploymentForIngest } from '../../db/locks.js';
import {
  batchModelHistory,
  batchQuotaUsage,
  type Deployment,
  deployments,
  type ModelHistoryEntry,
  type MonitoringBatch,
  monitoringBatches,
  organizations,
  type User,
  users,
} from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import {
  BatchMonitoringDisabledError,
  BatchNotSealedError,
  type BatchQuota,
  BatchQuotaExceededError,
  isError,
  NotFoundError,
  type Result,
} from '../../errors.js';
import { announce } from '../../events/hub.js';
import { newId } from '../../ids.js';
import { type KeysetOrder, keysetPage, type Page, type PageArgs } from '../../pagination.js';
import { booleanSchema, definedOnly, descriptionSchema, externalUrlSchema, type Loose, nameSchema, parseInput } from '../../validation.js';
import { escapeLike, getBatchDeployment } from '../deployments/service.js';
import { fieldChanges, recordBatchEvent } from './audit.js';
import { computeFingerprints } from './seal.js';

const batchFields = {
  name: nameSchema(512),
  description: descriptionSchema,
  externalUrl: externalUrlSchema,
};

/** The edited fields the audit trail keeps before / after values of. */
const AUDITED_FIELDS = ['name', 'description', 'externalUrl'] as const;

// ---------------------------------------------------------------------------------------------
// Quota (C5): a counter row per deployment and UTC day, incremented in the creating transaction.
// The conditional upsert takes the row lock, so concurrent creators (any number of servers)
// serialize on it and exactly `limit` of them get a row back.

const utcToday = sql`(now() at time zone 'utc')::date`;
const nextUtcMidnight = sql`((now() at time zone 'utc')::date + 1)::timestamp at time zone 'utc'`;

interface QuotaRow {
  deployment_id: string;
  used: number;
  daily_batch_limit: number | null;
  resets_at: Date;
  [key: string]: unknown;
}

function toQuota(row: QuotaRow): BatchQuota {
  const limit = row.daily_batch_limit;
  return {
    used: row.used,
    limit,
    remaining: limit === null ? null : Math.max(0, limit - row.used),
    resetsAt: new Date(row.resets_at),
  };
}

/** Today's quota of each deployment (of the organization) in `deploymentIds`. */
export async function quotasFor(db: DbOrTx, organizationId: string, deploymentIds: readonly string[]): Promise<Map<string, BatchQuota>> {
  if (deploymentIds.length === 0) return new Map();
  const rows = await db.execute<QuotaRow>(sql`
    select d.id as deployment_id, coalesce(q.used, 0)::int as used, o.daily_batch_limit, ${nextUtcMidnight} as resets_at
    from ${deployments} d
    join ${organizations} o on o.id = d.organization_id
    left join ${batchQuotaUsage} q on q.deployment_id = d.id and q.day = ${utcToday}
    where d.organization_id = ${organizationId} and d.id in ${sql`(${sql.join(
      deploymentIds.map((id) => sql`${id}`),
      sql`, `,
    )})`}`);
  return new Map(rows.map((row) => [row.deployment_id, toQuota(row)]));
}

export async function getQuota(db: DbOrTx, viewer: Viewer, deploymentId: string): Promise<Result<BatchQuota>> {
  return (await quotasFor(db, viewer.organizationId, [deploymentId])).get(deploymentId) ?? new NotFoundError('Deployment');
}

/** Takes one batch from today's quota, or answers why not. Must run inside the creating transaction. */
async function consumeQuota(tx: DbOrTx, deployment: Deployment): Promise<BatchQuotaExceededError | null> {
  const [org] = await tx
    .select({ limit: organizations.dailyBatchLimit })
    .from(organizations)
    .where(eq(organizations.id, deployment.organizationId));
  const limit = org?.limit ?? null;
  if (limit === null || limit > 0) {
    const taken = await tx.execute(sql`
      insert into ${batchQuotaUsage} as q (deployment_id, day, used)
      values (${deployment.id}, ${utcToday}, 1)
      on conflict (deployment_id, day) do update set used = q.used + 1
      where ${limit}::int is null or q.used < ${limit}::int
      returning used`);
    if (taken.length > 0) return null;
  }
  const quota = (await quotasFor(tx, deployment.organizationId, [deployment.id])).get(deployment.id)!;
  return new BatchQuotaExceededError(quota);
}

// ---------------------------------------------------------------------------------------------
// Create

const createBatchInput = z.object(batchFields);
export type BatchFieldsInput = z.input<typeof createBatchInput>;

/**
 * Creates a batch inside `tx` (ingest paths create-and-fill in one transaction). Every way of
 * creating a batch goes through here, so every one counts against the quota.
 */
export async function createBatchInTransaction(
  tx: DbOrTx,
  viewer: Viewer,
  deployment: Deployment,
  input: Loose<BatchFieldsInput>,
): Promise<Result<MonitoringBatch>> {
  const parsed = parseInput(createBatchInput, input);
  if (isError(parsed)) return parsed;
  const exceeded = await consumeQuota(tx, deployment);
  if (exceeded) return exceeded;
  const [batch] = await tx
    .insert(monitoringBatches)
    .values({
      id: newId('MonitoringBatch'),
      deploymentId: deployment.id,
      organizationId: deployment.organizationId,
      name: parsed.name,
      description: parsed.description ?? null,
      externalUrl: parsed.externalUrl ?? null,
      createdById: viewer.userId,
    })
    .returning();
  await recordBatchEvent(tx, viewer, batch!, {
    action: 'CREATED',
    changes: fieldChanges({ name: null, description: null, externalUrl: null }, batch!, AUDITED_FIELDS),
  });
  await announce(tx, { k: 'lifecycle', d: deployment.id, b: batch!.id, e: 'CREATED' });
  await announce(tx, { k: 'quota', d: deployment.id });
  return batch!;
}

export async function createBatch(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  input: Loose<BatchFieldsInput>,
): Promise<Result<MonitoringBatch>> {
  // Validate before touching the quota so a bad request costs nothing.
  const parsed = parseInput(createBatchInput, input);
  if (isError(parsed)) return parsed;
  return transactionResult(db, async (tx) => {
    const deployment = await getBatchDeployment(tx, viewer, deploymentId);
    if (isError(deployment)) return deployment;
    return createBatchInTransaction(tx, viewer, deployment, parsed);
  });
}

// ---------------------------------------------------------------------------------------------
// Read

/** Live (not deleted) batches of the organization. */
function visibleBatch(organizationId: string): SQL {
  return and(eq(monitoringBatches.organizationId, organizationId), isNull(monitoringBatches.deletedAt))!;
}

export async function batchesByIds(db: DbOrTx, organizationId: string, ids: readonly string[]): Promise<MonitoringBatch[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(monitoringBatches)
    .where(and(visibleBatch(organizationId), inArray(monitoringBatches.id, [...ids])));
}

export async function getBatch(db: DbOrTx, viewer: Viewer, id: string, deploymentId?: string): Promise<Result<MonitoringBatch>> {
  const [batch] = await batchesByIds(db, viewer.organizationId, [id]);
  if (!batch || (deploymentId !== undefined && batch.deploymentId !== deploymentId)) return new NotFoundError('MonitoringBatch');
  return batch;
}

/**
 * The users who created the live batches of each deployment (of the organization), by name: what a
 * "created by" filter offers. One statement for any number of deployments.
 */
export async function batchCreatorsByDeployment(
  db: DbOrTx,
  organizationId: string,
  deploymentIds: readonly string[],
): Promise<Map<string, User[]>> {
  const byDeployment = new Map<string, User[]>();
  if (deploymentIds.length === 0) return byDeployment;
  const rows = await db
    .selectDistinct({ deploymentId: monitoringBatches.deploymentId, user: users })
    .from(monitoringBatches)
    .innerJoin(users, eq(users.id, monitoringBatches.createdById))
    .where(and(visibleBatch(organizationId), inArray(monitoringBatches.deploymentId, [...deploymentIds])))
    .orderBy(monitoringBatches.deploymentId, users.name, users.id);
  for (const { deploymentId, user } of rows) {
    const list = byDeployment.get(deploymentId);
    if (list) list.push(user);
    else byDeployment.set(deploymentId, [user]);
  }
  return byDeployment;
}

export async function modelHistoryByBatchIds(db: DbOrTx, ids: readonly string[]): Promise<ModelHistoryEntry[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(batchModelHistory)
    .where(inArray(batchModelHistory.batchId, [...ids]))
    .orderBy(batchModelHistory.batchId, batchModelHistory.modelId);
}

export const batchOrderFields = [
  'NAME',
  'CREATED_AT',
  'EARLIEST_PREDICTION',
  'LATEST_PREDICTION',
  'PREDICTION_COUNT',
  'CREATED_BY',
  'ID',
] as const;
export type BatchOrderField = (typeof batchOrderFields)[number];
export interface BatchOrder {
  field: BatchOrderField;
  direction: 'ASC' | 'DESC';
}

export interface BatchFilter {
  createdBy?: string | null | undefined;
  createdAfter?: Date | null | undefined;
  createdBefore?: Date | null | undefined;
  /** Earliest prediction at or after. */
  startAfter?: Date | null | undefined;
  /** Latest prediction at or before. */
  endBefore?: Date | null | undefined;
}

export interface BatchListQuery {
  search?: string | null | undefined;
  filter?: BatchFilter | null | undefined;
  orderBy?: BatchOrder | null | undefined;
}

/** A batch as the lists read it: with its creator's name, which the CREATED_BY order sorts and its cursor holds. */
export type ListedBatch = MonitoringBatch & { creatorName: string };

const listedBatchColumns = { ...getTableColumns(monitoringBatches), creatorName: users.name };

const iso = (date: Date | null) => date?.toISOString() ?? 'infinity';

/** Timestamps still null (no prediction yet) sort as +infinity: last ascending, first descending. */
function batchKeysetOrder(order: BatchOrder): KeysetOrder<ListedBatch> {
  const id = sql`${monitoringBatches.id}`;
  const { direction } = order;
  switch (order.field) {
    case 'NAME':
      return { expr: sql`${monitoringBatches.name}`, id, cast: 'text', direction, key: (b) => [b.name, b.id] };
    case 'CREATED_AT':
      return { expr: sql`${monitoringBatches.createdAt}`, id, cast: 'timestamptz', direction, key: (b) => [iso(b.createdAt), b.id] };
    case 'EARLIEST_PREDICTION':
      return {
        expr: sql`coalesce(${monitoringBatches.earliestPredictionAt}, 'infinity')`,
        id,
        cast: 'timestamptz',
        direction,
        key: (b) => [iso(b.earliestPredictionAt), b.id],
      };
    case 'LATEST_PREDICTION':
      return {
        expr: sql`coalesce(${monitoringBatches.latestPredictionAt}, 'infinity')`,
        id,
        cast: 'timestamptz',
        direction,
        key: (b) => [iso(b.latestPredictionAt), b.id],
      };
    case 'PREDICTION_COUNT':
      return {
        expr: sql`${monitoringBatches.predictionCount}`,
        id,
        cast: 'bigint',
        direction,
        key: (b) => [String(b.predictionCount), b.id],
      };
    // The creator's name (the lists join users); many batches share a creator, so the id decides most ties.
    case 'CREATED_BY':
      return { expr: sql`${users.name}`, id, cast: 'text', direction, key: (b) => [b.creatorName, b.id] };
    case 'ID':
      return { expr: id, id, cast: 'text', direction, key: (b) => [b.id, b.id] };
  }
}

function batchListWhere(viewer: Viewer, deploymentId: string, query: BatchListQuery): SQL {
  const conditions: (SQL | undefined)[] = [visibleBatch(viewer.organizationId), eq(monitoringBatches.deploymentId, deploymentId)];
  const search = query.search?.trim();
  if (search) {
    conditions.push(or(ilike(monitoringBatches.name, `%${escapeLike(search)}%`), eq(monitoringBatches.id, search)));
  }
  const filter = query.filter ?? {};
  if (filter.createdBy) conditions.push(eq(monitoringBatches.createdById, filter.createdBy));
  if (filter.createdAfter) conditions.push(gte(monitoringBatches.createdAt, filter.createdAfter));
  if (filter.createdBefore) conditions.push(lte(monitoringBatches.createdAt, filter.createdBefore));
  if (filter.startAfter) conditions.push(gte(monitoringBatches.earliestPredictionAt, filter.startAfter));
  if (filter.endBefore) conditions.push(lte(monitoringBatches.latestPredictionAt, filter.endBefore));
  return and(...conditions)!;
}

export const DEFAULT_BATCH_ORDER: BatchOrder = { field: 'CREATED_AT', direction: 'DESC' };

export interface BatchList {
  totalCount: () => Promise<number>;
}

function countBatches(db: Db, where: SQL): () => Promise<number> {
  return async () => (await db.select({ n: sql<number>`count(*)::int` }).from(monitoringBatches).where(where))[0]!.n;
}

/** A deployment's batches as a cursor page (GraphQL). Reads work even with batch monitoring off. */
export async function listBatches(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  query: BatchListQuery & PageArgs,
): Promise<Result<Page<ListedBatch> & BatchList>> {
  const where = batchListWhere(viewer, deploymentId, query);
  const page = await keysetPage(query, batchKeysetOrder(query.orderBy ?? DEFAULT_BATCH_ORDER), (condition, orderBy, limit) =>
    db
      .select(listedBatchColumns)
      .from(monitoringBatches)
      .innerJoin(users, eq(users.id, monitoringBatches.createdById))
      .where(and(where, condition))
      .orderBy(...orderBy)
      .limit(limit),
  );
  if (isError(page)) return page;
  return { ...page, totalCount: countBatches(db, where) };
}

/** The same list by offset and limit (the DataRobot REST list). */
export async function listBatchesByOffset(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  query: BatchListQuery & { offset: number; limit: number },
): Promise<{ rows: ListedBatch[]; totalCount: number }> {
  const where = batchListWhere(viewer, deploymentId, query);
  const order = batchKeysetOrder(query.orderBy ?? DEFAULT_BATCH_ORDER);
  const dir = sql.raw(order.direction === 'ASC' ? 'asc' : 'desc');
  const [rows, totalCount] = await Promise.all([
    db
      .select(listedBatchColumns)
      .from(monitoringBatches)
      .innerJoin(users, eq(users.id, monitoringBatches.createdById))
      .where(where)
      .orderBy(sql`${order.expr} ${dir}`, sql`${order.id} ${dir}`)
      .offset(query.offset)
      .limit(query.limit),
    countBatches(db, where)(),
  ]);
  return { rows, totalCount };
}

// ---------------------------------------------------------------------------------------------
// Change

/**
 * Runs `change` on a live batch of the viewer's organization whose deployment has batch
 * monitoring on. The batch row is locked for the rest of the transaction.
 */
async function changeBatch<T>(
  db: Db,
  viewer: Viewer,
  batchId: string,
  change: (tx: Tx, batch: MonitoringBatch) => Promise<Result<T>>,
  deploymentId?: string,
  options: { holdDeploymentRows?: boolean } = {},
): Promise<Result<T>> {
  return transactionResult(db, async (tx) => {
    if (options.holdDeploymentRows) {
      // Sealing reads the batch's accuracy aggregates, which actuals move without the batch row lock:
      // hold the deployment's rows as an ingest does (shared, and before the row lock, in the same
      // order), so no actuals commit between the seal's reads and its commit.
      const [owner] = await tx
        .select({ deploymentId: monitoringBatches.deploymentId })
        .from(monitoringBatches)
        .where(and(visibleBatch(viewer.organizationId), eq(monitoringBatches.id, batchId)));
      if (owner) await lockDeploymentForIngest(tx, owner.deploymentId);
    }
    const [row] = await tx
      .select({ batch: monitoringBatches, enabled: deployments.batchMonitoringEnabled })
      .from(monitoringBatches)
      .innerJoin(deployments, eq(deployments.id, monitoringBatches.deploymentId))
      .where(and(visibleBatch(viewer.organizationId), eq(monitoringBatches.id, batchId)))
      .for('no key update', { of: monitoringBatches });
    if (!row || (deploymentId !== undefined && row.batch.deploymentId !== deploymentId)) return new NotFoundError('MonitoringBatch');
    if (!row.enabled) return new BatchMonitoringDisabledError(row.batch.deploymentId);
    return change(tx, row.batch);
  });
}

const updateBatchInput = z.object({
  name: batchFields.name.optional(),
  description: batchFields.description,
  externalUrl: batchFields.externalUrl,
  isLocked: booleanSchema.optional(),
});
export type UpdateBatchInput = Loose<z.input<typeof updateBatchInput>>;

/** Partial update: absent fields stay, null (or "") clears description and external URL. */
export async function updateBatch(
  db: Db,
  viewer: Viewer,
  batchId: string,
  input: UpdateBatchInput,
  deploymentId?: string,
): Promise<Result<MonitoringBatch>> {
  const parsed = parseInput(updateBatchInput, input);
  if (isError(parsed)) return parsed;
  const changes: Partial<MonitoringBatch> = definedOnly(parsed);
  return changeBatch(
    db,
    viewer,
    batchId,
    async (tx, batch) => {
      if (Object.keys(changes).length === 0) return batch;
      const lockChanged = changes.isLocked !== undefined && changes.isLocked !== batch.isLocked;
      const otherChanges = Object.keys(changes).some((key) => key !== 'isLocked');
      // Locking seals the batch (its content as this transaction sees it, under the row lock that
      // keeps ingest out); unlocking clears the seal.
      const seal: Partial<MonitoringBatch> = !lockChanged
        ? {}
        : changes.isLocked
          ? await sealOf(tx, viewer, batch)
          : { fingerprint: null, accuracyFingerprint: null, sealedAt: null, sealedById: null };
      const [updated] = await tx
        .update(monitoringBatches)
        .set({ ...changes, ...seal })
        .where(eq(monitoringBatches.id, batch.id))
        .returning();
      // The trail records only what really changed: setting a field to its value, or locking a locked batch, is no event.
      const edited = fieldChanges(batch, updated!, AUDITED_FIELDS);
      if (edited.length > 0) await recordBatchEvent(tx, viewer, updated!, { action: 'UPDATED', changes: edited });
      if (lockChanged)
        await recordBatchEvent(tx, viewer, updated!, {
          action: updated!.isLocked ? 'LOCKED' : 'UNLOCKED',
          fingerprint: updated!.isLocked ? updated!.fingerprint : batch.fingerprint,
        });
      if (lockChanged)
        await announce(tx, { k: 'lifecycle', d: batch.deploymentId, b: batch.id, e: updated!.isLocked ? 'LOCKED' : 'UNLOCKED' });
      if (otherChanges) await announce(tx, { k: 'lifecycle', d: batch.deploymentId, b: batch.id, e: 'UPDATED' });
      return updated!;
    },
    deploymentId,
    { holdDeploymentRows: input.isLocked === true },
  );
}

async function sealOf(tx: Tx, viewer: Viewer, batch: MonitoringBatch): Promise<Partial<MonitoringBatch>> {
  const { content, accuracy } = await computeFingerprints(tx, batch);
  return { fingerprint: content, accuracyFingerprint: accuracy, sealedAt: new Date(), sealedById: viewer.userId };
}

export interface BatchVerification {
  batch: MonitoringBatch;
  /** The seal as stored. */
  fingerprint: string;
  accuracyFingerprint: string;
  sealedAt: Date;
  sealedById: string;
  /** The same hashes over the batch as it is now. */
  recomputedFingerprint: string;
  recomputedAccuracyFingerprint: string;
  /** Both recompute to their stored values. */
  unchanged: boolean;
}

/**
 * Recomputes a sealed batch's fingerprints and hands them back beside the stored ones, all read in
 * one repeatable-read snapshot (actuals committing meanwhile move both or neither).
 */
export async function verifyBatch(db: Db, viewer: Viewer, batchId: string, deploymentId?: string): Promise<Result<BatchVerification>> {
  return db.transaction(
    async (tx) => {
      const batch = await getBatch(tx, viewer, batchId, deploymentId);
      if (isError(batch)) return batch;
      if (batch.fingerprint === null || batch.accuracyFingerprint === null || batch.sealedAt === null || batch.sealedById === null)
        return new BatchNotSealedError(batch.id);
      const now = await computeFingerprints(tx, batch);
      return {
        batch,
        fingerprint: batch.fingerprint,
        accuracyFingerprint: batch.accuracyFingerprint,
        sealedAt: batch.sealedAt,
        sealedById: batch.sealedById,
        recomputedFingerprint: now.content,
        recomputedAccuracyFingerprint: now.accuracy,
        unchanged: now.content === batch.fingerprint && now.accuracy === batch.accuracyFingerprint,
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

export function setBatchLocked(db: Db, viewer: Viewer, batchId: string, isLocked: boolean): Promise<Result<MonitoringBatch>> {
  return updateBatch(db, viewer, batchId, { isLocked });
}

/**
 * Marks the batch deleted: from this commit on no read sees it (every read filters deleted_at).
 * Its rows are removed later by purgeDeletedBatches. The quota is not refunded.
 */
export async function deleteBatch(db: Db, viewer: Viewer, batchId: string, deploymentId?: string): Promise<Result<MonitoringBatch>> {
  return changeBatch(
    db,
    viewer,
    batchId,
    async (tx, batch) => {
      const [deleted] = await tx
        .update(monitoringBatches)
        .set({ deletedAt: sql`now()` })
        .where(eq(monitoringBatches.id, batch.id))
        .returning();
      await recordBatchEvent(tx, viewer, batch, { action: 'DELETED' });
      await announce(tx, { k: 'lifecycle', d: batch.deploymentId, b: batch.id, e: 'DELETED' });
      await announce(tx, { k: 'health', d: batch.deploymentId });
      return deleted!;
    },
    deploymentId,
  );
}

/** Removes batches deleted before now, with everything that hangs off them (cascading keys, and their raw predictions). */
export async function purgeDeletedBatches(db: Db): Promise<number> {
  // One transaction: nobody sees a batch row whose predictions are already gone.
  return db.transaction(async (tx) => {
    await tx.execute(sql`delete from predictions where batch_key in (select key from monitoring_batches where deleted_at is not null)`);
    const purged = await tx
      .delete(monitoringBatches)
      .where(sql`${monitoringBatches.deletedAt} is not null`)
      .returning({ id: monitoringBatches.id });
    return purged.length;
  });
}

const modelHistoryInput = z
  .object({
    modelId: nameSchema(256),
    startTime: z.date({ error: 'must be a timestamp' }),
    endTime: z.date({ error: 'must be a timestamp' }),
  })
  .refine((input) => input.startTime.getTime() <= input.endTime.getTime(), {
    path: ['endTime'],
    message: 'must not be before startTime',
  });

/** Sets the period a model's data in the batch represents (C3); creates the entry for backfills. */
export async function updateBatchModelHistory(
  db: Db,
  viewer: Viewer,
  batchId: string,
  input: z.input<typeof modelHistoryInput>,
): Promise<Result<MonitoringBatch>> {
  const parsed = parseInput(modelHistoryInput, input);
  if (isError(parsed)) return parsed;
  return changeBatch(db, viewer, batchId, async (tx, batch) => {
    const [previous] = await tx
      .select({ startTime: batchModelHistory.startTime, endTime: batchModelHistory.endTime })
      .from(batchModelHistory)
      .where(and(eq(batchModelHistory.batchId, batch.id), eq(batchModelHistory.modelId, parsed.modelId)));
    const changes = fieldChanges({ startTime: previous?.startTime ?? null, endTime: previous?.endTime ?? null }, parsed, [
      'startTime',
      'endTime',
    ]);
    await tx
      .insert(batchModelHistory)
      .values({
        deploymentId: batch.deploymentId,
        batchId: batch.id,
        modelId: parsed.modelId,
        startTime: parsed.startTime,
        endTime: parsed.endTime,
      })
      .onConflictDoUpdate({
        target: [batchModelHistory.batchId, batchModelHistory.modelId],
        set: { startTime: parsed.startTime, endTime: parsed.endTime },
      });
    if (changes.length > 0)
      await recordBatchEvent(tx, viewer, batch, { action: 'MODEL_HISTORY_CHANGED', modelId: parsed.modelId, changes });
    await announce(tx, { k: 'lifecycle', d: batch.deploymentId, b: batch.id, e: 'UPDATED' });
    return batch;
  });
}
