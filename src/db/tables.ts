import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

// Ids are opaque text with a type prefix (org_, usr_, tok_, dep_, mb_): the same string is used by
// GraphQL (node ids), REST and headers, and the prefix lets node(id) resolve without a lookup.
// Every table below the deployment carries deployment_id so it can be distributed by deployment.

// Millisecond precision: a JS Date round-trips exactly, so keyset cursors never skip a row.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const userRole = pgEnum('user_role', ['ADMIN', 'MEMBER']);
export const targetType = pgEnum('target_type', ['BINARY', 'MULTICLASS', 'REGRESSION']);

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Batches per deployment per UTC day; null = unlimited. */
  dailyBatchLimit: integer('daily_batch_limit'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    role: userRole('role').notNull().default('MEMBER'),
    /** The bootstrap user: may create organizations. */
    isServerAdmin: boolean('is_server_admin').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('users_organization_idx').on(t.organizationId)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    /** sha256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    /** From this instant on the token is refused like a revoked one; null = it never expires. */
    expiresAt: ts('expires_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export interface FeatureDefinition {
  name: string;
  type: 'NUMERIC' | 'CATEGORICAL';
  importance: number | null;
}

/** A deployment's model server, reached over HTTP with an existing protocol. */
export interface ModelBackend {
  protocol: 'OPEN_INFERENCE_V2' | 'MLFLOW';
  url: string;
  /** The model's name on an Open Inference Protocol v2 server; null for MLflow. */
  modelName: string | null;
  /** Sent with every request (e.g. Authorization); write-only. */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Prediction health settings (C9); absent keys take the defaults in modules/metrics/health.ts. */
export interface HealthSettings {
  service?: { batchCount?: number; errorRateAtRisk?: number; errorRateFailing?: number };
  dataDrift?: {
    batchCount?: number;
    driftThreshold?: number;
    significanceLevel?: number;
    minSampleSize?: number;
    importanceThreshold?: number;
    lowImportanceAtRiskCount?: number | null;
    lowImportanceFailingCount?: number | null;
    highImportanceAtRiskCount?: number | null;
    highImportanceFailingCount?: number | null;
    excludedFeatures?: string[];
  };
  accuracy?: {
    batchCount?: number;
    metric?: string | null;
    atRiskThreshold?: number | null;
    failingThreshold?: number | null;
    judgeBy?: string;
    confidenceLevel?: number;
  };
}

export const deployments = pgTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    /** A small surrogate key: what each stored prediction row carries instead of the text id. */
    key: integer('key').notNull().generatedAlwaysAsIdentity(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    label: text('label').notNull(),
    description: text('description'),
    targetType: targetType('target_type').notNull(),
    targetName: text('target_name').notNull(),
    classNames: text('class_names').array(),
    positiveClass: text('positive_class'),
    predictionThreshold: doublePrecision('prediction_threshold').notNull().default(0.5),
    features: jsonb('features').$type<FeatureDefinition[]>().notNull().default(sql`'[]'::jsonb`),
    modelId: text('model_id').notNull(),
    batchMonitoringEnabled: boolean('batch_monitoring_enabled').notNull().default(false),
    /** The current training baseline (training_baselines.version); null = none yet. */
    baselineVersion: integer('baseline_version'),
    healthSettings: jsonb('health_settings').$type<HealthSettings>().notNull().default(sql`'{}'::jsonb`),
    /** Where the deployment's model answers (C10); its headers are secrets, never returned or logged. */
    modelBackend: jsonb('model_backend').$type<ModelBackend>(),
    /**
     * The input column whose value a batch prediction job records as each prediction's association
     * id (DataRobot's `associationId.columnNames`); null = jobs record none.
     */
    associationIdColumn: text('association_id_column'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('deployments_organization_idx').on(t.organizationId, t.createdAt, t.id), uniqueIndex('deployments_key_idx').on(t.key)],
);

export const monitoringBatches = pgTable(
  'monitoring_batches',
  {
    id: text('id').primaryKey(),
    /** A surrogate key: what each stored prediction row carries instead of the text id. */
    key: bigint('key', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    organizationId: text('organization_id').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    externalUrl: text('external_url'),
    createdAt: ts('created_at').notNull().defaultNow(),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    isLocked: boolean('is_locked').notNull().default(false),
    /** Set by delete: the batch vanishes from every read at once; rows are purged in the background. */
    deletedAt: ts('deleted_at'),
    earliestPredictionAt: ts('earliest_prediction_at'),
    latestPredictionAt: ts('latest_prediction_at'),
    predictionCount: bigint('prediction_count', { mode: 'number' }).notNull().default(0),
    /**
     * The seal (set by lock, cleared by unlock): an order-independent hash of the batch's stored rows
     * and the aggregates derived from them (src/modules/batches/seal.ts), and when and by whom.
     */
    fingerprint: text('fingerprint'),
    /** The seal's hash of the accuracy aggregates: moved by actuals that arrive after sealing (audited). */
    accuracyFingerprint: text('accuracy_fingerprint'),
    sealedAt: ts('sealed_at'),
    sealedById: text('sealed_by_id').references(() => users.id),
  },
  (t) => [
    index('monitoring_batches_deployment_created_idx').on(t.deploymentId, t.createdAt, t.id),
    index('monitoring_batches_deployment_name_idx').on(t.deploymentId, t.name, t.id),
    index('monitoring_batches_deleted_idx').on(t.deletedAt).where(sql`deleted_at is not null`),
    uniqueIndex('monitoring_batches_key_idx').on(t.key),
  ],
);

/** One row per model that scored a batch (C3); start/end say which period the data represents. */
export const batchModelHistory = pgTable(
  'batch_model_history',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    predictionCount: bigint('prediction_count', { mode: 'number' }).notNull().default(0),
    /** Earliest / latest prediction timestamp seen for this model in this batch. */
    earliestPredictionAt: ts('earliest_prediction_at'),
    latestPredictionAt: ts('latest_prediction_at'),
    /** User-set period (backfills); null falls back to the prediction timestamps. */
    startTime: ts('start_time'),
    endTime: ts('end_time'),
    /** Classification: predictions per predicted class, in the deployment's classNames order. */
    labelCounts: bigint('label_counts', { mode: 'number' }).array(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId] })],
);

export const batchAuditAction = pgEnum('batch_audit_action', [
  'CREATED',
  'UPDATED',
  'MODEL_HISTORY_CHANGED',
  'LOCKED',
  'UNLOCKED',
  'DELETED',
  'ROWS_ADDED',
  'STATS_REPORTED',
  'ACTUALS_MATCHED',
]);

/** One changed field of a batch: its value before and after, as text (timestamps in ISO-8601); null = none. */
export interface BatchFieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

/**
 * Who changed a batch, how and when, written in the transaction of the change. batch_id and
 * deployment_id have no foreign key: the trail outlives the batch (delete and purge).
 */
export const batchAuditEvents = pgTable(
  'batch_audit_events',
  {
    /** Increasing: a batch's changes are serialized by its row lock, so this is the order they happened in. */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    organizationId: text('organization_id').notNull(),
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id').notNull(),
    action: batchAuditAction('action').notNull(),
    actorId: text('actor_id')
      .notNull()
      .references(() => users.id),
    /** The API token of the request; null when the server acted for the user (a batch prediction job). */
    tokenId: text('token_id'),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
    /** The model whose history changed (MODEL_HISTORY_CHANGED). */
    modelId: text('model_id'),
    changes: jsonb('changes').$type<BatchFieldChange[]>().notNull().default(sql`'[]'::jsonb`),
    /** ROWS_ADDED: the rows one ingest stored; ACTUALS_MATCHED: the batch's predictions that got an actual. */
    rowCount: bigint('row_count', { mode: 'number' }),
    /** LOCKED: the seal's fingerprint; ACTUALS_MATCHED on a sealed batch: its accuracy fingerprint after. */
    fingerprint: text('fingerprint'),
  },
  (t) => [index('batch_audit_events_batch_idx').on(t.batchId, t.id)],
);

/** Predictions per batch and UTC day of their timestamp (the activity series). */
export const batchDailyCounts = pgTable(
  'batch_daily_counts',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.day] }), index('batch_daily_counts_deployment_day_idx').on(t.deploymentId, t.day)],
);

/** Batches created per deployment per UTC day. Never decremented: deleting does not refund. */
export const batchQuotaUsage = pgTable(
  'batch_quota_usage',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    day: date('day', { mode: 'string' }).notNull(),
    used: integer('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.day] })],
);

// ---------------------------------------------------------------------------------------------
// Training baseline (drift bins) and predictions, actuals, and the per-batch aggregates that every
// metric is read from. Aggregates merge by addition across batches (counts, sums, bucketed
// sketches); raw predictions are kept for export and re-binning, but no metric reads them.

export interface NumericBaselineColumn {
  kind: 'numeric';
  name: string;
  /** Strictly increasing cut points (the baseline's deciles, deduplicated). Bin i holds values v with edges[i-1] <= v < edges[i]; the first and last bins are open-ended; one more bin holds missing values. */
  edges: number[];
  mean: number | null;
  std: number | null;
  /** The baseline's own count per bin (edges.length + 1 value bins, then missing). */
  counts: number[];
}

export interface CategoricalBaselineColumn {
  kind: 'categorical';
  name: string;
  /** The most frequent values (at most 25), most frequent first. Bins: one per value, then "other", then missing. */
  values: string[];
  counts: number[];
}

export type BaselineColumn = NumericBaselineColumn | CategoricalBaselineColumn;

export interface BaselineColumns {
  features: BaselineColumn[];
  /** Regression value, positive-class probability (binary) or predicted class (multiclass). */
  prediction: BaselineColumn | null;
}

export const trainingBaselines = pgTable(
  'training_baselines',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    version: integer('version').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    createdById: text('created_by_id').notNull(),
    rowCount: bigint('row_count', { mode: 'number' }).notNull(),
    columns: jsonb('columns').$type<BaselineColumns>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.version] })],
);

/** The models that scored a deployment's stored predictions, each with the small key its rows carry. */
export const predictionModels = pgTable(
  'prediction_models',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    modelId: text('model_id').notNull(),
    key: integer('key').notNull().generatedAlwaysAsIdentity(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.modelId] }), uniqueIndex('prediction_models_key_idx').on(t.key)],
);

/**
 * Raw prediction rows, stored narrow (~380 bytes a row with its indexes for 20 features, against
 * ~930 with text ids and a jsonb object of features): the deployment, batch and model as integer
 * keys (`deployments.key`, `monitoring_batches.key`, `prediction_models.key`); the features in the
 * deployment's declaration order, numeric ones as one float8[] and categorical ones as one jsonb
 * array of strings (null: missing); the association id as a uuid when it is a canonical lowercase
 * UUID (its text form is then exactly the id sent) and as text otherwise — each form with its own
 * unique index per deployment, so the duplicate rule holds exactly and the common case indexes 16
 * bytes. Fixed-width columns first (alignment). No foreign keys (a lookup per row on the COPY path)
 * and no primary key: rows are reached by batch (`predictions_batch_idx`, in ingest order by id)
 * or by association id.
 */
export const predictions = pgTable(
  'predictions',
  {
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    batchKey: bigint('batch_key', { mode: 'number' }).notNull(),
    timestamp: ts('timestamp').notNull(),
    prediction: doublePrecision('prediction'),
    deploymentKey: integer('deployment_key').notNull(),
    modelKey: integer('model_key').notNull(),
    /** The NUMERIC features, in declaration order; null when the deployment has none. */
    numericFeatures: doublePrecision('numeric_features').array(),
    /** The CATEGORICAL features, in declaration order: a JSON array of strings and nulls; null when none. */
    categoricalFeatures: jsonb('categorical_features').$type<(string | null)[]>(),
    probabilities: doublePrecision('probabilities').array(),
    predictedLabel: text('predicted_label'),
    associationUuid: uuid('association_uuid'),
    associationText: text('association_text'),
  },
  (t) => [
    index('predictions_batch_idx').on(t.batchKey, t.id),
    uniqueIndex('predictions_association_uuid_idx').on(t.deploymentKey, t.associationUuid).where(sql`association_uuid is not null`),
    uniqueIndex('predictions_association_text_idx').on(t.deploymentKey, t.associationText).where(sql`association_text is not null`),
  ],
);

export const actuals = pgTable(
  'actuals',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    associationId: text('association_id').notNull(),
    /** Regression: the value. */
    actualValue: doublePrecision('actual_value'),
    /** Classification: the class. */
    actualLabel: text('actual_label'),
    wasActedOn: boolean('was_acted_on'),
    timestamp: ts('timestamp').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.associationId] })],
);

/** Request statistics per batch and model (C8 service health). */
export const batchServiceStats = pgTable(
  'batch_service_stats',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    requestCount: bigint('request_count', { mode: 'number' }).notNull().default(0),
    /** Predictions the requests reported (the agent reports these apart from the rows). */
    predictionCount: bigint('prediction_count', { mode: 'number' }).notNull().default(0),
    userErrorCount: bigint('user_error_count', { mode: 'number' }).notNull().default(0),
    serverErrorCount: bigint('server_error_count', { mode: 'number' }).notNull().default(0),
    /** Requests that carried an execution time, and the sum / min / max of those times (ms). */
    executionTimeCount: bigint('execution_time_count', { mode: 'number' }).notNull().default(0),
    executionTimeSum: doublePrecision('execution_time_sum').notNull().default(0),
    executionTimeMin: doublePrecision('execution_time_min'),
    executionTimeMax: doublePrecision('execution_time_max'),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId] })],
);

/** A mergeable quantile sketch of execution times: requests per log-spaced bucket (src/modules/metrics/sketch.ts). */
export const batchExecutionTimeBuckets = pgTable(
  'batch_execution_time_buckets',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    bucket: integer('bucket').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId, t.bucket] })],
);

/** Distinct consumers (callers) per batch and model. */
export const batchConsumers = pgTable(
  'batch_consumers',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    userId: text('user_id').notNull(),
    requestCount: bigint('request_count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId, t.userId] })],
);

/**
 * Per batch, model and column (a feature, or the prediction): counts per baseline bin (null until
 * a baseline binned them; `baselineVersion` says which), missing values, and numeric sums.
 */
export const batchColumnStats = pgTable(
  'batch_column_stats',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    /** A feature name, or '' for the prediction. */
    column: text('column_name').notNull(),
    isPrediction: boolean('is_prediction').notNull(),
    baselineVersion: integer('baseline_version'),
    binCounts: bigint('bin_counts', { mode: 'number' }).array(),
    rowCount: bigint('row_count', { mode: 'number' }).notNull(),
    missingCount: bigint('missing_count', { mode: 'number' }).notNull(),
    sum: doublePrecision('sum').notNull().default(0),
    sumOfSquares: doublePrecision('sum_of_squares').notNull().default(0),
    /**
     * Binary deployments' prediction row only (else null): every prediction's positive-class
     * probability counted in 1,000 equal-width bins, packed like batch_accuracy_stats' bins (see
     * packCounts in modules/predictions/aggregates.ts), for the label-free performance estimate.
     */
    probabilityBins: numeric('probability_bins'),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId, t.isPrediction, t.column] })],
);

/** Accuracy sums per batch and model, from predictions joined to their latest actual. */
export const batchAccuracyStats = pgTable(
  'batch_accuracy_stats',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    /** Predictions with an actual. */
    count: bigint('count', { mode: 'number' }).notNull().default(0),
    logLossSum: doublePrecision('log_loss_sum').notNull().default(0),
    /**
     * Binary: actual positives / negatives per positive-class probability bin (1,000 equal-width
     * bins), each packed into one integer (16 decimal digits per bin, bin 0 lowest) so that
     * sum(numeric) merges them: see packCounts in modules/predictions/aggregates.ts.
     */
    positiveBins: numeric('positive_bins'),
    negativeBins: numeric('negative_bins'),
    /** Binary confusion counts at the deployment threshold. */
    truePositives: bigint('true_positives', { mode: 'number' }).notNull().default(0),
    falsePositives: bigint('false_positives', { mode: 'number' }).notNull().default(0),
    trueNegatives: bigint('true_negatives', { mode: 'number' }).notNull().default(0),
    falseNegatives: bigint('false_negatives', { mode: 'number' }).notNull().default(0),
    /** Regression, with err = prediction − actual and y = actual. */
    sumError: doublePrecision('sum_error').notNull().default(0),
    sumAbsoluteError: doublePrecision('sum_absolute_error').notNull().default(0),
    sumSquaredError: doublePrecision('sum_squared_error').notNull().default(0),
    sumActual: doublePrecision('sum_actual').notNull().default(0),
    sumSquaredActual: doublePrecision('sum_squared_actual').notNull().default(0),
    /** Σ|err / y| over actuals y ≠ 0, and how many those were. */
    sumAbsolutePercentageError: doublePrecision('sum_absolute_percentage_error').notNull().default(0),
    nonZeroActualCount: bigint('non_zero_actual_count', { mode: 'number' }).notNull().default(0),
    /** Multiclass: confusion matrix, row = actual class, column = predicted class, flattened row-major in classNames order. */
    confusion: bigint('confusion', { mode: 'number' }).array(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId] })],
);

// ---------------------------------------------------------------------------------------------
// Batch prediction jobs (C10): one row per run, its input and output in row-aligned chunks, and
// the recurring definitions that start runs.

export const jobStatus = pgEnum('batch_prediction_job_status', ['INITIALIZING', 'RUNNING', 'COMPLETED', 'ABORTED', 'FAILED']);

/** What a job was asked to do, as DataRobot's Batch Prediction API names it (validated on create). */
export interface JobSpec {
  deploymentId: string;
  intakeSettings: { type: 'localFile' } | { type: 'url'; url: string };
  outputSettings: { type: 'localFile' };
  csvSettings: { delimiter: string; quotechar: string; encoding: string };
  passthroughColumns: string[] | null;
  passthroughColumnsSet: 'all' | null;
  includeProbabilities: boolean;
  includePredictionStatus: boolean;
  chunkSize: 'auto' | 'fixed' | 'dynamic' | number;
  numConcurrent: number;
  abortOnError: boolean;
  columnNamesRemapping: Record<string, string | null>;
  skipDriftTracking: boolean;
  monitoringBatchPrefix: string | null;
}

export const batchPredictionJobs = pgTable(
  'batch_prediction_jobs',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    /** The definition that started this run (scheduled or "run now"); null for a one-time job. */
    definitionId: text('definition_id'),
    status: jobStatus('status').notNull().default('INITIALIZING'),
    spec: jsonb('spec').$type<JobSpec>().notNull(),
    /** The monitoring batch this run records its predictions in (created when scoring starts). */
    batchId: text('batch_id').references(() => monitoringBatches.id, { onDelete: 'set null' }),
    /** The input's header row, once the input is in. */
    inputColumns: jsonb('input_columns').$type<string[]>(),
    inputRows: bigint('input_rows', { mode: 'number' }),
    chunkCount: integer('chunk_count'),
    scoredRows: bigint('scored_rows', { mode: 'number' }).notNull().default(0),
    failedRows: bigint('failed_rows', { mode: 'number' }).notNull().default(0),
    statusDetails: text('status_details').notNull().default('Job created; waiting for input'),
    logs: jsonb('logs').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    /** Input and output chunks were removed after the retention period. */
    resultsDeleted: boolean('results_deleted').notNull().default(false),
  },
  (t) => [
    index('batch_prediction_jobs_organization_idx').on(t.organizationId, t.createdAt, t.id),
    index('batch_prediction_jobs_deployment_idx').on(t.deploymentId, t.createdAt, t.id),
    index('batch_prediction_jobs_batch_idx').on(t.batchId),
    /** A definition's runs, newest first (its last run, last success, last failure). */
    index('batch_prediction_jobs_definition_idx').on(t.definitionId, t.createdAt).where(sql`definition_id is not null`),
  ],
);

export const batchPredictionJobChunks = pgTable(
  'batch_prediction_job_chunks',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => batchPredictionJobs.id, { onDelete: 'cascade' }),
    chunk: integer('chunk').notNull(),
    deploymentId: text('deployment_id').notNull(),
    /** Line of the first row in the input file (the header is line 1). */
    firstLine: bigint('first_line', { mode: 'number' }).notNull(),
    rowCount: integer('row_count').notNull(),
    /** The chunk's input rows as a JSON array of string arrays (in inputColumns order). */
    input: text('input').notNull(),
    /** The chunk's output CSV lines (no header); null until scored. Set in the transaction that stores its rows. */
    output: text('output'),
    /** A worker's claim on the chunk while it scores it; an expired claim may be taken over. */
    claimedUntil: ts('claimed_until'),
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.chunk] })],
);

/**
 * When a job definition runs (UTC), as DataRobot's schedule names it: each field `['*']` or a list
 * of numbers. Stored normalized: month and day names become numbers, lists sorted without repeats.
 */
export interface JobSchedule {
  minute: ScheduleField;
  hour: ScheduleField;
  dayOfMonth: ScheduleField;
  month: ScheduleField;
  /** 0 = Sunday. */
  dayOfWeek: ScheduleField;
}
export type ScheduleField = ['*'] | number[];

export const batchPredictionJobDefinitions = pgTable(
  'batch_prediction_job_definitions',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    /** Who changed it last (the creator until someone changes it). */
    updatedById: text('updated_by_id').references(() => users.id),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(false),
    schedule: jsonb('schedule').$type<JobSchedule>(),
    spec: jsonb('spec').$type<JobSpec>().notNull(),
    nextScheduledRunAt: ts('next_scheduled_run_at'),
    lastScheduledRunAt: ts('last_scheduled_run_at'),
    lastStartedJobId: text('last_started_job_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    index('batch_prediction_job_definitions_organization_idx').on(t.organizationId, t.createdAt, t.id),
    index('batch_prediction_job_definitions_deployment_idx').on(t.deploymentId, t.createdAt, t.id),
    index('batch_prediction_job_definitions_due_idx').on(t.nextScheduledRunAt).where(sql`enabled and deleted_at is null`),
    uniqueIndex('batch_prediction_job_definitions_name_idx').on(t.organizationId, t.name).where(sql`deleted_at is null`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Custom metrics (C8): a deployment's own metrics, reported per batch as buckets and stored as one
// mergeable aggregate per (metric, batch, model), so a summary over N batches reads N rows.

export const customMetricType = pgEnum('custom_metric_type', ['average', 'sum', 'gauge']);
export const customMetricDirectionality = pgEnum('custom_metric_directionality', ['higherIsBetter', 'lowerIsBetter']);

export const customMetrics = pgTable(
  'custom_metrics',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    name: text('name').notNull(),
    units: text('units').notNull(),
    type: customMetricType('type').notNull(),
    directionality: customMetricDirectionality('directionality').notNull(),
    baselineValue: doublePrecision('baseline_value'),
    /** Values are kept per model (the deployment's model unless a bucket request names one); otherwise under model ''. */
    isModelSpecific: boolean('is_model_specific').notNull(),
    /** DataRobot's time bucket size; kept for wire compatibility (batchlens reads values per batch). */
    timeStep: text('time_step').notNull().default('hour'),
    description: text('description').notNull().default(''),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('custom_metrics_deployment_idx').on(t.deploymentId, t.createdAt, t.id),
    uniqueIndex('custom_metrics_name_idx').on(t.deploymentId, t.name),
  ],
);

/**
 * One custom metric's buckets in one batch for one model, merged. sum: valueSum = Σ value;
 * average: valueSum = Σ value·sampleSize (÷ sampleSize when read); gauge: the value with the latest
 * timestamp (ties: the later bucket). min / max over every bucket value.
 */
export const batchCustomMetricValues = pgTable(
  'batch_custom_metric_values',
  {
    deploymentId: text('deployment_id').notNull(),
    metricId: text('metric_id')
      .notNull()
      .references(() => customMetrics.id, { onDelete: 'cascade' }),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    /** '' for a metric that is not model specific. */
    modelId: text('model_id').notNull(),
    bucketCount: bigint('bucket_count', { mode: 'number' }).notNull(),
    sampleSize: bigint('sample_size', { mode: 'number' }).notNull(),
    valueSum: doublePrecision('value_sum').notNull(),
    valueMin: doublePrecision('value_min').notNull(),
    valueMax: doublePrecision('value_max').notNull(),
    gaugeValue: doublePrecision('gauge_value').notNull(),
    gaugeAt: ts('gauge_at').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.metricId, t.batchId, t.modelId] }), index('batch_custom_metric_values_batch_idx').on(t.batchId)],
);

// ---------------------------------------------------------------------------------------------
// Data exports (C12): a snapshot of a batch selection's predictions (and actuals) written to a file
// in the export directory, downloadable until it expires.

export const dataExportStatus = pgEnum('data_export_status', ['CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED']);
export const dataExportFormat = pgEnum('data_export_format', ['CSV', 'PARQUET']);

export const dataExports = pgTable(
  'data_exports',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    /** The selection, resolved to live batch ids when the export was created (oldest first). */
    batchIds: text('batch_ids').array().notNull(),
    modelId: text('model_id'),
    /** Earliest and latest prediction timestamps of the selected batches when the export was created. */
    periodStart: ts('period_start'),
    periodEnd: ts('period_end'),
    format: dataExportFormat('format').notNull(),
    includeActuals: boolean('include_actuals').notNull(),
    status: dataExportStatus('status').notNull().default('CREATED'),
    /** Rows in the snapshot (known once the export runs) and rows written so far. */
    rowCount: bigint('row_count', { mode: 'number' }),
    rowsWritten: bigint('rows_written', { mode: 'number' }).notNull().default(0),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    /** File name inside the export directory, once written. */
    fileName: text('file_name'),
    error: text('error'),
    /** A worker's claim while it writes the file; an expired claim is taken over by another process. */
    claimedUntil: ts('claimed_until'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    /** The file is removed at this time (set when it succeeds); the export then answers EXPIRED. */
    expiresAt: ts('expires_at'),
    fileDeleted: boolean('file_deleted').notNull().default(false),
  },
  (t) => [
    index('data_exports_deployment_idx').on(t.deploymentId, t.createdAt, t.id),
    index('data_exports_pending_idx').on(t.createdAt).where(sql`status in ('CREATED', 'RUNNING')`),
    index('data_exports_expiry_idx').on(t.expiresAt).where(sql`not file_deleted and expires_at is not null`),
  ],
);

/**
 * Rate limit counters (src/limits/, written by rate-limiter-flexible's drizzle store): one row per
 * limit and key (`graphql-cost:token:tok_…`), the points used in the window that ends at `expire`.
 * UNLOGGED (edited into the migration; drizzle has no word for it): counters need no WAL and no
 * fsync per request, and losing them in a crash only resets the windows.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  points: bigint('points', { mode: 'number' }).notNull(),
  expire: ts('expire'),
});

// Row types, beside their tables: every module imports them from here.
export type Organization = typeof organizations.$inferSelect;
export type User = typeof users.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type Deployment = typeof deployments.$inferSelect;
export type MonitoringBatch = typeof monitoringBatches.$inferSelect;
export type ModelHistoryEntry = typeof batchModelHistory.$inferSelect;
export type BatchAuditEvent = typeof batchAuditEvents.$inferSelect;
export type TrainingBaseline = typeof trainingBaselines.$inferSelect;
export type BatchPredictionJob = typeof batchPredictionJobs.$inferSelect;
export type BatchPredictionJobDefinition = typeof batchPredictionJobDefinitions.$inferSelect;
export type CustomMetric = typeof customMetrics.$inferSelect;
export type BatchCustomMetricValue = typeof batchCustomMetricValues.$inferSelect;
export type DataExport = typeof dataExports.$inferSelect;
