import type { TestServer } from './server.js';

// Reads behind the API, straight from the server's database: what is stored, not what is answered.

/** Stored predictions carry integer keys: tests read them through the `prediction_rows` view (text ids, features by name). */
const readable = (table: string) => (table === 'predictions' ? 'prediction_rows' : table);

/** Rows of `table` whose `column` is `id` (deleted batches included: what the database holds). */
export async function countRows(
  server: TestServer,
  table: string,
  column: 'id' | 'batch_id' | 'deployment_id' | 'label',
  id: string,
): Promise<number> {
  const [row] = await server.sql.unsafe(`select count(*)::int as n from ${readable(table)} where ${column} = $1`, [id]);
  return row!.n as number;
}

/** A batch's predictions in arrival order, with the columns the ingest routes write. */
export function storedPredictions(server: TestServer, batchId: string) {
  return server.sql`
    select model_id, timestamp, features, prediction, probabilities, predicted_label, association_id
    from prediction_rows where batch_id = ${batchId} order by id`;
}

/** A batch's counters as stored in monitoring_batches; undefined once the batch is purged. */
export async function batchCounters(server: TestServer, batchId: string) {
  const [row] = await server.sql`
    select prediction_count::int as prediction_count, earliest_prediction_at, latest_prediction_at, is_locked
    from monitoring_batches where id = ${batchId}`;
  return row;
}

export interface ColumnStats {
  column_name: string;
  is_prediction: boolean;
  model_id: string;
  row_count: number;
  missing_count: number;
  sum: number;
  sum_of_squares: number;
}

/** batch_column_stats of a batch: per model, the feature columns, then the prediction column (''). */
export function columnStats(server: TestServer, batchId: string) {
  return server.sql<ColumnStats[]>`
    select column_name, is_prediction, model_id, row_count::int as row_count, missing_count::int as missing_count, sum, sum_of_squares
    from batch_column_stats where batch_id = ${batchId} order by model_id, is_prediction, column_name`;
}

/** batch_service_stats of a batch, one row per model. */
export function serviceStats(server: TestServer, batchId: string) {
  return server.sql`
    select model_id, request_count::int as request_count, prediction_count::int as prediction_count,
      user_error_count::int as user_error_count, server_error_count::int as server_error_count,
      execution_time_count::int as execution_time_count, execution_time_sum, execution_time_min, execution_time_max
    from batch_service_stats where batch_id = ${batchId} order by model_id`;
}

const DEPLOYMENT_TABLES = [
  'monitoring_batches',
  'predictions',
  'prediction_models',
  'actuals',
  'batch_model_history',
  'batch_column_stats',
  'batch_service_stats',
  'batch_execution_time_buckets',
  'batch_consumers',
  'batch_accuracy_stats',
  'batch_quota_usage',
];

/** Everything stored for a deployment, table by table, in a stable order: to show nothing changed. */
export async function deploymentSnapshot(server: TestServer, deploymentId: string): Promise<Record<string, unknown>> {
  const snapshot: Record<string, unknown> = {};
  for (const table of DEPLOYMENT_TABLES) {
    const [row] = await server.sql.unsafe(
      `select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]'::jsonb) as rows from ${readable(table)} t where deployment_id = $1`,
      [deploymentId],
    );
    snapshot[table] = row!.rows;
  }
  return snapshot;
}
