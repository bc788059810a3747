import { eq, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { CopyWriter } from '../../db/copy.js';
import { lockDeploymentForIngest } from '../../db/locks.js';
import { actuals, type MonitoringBatch, monitoringBatches, predictions } from '../../db/tables.js';
import { afterCommit, type PgTransaction, pgTransactionResult, transactionResult } from '../../db/transactions.js';
import { type FieldError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import type { ParsedItem } from '../../formats/bytes.js';
import { countIngestRows } from '../../observability/metrics.js';
import { nameSchema, parseInput } from '../../validation.js';
import { currentBaseline } from '../baselines/current.js';
import { recordBatchEvent } from '../batches/audit.js';
import { getBatchDeployment } from '../deployments/service.js';
import { MAX_ROWS_PER_REPORT, normalizeRow, type PredictionRow, type RowContext } from '../rows/normalize.js';
import type { TargetShape } from '../rows/shape.js';
import { targetShape } from '../rows/shape.js';
import { CANONICAL_UUID_SQL, isCanonicalUuid, modelKey, PREDICTION_COPY_COLUMNS, PredictionCopyFormat } from '../rows/storage.js';
import { BatchAggregator } from './aggregates.js';
import { type BatchTarget, resolveIngestBatch } from './batch-target.js';

// One service for every way predictions arrive (GraphQL, agent JSON, bulk NDJSON/CSV): rows are
// validated one by one while they stream into PostgreSQL COPY inside a single transaction that
// holds the batch row lock, and the batch's aggregates are summed in memory and added at the end.
// A bad row aborts the transaction: every row lands or none does.

/**
 * Association ids remembered per request, to name both rows of a duplicate and keep validating.
 * Past this (memory stays bounded on any upload) the unique index refuses a duplicate, and the
 * refused row is named from COPY's line number.
 */
const MAX_TRACKED_ASSOCIATION_IDS = 100_000;

// ---------------------------------------------------------------------------------------------

export interface IngestRequest extends BatchTarget {
  deploymentId: string;
  modelId?: string | null | undefined;
  /** Validated one by one: an array (error fields `${itemPath}.<index>`) or parsed lines (`line <n>`). */
  items: unknown[] | AsyncIterable<ParsedItem>;
  /**
   * The items are PredictionRows already (normalizeRow's output, e.g. rows a model backend scored
   * after their features were validated): they are stored as they are, not validated again.
   */
  normalized?: boolean;
  itemPath: string;
  /** Record one scoring request of N predictions (reportPredictions, bulk, real-time, a job's chunk) — or not (the agent's data route). */
  request: { executionTimeMs: number | null; userError?: boolean; serverError?: boolean } | null;
}

export interface IngestSummary {
  batch: MonitoringBatch;
  rowCount: number;
  /** Feature columns that are not in the deployment's schema: ignored. */
  unknownFeatures: string[];
  /** Rows that joined an actual already submitted. */
  actualsJoined: number;
}

/** How a request names its rows: `rows.3` for a JSON list, `line 4` for a streamed upload. */
function rowName(items: unknown[] | AsyncIterable<ParsedItem>, itemPath: string): (position: number) => string {
  return Array.isArray(items) ? (index) => `${itemPath}.${index}` : (line) => `line ${line}`;
}

async function* numbered(
  items: unknown[] | AsyncIterable<ParsedItem>,
  itemPath: string,
): AsyncGenerator<{ where: string; position: number; item?: unknown; error?: string }> {
  const name = rowName(items, itemPath);
  if (Array.isArray(items)) {
    for (let i = 0; i < items.length; i++) yield { where: name(i), position: i, item: items[i] };
    return;
  }
  for await (const parsed of items) {
    const where = name(parsed.line);
    yield 'error' in parsed ? { where, position: parsed.line, error: parsed.error } : { where, position: parsed.line, item: parsed.item };
  }
}

const modelIdSchema = nameSchema(256).nullish();

/** Keys this process's ingests' after-commit counting apart. */
let ingestCount = 0;

export async function ingestPredictions(pool: postgres.Sql, viewer: Viewer, input: IngestRequest): Promise<Result<IngestSummary>> {
  const modelId = parseInput(z.object({ modelId: modelIdSchema }), { modelId: input.modelId });
  if (isError(modelId)) return modelId;
  // Rows sent as a JSON list (GraphQL, the agent route) are capped; streamed uploads are not.
  if (Array.isArray(input.items) && input.items.length > MAX_ROWS_PER_REPORT) {
    return ValidationError.of(
      input.itemPath,
      `must contain at most ${MAX_ROWS_PER_REPORT} rows (got ${input.items.length}); use the bulk route for more`,
    );
  }
  const time = input.request?.executionTimeMs;
  if (time != null && !(time >= 0 && time <= 1e10)) return ValidationError.of('executionTimeMs', 'must be a number from 0 to 10000000000');
  return pgTransactionResult(pool, (tx) => ingestInTransaction(tx, pool, viewer, input, modelId.modelId));
}

/**
 * ingestPredictions inside a transaction of the caller's (a job stores a chunk's rows and marks the
 * chunk done in one transaction). `pool` answers what must be asked outside it. A returned error
 * means the caller must roll back.
 */
export async function ingestInTransaction(
  { db: tx, pg }: PgTransaction,
  pool: postgres.Sql,
  viewer: Viewer,
  input: IngestRequest,
  modelId: string | null | undefined = input.modelId,
): Promise<Result<IngestSummary>> {
  {
    const deployment = await getBatchDeployment(tx, viewer, input.deploymentId);
    if (isError(deployment)) return deployment;
    // Before the batch row lock, so actuals (which write to batches) never wait in a cycle with us.
    await lockDeploymentForIngest(tx, deployment.id);
    const batch = await resolveIngestBatch(tx, viewer, deployment, input);
    if (isError(batch)) return batch;
    const model = modelId ?? deployment.modelId;
    const shape = targetShape(deployment);
    const aggregator = new BatchAggregator(shape, await currentBaseline(tx, deployment));
    const context: RowContext = { unknownFeatures: new Set() };
    // Rows of this request are those after the batch's current last id (for joining early actuals).
    // A JSON list without association ids can join none: skip both statements.
    const mayJoin = !Array.isArray(input.items) || input.items.some(hasAssociationId);
    // …and only when the deployment has actuals at all (else the join would read every new row for nothing).
    const [{ maxId, hasActuals }] = !mayJoin
      ? [{ maxId: 0, hasActuals: false }]
      : ((await tx
          .select({
            maxId: sql<number>`coalesce(max(${predictions.id}), 0)`.mapWith(Number),
            hasActuals: sql<boolean>`exists (select 1 from ${actuals} where ${actuals.deploymentId} = ${deployment.id})`,
          })
          .from(predictions)
          .where(eq(predictions.batchKey, batch.key))) as [{ maxId: number; hasActuals: boolean }]);

    const format = new PredictionCopyFormat(deployment.key, deployment.features, batch.key, await modelKey(tx, deployment.id, model));
    const copy = await CopyWriter.open(
      pg,
      pg`copy predictions (${pg.unsafe(PREDICTION_COPY_COLUMNS)}) from stdin with (format binary)`,
      true,
    );
    const { rowCount, errors, copyFailed } = await copyRows(input, copy, { shape, context, aggregator, model, format });
    if (errors.length) return new ValidationError(errors);
    if (copyFailed) {
      const refusal = await describeDuplicate(pool, deployment.key, copyFailed, (line) => {
        const position = copy.positionOf(line);
        return position === null ? null : rowName(input.items, input.itemPath)(position);
      });
      if (refusal === null) throw copyFailed;
      return new ValidationError([refusal]);
    }
    if (rowCount === 0 && !input.request) return ValidationError.of(input.itemPath, 'must contain at least one row');

    const actualsJoined = mayJoin && hasActuals ? await joinEarlyActuals(tx, aggregator, deployment, batch.key, model, maxId) : 0;
    if (input.request) {
      aggregator.addRequest(model, {
        predictions: rowCount,
        executionTimeMs: input.request.executionTimeMs,
        userError: input.request.userError ?? false,
        serverError: input.request.serverError ?? false,
        userId: viewer.userId,
      });
    }
    // Independent statements, sent together (pipelined on the transaction's connection). The audit
    // trail gets one event per ingest, whatever its size.
    const [, updated] = await Promise.all([
      aggregator.write(tx, deployment.id, batch.id),
      addRowTotals(tx, batch, aggregator.rowTotals()),
      announce(tx, { k: 'batch', d: deployment.id, b: batch.id }, { k: 'health', d: deployment.id }),
      recordBatchEvent(tx, viewer, batch, { action: rowCount > 0 ? 'ROWS_ADDED' : 'STATS_REPORTED', rowCount }),
    ]);
    // Counted once the rows are committed (a job's chunk commits them with its own work).
    const source = Array.isArray(input.items) ? 'json' : 'upload';
    afterCommit(tx, `ingest rows ${++ingestCount}`, () => countIngestRows(source, rowCount));
    return { batch: updated, rowCount, unknownFeatures: [...context.unknownFeatures].sort(), actualsJoined };
  }
}

interface RowSink {
  shape: TargetShape;
  context: RowContext;
  aggregator: BatchAggregator;
  model: string;
  /** The request's rows as COPY lines. */
  format: PredictionCopyFormat;
}

/**
 * Validates the request's rows one by one and streams the valid ones into COPY while none is bad;
 * after the first bad row it keeps validating (to name up to MAX_ROW_ERRORS of them) and writes
 * nothing more. A refusal by PostgreSQL itself (a duplicate association id) ends it.
 */
async function copyRows(
  input: IngestRequest,
  copy: CopyWriter,
  { shape, context, aggregator, model, format }: RowSink,
): Promise<{ rowCount: number; errors: FieldError[]; copyFailed: unknown }> {
  const errors: FieldError[] = [];
  const seenAssociationIds = new Map<string, string>();
  const now = new Date();
  const binary = copy.binaryRows();
  let rowCount = 0;
  let copyFailed: unknown;
  try {
    for await (const { where, position, item, error } of numbered(input.items, input.itemPath)) {
      if (error !== undefined) {
        errors.push({ field: where, message: error });
        if (errors.length >= MAX_ROW_ERRORS) break;
        continue;
      }
      const row = input.normalized ? (item as PredictionRow) : normalizeRow(shape, item, where, context);
      if ('field' in row && 'message' in row) {
        errors.push(row);
        if (errors.length >= MAX_ROW_ERRORS) break;
        continue;
      }
      if (row.associationId !== null) {
        const earlier = seenAssociationIds.get(row.associationId);
        if (earlier !== undefined) {
          errors.push({ field: `${where}.associationId`, message: `repeats the association id of ${earlier}` });
          if (errors.length >= MAX_ROW_ERRORS) break;
          continue;
        }
        if (seenAssociationIds.size < MAX_TRACKED_ASSOCIATION_IDS) seenAssociationIds.set(row.associationId, where);
      }
      if (errors.length) continue; // keep validating to report more, write nothing
      const timestamp = row.timestamp ?? now;
      try {
        format.write(binary, timestamp.getTime(), row);
        const sending = copy.pushed(position);
        if (sending) await sending;
      } catch (error) {
        copyFailed = error; // PostgreSQL refused the data (a duplicate association id)
        break;
      }
      aggregator.addRow(model, row, timestamp.getTime());
      rowCount++;
    }
    // An error of the input itself (body too large, client gone) propagates and rolls back.
  } finally {
    if (!copyFailed) {
      try {
        await copy.end();
      } catch (error) {
        copyFailed = error;
      }
    } else copy.abandon();
  }
  return { rowCount, errors, copyFailed };
}

const hasAssociationId = (item: unknown) => (item as { associationId?: unknown } | null)?.associationId != null;

/**
 * Actuals that arrived before their predictions join the rows this request added (ids after
 * `maxId`; the batch row lock keeps other requests out of the batch meanwhile, so they are all of
 * this request's model). One join per association-id column, each written so that PostgreSQL can
 * drive it from either side (few actuals: from them through the rows' unique index; many: a hash join).
 */
async function joinEarlyActuals(
  tx: DbOrTx,
  aggregator: BatchAggregator,
  deployment: { id: string; key: number },
  batchKey: number,
  model: string,
  maxId: number,
): Promise<number> {
  const joined = await tx.execute<{
    prediction: number | null;
    probabilities: number[] | null;
    predicted_label: string | null;
    actual_value: number | null;
    actual_label: string | null;
  }>(sql`
    select p.prediction, p.probabilities, p.predicted_label, a.actual_value, a.actual_label
    from actuals a join predictions p on p.deployment_key = ${deployment.key} and p.association_text = a.association_id
    where a.deployment_id = ${deployment.id} and p.batch_key = ${batchKey} and p.id > ${maxId}
    union all
    select p.prediction, p.probabilities, p.predicted_label, a.actual_value, a.actual_label
    from actuals a join predictions p on p.deployment_key = ${deployment.key}
      and p.association_uuid = (case when a.association_id ~ ${CANONICAL_UUID_SQL} then a.association_id::uuid end)
      and a.association_id = p.association_uuid::text
    where a.deployment_id = ${deployment.id} and p.batch_key = ${batchKey} and p.id > ${maxId}`);
  for (const pair of joined) {
    aggregator.addAccuracy(
      model,
      { prediction: pair.prediction, probabilities: pair.probabilities, predictedLabel: pair.predicted_label },
      { value: pair.actual_value, label: pair.actual_label },
      1,
    );
  }
  return joined.length;
}

/** The batch's prediction count and earliest / latest timestamps, moved by the rows just stored. */
async function addRowTotals(
  tx: DbOrTx,
  batch: MonitoringBatch,
  totals: ReturnType<BatchAggregator['rowTotals']>,
): Promise<MonitoringBatch> {
  if (totals.rows === 0) return batch;
  const [updated] = await tx
    .update(monitoringBatches)
    .set({
      predictionCount: sql`${monitoringBatches.predictionCount} + ${totals.rows}`,
      earliestPredictionAt: sql`least(${monitoringBatches.earliestPredictionAt}, ${new Date(totals.earliest).toISOString()}::timestamptz)`,
      latestPredictionAt: sql`greatest(${monitoringBatches.latestPredictionAt}, ${new Date(totals.latest).toISOString()}::timestamptz)`,
    })
    .where(eq(monitoringBatches.id, batch.id))
    .returning();
  return updated!;
}

/**
 * The row a COPY refused for a duplicate association id, named from COPY's line number, or null
 * when the refusal was something else. Whether the id was committed before (by another request)
 * or repeats an earlier row of this one is asked outside the aborted transaction.
 */
async function describeDuplicate(
  pool: postgres.Sql,
  deploymentKey: number,
  error: unknown,
  rowAtLine: (line: number) => string | null,
): Promise<FieldError | null> {
  const e = error as { code?: string; constraint_name?: string; detail?: string; where?: string };
  if (e.code !== '23505' || !DUPLICATE_CONSTRAINTS.has(e.constraint_name ?? '')) return null;
  const id = /\(deployment_key, association_(?:uuid|text)\)=\(\d+, (.*)\) already exists/.exec(e.detail ?? '')?.[1];
  const line = Number(/COPY predictions, line (\d+)/.exec(e.where ?? '')?.[1]);
  const where = rowAtLine(line) ?? (line > 0 ? `row ${line} of the data` : 'rows');
  if (id === undefined) return { field: `${where}.associationId`, message: 'is already used by another prediction of this deployment' };
  const [committed] = isCanonicalUuid(id)
    ? await pool`select 1 from predictions where deployment_key = ${deploymentKey} and association_uuid = ${id}::uuid limit 1`
    : await pool`select 1 from predictions where deployment_key = ${deploymentKey} and association_text = ${id} limit 1`;
  return {
    field: `${where}.associationId`,
    message: committed
      ? `"${id}" is already used by another prediction of this deployment`
      : `"${id}" repeats the association id of an earlier row of this request`,
  };
}

const DUPLICATE_CONSTRAINTS = new Set(['predictions_association_uuid_idx', 'predictions_association_text_idx']);

// ---------------------------------------------------------------------------------------------
// Request statistics alone (the agent's report_deployment_stats / predictionRequests route).

const deploymentStatsInput = z.object({
  numPredictions: z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be ≥ 0').max(1e12, 'is too large'),
  executionTimeMs: z.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(1e10, 'is too large').nullish(),
  userError: z.boolean({ error: 'must be true or false' }).nullish(),
  systemError: z.boolean({ error: 'must be true or false' }).nullish(),
  modelId: modelIdSchema,
});

export interface DeploymentStatsInput extends BatchTarget {
  deploymentId: string;
  numPredictions: unknown;
  executionTimeMs?: unknown;
  userError?: unknown;
  systemError?: unknown;
  modelId?: unknown;
}

export async function reportDeploymentStats(
  db: Db,
  viewer: Viewer,
  input: DeploymentStatsInput,
): Promise<Result<{ batch: MonitoringBatch }>> {
  const parsed = parseInput(deploymentStatsInput, input);
  if (isError(parsed)) return parsed;
  return transactionResult(db, async (tx) => {
    const deployment = await getBatchDeployment(tx, viewer, input.deploymentId);
    if (isError(deployment)) return deployment;
    const batch = await resolveIngestBatch(tx, viewer, deployment, input);
    if (isError(batch)) return batch;
    const aggregator = new BatchAggregator(targetShape(deployment), null);
    aggregator.addRequest(parsed.modelId ?? deployment.modelId, {
      predictions: parsed.numPredictions,
      executionTimeMs: parsed.executionTimeMs ?? null,
      userError: parsed.userError ?? false,
      serverError: parsed.systemError ?? false,
      userId: viewer.userId,
    });
    await Promise.all([
      aggregator.write(tx, deployment.id, batch.id),
      announce(tx, { k: 'batch', d: deployment.id, b: batch.id }, { k: 'health', d: deployment.id }),
      recordBatchEvent(tx, viewer, batch, { action: 'STATS_REPORTED', rowCount: 0 }),
    ]);
    return { batch };
  });
}
