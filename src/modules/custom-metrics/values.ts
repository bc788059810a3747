import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { batchCustomMetricValues, type CustomMetric, customMetrics, monitoringBatches } from '../../db/tables.js';
import type { Selection } from '../metrics/sums.js';
import type { MetricSums } from './compute.js';

// Reading stored custom metric values: the aggregate rows of the batches asked for, by primary
// key (metric, batch, model), merged per batch in SQL. Cost grows with the batches read, never
// with the buckets reported into them.

const v = batchCustomMetricValues;

/** The aggregate columns of a group of value rows, merged (the gauge: the latest, ties to the row written last). */
const mergedColumns = () => ({
  bucketCount: sql<number>`sum(${v.bucketCount})`.mapWith(Number),
  sampleCount: sql<number>`sum(${v.sampleSize})`.mapWith(Number),
  valueSum: sql<number>`sum(${v.valueSum})`.mapWith(Number),
  min: sql<number>`min(${v.valueMin})`.mapWith(Number),
  max: sql<number>`max(${v.valueMax})`.mapWith(Number),
  gaugeValue: sql<number>`(array_agg(${v.gaugeValue} order by ${v.gaugeAt} desc, ${v.updatedAt} desc))[1]`.mapWith(Number),
  gaugeAt: sql<Date>`max(${v.gaugeAt})`.mapWith(v.gaugeAt),
});

/**
 * One metric's sums per batch of the selection (batches without values are absent). A selection's
 * model applies to a model-specific metric only: a deployment metric's values belong to no model.
 */
export async function metricSumsByBatch(db: DbOrTx, metric: CustomMetric, selection: Selection): Promise<Map<string, MetricSums>> {
  if (!selection.batchIds.length) return new Map();
  const rows = await db
    .select({ batchId: v.batchId, ...mergedColumns() })
    .from(v)
    .where(
      and(
        eq(v.metricId, metric.id),
        inArray(v.batchId, selection.batchIds),
        metric.isModelSpecific && selection.modelId !== null ? eq(v.modelId, selection.modelId) : undefined,
      ),
    )
    .groupBy(v.batchId);
  return new Map(rows.map(({ batchId, ...sums }) => [batchId, sums]));
}

/** One batch's value of one metric: null when nothing was reported. */
export interface BatchMetricSums {
  metric: CustomMetric;
  sums: MetricSums | null;
}

/**
 * For each live batch (of the organization) in `batchIds`: every metric of its deployment with the
 * batch's sums over all models, in the order metrics were created. One statement for any number of
 * batches.
 */
export async function batchMetricSums(
  db: DbOrTx,
  organizationId: string,
  batchIds: readonly string[],
): Promise<Map<string, BatchMetricSums[]>> {
  const result = new Map<string, BatchMetricSums[]>();
  if (!batchIds.length) return result;
  const rows = await db
    .select({ batchId: monitoringBatches.id, metric: customMetrics, ...mergedColumns() })
    .from(monitoringBatches)
    .innerJoin(customMetrics, eq(customMetrics.deploymentId, monitoringBatches.deploymentId))
    .leftJoin(v, and(eq(v.metricId, customMetrics.id), eq(v.batchId, monitoringBatches.id)))
    .where(
      and(
        inArray(monitoringBatches.id, [...batchIds]),
        eq(monitoringBatches.organizationId, organizationId),
        isNull(monitoringBatches.deletedAt),
        eq(customMetrics.organizationId, organizationId),
      ),
    )
    .groupBy(monitoringBatches.id, customMetrics.id)
    .orderBy(asc(monitoringBatches.id), asc(customMetrics.createdAt), asc(customMetrics.id));
  for (const { batchId, metric, ...sums } of rows) {
    const list = result.get(batchId) ?? [];
    // sum() over no row (the left join found none) is null: nothing reported.
    list.push({ metric, sums: sums.bucketCount ? sums : null });
    result.set(batchId, list);
  }
  return result;
}
