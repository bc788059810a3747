import { and, desc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import {
  batchAccuracyStats,
  batchColumnStats,
  batchConsumers,
  batchExecutionTimeBuckets,
  batchModelHistory,
  batchServiceStats,
  deployments,
  monitoringBatches,
} from '../../db/tables.js';
import { ValidationError } from '../../errors.js';
import { type AccuracySums, PROBABILITY_BINS, unpackCounts } from '../predictions/aggregates.js';

// Reading the per-batch aggregates for a batch selection. Every function reads only aggregate
// tables, summed either over the whole selection (one group) or per batch (for the series and
// the batch fields) — so cost grows with the batches selected, never with their predictions.

export const MAX_SELECTED_BATCHES = 10_000;

export interface BatchSelectionInput {
  batchIds?: readonly string[] | null | undefined;
  last?: number | null | undefined;
  modelId?: string | null | undefined;
}

export interface Selection {
  deploymentId: string;
  /** Live batches of the deployment in the selection, oldest first (batch order). */
  batchIds: string[];
  modelId: string | null;
}

/** The selection's live batches of this deployment; ids that are not (foreign, deleted, missing) are left out. */
export async function resolveSelection(
  db: Db,
  viewer: Viewer,
  deploymentId: string,
  input: BatchSelectionInput,
  /** The argument's name in refusals. */
  field = 'batches',
): Promise<Selection | ValidationError> {
  const { batchIds, last } = input;
  if ((batchIds == null) === (last == null)) return ValidationError.of(field, 'give either batchIds or last');
  if (last != null && (!Number.isInteger(last) || last < 1 || last > MAX_SELECTED_BATCHES)) {
    return ValidationError.of(`${field}.last`, `must be an integer from 1 to ${MAX_SELECTED_BATCHES}`);
  }
  if (batchIds != null && batchIds.length > MAX_SELECTED_BATCHES)
    return ValidationError.of(`${field}.batchIds`, `must name at most ${MAX_SELECTED_BATCHES} batches`);
  const live = and(
    eq(monitoringBatches.deploymentId, deploymentId),
    eq(monitoringBatches.organizationId, viewer.organizationId),
    isNull(monitoringBatches.deletedAt),
  );
  const rows =
    batchIds != null
      ? await db
          .select({ id: monitoringBatches.id })
          .from(monitoringBatches)
          .where(and(live, inArray(monitoringBatches.id, batchIds.length ? [...batchIds] : ['']) as SQL))
          .orderBy(monitoringBatches.createdAt, monitoringBatches.id)
      : (
          await db
            .select({ id: monitoringBatches.id })
            .from(monitoringBatches)
            .where(live)
            .orderBy(desc(monitoringBatches.createdAt), desc(monitoringBatches.id))
            .limit(last!)
        ).reverse();
  return { deploymentId, batchIds: rows.map((r) => r.id), modelId: input.modelId ?? null };
}

const inSelection = (column: Parameters<typeof inArray>[0], batchIds: string[]) => inArray(column, batchIds);
const modelFilter = (column: unknown, modelId: string | null) => (modelId === null ? sql`true` : sql`${column} = ${modelId}`);

/** Group key: the batch id (per batch) or '' (whole selection). */
const groupKey = (perBatch: boolean, column: unknown) => (perBatch ? sql`${column}` : sql`''`);

export interface ServiceSums {
  requestCount: number;
  predictionCount: number;
  userErrorCount: number;
  serverErrorCount: number;
  executionTimeCount: number;
  executionTimeSum: number;
  executionTimeMin: number | null;
  executionTimeMax: number | null;
  buckets: [number, number][];
  consumerCount: number;
}

export const emptyServiceSums = (): ServiceSums => ({
  requestCount: 0,
  predictionCount: 0,
  userErrorCount: 0,
  serverErrorCount: 0,
  executionTimeCount: 0,
  executionTimeSum: 0,
  executionTimeMin: null,
  executionTimeMax: null,
  buckets: [],
  consumerCount: 0,
});

export async function serviceSums(db: Db, selection: Selection, perBatch: boolean): Promise<Map<string, ServiceSums>> {
  const result = new Map<string, ServiceSums>();
  if (selection.batchIds.length === 0) return result;
  const s = batchServiceStats;
  const of = (key: string) => {
    let sums = result.get(key);
    if (!sums) {
      sums = emptyServiceSums();
      result.set(key, sums);
    }
    return sums;
  };
  const where = and(inSelection(s.batchId, selection.batchIds), modelFilter(s.modelId, selection.modelId));
  const [stats, buckets, consumers] = await Promise.all([
    db
      .select({
        key: groupKey(perBatch, s.batchId).mapWith(String),
        requestCount: sql<number>`sum(${s.requestCount})`.mapWith(Number),
        predictionCount: sql<number>`sum(${s.predictionCount})`.mapWith(Number),
        userErrorCount: sql<number>`sum(${s.userErrorCount})`.mapWith(Number),
        serverErrorCount: sql<number>`sum(${s.serverErrorCount})`.mapWith(Number),
        executionTimeCount: sql<number>`sum(${s.executionTimeCount})`.mapWith(Number),
        executionTimeSum: sql<number>`sum(${s.executionTimeSum})`.mapWith(Number),
        executionTimeMin: sql<number | null>`min(${s.executionTimeMin})`,
        executionTimeMax: sql<number | null>`max(${s.executionTimeMax})`,
      })
      .from(s)
      .where(where)
      .groupBy(sql`1`),
    db
      .select({
        key: groupKey(perBatch, batchExecutionTimeBuckets.batchId).mapWith(String),
        bucket: batchExecutionTimeBuckets.bucket,
        count: sql<number>`sum(${batchExecutionTimeBuckets.count})`.mapWith(Number),
      })
      .from(batchExecutionTimeBuckets)
      .where(
        and(
          inSelection(batchExecutionTimeBuckets.batchId, selection.batchIds),
          modelFilter(batchExecutionTimeBuckets.modelId, selection.modelId),
        ),
      )
      .groupBy(sql`1`, batchExecutionTimeBuckets.bucket),
    db
      .select({
        key: groupKey(perBatch, batchConsumers.batchId).mapWith(String),
        consumers: sql<number>`count(distinct ${batchConsumers.userId})`.mapWith(Number),
      })
      .from(batchConsumers)
      .where(and(inSelection(batchConsumers.batchId, selection.batchIds), modelFilter(batchConsumers.modelId, selection.modelId)))
      .groupBy(sql`1`),
  ]);
  for (const { key, ...row } of stats) Object.assign(of(key), row);
  for (const { key, bucket, count } of buckets) of(key).buckets.push([bucket, count]);
  for (const { key, consumers: n } of consumers) of(key).consumerCount = n;
  return result;
}

export interface ColumnSums {
  column: string;
  isPrediction: boolean;
  /** Bin counts of the rows binned by `baselineVersion` (rows binned by another version are left out). */
  binCounts: number[] | null;
  binnedRowCount: number;
  rowCount: number;
  missingCount: number;
  sum: number;
  sumOfSquares: number;
}

/**
 * The most bins a column has: a categorical column's TOP_CATEGORIES (25) values + other + missing;
 * a numeric column has ≤ 11 (deciles). columnSums checks it (`maxBins`) and merges a larger
 * array with bl_array_sum instead.
 */
const BIN_POSITIONS = 27;

/**
 * Raw SQL (drizzle has no per-position aggregate): the current-baseline bin counts of a group,
 * merged by a built-in sum() per bin position — `array_remove(array[sum(case when <current> then
 * bin_counts[1] end)::bigint, …, [27]], null)`. Positions past a column's last bin are null and
 * removed; counts never hold nulls, so this equals bl_array_sum over the same rows, and is null
 * when no row of the group is binned by the current baseline. Built-in aggregates over small
 * inline arrays: ~3–4× faster than bl_array_sum (a function call per row) over 100 batches ×
 * 21 columns.
 */
function perPositionBinSums(current: SQL, binCounts: unknown): SQL {
  const positions = Array.from(
    { length: BIN_POSITIONS },
    (_, i) => sql`sum(case when ${current} then ${binCounts}[${sql.raw(String(i + 1))}] end)::bigint`,
  );
  return sql`case when count(case when ${current} then ${binCounts} end) > 0 then array_remove(array[${sql.join(positions, sql`, `)}], null) end`;
}

/** One column: a feature by name, or the prediction (target). */
export interface ColumnKey {
  column: string;
  isPrediction: boolean;
}

/**
 * Bin counts are summed only over rows binned by the deployment's current baseline; `only` reads
 * one column (the drift matrix), else every column.
 */
export async function columnSums(db: Db, selection: Selection, perBatch: boolean, only?: ColumnKey): Promise<Map<string, ColumnSums[]>> {
  const result = new Map<string, ColumnSums[]>();
  if (selection.batchIds.length === 0) return result;
  const c = batchColumnStats;
  const current = sql`${c.baselineVersion} = ${deployments.baselineVersion}`;
  const statement = (binCounts: SQL) =>
    db
      .select({
        key: groupKey(perBatch, c.batchId).mapWith(String),
        column: c.column,
        isPrediction: c.isPrediction,
        binCounts: sql<string[] | null>`${binCounts}`,
        maxBins: sql<number | null>`max(cardinality(${c.binCounts}))`,
        binnedRowCount: sql<number>`coalesce(sum(case when ${current} then ${c.rowCount} end), 0)`.mapWith(Number),
        rowCount: sql<number>`sum(${c.rowCount})`.mapWith(Number),
        missingCount: sql<number>`sum(${c.missingCount})`.mapWith(Number),
        sum: sql<number>`sum(${c.sum})`.mapWith(Number),
        sumOfSquares: sql<number>`sum(${c.sumOfSquares})`.mapWith(Number),
      })
      .from(c)
      .innerJoin(deployments, eq(deployments.id, c.deploymentId))
      .where(
        and(
          inSelection(c.batchId, selection.batchIds),
          modelFilter(c.modelId, selection.modelId),
          only ? and(eq(c.column, only.column), eq(c.isPrediction, only.isPrediction)) : undefined,
        ),
      )
      .groupBy(sql`1`, c.column, c.isPrediction);
  let rows = await statement(perPositionBinSums(current, c.binCounts));
  // A column with more bins than BIN_POSITIONS (none today): merge whole arrays instead.
  if (rows.some((row) => (row.maxBins ?? 0) > BIN_POSITIONS))
    rows = await statement(sql`bl_array_sum(case when ${current} then ${c.binCounts} end)`);
  for (const { key, binCounts, maxBins: _maxBins, ...row } of rows) {
    const list = result.get(key) ?? [];
    list.push({ ...row, binCounts: binCounts ? binCounts.map(Number) : null });
    result.set(key, list);
  }
  return result;
}

/** Accuracy sums over a selection: the per-batch sums of aggregates.ts, added. */
export type AccuracyTotals = AccuracySums;

export async function accuracySums(db: Db, selection: Selection, perBatch: boolean): Promise<Map<string, AccuracyTotals>> {
  const result = new Map<string, AccuracyTotals>();
  if (selection.batchIds.length === 0) return result;
  const a = batchAccuracyStats;
  const total = (column: unknown) => sql<number>`sum(${column})`.mapWith(Number);
  // Packed bins (binary only, else null): the built-in sum(numeric) adds every bin at once; its
  // text is decoded below. Confusion matrices (multiclass only, else null): bl_array_sum, whose
  // STRICT transition is not even called for the null rows of other target types.
  const packedSum = (column: unknown) => sql<string | null>`sum(${column})::text`;
  const arraySum = (column: unknown) => sql<string[] | null>`bl_array_sum(${column})`;
  const rows = await db
    .select({
      key: groupKey(perBatch, a.batchId).mapWith(String),
      count: total(a.count),
      logLossSum: total(a.logLossSum),
      positiveBins: packedSum(a.positiveBins),
      negativeBins: packedSum(a.negativeBins),
      truePositives: total(a.truePositives),
      falsePositives: total(a.falsePositives),
      trueNegatives: total(a.trueNegatives),
      falseNegatives: total(a.falseNegatives),
      sumError: total(a.sumError),
      sumAbsoluteError: total(a.sumAbsoluteError),
      sumSquaredError: total(a.sumSquaredError),
      sumActual: total(a.sumActual),
      sumSquaredActual: total(a.sumSquaredActual),
      sumAbsolutePercentageError: total(a.sumAbsolutePercentageError),
      nonZeroActualCount: total(a.nonZeroActualCount),
      confusion: arraySum(a.confusion),
    })
    .from(a)
    .where(and(inSelection(a.batchId, selection.batchIds), modelFilter(a.modelId, selection.modelId)))
    .groupBy(sql`1`);
  const numbers = (values: string[] | null) => (values ? values.map(Number) : null);
  for (const { key, positiveBins, negativeBins, confusion, ...row } of rows) {
    result.set(key, {
      ...row,
      positiveBins: unpackCounts(positiveBins, PROBABILITY_BINS),
      negativeBins: unpackCounts(negativeBins, PROBABILITY_BINS),
      confusion: numbers(confusion),
    });
  }
  return result;
}

/** Every prediction's positive-class probability per bin (binary deployments; PROBABILITY_BINS bins). */
export interface ProbabilitySums {
  /** Predictions counted (the prediction rows' row counts). */
  rowCount: number;
  /** null when no batch of the group has a histogram (not binary). */
  bins: number[] | null;
}

/** The probability histograms of all predictions, merged by sum(numeric) of the packed bins (one statement). */
export async function probabilitySums(db: Db, selection: Selection, perBatch: boolean): Promise<Map<string, ProbabilitySums>> {
  const result = new Map<string, ProbabilitySums>();
  if (selection.batchIds.length === 0) return result;
  const c = batchColumnStats;
  const rows = await db
    .select({
      key: groupKey(perBatch, c.batchId).mapWith(String),
      rowCount: sql<number>`sum(${c.rowCount})`.mapWith(Number),
      bins: sql<string | null>`sum(${c.probabilityBins})::text`,
    })
    .from(c)
    .where(and(inSelection(c.batchId, selection.batchIds), eq(c.isPrediction, true), modelFilter(c.modelId, selection.modelId)))
    .groupBy(sql`1`);
  for (const { key, rowCount, bins } of rows) result.set(key, { rowCount, bins: unpackCounts(bins, PROBABILITY_BINS) });
  return result;
}

/**
 * A value that changes whenever the batch's accuracy sums do (actuals arrived, or replaced earlier
 * ones): the row versions (xmin) of its batch_accuracy_stats rows. Actuals change no batch row, so
 * the monitoringBatch subscription adds this to its state to push the new accuracy and estimate.
 */
export async function accuracyVersion(db: Db, batchId: string): Promise<string> {
  const [row] = await db
    .select({ version: sql<string>`coalesce(string_agg(xmin::text, ',' order by ${batchAccuracyStats.modelId}), '')` })
    .from(batchAccuracyStats)
    .where(eq(batchAccuracyStats.batchId, batchId));
  return row?.version ?? '';
}

export async function labelSums(db: Db, selection: Selection, perBatch: boolean): Promise<Map<string, number[]>> {
  const result = new Map<string, number[]>();
  if (selection.batchIds.length === 0) return result;
  const h = batchModelHistory;
  const rows = await db
    .select({ key: groupKey(perBatch, h.batchId).mapWith(String), counts: sql<string[] | null>`bl_array_sum(${h.labelCounts})` })
    .from(h)
    .where(and(inSelection(h.batchId, selection.batchIds), modelFilter(h.modelId, selection.modelId)))
    .groupBy(sql`1`);
  for (const { key, counts } of rows) if (counts) result.set(key, counts.map(Number));
  return result;
}

// Merging per-batch sums in memory (several deployments' selections read in one statement).

const addArrays = (a: number[] | null, b: number[] | null): number[] | null => {
  if (!a) return b ? [...b] : null;
  if (!b) return a;
  return a.length >= b.length ? a.map((x, i) => x + (b[i] ?? 0)) : b.map((x, i) => x + (a[i] ?? 0));
};

/** Distinct consumers do not add across batches: the merged consumerCount is left at 0. */
export function mergeServiceSums(list: (ServiceSums | undefined)[]): ServiceSums {
  const merged = emptyServiceSums();
  const buckets = new Map<number, number>();
  for (const s of list) {
    if (!s) continue;
    merged.requestCount += s.requestCount;
    merged.predictionCount += s.predictionCount;
    merged.userErrorCount += s.userErrorCount;
    merged.serverErrorCount += s.serverErrorCount;
    merged.executionTimeCount += s.executionTimeCount;
    merged.executionTimeSum += s.executionTimeSum;
    if (s.executionTimeMin !== null) merged.executionTimeMin = Math.min(merged.executionTimeMin ?? s.executionTimeMin, s.executionTimeMin);
    if (s.executionTimeMax !== null) merged.executionTimeMax = Math.max(merged.executionTimeMax ?? s.executionTimeMax, s.executionTimeMax);
    for (const [bucket, count] of s.buckets) buckets.set(bucket, (buckets.get(bucket) ?? 0) + count);
  }
  merged.buckets = [...buckets];
  return merged;
}

export function mergeColumnSums(lists: (ColumnSums[] | undefined)[]): ColumnSums[] {
  const merged = new Map<string, ColumnSums>();
  for (const list of lists) {
    for (const c of list ?? []) {
      const key = `${c.isPrediction}/${c.column}`;
      const into = merged.get(key);
      if (!into) merged.set(key, { ...c, binCounts: c.binCounts ? [...c.binCounts] : null });
      else {
        into.binCounts = addArrays(into.binCounts, c.binCounts);
        into.binnedRowCount += c.binnedRowCount;
        into.rowCount += c.rowCount;
        into.missingCount += c.missingCount;
        into.sum += c.sum;
        into.sumOfSquares += c.sumOfSquares;
      }
    }
  }
  return [...merged.values()];
}

export function mergeAccuracySums(list: (AccuracyTotals | undefined)[]): AccuracyTotals | undefined {
  let merged: AccuracyTotals | undefined;
  for (const a of list) {
    if (!a) continue;
    if (!merged) {
      merged = {
        ...a,
        positiveBins: a.positiveBins && [...a.positiveBins],
        negativeBins: a.negativeBins && [...a.negativeBins],
        confusion: a.confusion && [...a.confusion],
      };
      continue;
    }
    for (const key of Object.keys(a) as (keyof AccuracyTotals)[]) {
      const value = a[key];
      if (typeof value === 'number') (merged[key] as number) += value;
    }
    merged.positiveBins = addArrays(merged.positiveBins, a.positiveBins);
    merged.negativeBins = addArrays(merged.negativeBins, a.negativeBins);
    merged.confusion = addArrays(merged.confusion, a.confusion);
  }
  return merged;
}

/** The newest `limit` live batches of each deployment, newest first. */
export async function latestBatches(
  db: Db,
  organizationId: string,
  deploymentIds: string[],
  limit: number,
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(deploymentIds.map((id) => [id, []]));
  if (deploymentIds.length === 0) return result;
  const rows = await db.execute<{ id: string; deployment_id: string }>(sql`
    select id, deployment_id from (
      select id, deployment_id, row_number() over (partition by deployment_id order by created_at desc, id desc) as rn
      from ${monitoringBatches}
      where ${inArray(monitoringBatches.deploymentId, deploymentIds)} and organization_id = ${organizationId} and deleted_at is null
    ) ranked where rn <= ${limit} order by deployment_id, rn`);
  for (const row of rows) result.get(row.deployment_id)!.push(row.id);
  return result;
}

/**
 * For each of `batchIds` (live batches of one deployment), the deployment's live batch created just
 * before it, or none for the first; one statement, an index step per batch.
 */
export async function previousBatches(db: Db, deploymentId: string, batchIds: string[]): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (batchIds.length === 0) return result;
  const rows = await db.execute<{ id: string; previous: string }>(sql`
    select b.id, p.id as previous
    from ${monitoringBatches} b
    cross join lateral (
      select q.id from ${monitoringBatches} q
      where q.deployment_id = b.deployment_id and q.deleted_at is null and (q.created_at, q.id) < (b.created_at, b.id)
      order by q.created_at desc, q.id desc
      limit 1
    ) p
    where b.deployment_id = ${deploymentId} and b.id in (${sql.join(
      batchIds.map((id) => sql`${id}`),
      sql`, `,
    )})`);
  for (const row of rows) result.set(row.id, row.previous);
  return result;
}
