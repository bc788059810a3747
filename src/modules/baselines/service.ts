import { and, eq, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import { COPY_NULL, CopyWriter, copyText } from '../../db/copy.js';
import type { TrainingBaseline } from '../../db/tables.js';
import {
  type BaselineColumn,
  type BaselineColumns,
  batchColumnStats,
  type Deployment,
  deployments,
  monitoringBatches,
  trainingBaselines,
} from '../../db/tables.js';
import { pgTransactionResult } from '../../db/transactions.js';
import { type FieldError, isError, MAX_ROW_ERRORS, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import type { ParsedItem } from '../../formats/bytes.js';
import { getDeployment } from '../deployments/service.js';
import { MAX_ROWS_PER_REPORT, normalizeRow, type RowContext } from '../rows/normalize.js';
import { targetShape } from '../rows/shape.js';
import { featureLayout } from '../rows/storage.js';
import { binCount, binIndex, missingBin } from './binning.js';
import { currentBaseline } from './current.js';

// A training baseline fixes the drift bins: per numeric column the deciles of the baseline sample
// (bins between them, open-ended at both ends) plus a missing bin, with mean and std; per
// categorical column its 25 most frequent values, "other" and missing. Columns are the features
// and the prediction (regression value, positive-class probability, or predicted class).
// The sample is staged in a temporary table and summarised in SQL, so its size is not bounded by
// memory; re-binning stored batches uses the same SQL over the raw prediction rows.

export const TOP_CATEGORIES = 25;
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

type Pg = postgres.Sql | postgres.TransactionSql;
type Fragment = postgres.PendingQuery<postgres.Row[]>;

interface ColumnSource {
  name: string;
  kind: 'numeric' | 'categorical';
  /** The column's value in a row of the staged sample, or of `predictions` (aliased `p`: see rows/storage.ts). */
  value: (pg: Pg) => Fragment;
}

/** Where each column is read: in the staged sample (`features` jsonb) or in stored predictions `p`. */
function columnSources(deployment: Deployment, from: 'sample' | 'predictions'): { features: ColumnSource[]; prediction: ColumnSource } {
  const stored = featureLayout(deployment.features).sql;
  const features = deployment.features.map<ColumnSource>((feature) => {
    const kind = feature.type === 'NUMERIC' ? 'numeric' : 'categorical';
    if (from === 'predictions') return { name: feature.name, kind, value: (pg) => pg.unsafe(stored.get(feature.name)!) };
    return kind === 'numeric'
      ? { name: feature.name, kind, value: (pg) => pg`(features->>${feature.name})::float8` }
      : { name: feature.name, kind, value: (pg) => pg`(features->>${feature.name})` };
  });
  const prediction: ColumnSource =
    deployment.targetType === 'MULTICLASS'
      ? { name: '', kind: 'categorical', value: (pg) => pg`predicted_label` }
      : { name: '', kind: 'numeric', value: (pg) => pg`prediction` }; // (the same names in both)
  return { features, prediction };
}

/** Deciles, deduplicated into strictly increasing edges. */
function edgesFrom(deciles: (number | null)[] | null): number[] {
  const edges: number[] = [];
  for (const value of deciles ?? []) {
    if (value !== null && Number.isFinite(value) && (edges.length === 0 || value > edges.at(-1)!)) edges.push(value);
  }
  return edges;
}

async function summariseColumn(pg: Pg, source: ColumnSource, from: Fragment): Promise<BaselineColumn> {
  if (source.kind === 'numeric') {
    const [stats] = await pg<{ deciles: number[] | null; mean: number | null; std: number | null; present: string; total: string }[]>`
      select percentile_cont(${DECILES}::float8[]) within group (order by v) as deciles,
             avg(v) as mean, stddev_pop(v) as std, count(v) as present, count(*) as total
      from (select ${source.value(pg)} as v from ${from}) s`;
    const edges = edgesFrom(stats!.deciles);
    const column: BaselineColumn = { kind: 'numeric', name: source.name, edges, mean: stats!.mean, std: stats!.std, counts: [] };
    column.counts = await numericBinCounts(pg, source, from, edges, column);
    return column;
  }
  const groups = await pg<{ v: string | null; n: string }[]>`
    select v, count(*) as n from (select ${source.value(pg)} as v from ${from}) s group by v`;
  const present = groups.filter((g) => g.v !== null).sort((a, b) => Number(b.n) - Number(a.n) || (a.v! < b.v! ? -1 : a.v! > b.v! ? 1 : 0));
  const column: BaselineColumn = {
    kind: 'categorical',
    name: source.name,
    values: present.slice(0, TOP_CATEGORIES).map((g) => g.v!),
    counts: [],
  };
  column.counts = categoricalBinCounts(column, groups);
  return column;
}

/** Count per bin, as binIndex() bins: width_bucket(v, edges) counts the edges ≤ v. */
async function numericBinCounts(pg: Pg, source: ColumnSource, from: Fragment, edges: number[], column: BaselineColumn): Promise<number[]> {
  const counts = new Array<number>(binCount(column)).fill(0);
  const rows = await pg<{ bin: number | null; n: string }[]>`
    select case when v is null then null else width_bucket(v, ${edges}::float8[]) end as bin, count(*) as n
    from (select ${source.value(pg)} as v from ${from}) s group by 1`;
  for (const row of rows) counts[row.bin === null ? missingBin(column) : row.bin]! += Number(row.n);
  return counts;
}

function categoricalBinCounts(column: BaselineColumn, groups: { v: string | null; n: string }[]): number[] {
  const counts = new Array<number>(binCount(column)).fill(0);
  for (const group of groups) counts[binIndex(column, group.v)]! += Number(group.n);
  return counts;
}

/**
 * Replaces the deployment's baseline with one computed from `items` (a new version). Batches
 * binned by an earlier version (or by none) are re-binned in the background from their raw rows.
 */
export async function setTrainingBaseline(
  pool: postgres.Sql,
  viewer: Viewer,
  input: { deploymentId: string; items: unknown[] | AsyncIterable<ParsedItem>; itemPath: string },
): Promise<Result<TrainingBaseline>> {
  // A sample sent as a JSON list (GraphQL) is capped; streamed uploads are not.
  if (Array.isArray(input.items) && input.items.length > MAX_ROWS_PER_REPORT) {
    return ValidationError.of(
      input.itemPath,
      `must contain at most ${MAX_ROWS_PER_REPORT} rows (got ${input.items.length}); upload larger samples to the trainingBaseline route`,
    );
  }
  return pgTransactionResult(pool, async ({ db, pg }) => {
    const found = await getDeployment(db, viewer, input.deploymentId);
    if (isError(found)) return found;
    // One baseline replacement at a time per deployment.
    const [deployment] = await db.select().from(deployments).where(eq(deployments.id, found.id)).for('update');
    const shape = targetShape(deployment!);
    await pg`create temporary table baseline_rows (features jsonb not null, prediction float8, predicted_label text) on commit drop`;
    const copy = await CopyWriter.open(pg, pg`copy baseline_rows (features, prediction, predicted_label) from stdin`);
    const context: RowContext = { unknownFeatures: new Set() };
    const errors: FieldError[] = [];
    let rowCount = 0;
    const items = Array.isArray(input.items)
      ? input.items.map((item, index) => ({ where: `${input.itemPath}.${index}`, item }))
      : input.items;
    for await (const entry of items) {
      const where = 'where' in entry ? entry.where : `line ${entry.line}`;
      if ('error' in entry) {
        errors.push({ field: where, message: entry.error as string });
      } else {
        const row = normalizeRow(shape, entry.item, where, context);
        if ('field' in row && 'message' in row) errors.push(row);
        else if (errors.length === 0) {
          rowCount++;
          const label = row.predictedLabel === null ? COPY_NULL : copyText(row.predictedLabel);
          await copy.push(`${copyText(JSON.stringify(row.features))}\t${row.prediction ?? COPY_NULL}\t${label}\n`, rowCount);
        }
      }
      if (errors.length >= MAX_ROW_ERRORS) break;
    }
    if (errors.length) copy.abandon();
    await copy.end();
    if (errors.length) return new ValidationError(errors);
    if (rowCount === 0) return ValidationError.of(input.itemPath, 'must contain at least one row');

    const from = pg`baseline_rows`;
    const sources = columnSources(deployment!, 'sample');
    const columns: BaselineColumns = {
      features: await Promise.all(sources.features.map((source) => summariseColumn(pg, source, from))),
      prediction: await summariseColumn(pg, sources.prediction, from),
    };
    const [{ version }] = (await db
      .select({ version: sql<number>`coalesce(max(${trainingBaselines.version}), 0) + 1`.mapWith(Number) })
      .from(trainingBaselines)
      .where(eq(trainingBaselines.deploymentId, deployment!.id))) as [{ version: number }];
    const [stored] = await db
      .insert(trainingBaselines)
      .values({ deploymentId: deployment!.id, version, createdById: viewer.userId, rowCount, columns })
      .returning();
    await db.update(deployments).set({ baselineVersion: version }).where(eq(deployments.id, deployment!.id));
    await announce(db, { k: 'health', d: deployment!.id });
    return stored!;
  });
}

// ---------------------------------------------------------------------------------------------
// Re-binning: batches ingested before the current baseline (or under an older one) get their bin
// counts recomputed from their raw rows, one batch per transaction, under the batch row lock so no
// ingest into that batch interleaves.

/** Batches whose stored bins are not of the deployment's current baseline. */
export async function batchesToRebin(db: Db): Promise<{ deploymentId: string; batchId: string }[]> {
  const rows = await db
    .selectDistinct({ deploymentId: batchColumnStats.deploymentId, batchId: batchColumnStats.batchId })
    .from(batchColumnStats)
    .innerJoin(deployments, eq(deployments.id, batchColumnStats.deploymentId))
    .innerJoin(monitoringBatches, eq(monitoringBatches.id, batchColumnStats.batchId))
    .where(
      and(
        sql`${deployments.baselineVersion} is not null`,
        sql`${batchColumnStats.baselineVersion} is distinct from ${deployments.baselineVersion}`,
        sql`${monitoringBatches.deletedAt} is null`,
      ),
    )
    .limit(1000);
  return rows;
}

export async function rebinBatch(pool: postgres.Sql, deploymentId: string, batchId: string): Promise<void> {
  await pgTransactionResult(pool, async ({ db, pg }) => {
    const [batch] = await db.select().from(monitoringBatches).where(eq(monitoringBatches.id, batchId)).for('no key update');
    const [deployment] = await db.select().from(deployments).where(eq(deployments.id, deploymentId));
    if (!batch || batch.deletedAt || !deployment) return null;
    const baseline = await currentBaseline(db, deployment);
    if (!baseline) return null;
    const from = pg`predictions p join prediction_models m on m.key = p.model_key where p.batch_key = ${batch.key}`;
    const sources = columnSources(deployment, 'predictions');
    const baselineColumns = new Map(baseline.columns.features.map((column) => [column.name, column]));
    const targets: { source: ColumnSource; column: BaselineColumn | null | undefined; isPrediction: boolean }[] = [
      ...sources.features.map((source) => ({ source, column: baselineColumns.get(source.name), isPrediction: false })),
      { source: sources.prediction, column: baseline.columns.prediction, isPrediction: true },
    ];
    for (const { source, column, isPrediction } of targets) {
      const perModel = new Map<string, number[]>();
      if (column) {
        const countsOf = (modelId: string) => {
          let counts = perModel.get(modelId);
          if (!counts) {
            counts = new Array<number>(binCount(column)).fill(0);
            perModel.set(modelId, counts);
          }
          return counts;
        };
        if (column.kind === 'numeric') {
          const rows = await pg<{ model_id: string; bin: number | null; n: string }[]>`
            select model_id, case when v is null then null else width_bucket(v, ${column.edges}::float8[]) end as bin, count(*) as n
            from (select model_id, ${source.value(pg)} as v from ${from}) s group by 1, 2`;
          for (const row of rows) countsOf(row.model_id)[row.bin === null ? missingBin(column) : row.bin]! += Number(row.n);
        } else {
          const rows = await pg<{ model_id: string; v: string | null; n: string }[]>`
            select model_id, v, count(*) as n from (select model_id, ${source.value(pg)} as v from ${from}) s group by 1, 2`;
          for (const row of rows) countsOf(row.model_id)[binIndex(column, row.v)]! += Number(row.n);
        }
      }
      for (const [modelId, counts] of perModel) {
        await db
          .update(batchColumnStats)
          .set({ binCounts: counts, baselineVersion: baseline.version })
          .where(
            and(
              eq(batchColumnStats.batchId, batchId),
              eq(batchColumnStats.modelId, modelId),
              eq(batchColumnStats.isPrediction, isPrediction),
              eq(batchColumnStats.column, source.name),
            ),
          );
      }
      if (!column) {
        // A column the baseline does not have: nothing to bin, but it is now of this version.
        await db
          .update(batchColumnStats)
          .set({ binCounts: null, baselineVersion: baseline.version })
          .where(
            and(
              eq(batchColumnStats.batchId, batchId),
              eq(batchColumnStats.isPrediction, isPrediction),
              eq(batchColumnStats.column, source.name),
            ),
          );
      }
    }
    await announce(db, { k: 'health', d: deploymentId });
    return null;
  });
}

/** Re-bins every stale batch; returns how many it did. Safe to run from several servers. */
export async function rebinStaleBatches(db: Db, pool: postgres.Sql): Promise<number> {
  const attempted = new Set<string>();
  for (;;) {
    // A batch that is stale again right after its re-binning (an ingest under the old baseline
    // committed meanwhile) waits for the next run rather than looping here.
    const stale = (await batchesToRebin(db)).filter(({ batchId }) => !attempted.has(batchId));
    if (stale.length === 0) return attempted.size;
    for (const { deploymentId, batchId } of stale) {
      attempted.add(batchId);
      await rebinBatch(pool, deploymentId, batchId);
    }
  }
}
