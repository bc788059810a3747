import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  type BaselineColumn,
  batchAccuracyStats,
  batchColumnStats,
  batchConsumers,
  batchDailyCounts,
  batchExecutionTimeBuckets,
  batchModelHistory,
  batchServiceStats,
} from '../../db/tables.js';
import { binCount, binIndex } from '../baselines/binning.js';
import type { Baseline } from '../baselines/current.js';
import type { PredictionRow } from '../rows/normalize.js';
import type { TargetShape } from '../rows/shape.js';
import { sketchBucket } from './sketch.js';

// The per-batch aggregates of one ingest (or actuals) request, summed in memory while rows stream
// and written with additive upserts in the same transaction. Everything here merges by addition.

export const PROBABILITY_BINS = 1000;

/**
 * The probability bin of a positive-class probability p: floor(p · 1000), p = 1 in the last bin. Bin
 * b holds [b/1000, (b + 1)/1000). The same float8 product in SQL (migration 0015's backfill).
 */
export const probabilityBin = (p: number): number => Math.min(PROBABILITY_BINS - 1, Math.floor(p * PROBABILITY_BINS));
const LOG_LOSS_EPSILON = 1e-15;

/**
 * Binary accuracy's positive / negative counts per probability bin are stored packed into one
 * integer `numeric` each (migration 0004): count i fills the decimal digits [16·i, 16·i + 16) of
 * Σ countᵢ·10^(16·i). Adding two packed values adds every bin at once, so merging a selection is
 * PostgreSQL's built-in sum(numeric) — C code over ~4,000 base-10⁴ digits per batch — instead of a
 * per-bin merge (bl_array_sum ran a SQL function per row: 100 batches × 2 × 1,000 bins took ~30 ms,
 * sum(numeric) ~3 ms). Exact while every merged count stays below 10^16 (above 2^53: beyond what a
 * JavaScript number holds exactly anyway). A delta may hold negative counts (an actual moved to
 * another bin); the packed sum is still exact, and stored totals are never negative.
 */
export const PACKED_COUNT_DIGITS = 16;

/** Counts → the packed integer's decimal text (see PACKED_COUNT_DIGITS); null stays null. */
export function packCounts(counts: readonly number[] | null): string | null {
  if (counts === null) return null;
  const pack = (sign: 1 | -1) => {
    let text = '';
    for (let i = counts.length - 1; i >= 0; i--) text += String(Math.max(0, sign * counts[i]!)).padStart(PACKED_COUNT_DIGITS, '0');
    return text.replace(/^0+(?=.)/, '') || '0';
  };
  const positive = pack(1);
  // Negative counts (a delta): packed(positive parts) − packed(negated negative parts), exactly.
  return counts.some((c) => c < 0) ? (BigInt(positive) - BigInt(pack(-1))).toString() : positive;
}

/** The packed integer's decimal text (of a non-negative sum) → `length` counts; null stays null. */
export function unpackCounts(text: string | null, length: number): number[] | null {
  if (text === null) return null;
  if (text.startsWith('-')) throw new Error('packed counts are negative');
  const counts = new Array<number>(length);
  let end = text.length;
  for (let i = 0; i < length; i++) {
    const start = Math.max(0, end - PACKED_COUNT_DIGITS);
    counts[i] = start < end ? Number(text.slice(start, end)) : 0;
    end = start;
  }
  if (/[1-9]/.test(text.slice(0, end))) throw new Error(`packed counts hold more than ${length} counts`);
  return counts;
}

interface ColumnSums {
  binCounts: number[] | null;
  rowCount: number;
  missingCount: number;
  sum: number;
  sumOfSquares: number;
}

export interface AccuracySums {
  count: number;
  logLossSum: number;
  positiveBins: number[] | null;
  negativeBins: number[] | null;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  sumError: number;
  sumAbsoluteError: number;
  sumSquaredError: number;
  sumActual: number;
  sumSquaredActual: number;
  sumAbsolutePercentageError: number;
  nonZeroActualCount: number;
  confusion: number[] | null;
}

interface ServiceSums {
  requestCount: number;
  predictionCount: number;
  userErrorCount: number;
  serverErrorCount: number;
  executionTimeCount: number;
  executionTimeSum: number;
  executionTimeMin: number | null;
  executionTimeMax: number | null;
  buckets: Map<number, number>;
  consumers: Map<string, number>;
}

interface ModelSums {
  rowCount: number;
  earliest: number;
  latest: number;
  /** Classification: rows per predicted class, in classNames order. */
  labelCounts: number[] | null;
  columns: Map<string, ColumnSums>;
  prediction: ColumnSums | null;
  /** Binary: every prediction's positive-class probability per probability bin (the label-free estimate's input). */
  probabilityBins: number[] | null;
  accuracy: AccuracySums | null;
  service: ServiceSums | null;
}

/** What one prediction is, for accuracy: its stored prediction fields. */
export interface ScoredPrediction {
  prediction: number | null;
  probabilities: number[] | null;
  predictedLabel: string | null;
}

/** A validated actual: a number (regression) or one of the class names (classification). */
export interface ActualOutcome {
  value: number | null;
  label: string | null;
}

/** Accuracy sums of no prediction, with the arrays the target type has (and null for the others). */
export function emptyAccuracy(shape: TargetShape): AccuracySums {
  const classes = shape.classNames?.length ?? 0;
  return {
    count: 0,
    logLossSum: 0,
    positiveBins: shape.targetType === 'BINARY' ? new Array<number>(PROBABILITY_BINS).fill(0) : null,
    negativeBins: shape.targetType === 'BINARY' ? new Array<number>(PROBABILITY_BINS).fill(0) : null,
    truePositives: 0,
    falsePositives: 0,
    trueNegatives: 0,
    falseNegatives: 0,
    sumError: 0,
    sumAbsoluteError: 0,
    sumSquaredError: 0,
    sumActual: 0,
    sumSquaredActual: 0,
    sumAbsolutePercentageError: 0,
    nonZeroActualCount: 0,
    confusion: shape.targetType === 'MULTICLASS' ? new Array<number>(classes * classes).fill(0) : null,
  };
}

/**
 * Adds (sign 1) or removes (sign −1, when an actual is replaced) one prediction–actual pair.
 * Binary: y = (actual is the positive class), p = positive-class probability clipped to
 * [1e-15, 1 − 1e-15] for log loss; regression: err = prediction − actual.
 */
export function addAccuracy(sums: AccuracySums, shape: TargetShape, scored: ScoredPrediction, actual: ActualOutcome, sign: 1 | -1): void {
  sums.count += sign;
  if (shape.targetType === 'REGRESSION') {
    const y = actual.value!;
    const err = scored.prediction! - y;
    sums.sumError += sign * err;
    sums.sumAbsoluteError += sign * Math.abs(err);
    sums.sumSquaredError += sign * err * err;
    sums.sumActual += sign * y;
    sums.sumSquaredActual += sign * y * y;
    if (y !== 0) {
      sums.sumAbsolutePercentageError += sign * Math.abs(err / y);
      sums.nonZeroActualCount += sign;
    }
    return;
  }
  const classes = shape.classNames!;
  if (shape.targetType === 'BINARY') {
    const p = scored.prediction!;
    const positive = actual.label === shape.positiveClass;
    const clipped = Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    sums.logLossSum += sign * -Math.log(positive ? clipped : 1 - clipped);
    const bin = probabilityBin(p);
    if (positive) sums.positiveBins![bin]! += sign;
    else sums.negativeBins![bin]! += sign;
    const predictedPositive = p >= shape.predictionThreshold;
    if (predictedPositive && positive) sums.truePositives += sign;
    else if (predictedPositive) sums.falsePositives += sign;
    else if (positive) sums.falseNegatives += sign;
    else sums.trueNegatives += sign;
    return;
  }
  const actualIndex = classes.indexOf(actual.label!);
  const predictedIndex = classes.indexOf(scored.predictedLabel!);
  const p = scored.probabilities![actualIndex]!;
  sums.logLossSum += sign * -Math.log(Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON));
  sums.confusion![actualIndex * classes.length + predictedIndex]! += sign;
}

export interface RequestStats {
  predictions: number;
  executionTimeMs: number | null;
  userError: boolean;
  serverError: boolean;
  userId: string;
}

const DAY_MS = 86_400_000;

export class BatchAggregator {
  private readonly models = new Map<string, ModelSums>();
  /** Rows per UTC day (days since the epoch) of their timestamp. */
  private readonly days = new Map<number, number>();
  /** Baseline column per feature, in the deployment's feature order (undefined: not in the baseline). */
  private readonly featureBaselines: (BaselineColumn | undefined)[];

  constructor(
    private readonly shape: TargetShape,
    private readonly baseline: Baseline | null,
  ) {
    const byName = new Map(baseline?.columns.features.map((column) => [column.name, column]));
    this.featureBaselines = shape.features.map((feature) => byName.get(feature.name));
  }

  get baselineVersion(): number | null {
    return this.baseline?.version ?? null;
  }

  private model(modelId: string): ModelSums {
    let sums = this.models.get(modelId);
    if (!sums) {
      sums = {
        rowCount: 0,
        earliest: Infinity,
        latest: -Infinity,
        labelCounts: this.shape.classNames ? new Array<number>(this.shape.classNames.length).fill(0) : null,
        columns: new Map(),
        prediction: null,
        probabilityBins: this.shape.targetType === 'BINARY' ? new Array<number>(PROBABILITY_BINS).fill(0) : null,
        accuracy: null,
        service: null,
      };
      this.models.set(modelId, sums);
    }
    return sums;
  }

  private column(sums: ModelSums, name: string | null, baselineColumn: BaselineColumn | undefined | null): ColumnSums {
    const existing = name === null ? sums.prediction : sums.columns.get(name);
    if (existing) return existing;
    const created: ColumnSums = {
      binCounts: baselineColumn ? new Array<number>(binCount(baselineColumn)).fill(0) : null,
      rowCount: 0,
      missingCount: 0,
      sum: 0,
      sumOfSquares: 0,
    };
    if (name === null) sums.prediction = created;
    else sums.columns.set(name, created);
    return created;
  }

  private static addValue(target: ColumnSums, baselineColumn: BaselineColumn | undefined | null, value: number | string | null): void {
    target.rowCount++;
    if (value === null) target.missingCount++;
    else if (typeof value === 'number') {
      target.sum += value;
      target.sumOfSquares += value * value;
    }
    if (target.binCounts && baselineColumn) target.binCounts[binIndex(baselineColumn, value)]!++;
  }

  /** One stored prediction row (timestamp in epoch ms). */
  addRow(modelId: string, row: PredictionRow, timestamp: number): void {
    const sums = this.model(modelId);
    sums.rowCount++;
    if (timestamp < sums.earliest) sums.earliest = timestamp;
    if (timestamp > sums.latest) sums.latest = timestamp;
    const day = Math.floor(timestamp / DAY_MS);
    this.days.set(day, (this.days.get(day) ?? 0) + 1);
    if (sums.labelCounts && row.predictedLabel !== null) {
      const label = this.shape.classNames!.indexOf(row.predictedLabel);
      if (label !== -1) sums.labelCounts[label]!++;
    }
    const { features } = this.shape;
    for (let i = 0; i < features.length; i++) {
      const name = features[i]!.name;
      const baselineColumn = this.featureBaselines[i];
      BatchAggregator.addValue(this.column(sums, name, baselineColumn), baselineColumn, row.features[name] ?? null);
    }
    const predictionColumn = this.baseline?.columns.prediction;
    const predictionValue = this.shape.targetType === 'MULTICLASS' ? row.predictedLabel : row.prediction;
    BatchAggregator.addValue(this.column(sums, null, predictionColumn), predictionColumn, predictionValue);
    if (sums.probabilityBins && row.prediction !== null) sums.probabilityBins[probabilityBin(row.prediction)]!++;
  }

  addAccuracy(modelId: string, scored: ScoredPrediction, actual: ActualOutcome, sign: 1 | -1): void {
    const sums = this.model(modelId);
    sums.accuracy ??= emptyAccuracy(this.shape);
    addAccuracy(sums.accuracy, this.shape, scored, actual, sign);
  }

  /** One scoring request's statistics. */
  addRequest(modelId: string, request: RequestStats): void {
    const sums = this.model(modelId);
    sums.service ??= {
      requestCount: 0,
      predictionCount: 0,
      userErrorCount: 0,
      serverErrorCount: 0,
      executionTimeCount: 0,
      executionTimeSum: 0,
      executionTimeMin: null,
      executionTimeMax: null,
      buckets: new Map(),
      consumers: new Map(),
    };
    const service = sums.service;
    service.requestCount++;
    service.predictionCount += request.predictions;
    if (request.userError) service.userErrorCount++;
    if (request.serverError) service.serverErrorCount++;
    const time = request.executionTimeMs;
    if (time !== null) {
      service.executionTimeCount++;
      service.executionTimeSum += time;
      service.executionTimeMin = Math.min(service.executionTimeMin ?? time, time);
      service.executionTimeMax = Math.max(service.executionTimeMax ?? time, time);
      const bucket = sketchBucket(time);
      service.buckets.set(bucket, (service.buckets.get(bucket) ?? 0) + 1);
    }
    service.consumers.set(request.userId, (service.consumers.get(request.userId) ?? 0) + 1);
  }

  /** Rows (not requests) added over all models, for the batch's counters. */
  rowTotals(): { rows: number; earliest: number; latest: number } {
    let rows = 0;
    let earliest = Infinity;
    let latest = -Infinity;
    for (const sums of this.models.values()) {
      rows += sums.rowCount;
      earliest = Math.min(earliest, sums.earliest);
      latest = Math.max(latest, sums.latest);
    }
    return { rows, earliest, latest };
  }

  /** Adds everything to the batch's stored aggregates. Statements grow with models, never with rows. */
  /**
   * Adds the sums to the batch's aggregate rows. The statements are independent, so they are sent
   * together: on a postgres.js transaction they are pipelined (one round trip, not six).
   */
  async write(tx: DbOrTx, deploymentId: string, batchId: string): Promise<void> {
    const writes: Promise<unknown>[] = [];
    if (this.days.size) {
      const d = batchDailyCounts;
      const days = tx
        .insert(d)
        .values(
          [...this.days].map(([day, count]) => ({ deploymentId, batchId, day: new Date(day * DAY_MS).toISOString().slice(0, 10), count })),
        )
        .onConflictDoUpdate({ target: [d.batchId, d.day], set: { count: sql`${d.count} + excluded.count` } });
      writes.push(days.then());
    }
    for (const [modelId, sums] of this.models) {
      const key = { deploymentId, batchId, modelId };
      if (sums.rowCount > 0) writes.push(...writeRows(tx, key, sums, this.baselineVersion));
      if (sums.accuracy) writes.push(writeAccuracy(tx, key, sums.accuracy));
      if (sums.service) writes.push(...writeService(tx, key, sums.service));
    }
    await Promise.all(writes);
  }
}

type Key = { deploymentId: string; batchId: string; modelId: string };

/** The statements (started, not awaited) that add a model's row sums. */
function writeRows(tx: DbOrTx, key: Key, sums: ModelSums, baselineVersion: number | null): Promise<unknown>[] {
  const history = tx
    .insert(batchModelHistory)
    .values({
      ...key,
      predictionCount: sums.rowCount,
      earliestPredictionAt: new Date(sums.earliest),
      latestPredictionAt: new Date(sums.latest),
      labelCounts: sums.labelCounts,
    })
    .onConflictDoUpdate({
      target: [batchModelHistory.batchId, batchModelHistory.modelId],
      set: {
        predictionCount: sql`${batchModelHistory.predictionCount} + excluded.prediction_count`,
        labelCounts: sql`bl_array_add(${batchModelHistory.labelCounts}, excluded.label_counts)`,
        earliestPredictionAt: sql`least(${batchModelHistory.earliestPredictionAt}, excluded.earliest_prediction_at)`,
        latestPredictionAt: sql`greatest(${batchModelHistory.latestPredictionAt}, excluded.latest_prediction_at)`,
      },
    });
  const columns: { column: string; isPrediction: boolean; stats: ColumnSums; probabilityBins?: number[] | null }[] = [...sums.columns].map(
    ([column, stats]) => ({ column, isPrediction: false, stats }),
  );
  // The probability histogram rides on the prediction row's upsert: one more column, no more statements.
  if (sums.prediction) columns.push({ column: '', isPrediction: true, stats: sums.prediction, probabilityBins: sums.probabilityBins });
  const t = batchColumnStats;
  // Counts binned by another baseline version cannot be added: the row is then marked for
  // re-binning (bin_counts and baseline_version null), which the re-binning job picks up.
  const sameVersion = sql`${t.baselineVersion} is not distinct from excluded.baseline_version`;
  const columnStats = tx
    .insert(t)
    .values(
      columns.map(({ column, isPrediction, stats, probabilityBins }) => ({
        ...key,
        column,
        isPrediction,
        baselineVersion: stats.binCounts ? baselineVersion : null,
        binCounts: stats.binCounts,
        rowCount: stats.rowCount,
        missingCount: stats.missingCount,
        sum: stats.sum,
        sumOfSquares: stats.sumOfSquares,
        probabilityBins: packCounts(probabilityBins ?? null),
      })),
    )
    .onConflictDoUpdate({
      target: [t.batchId, t.modelId, t.isPrediction, t.column],
      set: {
        binCounts: sql`case when ${sameVersion} then bl_array_add(${t.binCounts}, excluded.bin_counts) end`,
        baselineVersion: sql`case when ${sameVersion} then excluded.baseline_version end`,
        rowCount: sql`${t.rowCount} + excluded.row_count`,
        missingCount: sql`${t.missingCount} + excluded.missing_count`,
        sum: sql`${t.sum} + excluded.sum`,
        sumOfSquares: sql`${t.sumOfSquares} + excluded.sum_of_squares`,
        probabilityBins: sql.raw(
          'coalesce(batch_column_stats.probability_bins + excluded.probability_bins, batch_column_stats.probability_bins, excluded.probability_bins)',
        ),
      },
    });
  return [history.then(), columnStats.then()];
}

/** `table.column + excluded.column`, for additive upserts. */
function plusExcluded(table: string, column: { name: string }) {
  return sql.raw(`${table}.${column.name} + excluded.${column.name}`);
}

function writeAccuracy(tx: DbOrTx, key: Key, a: AccuracySums): Promise<unknown> {
  const t = batchAccuracyStats;
  const add = (column: { name: string }) => plusExcluded('batch_accuracy_stats', column);
  // Packed counts add as numbers; a null side (not binary) keeps the other.
  const addPacked = (column: { name: string }) =>
    sql.raw(
      `coalesce(batch_accuracy_stats.${column.name} + excluded.${column.name}, batch_accuracy_stats.${column.name}, excluded.${column.name})`,
    );
  return tx
    .insert(t)
    .values({ ...key, ...a, positiveBins: packCounts(a.positiveBins), negativeBins: packCounts(a.negativeBins) })
    .onConflictDoUpdate({
      target: [t.batchId, t.modelId],
      set: {
        count: add(t.count),
        logLossSum: add(t.logLossSum),
        positiveBins: addPacked(t.positiveBins),
        negativeBins: addPacked(t.negativeBins),
        truePositives: add(t.truePositives),
        falsePositives: add(t.falsePositives),
        trueNegatives: add(t.trueNegatives),
        falseNegatives: add(t.falseNegatives),
        sumError: add(t.sumError),
        sumAbsoluteError: add(t.sumAbsoluteError),
        sumSquaredError: add(t.sumSquaredError),
        sumActual: add(t.sumActual),
        sumSquaredActual: add(t.sumSquaredActual),
        sumAbsolutePercentageError: add(t.sumAbsolutePercentageError),
        nonZeroActualCount: add(t.nonZeroActualCount),
        confusion: sql`bl_array_add(${t.confusion}, excluded.confusion)`,
      },
    })
    .then();
}

/** The statements (started, not awaited) that add a model's request sums. */
function writeService(tx: DbOrTx, key: Key, s: ServiceSums): Promise<unknown>[] {
  const t = batchServiceStats;
  const add = (column: { name: string }) => plusExcluded('batch_service_stats', column);
  const { buckets, consumers, ...counters } = s;
  const writes: Promise<unknown>[] = [];
  const service = tx
    .insert(t)
    .values({ ...key, ...counters })
    .onConflictDoUpdate({
      target: [t.batchId, t.modelId],
      set: {
        requestCount: add(t.requestCount),
        predictionCount: add(t.predictionCount),
        userErrorCount: add(t.userErrorCount),
        serverErrorCount: add(t.serverErrorCount),
        executionTimeCount: add(t.executionTimeCount),
        executionTimeSum: add(t.executionTimeSum),
        executionTimeMin: sql`least(${t.executionTimeMin}, excluded.execution_time_min)`,
        executionTimeMax: sql`greatest(${t.executionTimeMax}, excluded.execution_time_max)`,
      },
    });
  writes.push(service.then());
  if (buckets.size) {
    const b = batchExecutionTimeBuckets;
    const bucketRows = tx
      .insert(b)
      .values([...buckets].map(([bucket, count]) => ({ ...key, bucket, count })))
      .onConflictDoUpdate({ target: [b.batchId, b.modelId, b.bucket], set: { count: sql`${b.count} + excluded.count` } });
    writes.push(bucketRows.then());
  }
  if (consumers.size) {
    const c = batchConsumers;
    const consumerRows = tx
      .insert(c)
      .values([...consumers].map(([userId, requestCount]) => ({ ...key, userId, requestCount })))
      .onConflictDoUpdate({
        target: [c.batchId, c.modelId, c.userId],
        set: { requestCount: sql`${c.requestCount} + excluded.request_count` },
      });
    writes.push(consumerRows.then());
  }
  return writes;
}
