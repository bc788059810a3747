import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';

// The seal of a locked batch: a fingerprint of what the batch holds, computed by PostgreSQL.
//
// Each stored row is hashed with hash_record_extended (the type-aware 64-bit hash that hash
// partitioning relies on, so stable across PostgreSQL versions, and independent of the session's
// text settings: no value is printed) and the hashes are SUMMED as an exact numeric: the sum
// ignores row order and how the rows were split into requests, while a repeated row counts twice
// (xor would cancel it). The row hash covers every stored column except `id` and `batch_key` (where
// and in which order the row was stored, not what it says), so the same rows of one deployment give
// the same row sum in any batch. Each aggregate table is summed the same way with its own seed, over
// its rows minus their batch and deployment ids. The sums and the row count are folded by md5 into
// the fingerprint text.
//
// What the content fingerprint covers: the rows; the request statistics, execution-time buckets,
// consumers, daily counts, per-model counts, timestamps and label counts; each column's row,
// missing, sum and sum-of-squares, and the probability histogram of a binary deployment's
// predictions; the batch's own totals. What it leaves out: bin counts and the
// baseline version of column stats (re-binned in the background when a new baseline is set, from
// the rows, which are covered); the editable metadata (name, description, URL, model-history
// periods: each edit is in the audit trail). The accuracy aggregates get a fingerprint of their
// own, because actuals may still arrive for a locked batch: the actuals service moves that
// fingerprint in the transaction that changes them, with an audit event, so only a change that
// bypassed the services shows.

/** The stored columns of a prediction row that say what it is (all but `id` and `batch_key`). */
const ROW = sql.raw(
  '(p.timestamp, p.prediction, p.deployment_key, p.model_key, p.numeric_features, p.categorical_features, p.probabilities, p.predicted_label, p.association_uuid, p.association_text)',
);

/** Σ of the 64-bit hashes of the batch's rows of one aggregate table (0 when it has none). */
function tableSum(table: string, columns: string, seed: number, batchId: string) {
  return sql`(select coalesce(sum(hash_record_extended((${sql.raw(columns)}), ${sql.raw(String(seed))})), 0) from ${sql.raw(table)} where batch_id = ${batchId})`;
}

function contentFingerprintSql(batch: { id: string; key: number }) {
  return sql`
    select 'v1:' || md5(concat_ws(':', r.n, r.s,
      ${tableSum(
        'batch_service_stats',
        'model_id, request_count, prediction_count, user_error_count, server_error_count, execution_time_count, execution_time_sum, execution_time_min, execution_time_max',
        1,
        batch.id,
      )},
      ${tableSum('batch_execution_time_buckets', 'model_id, bucket, count', 2, batch.id)},
      ${tableSum('batch_consumers', 'model_id, user_id, request_count', 3, batch.id)},
      ${tableSum('batch_column_stats', 'model_id, column_name, is_prediction, row_count, missing_count, sum, sum_of_squares, probability_bins', 4, batch.id)},
      ${tableSum('batch_model_history', 'model_id, prediction_count, earliest_prediction_at, latest_prediction_at, label_counts', 5, batch.id)},
      ${tableSum('batch_daily_counts', 'day, count', 6, batch.id)},
      (select hash_record_extended((prediction_count, earliest_prediction_at, latest_prediction_at), 7) from monitoring_batches where id = ${batch.id})
    )) as fingerprint
    from (
      select count(*) as n, coalesce(sum(hash_record_extended(${ROW}, 0)), 0) as s
      from predictions p where p.batch_key = ${batch.key}
    ) r`;
}

export interface Fingerprints {
  /** The rows and the aggregates derived from them. */
  content: string;
  /** The accuracy aggregates (moved by actuals). */
  accuracy: string;
}

/** The batch's fingerprints as stored now (in `db`'s snapshot): one scan of its rows, two statements. */
export async function computeFingerprints(db: DbOrTx, batch: { id: string; key: number }): Promise<Fingerprints> {
  const [[content], accuracy] = await Promise.all([
    db.execute<{ fingerprint: string }>(contentFingerprintSql(batch)),
    accuracyFingerprints(db, [batch.id]),
  ]);
  return { content: content!.fingerprint, accuracy: accuracy.get(batch.id)! };
}

/** The accuracy fingerprints of several batches (after actuals moved their aggregates), in one statement. */
export async function accuracyFingerprints(db: DbOrTx, batchIds: readonly string[]): Promise<Map<string, string>> {
  if (batchIds.length === 0) return new Map();
  const rows = await db.execute<{ id: string; fingerprint: string }>(sql`
    select b.id, 'v1:' || md5(coalesce((select sum(hash_record_extended((${sql.raw(
      'a.model_id, a.count, a.log_loss_sum, a.positive_bins, a.negative_bins, a.true_positives, a.false_positives, a.true_negatives, a.false_negatives, a.sum_error, a.sum_absolute_error, a.sum_squared_error, a.sum_actual, a.sum_squared_actual, a.sum_absolute_percentage_error, a.non_zero_actual_count, a.confusion',
    )}), 8)) from batch_accuracy_stats a where a.batch_id = b.id), 0)::text) as fingerprint
    from unnest(${sql`array[${sql.join(
      batchIds.map((id) => sql`${id}`),
      sql`, `,
    )}]::text[]`}) as b(id)`);
  return new Map(rows.map((row) => [row.id, row.fingerprint]));
}
