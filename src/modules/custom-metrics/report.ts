import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, Tx } from '../../db/client.js';
import { batchCustomMetricValues, type CustomMetric, customMetrics, monitoringBatches } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { BatchLockedError, type FieldError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { nameSchema, parseInput, parseTimestamp } from '../../validation.js';
import { getBatchDeployment } from '../deployments/service.js';
import { customMetricNotFound } from './service.js';

// Reporting custom metric values (C8): DataRobot's buckets, each into a batch of the metric's
// deployment. One transaction per request: every bucket is checked (the batches locked as ingest
// locks them) before anything is stored, and the buckets are added, grouped per batch, to the
// mergeable aggregate row of (metric, batch, model) by one upsert.

export const MAX_BUCKETS_PER_REPORT = 10_000;
export const MAX_SAMPLE_SIZE = 1_000_000_000;
/** Values beyond this (and sums of them by MAX_SAMPLE_SIZE) could overflow a sum of float8s. */
export const MAX_ABS_VALUE = 1e100;
/** Batches announced per statement. */
const ANNOUNCE_SLICE = 1000;

export interface ReportInput {
  buckets?: unknown;
  modelId?: unknown;
  /** DataRobot's model package: accepted, not used (batchlens knows models by id). */
  modelPackageId?: unknown;
  dryRun?: unknown;
  segments?: unknown;
}

export interface ReportOptions {
  /** How a bucket names its batch: `batch` (DataRobot's JSON) or `batchId` (GraphQL); used in refusals. */
  batchField: 'batch' | 'batchId';
  /** Only a metric of this deployment (the REST path's). */
  deploymentId?: string;
}

export interface ReportSummary {
  metric: CustomMetric;
  dryRun: boolean;
  /** The model the values were stored under: '' for a metric that is not model specific. */
  modelId: string;
  bucketCount: number;
  sampleCount: number;
  /** The batches the buckets went to, in the order the request first named them. */
  batchIds: string[];
}

/** A bucket once checked. */
interface Bucket {
  value: number;
  sampleSize: number;
  at: Date;
  batchId: string;
}

const requestInput = z.object({
  modelId: nameSchema(256).nullish(),
  modelPackageId: z.string({ error: 'must be a string' }).nullish(),
  dryRun: z.boolean({ error: 'must be true or false' }).nullish(),
});

/** A bucket's fields besides the one naming its batch (`batch` or `batchId`). */
const BUCKET_FIELDS = ['value', 'sampleSize', 'timestamp', 'associationId'];

/** An ISO-8601 date-time; without a zone it is UTC (DataRobot's client sends Python's naive isoformat()). */
function timestampOf(text: string): Date | null {
  const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text) || !text.includes('T') ? text : `${text}Z`;
  return parseTimestamp(zoned);
}

/** Checks one bucket's fields; the batch is checked against the database later. */
function readBucket(raw: unknown, where: string, batchField: ReportOptions['batchField'], now: Date): Bucket | FieldError[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [{ field: where, message: 'must be an object' }];
  const item = raw as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(item)) {
    if (key !== batchField && !BUCKET_FIELDS.includes(key))
      errors.push({ field: `${where}.${key}`, message: 'is not a field of a bucket' });
  }
  const { value, sampleSize = 1, timestamp } = item;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.push({ field: `${where}.value`, message: value === undefined ? 'is required' : 'must be a finite number' });
  } else if (Math.abs(value) > MAX_ABS_VALUE) {
    errors.push({ field: `${where}.value`, message: `must be between -${MAX_ABS_VALUE} and ${MAX_ABS_VALUE}` });
  }
  const size = sampleSize ?? 1;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_SAMPLE_SIZE) {
    errors.push({ field: `${where}.sampleSize`, message: `must be an integer from 1 to ${MAX_SAMPLE_SIZE}` });
  }
  let at = now;
  if (timestamp !== undefined && timestamp !== null) {
    const parsed = typeof timestamp === 'string' ? timestampOf(timestamp) : null;
    if (parsed) at = parsed;
    else errors.push({ field: `${where}.timestamp`, message: 'must be an ISO-8601 date-time' });
  }
  const batchId = item[batchField];
  if (batchId === undefined || batchId === null || batchId === '') {
    errors.push({
      field: `${where}.${batchField}`,
      message: 'is required: the id of a monitoring batch of this deployment (batchlens keeps custom metric values per batch)',
    });
  } else if (typeof batchId !== 'string') errors.push({ field: `${where}.${batchField}`, message: 'must be a monitoring batch id' });
  if (errors.length) return errors;
  return { value: value as number, sampleSize: size as number, at, batchId: batchId as string };
}

/** The request's own fields, checked before the database is asked anything. */
function readRequest(input: ReportInput): { modelId: string | null; dryRun: boolean } | ValidationError {
  const errors: FieldError[] = [];
  const parsed = parseInput(requestInput, { modelId: input.modelId, modelPackageId: input.modelPackageId, dryRun: input.dryRun });
  if (isError(parsed)) errors.push(...parsed.fieldErrors);
  const { buckets, segments } = input;
  if (!Array.isArray(buckets))
    errors.push({ field: 'buckets', message: buckets === undefined ? 'is required' : 'must be a list of buckets' });
  else if (buckets.length === 0) errors.push({ field: 'buckets', message: 'must contain at least one bucket' });
  else if (buckets.length > MAX_BUCKETS_PER_REPORT) {
    errors.push({
      field: 'buckets',
      message: `must contain at most ${MAX_BUCKETS_PER_REPORT} buckets (got ${buckets.length}); send several requests`,
    });
  }
  if (segments !== undefined && segments !== null && !(Array.isArray(segments) && segments.length === 0)) {
    errors.push({ field: 'segments', message: 'are not supported: batchlens keeps custom metric values per batch and model only' });
  }
  if (errors.length || isError(parsed)) return new ValidationError(errors);
  return { modelId: parsed.modelId ?? null, dryRun: parsed.dryRun ?? false };
}

/** The request's buckets added up per batch (in order: the gauge keeps the latest timestamp, ties to the later bucket). */
interface Group {
  bucketCount: number;
  sampleSize: number;
  valueSum: number;
  min: number;
  max: number;
  gaugeValue: number;
  gaugeAt: Date;
}

function groupByBatch(type: CustomMetric['type'], buckets: Bucket[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const { value, sampleSize, at, batchId } of buckets) {
    const weighted = type === 'sum' ? value : value * sampleSize;
    const group = groups.get(batchId);
    if (!group) {
      groups.set(batchId, { bucketCount: 1, sampleSize, valueSum: weighted, min: value, max: value, gaugeValue: value, gaugeAt: at });
      continue;
    }
    group.bucketCount++;
    group.sampleSize += sampleSize;
    group.valueSum += weighted;
    group.min = Math.min(group.min, value);
    group.max = Math.max(group.max, value);
    if (at.getTime() >= group.gaugeAt.getTime()) {
      group.gaugeValue = value;
      group.gaugeAt = at;
    }
  }
  return groups;
}

/**
 * Adds each batch's group to its aggregate row: one statement whatever the number of batches. The
 * groups travel as one JSON parameter (jsonb_to_recordset) because a VALUES list of 10,000 batches ×
 * 12 columns would pass PostgreSQL's 65,535 bind parameters; the upsert itself is drizzle's.
 */
async function addGroups(tx: Tx, metric: CustomMetric, modelId: string, groups: Map<string, Group>): Promise<void> {
  const t = batchCustomMetricValues;
  const rows = JSON.stringify(
    [...groups].map(([batchId, g]) => ({
      batch_id: batchId,
      bucket_count: g.bucketCount,
      sample_size: g.sampleSize,
      value_sum: g.valueSum,
      value_min: g.min,
      value_max: g.max,
      gauge_value: g.gaugeValue,
      gauge_at: g.gaugeAt.toISOString(),
    })),
  );
  const add = (column: { name: string }) => sql.raw(`batch_custom_metric_values.${column.name} + excluded.${column.name}`);
  await tx
    .insert(t)
    .select(
      // Every column of the table, in its order (drizzle inserts into all of them).
      sql`select ${metric.deploymentId}::text, ${metric.id}::text, r.batch_id, ${modelId}::text, r.bucket_count, r.sample_size,
                 r.value_sum, r.value_min, r.value_max, r.gauge_value, r.gauge_at, now()
            from jsonb_to_recordset(${rows}::jsonb) as r(batch_id text, bucket_count bigint, sample_size bigint, value_sum float8,
                 value_min float8, value_max float8, gauge_value float8, gauge_at timestamptz)`,
    )
    .onConflictDoUpdate({
      target: [t.metricId, t.batchId, t.modelId],
      set: {
        bucketCount: add(t.bucketCount),
        sampleSize: add(t.sampleSize),
        valueSum: add(t.valueSum),
        valueMin: sql`least(${t.valueMin}, excluded.value_min)`,
        valueMax: sql`greatest(${t.valueMax}, excluded.value_max)`,
        // `>=`: of equal timestamps the later report wins, as the later bucket does within one.
        gaugeValue: sql`case when excluded.gauge_at >= ${t.gaugeAt} then excluded.gauge_value else ${t.gaugeValue} end`,
        gaugeAt: sql`greatest(${t.gaugeAt}, excluded.gauge_at)`,
        updatedAt: sql`now()`,
      },
    });
}

/**
 * Reports buckets of a metric's values, all or none. Refusals name the bucket: bad fields, and a
 * batch that is not a live batch of the metric's deployment, up to MAX_ROW_ERRORS of them; then a
 * locked batch (BatchLockedError naming the first bucket that names it). A dry run checks
 * everything, under the same locks, and stores nothing.
 */
export async function reportCustomMetricValues(
  db: Db,
  viewer: Viewer,
  metricId: string,
  input: ReportInput,
  options: ReportOptions,
): Promise<Result<ReportSummary>> {
  return transactionResult(db, async (tx) => {
    // KEY SHARE: the metric cannot be deleted (nor its type changed) until this report commits.
    const [metric] = await tx
      .select()
      .from(customMetrics)
      .where(
        and(
          eq(customMetrics.id, metricId),
          eq(customMetrics.organizationId, viewer.organizationId),
          options.deploymentId === undefined ? undefined : eq(customMetrics.deploymentId, options.deploymentId),
        ),
      )
      .for('key share');
    if (!metric) return customMetricNotFound();
    const request = readRequest(input);
    if (isError(request)) return request;
    const deployment = await getBatchDeployment(tx, viewer, metric.deploymentId);
    if (isError(deployment)) return deployment;

    const now = new Date();
    const raw = input.buckets as unknown[];
    const read = raw.map((item, i) => readBucket(item, `buckets.${i}`, options.batchField, now));
    const named = [...new Set(read.flatMap((b) => (Array.isArray(b) ? [] : [b.batchId])))];
    // The batches, locked as ingest locks them (NO KEY UPDATE, in id order so two reports never
    // wait on each other in a cycle): a lock or delete racing this report waits for its commit,
    // or commits first and is seen here.
    const batches = named.length
      ? await tx
          .select({ id: monitoringBatches.id, isLocked: monitoringBatches.isLocked })
          .from(monitoringBatches)
          .where(
            and(
              inArray(monitoringBatches.id, named),
              eq(monitoringBatches.deploymentId, deployment.id),
              eq(monitoringBatches.organizationId, viewer.organizationId),
              isNull(monitoringBatches.deletedAt),
            ),
          )
          .orderBy(asc(monitoringBatches.id))
          .for('no key update')
      : [];
    const locked = new Map(batches.map((b) => [b.id, b.isLocked]));

    const errors: FieldError[] = [];
    const buckets: Bucket[] = [];
    for (const [i, bucket] of read.entries()) {
      if (Array.isArray(bucket)) errors.push(...bucket);
      else if (!locked.has(bucket.batchId)) {
        errors.push({ field: `buckets.${i}.${options.batchField}`, message: 'is not a monitoring batch of this deployment' });
      } else buckets.push(bucket);
      if (errors.length >= MAX_ROW_ERRORS) break;
    }
    if (errors.length) return new ValidationError(errors.slice(0, MAX_ROW_ERRORS));
    const lockedAt = buckets.findIndex((b) => locked.get(b.batchId));
    if (lockedAt >= 0) {
      return new BatchLockedError(
        buckets[lockedAt]!.batchId,
        `buckets.${lockedAt}.${options.batchField}`,
        'Monitoring batch is locked and accepts no new custom metric values',
      );
    }

    const modelId = metric.isModelSpecific ? (request.modelId ?? deployment.modelId) : '';
    const groups = groupByBatch(metric.type, buckets);
    const summary: ReportSummary = {
      metric,
      dryRun: request.dryRun,
      modelId,
      bucketCount: buckets.length,
      sampleCount: buckets.reduce((n, b) => n + b.sampleSize, 0),
      batchIds: [...groups.keys()],
    };
    if (request.dryRun) return summary;
    const events = summary.batchIds.map((b) => ({ k: 'custom-metrics' as const, d: deployment.id, b }));
    // Independent statements, pipelined; announcements in slices (a SELECT holds at most 1,664 columns).
    await Promise.all([
      addGroups(tx, metric, modelId, groups),
      ...Array.from({ length: Math.ceil(events.length / ANNOUNCE_SLICE) }, (_, i) =>
        announce(tx, ...events.slice(i * ANNOUNCE_SLICE, (i + 1) * ANNOUNCE_SLICE)),
      ),
    ]);
    return summary;
  });
}
