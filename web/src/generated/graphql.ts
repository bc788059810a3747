/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AccuracyHealthSettingsInput = {
  atRiskThreshold?: number | null | undefined;
  /** One of 1, 5, 10, 50, 100, 1000, 10000. */
  batchCount?: number | null | undefined;
  /** 0.5 to 0.999. */
  confidenceLevel?: number | null | undefined;
  failingThreshold?: number | null | undefined;
  judgeBy?: AccuracyJudgment | null | undefined;
  metric?: AccuracyMetric | null | undefined;
};

/** POINT: a threshold is reached when the metric is at or past it. CONFIDENCE_INTERVAL: only when the whole confidence interval (Accuracy.confidenceIntervals) is past it — upper end ≤ the threshold for metrics where higher is better, lower end ≥ it otherwise. LOG_LOSS, R2 and MAPE have no interval: that pair is refused, and a metric changed afterwards is judged by its point (the reason says so). MAE of a single prediction has no interval: UNKNOWN. */
export type AccuracyJudgment =
  | 'CONFIDENCE_INTERVAL'
  | 'POINT';

export type AccuracyMetric =
  | 'ACCURACY'
  | 'AUC'
  | 'F1'
  | 'LOG_LOSS'
  | 'MAE'
  | 'MAPE'
  | 'PPV'
  | 'R2'
  | 'RMSE'
  | 'TPR';

export type BatchEventKind =
  | 'CREATED'
  | 'DELETED'
  | 'LOCKED'
  | 'UNLOCKED'
  | 'UPDATED';

/** All bounds are inclusive. startAfter / endBefore leave out batches without predictions. */
export type BatchFilter = {
  createdAfter?: string | null | undefined;
  createdBefore?: string | null | undefined;
  /** User id of the creator. */
  createdBy?: string | null | undefined;
  /** Latest prediction at or before this instant. */
  endBefore?: string | null | undefined;
  /** Earliest prediction at or after this instant. */
  startAfter?: string | null | undefined;
};

export type BatchOrder = {
  direction: SortDirection;
  field: BatchOrderField;
};

/** EARLIEST_PREDICTION and LATEST_PREDICTION put batches without predictions last ascending, first descending. CREATED_BY sorts by the creator's name. Ties are broken by id. */
export type BatchOrderField =
  | 'CREATED_AT'
  | 'CREATED_BY'
  | 'EARLIEST_PREDICTION'
  | 'ID'
  | 'LATEST_PREDICTION'
  | 'NAME'
  | 'PREDICTION_COUNT';

/** Where a job reads its input CSV. */
export type BatchPredictionJobIntakeType =
  /** Uploaded by the client: `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv), see `csvUploadPath`. */
  | 'LOCAL_FILE'
  /** Read by batchlens from an http(s) URL when the job starts. */
  | 'URL';

export type BatchPredictionJobStatus =
  /** Aborted by a user, or its monitoring batch was locked or deleted during the run (final). */
  | 'ABORTED'
  /** Every input row was processed (final). */
  | 'COMPLETED'
  /** Stopped by an error: refused input, the model backend, the batch quota … (final; see statusDetails). */
  | 'FAILED'
  /** Created; waiting for its input (a CSV upload or reading the URL) or for a worker. */
  | 'INITIALIZING'
  /** Scoring chunks into its monitoring batch. */
  | 'RUNNING';

/** Which batches to merge: `batchIds` (ids of other deployments or organizations are left out) or `last` (the N most recent). Optionally one model. */
export type BatchSelection = {
  batchIds?: Array<string> | null | undefined;
  /** The N most recent batches (1–10000). */
  last?: number | null | undefined;
  /** Only what this model scored. */
  modelId?: string | null | undefined;
};

export type CreateDataExportInput = {
  deploymentId: string;
  format?: DataExportFormat;
  /** Add each prediction’s actual (value, timestamp, acted-upon flag). */
  includeActuals?: boolean;
  selection: BatchSelection;
};

export type CreateMonitoringBatchInput = {
  deploymentId: string;
  /** At most 10,000 characters. */
  description?: string | null | undefined;
  /** An absolute http(s) URL. */
  externalUrl?: string | null | undefined;
  /** Trimmed; 1–512 characters. */
  name: string;
};

/** The value against the baseline, judged by the directionality. */
export type CustomMetricChange =
  /** Above the baseline when higher is better, below it when lower is better. */
  | 'BETTER'
  /** Equal to the baseline. */
  | 'SAME'
  /** No baseline, or no value. */
  | 'UNKNOWN'
  | 'WORSE';

export type CustomMetricDirectionality =
  | 'HIGHER_IS_BETTER'
  | 'LOWER_IS_BETTER';

/** How bucket values merge: SUM = Σ value; AVERAGE = Σ value·sampleSize ÷ Σ sampleSize; GAUGE = the value with the latest timestamp. */
export type CustomMetricType =
  | 'AVERAGE'
  | 'GAUGE'
  | 'SUM';

export type DataDriftHealthSettingsInput = {
  /** One of 1, 5, 10, 50, 100, 1000, 10000. */
  batchCount?: number | null | undefined;
  driftThreshold?: number | null | undefined;
  excludedFeatures?: Array<string> | null | undefined;
  highImportanceAtRiskCount?: number | null | undefined;
  highImportanceFailingCount?: number | null | undefined;
  importanceThreshold?: number | null | undefined;
  lowImportanceAtRiskCount?: number | null | undefined;
  lowImportanceFailingCount?: number | null | undefined;
  /** 1 or more. */
  minSampleSize?: number | null | undefined;
  /** Greater than 0, less than 1. */
  significanceLevel?: number | null | undefined;
};

export type DataExportFormat =
  /** RFC 4180, UTF-8, a header row; timestamps ISO 8601 in UTC; a missing value is an empty cell. */
  | 'CSV'
  /** Typed columns (double, string, timestamp in ms UTC, boolean), Snappy, row groups of BATCHLENS_EXPORT_ROW_GROUP_ROWS rows. */
  | 'PARQUET';

export type DataExportStatus =
  /** Waiting for a worker. */
  | 'CREATED'
  /** Stopped by an error (final; see error). */
  | 'FAILED'
  /** Writing the file from a snapshot taken when it started. */
  | 'RUNNING'
  /** The file is written (final); download it at downloadUrl until expiresAt. */
  | 'SUCCEEDED';

/** PSI = Σ (a − e)·ln(a/e) and KL divergence = Σ a·ln(a/e) (current ‖ baseline), both after replacing zero shares by 0.0001; Jensen–Shannon divergence with log base 2 (0…1); Hellinger distance √(½ Σ (√a − √e)²) (0…1). Shares are over the baseline bins plus missing. */
export type DriftMetric =
  | 'HELLINGER'
  | 'JS_DIVERGENCE'
  | 'KL_DIVERGENCE'
  | 'PSI';

/** What drift was measured against. */
export type DriftReferenceKind =
  /** The deployment's batch created just before (overBatches(reference: PREVIOUS)). */
  | 'PREVIOUS_BATCH'
  /** A reference selection of batches (dataDrift(reference:)). */
  | 'SELECTION'
  /** The training baseline's own counts. */
  | 'TRAINING_BASELINE';

/** How a comparison was judged. */
export type DriftStatus =
  /** Significant (adjusted p-value ≤ the significance level) and the score reaches the drift threshold. */
  | 'DRIFTED'
  /** A side holds fewer rows than the minimum sample size: not judged, neither passing nor failing. */
  | 'INSUFFICIENT_DATA'
  /** Both sides hold enough rows, and the change is not significant or not large enough. */
  | 'NOT_DRIFTED'
  /** A side holds no row binned by the current baseline. */
  | 'NO_DATA';

export type FeatureType =
  | 'CATEGORICAL'
  | 'NUMERIC';

export type HealthStatus =
  | 'AT_RISK'
  | 'FAILING'
  | 'PASSING'
  | 'UNKNOWN';

export type HttpHeaderInput = {
  name: string;
  value: string;
};

/** Organization admins only. */
export type ModelBackendInput = {
  /** Sent with every request (e.g. Authorization). Write-only. Omitted: keep the stored ones; [] clears them. */
  headers?: Array<HttpHeaderInput> | null | undefined;
  /** Required for OPEN_INFERENCE_V2. */
  modelName?: string | null | undefined;
  protocol: ModelBackendProtocol;
  /** Per request, 10–600000 ms. Default 30000. */
  timeoutMs?: number | null | undefined;
  /** http(s) base URL of the model server. */
  url: string;
};

/** How batchlens talks to a model server. */
export type ModelBackendProtocol =
  /** MLflow's scoring server: `POST /invocations` with `dataframe_split`. */
  | 'MLFLOW'
  /** Open Inference Protocol v2 (KServe, MLServer, Triton): `POST /v2/models/{modelName}/infer`. */
  | 'OPEN_INFERENCE_V2';

export type SeriesDriftReference =
  /** Each batch against the deployment's batch created just before it (in the selection or not; the first batch has none: NO_DATA). */
  | 'PREVIOUS'
  /** Each batch against the training baseline. */
  | 'TRAINING_BASELINE';

export type ServiceHealthSettingsInput = {
  /** One of 1, 5, 10, 50, 100, 1000, 10000. */
  batchCount?: number | null | undefined;
  errorRateAtRisk?: number | null | undefined;
  errorRateFailing?: number | null | undefined;
};

export type SortDirection =
  | 'ASC'
  | 'DESC';

export type TargetType =
  | 'BINARY'
  | 'MULTICLASS'
  | 'REGRESSION';

export type UpdateBatchModelHistoryInput = {
  batchId: string;
  /** Not before startTime. */
  endTime: string;
  modelId: string;
  startTime: string;
};

export type UpdateDeploymentSettingsInput = {
  /** The input column batch prediction jobs read association ids from; null: they record none. */
  associationIdColumn?: string | null | undefined;
  /** Switches batch monitoring (the BATCH badge) on or off. */
  batchMonitoringEnabled?: boolean | null | undefined;
  deploymentId: string;
  /** null clears it. */
  description?: string | null | undefined;
  label?: string | null | undefined;
  /** Organization admins only; null removes the backend. */
  modelBackend?: ModelBackendInput | null | undefined;
  modelId?: string | null | undefined;
  predictionThreshold?: number | null | undefined;
};

export type UpdateHealthSettingsInput = {
  accuracy?: AccuracyHealthSettingsInput | null | undefined;
  dataDrift?: DataDriftHealthSettingsInput | null | undefined;
  deploymentId: string;
  service?: ServiceHealthSettingsInput | null | undefined;
};

export type UpdateMonitoringBatchInput = {
  description?: string | null | undefined;
  externalUrl?: string | null | undefined;
  id: string;
  name?: string | null | undefined;
};

export type UserRole =
  | 'ADMIN'
  | 'MEMBER';

export type ServiceHealthTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
}>;


export type ServiceHealthTabQuery = { deployment: { id: string, serviceHealth: { batchCount: number, totalPredictions: number, totalRequests: number, userErrorRate: number | null, serverErrorRate: number | null, numConsumers: number, executionTime: { count: number, median: number | null, p90: number | null } }, overBatches: Array<{ batch: { id: string, name: string }, serviceHealth: { totalPredictions: number, totalRequests: number, userErrorRate: number | null, serverErrorRate: number | null, executionTime: { median: number | null, p90: number | null } } }> } | null };

export type DriftBinsFragment = { bins: Array<{ label: string, share: number, count: number }> };

export type FeatureDriftFieldsFragment = { name: string, score: number | null, importance: number | null, sampleSize: number, referenceSampleSize: number, pValue: number | null, adjustedPValue: number | null, status: DriftStatus, isDrifted: boolean | null, reference: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } };

export type DataDriftTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
  metric: DriftMetric;
  reference?: BatchSelection | null | undefined;
}>;


export type DataDriftTabQuery = { deployment: { id: string, dataDrift: { batchCount: number, hasBaseline: boolean, driftThreshold: number, significanceLevel: number, minSampleSize: number, metric: DriftMetric, reference: DriftReferenceKind, referenceBatchIds: Array<string>, features: Array<{ name: string, score: number | null, importance: number | null, sampleSize: number, referenceSampleSize: number, pValue: number | null, adjustedPValue: number | null, status: DriftStatus, isDrifted: boolean | null, reference: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } }>, target: { name: string, score: number | null, importance: number | null, sampleSize: number, referenceSampleSize: number, pValue: number | null, adjustedPValue: number | null, status: DriftStatus, isDrifted: boolean | null, reference: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } } | null } } | null };

export type DataDriftOverBatchesQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
  metric: DriftMetric;
  reference: SeriesDriftReference;
}>;


export type DataDriftOverBatchesQuery = { deployment: { id: string, overBatches: Array<{ batch: { id: string, name: string }, dataDrift: { reference: DriftReferenceKind, referenceBatchIds: Array<string>, features: Array<{ name: string, score: number | null, status: DriftStatus }>, target: { score: number | null, status: DriftStatus } | null } }> } | null };

export type DataDriftReferenceBatchQueryVariables = Exact<{
  id: string;
}>;


export type DataDriftReferenceBatchQuery = { monitoringBatch: { id: string, name: string } | null };

export type DataDriftMatrixQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
  feature?: string | null | undefined;
  metric: DriftMetric;
}>;


export type DataDriftMatrixQuery = { deployment: { id: string, driftMatrix: { feature: string, metric: DriftMetric, driftThreshold: number, significanceLevel: number, minSampleSize: number, hasBaseline: boolean, sampleSizes: Array<number>, batches: Array<{ id: string, name: string }>, rows: Array<{ batchId: string, scores: Array<number | null>, pValues: Array<number | null>, statuses: Array<DriftStatus> }> } } | null };

export type AccuracyFieldsFragment = { predictionsWithActuals: number, rmse: number | null, mae: number | null, r2: number | null, mape: number | null, logLoss: number | null, auc: number | null, accuracy: number | null, f1: number | null, tpr: number | null, ppv: number | null, meanActual: number | null, meanPredicted: number | null, actualClassDistribution: Array<{ className: string, count: number, share: number }>, predictedClassDistribution: Array<{ className: string, count: number, share: number }> };

export type AccuracyTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
}>;


export type AccuracyTabQuery = { deployment: { id: string, accuracy: { predictionsWithActuals: number, rmse: number | null, mae: number | null, r2: number | null, mape: number | null, logLoss: number | null, auc: number | null, accuracy: number | null, f1: number | null, tpr: number | null, ppv: number | null, meanActual: number | null, meanPredicted: number | null, actualClassDistribution: Array<{ className: string, count: number, share: number }>, predictedClassDistribution: Array<{ className: string, count: number, share: number }> }, predictions: { rowCount: number }, overBatches: Array<{ batch: { id: string, name: string }, accuracy: { predictionsWithActuals: number, rmse: number | null, mae: number | null, r2: number | null, mape: number | null, logLoss: number | null, auc: number | null, accuracy: number | null, f1: number | null, tpr: number | null, ppv: number | null, meanActual: number | null, meanPredicted: number | null, actualClassDistribution: Array<{ className: string, count: number, share: number }>, predictedClassDistribution: Array<{ className: string, count: number, share: number }> } }> } | null };

export type CustomMetricsTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
}>;


export type CustomMetricsTabQuery = { deployment: { id: string, customMetrics: Array<{ id: string, name: string, description: string, units: string, type: CustomMetricType, directionality: CustomMetricDirectionality, baselineValue: number | null, isModelSpecific: boolean, summary: { batchCount: number, value: number | null, baselineValue: number | null, change: CustomMetricChange, percentChange: number | null, sampleCount: number, bucketCount: number, min: number | null, max: number | null, overBatches: Array<{ value: number | null, baselineValue: number | null, change: CustomMetricChange, batch: { id: string, name: string } }> } }> } | null };

export type SignedInViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type SignedInViewerQuery = { viewer: { id: string, name: string, role: UserRole, organization: { id: string, name: string, dailyBatchLimit: number | null } } };

export type BatchRowFragment = { id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, createdBy: { id: string, name: string } };

export type BatchLiveFieldsFragment = { id: string, name: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number };

export type BatchListQueryVariables = Exact<{
  deploymentId: string;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  search?: string | null | undefined;
  orderBy?: BatchOrder | null | undefined;
  filter?: BatchFilter | null | undefined;
}>;


export type BatchListQuery = { deployment: { id: string, batchCreators: Array<{ id: string, name: string }>, batches: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, createdBy: { id: string, name: string } } }> } } | null };

export type BatchQuotaLiveSubscriptionVariables = Exact<{
  deploymentId: string;
}>;


export type BatchQuotaLiveSubscription = { batchQuota: { used: number, limit: number | null, remaining: number | null, resetsAt: string } };

export type BatchEventsLiveSubscriptionVariables = Exact<{
  deploymentId: string;
}>;


export type BatchEventsLiveSubscription = { batchEvents: { kind: BatchEventKind, batch: { id: string, name: string } } };

export type BatchLiveSubscriptionVariables = Exact<{
  id: string;
}>;


export type BatchLiveSubscription = { monitoringBatch: { id: string, name: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number } };

export type BatchDetailFragment = { description: string | null, externalUrl: string | null, id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, deployment: { id: string }, modelHistory: Array<{ modelId: string, predictionCount: number, startTime: string | null, endTime: string | null }>, predictionJob: { id: string, status: BatchPredictionJobStatus, createdAt: string } | null, createdBy: { id: string, name: string } };

export type BatchDetailQueryVariables = Exact<{
  id: string;
}>;


export type BatchDetailQuery = { monitoringBatch: { description: string | null, externalUrl: string | null, id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, deployment: { id: string }, modelHistory: Array<{ modelId: string, predictionCount: number, startTime: string | null, endTime: string | null }>, predictionJob: { id: string, status: BatchPredictionJobStatus, createdAt: string } | null, createdBy: { id: string, name: string } } | null };

type BatchMutationError_BatchLockedError_Fragment = { __typename: 'BatchLockedError', message: string };

type BatchMutationError_BatchMonitoringDisabledError_Fragment = { __typename: 'BatchMonitoringDisabledError', message: string };

type BatchMutationError_BatchNotSealedError_Fragment = { __typename: 'BatchNotSealedError', message: string };

type BatchMutationError_BatchQuotaExceededError_Fragment = { __typename: 'BatchQuotaExceededError', resetsAt: string, message: string };

type BatchMutationError_ConflictError_Fragment = { __typename: 'ConflictError', message: string };

type BatchMutationError_ForbiddenError_Fragment = { __typename: 'ForbiddenError', message: string };

type BatchMutationError_JobStateError_Fragment = { __typename: 'JobStateError', message: string };

type BatchMutationError_ModelBackendError_Fragment = { __typename: 'ModelBackendError', message: string };

type BatchMutationError_NotFoundError_Fragment = { __typename: 'NotFoundError', message: string };

type BatchMutationError_ValidationError_Fragment = { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> };

export type BatchMutationErrorFragment =
  | BatchMutationError_BatchLockedError_Fragment
  | BatchMutationError_BatchMonitoringDisabledError_Fragment
  | BatchMutationError_BatchNotSealedError_Fragment
  | BatchMutationError_BatchQuotaExceededError_Fragment
  | BatchMutationError_ConflictError_Fragment
  | BatchMutationError_ForbiddenError_Fragment
  | BatchMutationError_JobStateError_Fragment
  | BatchMutationError_ModelBackendError_Fragment
  | BatchMutationError_NotFoundError_Fragment
  | BatchMutationError_ValidationError_Fragment
;

export type CreateBatchMutationVariables = Exact<{
  input: CreateMonitoringBatchInput;
}>;


export type CreateBatchMutation = { createMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'BatchQuotaExceededError', resetsAt: string, message: string }
    | { __typename: 'CreateMonitoringBatchSuccess', batch: { id: string, name: string } }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type UpdateBatchInfoMutationVariables = Exact<{
  input: UpdateMonitoringBatchInput;
}>;


export type UpdateBatchInfoMutation = { updateMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UpdateMonitoringBatchSuccess', batch: { description: string | null, externalUrl: string | null, id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, deployment: { id: string }, modelHistory: Array<{ modelId: string, predictionCount: number, startTime: string | null, endTime: string | null }>, predictionJob: { id: string, status: BatchPredictionJobStatus, createdAt: string } | null, createdBy: { id: string, name: string } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type UpdateBatchPeriodMutationVariables = Exact<{
  input: UpdateBatchModelHistoryInput;
}>;


export type UpdateBatchPeriodMutation = { updateBatchModelHistory:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UpdateBatchModelHistorySuccess', batch: { description: string | null, externalUrl: string | null, id: string, name: string, createdAt: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number, deployment: { id: string }, modelHistory: Array<{ modelId: string, predictionCount: number, startTime: string | null, endTime: string | null }>, predictionJob: { id: string, status: BatchPredictionJobStatus, createdAt: string } | null, createdBy: { id: string, name: string } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type LockBatchMutationVariables = Exact<{
  id: string;
}>;


export type LockBatchMutation = { lockMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'LockMonitoringBatchSuccess', batch: { id: string, name: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number } }
    | { __typename: 'NotFoundError', message: string }
   };

export type UnlockBatchMutationVariables = Exact<{
  id: string;
}>;


export type UnlockBatchMutation = { unlockMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UnlockMonitoringBatchSuccess', batch: { id: string, name: string, isLocked: boolean, earliestPredictionAt: string | null, latestPredictionAt: string | null, predictionCount: number } }
   };

export type DeleteBatchMutationVariables = Exact<{
  id: string;
}>;


export type DeleteBatchMutation = { deleteMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'DeleteMonitoringBatchSuccess', deletedBatchId: string }
    | { __typename: 'NotFoundError', message: string }
   };

export type DeploymentPageQueryVariables = Exact<{
  id: string;
}>;


export type DeploymentPageQuery = { deployment: { id: string, label: string, description: string | null, targetType: TargetType, targetName: string, classNames: Array<string> | null, positiveClass: string | null, modelId: string, batchMonitoringEnabled: boolean, features: Array<{ name: string, type: FeatureType, importance: number | null }> } | null };

export type DeploymentHeaderFragment = { id: string, label: string, description: string | null, targetType: TargetType, targetName: string, classNames: Array<string> | null, positiveClass: string | null, modelId: string, batchMonitoringEnabled: boolean, features: Array<{ name: string, type: FeatureType, importance: number | null }> };

export type ExportTabExportFragment = { id: string, status: DataExportStatus, format: DataExportFormat, includeActuals: boolean, batchCount: number, rowCount: number | null, rowsWritten: number, progress: number, sizeBytes: number | null, downloadUrl: string | null, expiresAt: string | null, expired: boolean, error: string | null, createdAt: string, finishedAt: string | null, deployment: { id: string } | null };

export type ExportTabExportsQueryVariables = Exact<{
  deploymentId: string;
}>;


export type ExportTabExportsQuery = { deployment: { id: string, dataExports: Array<{ id: string, status: DataExportStatus, format: DataExportFormat, includeActuals: boolean, batchCount: number, rowCount: number | null, rowsWritten: number, progress: number, sizeBytes: number | null, downloadUrl: string | null, expiresAt: string | null, expired: boolean, error: string | null, createdAt: string, finishedAt: string | null, deployment: { id: string } | null }> } | null };

export type ExportTabExportQueryVariables = Exact<{
  id: string;
}>;


export type ExportTabExportQuery = { dataExport: { id: string, status: DataExportStatus, format: DataExportFormat, includeActuals: boolean, batchCount: number, rowCount: number | null, rowsWritten: number, progress: number, sizeBytes: number | null, downloadUrl: string | null, expiresAt: string | null, expired: boolean, error: string | null, createdAt: string, finishedAt: string | null, deployment: { id: string } | null } | null };

export type ExportTabCreateMutationVariables = Exact<{
  input: CreateDataExportInput;
}>;


export type ExportTabCreateMutation = { createDataExport:
    | { __typename: 'CreateDataExportSuccess', export: { id: string, status: DataExportStatus, format: DataExportFormat, includeActuals: boolean, batchCount: number, rowCount: number | null, rowsWritten: number, progress: number, sizeBytes: number | null, downloadUrl: string | null, expiresAt: string | null, expired: boolean, error: string | null, createdAt: string, finishedAt: string | null, deployment: { id: string } | null } }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type ExportTabProgressSubscriptionVariables = Exact<{
  id: string;
}>;


export type ExportTabProgressSubscription = { dataExportProgress: { id: string, status: DataExportStatus, format: DataExportFormat, includeActuals: boolean, batchCount: number, rowCount: number | null, rowsWritten: number, progress: number, sizeBytes: number | null, downloadUrl: string | null, expiresAt: string | null, expired: boolean, error: string | null, createdAt: string, finishedAt: string | null, deployment: { id: string } | null } };

export type DeploymentsInventoryQueryVariables = Exact<{
  search?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type DeploymentsInventoryQuery = { deployments: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, label: string, targetType: TargetType, batchMonitoringEnabled: boolean, health: { service: { status: HealthStatus, reason: string }, drift: { status: HealthStatus, reason: string }, accuracy: { status: HealthStatus, reason: string } }, activity: Array<{ day: string, predictionCount: number }> } }> } };

export type InventoryDeploymentFragment = { id: string, label: string, targetType: TargetType, batchMonitoringEnabled: boolean, health: { service: { status: HealthStatus, reason: string }, drift: { status: HealthStatus, reason: string }, accuracy: { status: HealthStatus, reason: string } }, activity: Array<{ day: string, predictionCount: number }> };

export type JobsTabJobFragment = { id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } };

export type JobsTabDefinitionFragment = { id: string, name: string, enabled: boolean, nextScheduledRunTime: string | null, lastScheduledRunTime: string | null, lastStartedJobStatus: BatchPredictionJobStatus | null, lastStartedJobTime: string | null, lastSuccessfulRunTime: string | null, lastFailedRunTime: string | null, schedule: { minute: Array<number> | null, hour: Array<number> | null, dayOfMonth: Array<number> | null, month: Array<number> | null, dayOfWeek: Array<number> | null, cron: string } | null, batchPredictionJob: { intakeSettings: { type: BatchPredictionJobIntakeType, url: string | null } } };

export type JobsTabJobsQueryVariables = Exact<{
  deploymentId: string;
  first: number;
  after?: string | null | undefined;
}>;


export type JobsTabJobsQuery = { deployment: { id: string, batchPredictionJobs: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } } }> } } | null };

export type JobsTabDefinitionsQueryVariables = Exact<{
  deploymentId: string;
}>;


export type JobsTabDefinitionsQuery = { deployment: { id: string, batchPredictionJobDefinitions: { totalCount: number, edges: Array<{ node: { id: string, name: string, enabled: boolean, nextScheduledRunTime: string | null, lastScheduledRunTime: string | null, lastStartedJobStatus: BatchPredictionJobStatus | null, lastStartedJobTime: string | null, lastSuccessfulRunTime: string | null, lastFailedRunTime: string | null, schedule: { minute: Array<number> | null, hour: Array<number> | null, dayOfMonth: Array<number> | null, month: Array<number> | null, dayOfWeek: Array<number> | null, cron: string } | null, batchPredictionJob: { intakeSettings: { type: BatchPredictionJobIntakeType, url: string | null } } } }> } } | null };

export type JobsTabJobQueryVariables = Exact<{
  id: string;
}>;


export type JobsTabJobQuery = { batchPredictionJob: { logs: Array<string>, id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, spec: { numConcurrent: number, chunkSize: string, monitoringBatchPrefix: string | null, abortOnError: boolean, intakeSettings: { type: BatchPredictionJobIntakeType, url: string | null } }, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } } | null };

export type JobsTabJobProgressSubscriptionVariables = Exact<{
  id: string;
}>;


export type JobsTabJobProgressSubscription = { batchPredictionJobProgress: { id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } } };

export type JobsTabAbortMutationVariables = Exact<{
  id: string;
}>;


export type JobsTabAbortMutation = { abortBatchPredictionJob:
    | { __typename: 'AbortBatchPredictionJobSuccess', job: { id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } } }
    | { __typename: 'JobStateError', message: string }
    | { __typename: 'NotFoundError', message: string }
   };

export type JobsTabRunDefinitionMutationVariables = Exact<{
  id: string;
}>;


export type JobsTabRunDefinitionMutation = { runBatchPredictionJobDefinition:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'RunBatchPredictionJobDefinitionSuccess', job: { id: string, status: BatchPredictionJobStatus, statusDetails: string, createdAt: string, startedAt: string | null, finishedAt: string | null, inputRows: number | null, scoredRows: number, failedRows: number, percentageCompleted: number, downloadPath: string | null, resultsDeleted: boolean, createdBy: { id: string, name: string }, definition: { id: string, name: string } | null, monitoringBatch: { id: string, name: string } | null, deployment: { id: string } }, definition: { id: string, name: string, enabled: boolean, nextScheduledRunTime: string | null, lastScheduledRunTime: string | null, lastStartedJobStatus: BatchPredictionJobStatus | null, lastStartedJobTime: string | null, lastSuccessfulRunTime: string | null, lastFailedRunTime: string | null, schedule: { minute: Array<number> | null, hour: Array<number> | null, dayOfMonth: Array<number> | null, month: Array<number> | null, dayOfWeek: Array<number> | null, cron: string } | null, batchPredictionJob: { intakeSettings: { type: BatchPredictionJobIntakeType, url: string | null } } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type JobsTabSetDefinitionEnabledMutationVariables = Exact<{
  id: string;
  enabled: boolean;
}>;


export type JobsTabSetDefinitionEnabledMutation = { updateBatchPredictionJobDefinition:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'ConflictError', message: string }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UpdateBatchPredictionJobDefinitionSuccess', definition: { id: string, name: string, enabled: boolean, nextScheduledRunTime: string | null, lastScheduledRunTime: string | null, lastStartedJobStatus: BatchPredictionJobStatus | null, lastStartedJobTime: string | null, lastSuccessfulRunTime: string | null, lastFailedRunTime: string | null, schedule: { minute: Array<number> | null, hour: Array<number> | null, dayOfMonth: Array<number> | null, month: Array<number> | null, dayOfWeek: Array<number> | null, cron: string } | null, batchPredictionJob: { intakeSettings: { type: BatchPredictionJobIntakeType, url: string | null } } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type SelectorBatchFragment = { id: string, name: string, createdAt: string, predictionCount: number };

export type SelectorBatchesQueryVariables = Exact<{
  id: string;
  first: number;
  after?: string | null | undefined;
  search?: string | null | undefined;
}>;


export type SelectorBatchesQuery = { deployment: { id: string, batches: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, createdAt: string, predictionCount: number } }> } } | null };

export type SelectorBatchEventsSubscriptionVariables = Exact<{
  deploymentId: string;
}>;


export type SelectorBatchEventsSubscription = { batchEvents: { kind: BatchEventKind, batch: { id: string, name: string, createdAt: string, predictionCount: number } } };

export type SettingsTabDeploymentFragment = { id: string, label: string, description: string | null, targetType: TargetType, predictionThreshold: number, batchMonitoringEnabled: boolean, associationIdColumn: string | null, healthSettings: { service: { batchCount: number, errorRateAtRisk: number, errorRateFailing: number }, dataDrift: { batchCount: number, driftThreshold: number, importanceThreshold: number, significanceLevel: number, minSampleSize: number, lowImportanceAtRiskCount: number | null, lowImportanceFailingCount: number | null, highImportanceAtRiskCount: number | null, highImportanceFailingCount: number | null, excludedFeatures: Array<string> }, accuracy: { metric: AccuracyMetric, batchCount: number, atRiskThreshold: number | null, failingThreshold: number | null } } };

export type SettingsTabDeploymentQueryVariables = Exact<{
  id: string;
}>;


export type SettingsTabDeploymentQuery = { deployment: { id: string, label: string, description: string | null, targetType: TargetType, predictionThreshold: number, batchMonitoringEnabled: boolean, associationIdColumn: string | null, healthSettings: { service: { batchCount: number, errorRateAtRisk: number, errorRateFailing: number }, dataDrift: { batchCount: number, driftThreshold: number, importanceThreshold: number, significanceLevel: number, minSampleSize: number, lowImportanceAtRiskCount: number | null, lowImportanceFailingCount: number | null, highImportanceAtRiskCount: number | null, highImportanceFailingCount: number | null, excludedFeatures: Array<string> }, accuracy: { metric: AccuracyMetric, batchCount: number, atRiskThreshold: number | null, failingThreshold: number | null } } } | null };

export type SettingsTabUpdateDeploymentMutationVariables = Exact<{
  input: UpdateDeploymentSettingsInput;
}>;


export type SettingsTabUpdateDeploymentMutation = { updateDeploymentSettings:
    | { __typename: 'ForbiddenError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UpdateDeploymentSettingsSuccess', deployment: { id: string, label: string, description: string | null, targetType: TargetType, predictionThreshold: number, batchMonitoringEnabled: boolean, associationIdColumn: string | null, healthSettings: { service: { batchCount: number, errorRateAtRisk: number, errorRateFailing: number }, dataDrift: { batchCount: number, driftThreshold: number, importanceThreshold: number, significanceLevel: number, minSampleSize: number, lowImportanceAtRiskCount: number | null, lowImportanceFailingCount: number | null, highImportanceAtRiskCount: number | null, highImportanceFailingCount: number | null, excludedFeatures: Array<string> }, accuracy: { metric: AccuracyMetric, batchCount: number, atRiskThreshold: number | null, failingThreshold: number | null } } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type SettingsTabUpdateHealthMutationVariables = Exact<{
  input: UpdateHealthSettingsInput;
}>;


export type SettingsTabUpdateHealthMutation = { updateHealthSettings:
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'UpdateHealthSettingsSuccess', deployment: { id: string, label: string, description: string | null, targetType: TargetType, predictionThreshold: number, batchMonitoringEnabled: boolean, associationIdColumn: string | null, healthSettings: { service: { batchCount: number, errorRateAtRisk: number, errorRateFailing: number }, dataDrift: { batchCount: number, driftThreshold: number, importanceThreshold: number, significanceLevel: number, minSampleSize: number, lowImportanceAtRiskCount: number | null, lowImportanceFailingCount: number | null, highImportanceAtRiskCount: number | null, highImportanceFailingCount: number | null, excludedFeatures: Array<string> }, accuracy: { metric: AccuracyMetric, batchCount: number, atRiskThreshold: number | null, failingThreshold: number | null } } } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DriftBinsFragmentDoc = new TypedDocumentString(`
    fragment DriftBins on Distribution {
  bins {
    label
    share
    count
  }
}
    `, {"fragmentName":"DriftBins"}) as unknown as TypedDocumentString<DriftBinsFragment, unknown>;
export const FeatureDriftFieldsFragmentDoc = new TypedDocumentString(`
    fragment FeatureDriftFields on FeatureDrift {
  name
  score
  importance
  sampleSize
  referenceSampleSize
  pValue
  adjustedPValue
  status
  isDrifted
  reference {
    ...DriftBins
  }
  current {
    ...DriftBins
  }
}
    fragment DriftBins on Distribution {
  bins {
    label
    share
    count
  }
}`, {"fragmentName":"FeatureDriftFields"}) as unknown as TypedDocumentString<FeatureDriftFieldsFragment, unknown>;
export const AccuracyFieldsFragmentDoc = new TypedDocumentString(`
    fragment AccuracyFields on Accuracy {
  predictionsWithActuals
  rmse
  mae
  r2
  mape
  logLoss
  auc
  accuracy
  f1
  tpr
  ppv
  meanActual
  meanPredicted
  actualClassDistribution {
    className
    count
    share
  }
  predictedClassDistribution {
    className
    count
    share
  }
}
    `, {"fragmentName":"AccuracyFields"}) as unknown as TypedDocumentString<AccuracyFieldsFragment, unknown>;
export const BatchLiveFieldsFragmentDoc = new TypedDocumentString(`
    fragment BatchLiveFields on MonitoringBatch {
  id
  name
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
    `, {"fragmentName":"BatchLiveFields"}) as unknown as TypedDocumentString<BatchLiveFieldsFragment, unknown>;
export const BatchRowFragmentDoc = new TypedDocumentString(`
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
    `, {"fragmentName":"BatchRow"}) as unknown as TypedDocumentString<BatchRowFragment, unknown>;
export const BatchDetailFragmentDoc = new TypedDocumentString(`
    fragment BatchDetail on MonitoringBatch {
  ...BatchRow
  description
  externalUrl
  deployment {
    id
  }
  modelHistory {
    modelId
    predictionCount
    startTime
    endTime
  }
  predictionJob {
    id
    status
    createdAt
  }
}
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}`, {"fragmentName":"BatchDetail"}) as unknown as TypedDocumentString<BatchDetailFragment, unknown>;
export const BatchMutationErrorFragmentDoc = new TypedDocumentString(`
    fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}
    `, {"fragmentName":"BatchMutationError"}) as unknown as TypedDocumentString<BatchMutationErrorFragment, unknown>;
export const DeploymentHeaderFragmentDoc = new TypedDocumentString(`
    fragment DeploymentHeader on Deployment {
  id
  label
  description
  targetType
  targetName
  classNames
  positiveClass
  modelId
  batchMonitoringEnabled
  features {
    name
    type
    importance
  }
}
    `, {"fragmentName":"DeploymentHeader"}) as unknown as TypedDocumentString<DeploymentHeaderFragment, unknown>;
export const ExportTabExportFragmentDoc = new TypedDocumentString(`
    fragment ExportTabExport on DataExport {
  id
  status
  format
  includeActuals
  batchCount
  rowCount
  rowsWritten
  progress
  sizeBytes
  downloadUrl
  expiresAt
  expired
  error
  createdAt
  finishedAt
  deployment {
    id
  }
}
    `, {"fragmentName":"ExportTabExport"}) as unknown as TypedDocumentString<ExportTabExportFragment, unknown>;
export const InventoryDeploymentFragmentDoc = new TypedDocumentString(`
    fragment InventoryDeployment on Deployment {
  id
  label
  targetType
  batchMonitoringEnabled
  health {
    service {
      status
      reason
    }
    drift {
      status
      reason
    }
    accuracy {
      status
      reason
    }
  }
  activity {
    day
    predictionCount
  }
}
    `, {"fragmentName":"InventoryDeployment"}) as unknown as TypedDocumentString<InventoryDeploymentFragment, unknown>;
export const JobsTabJobFragmentDoc = new TypedDocumentString(`
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}
    `, {"fragmentName":"JobsTabJob"}) as unknown as TypedDocumentString<JobsTabJobFragment, unknown>;
export const JobsTabDefinitionFragmentDoc = new TypedDocumentString(`
    fragment JobsTabDefinition on BatchPredictionJobDefinition {
  id
  name
  enabled
  schedule {
    minute
    hour
    dayOfMonth
    month
    dayOfWeek
    cron
  }
  batchPredictionJob {
    intakeSettings {
      type
      url
    }
  }
  nextScheduledRunTime
  lastScheduledRunTime
  lastStartedJobStatus
  lastStartedJobTime
  lastSuccessfulRunTime
  lastFailedRunTime
}
    `, {"fragmentName":"JobsTabDefinition"}) as unknown as TypedDocumentString<JobsTabDefinitionFragment, unknown>;
export const SelectorBatchFragmentDoc = new TypedDocumentString(`
    fragment SelectorBatch on MonitoringBatch {
  id
  name
  createdAt
  predictionCount
}
    `, {"fragmentName":"SelectorBatch"}) as unknown as TypedDocumentString<SelectorBatchFragment, unknown>;
export const SettingsTabDeploymentFragmentDoc = new TypedDocumentString(`
    fragment SettingsTabDeployment on Deployment {
  id
  label
  description
  targetType
  predictionThreshold
  batchMonitoringEnabled
  associationIdColumn
  healthSettings {
    service {
      batchCount
      errorRateAtRisk
      errorRateFailing
    }
    dataDrift {
      batchCount
      driftThreshold
      importanceThreshold
      significanceLevel
      minSampleSize
      lowImportanceAtRiskCount
      lowImportanceFailingCount
      highImportanceAtRiskCount
      highImportanceFailingCount
      excludedFeatures
    }
    accuracy {
      metric
      batchCount
      atRiskThreshold
      failingThreshold
    }
  }
}
    `, {"fragmentName":"SettingsTabDeployment"}) as unknown as TypedDocumentString<SettingsTabDeploymentFragment, unknown>;
export const ServiceHealthTabDocument = new TypedDocumentString(`
    query ServiceHealthTab($id: ID!, $batches: BatchSelection!) {
  deployment(id: $id) {
    id
    serviceHealth(batches: $batches) {
      batchCount
      totalPredictions
      totalRequests
      userErrorRate
      serverErrorRate
      numConsumers
      executionTime {
        count
        median
        p90
      }
    }
    overBatches(batches: $batches) {
      batch {
        id
        name
      }
      serviceHealth {
        totalPredictions
        totalRequests
        userErrorRate
        serverErrorRate
        executionTime {
          median
          p90
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ServiceHealthTabQuery, ServiceHealthTabQueryVariables>;
export const DataDriftTabDocument = new TypedDocumentString(`
    query DataDriftTab($id: ID!, $batches: BatchSelection!, $metric: DriftMetric!, $reference: BatchSelection) {
  deployment(id: $id) {
    id
    dataDrift(batches: $batches, metric: $metric, reference: $reference) {
      batchCount
      hasBaseline
      driftThreshold
      significanceLevel
      minSampleSize
      metric
      reference
      referenceBatchIds
      features {
        ...FeatureDriftFields
      }
      target {
        ...FeatureDriftFields
      }
    }
  }
}
    fragment DriftBins on Distribution {
  bins {
    label
    share
    count
  }
}
fragment FeatureDriftFields on FeatureDrift {
  name
  score
  importance
  sampleSize
  referenceSampleSize
  pValue
  adjustedPValue
  status
  isDrifted
  reference {
    ...DriftBins
  }
  current {
    ...DriftBins
  }
}`) as unknown as TypedDocumentString<DataDriftTabQuery, DataDriftTabQueryVariables>;
export const DataDriftOverBatchesDocument = new TypedDocumentString(`
    query DataDriftOverBatches($id: ID!, $batches: BatchSelection!, $metric: DriftMetric!, $reference: SeriesDriftReference!) {
  deployment(id: $id) {
    id
    overBatches(batches: $batches, metric: $metric, reference: $reference) {
      batch {
        id
        name
      }
      dataDrift {
        reference
        referenceBatchIds
        features {
          name
          score
          status
        }
        target {
          score
          status
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DataDriftOverBatchesQuery, DataDriftOverBatchesQueryVariables>;
export const DataDriftReferenceBatchDocument = new TypedDocumentString(`
    query DataDriftReferenceBatch($id: ID!) {
  monitoringBatch(id: $id) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<DataDriftReferenceBatchQuery, DataDriftReferenceBatchQueryVariables>;
export const DataDriftMatrixDocument = new TypedDocumentString(`
    query DataDriftMatrix($id: ID!, $batches: BatchSelection!, $feature: String, $metric: DriftMetric!) {
  deployment(id: $id) {
    id
    driftMatrix(batches: $batches, feature: $feature, metric: $metric) {
      feature
      metric
      driftThreshold
      significanceLevel
      minSampleSize
      hasBaseline
      batches {
        id
        name
      }
      sampleSizes
      rows {
        batchId
        scores
        pValues
        statuses
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DataDriftMatrixQuery, DataDriftMatrixQueryVariables>;
export const AccuracyTabDocument = new TypedDocumentString(`
    query AccuracyTab($id: ID!, $batches: BatchSelection!) {
  deployment(id: $id) {
    id
    accuracy(batches: $batches) {
      ...AccuracyFields
    }
    predictions(batches: $batches) {
      rowCount
    }
    overBatches(batches: $batches) {
      batch {
        id
        name
      }
      accuracy {
        ...AccuracyFields
      }
    }
  }
}
    fragment AccuracyFields on Accuracy {
  predictionsWithActuals
  rmse
  mae
  r2
  mape
  logLoss
  auc
  accuracy
  f1
  tpr
  ppv
  meanActual
  meanPredicted
  actualClassDistribution {
    className
    count
    share
  }
  predictedClassDistribution {
    className
    count
    share
  }
}`) as unknown as TypedDocumentString<AccuracyTabQuery, AccuracyTabQueryVariables>;
export const CustomMetricsTabDocument = new TypedDocumentString(`
    query CustomMetricsTab($id: ID!, $batches: BatchSelection!) {
  deployment(id: $id) {
    id
    customMetrics {
      id
      name
      description
      units
      type
      directionality
      baselineValue
      isModelSpecific
      summary(batches: $batches) {
        batchCount
        value
        baselineValue
        change
        percentChange
        sampleCount
        bucketCount
        min
        max
        overBatches {
          batch {
            id
            name
          }
          value
          baselineValue
          change
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<CustomMetricsTabQuery, CustomMetricsTabQueryVariables>;
export const SignedInViewerDocument = new TypedDocumentString(`
    query SignedInViewer {
  viewer {
    id
    name
    role
    organization {
      id
      name
      dailyBatchLimit
    }
  }
}
    `) as unknown as TypedDocumentString<SignedInViewerQuery, SignedInViewerQueryVariables>;
export const BatchListDocument = new TypedDocumentString(`
    query BatchList($deploymentId: ID!, $first: Int, $after: String, $last: Int, $before: String, $search: String, $orderBy: BatchOrder, $filter: BatchFilter) {
  deployment(id: $deploymentId) {
    id
    batchCreators {
      id
      name
    }
    batches(
      first: $first
      after: $after
      last: $last
      before: $before
      search: $search
      orderBy: $orderBy
      filter: $filter
    ) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          ...BatchRow
        }
      }
    }
  }
}
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}`) as unknown as TypedDocumentString<BatchListQuery, BatchListQueryVariables>;
export const BatchQuotaLiveDocument = new TypedDocumentString(`
    subscription BatchQuotaLive($deploymentId: ID!) {
  batchQuota(deploymentId: $deploymentId) {
    used
    limit
    remaining
    resetsAt
  }
}
    `) as unknown as TypedDocumentString<BatchQuotaLiveSubscription, BatchQuotaLiveSubscriptionVariables>;
export const BatchEventsLiveDocument = new TypedDocumentString(`
    subscription BatchEventsLive($deploymentId: ID!) {
  batchEvents(deploymentId: $deploymentId) {
    kind
    batch {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<BatchEventsLiveSubscription, BatchEventsLiveSubscriptionVariables>;
export const BatchLiveDocument = new TypedDocumentString(`
    subscription BatchLive($id: ID!) {
  monitoringBatch(id: $id) {
    ...BatchLiveFields
  }
}
    fragment BatchLiveFields on MonitoringBatch {
  id
  name
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}`) as unknown as TypedDocumentString<BatchLiveSubscription, BatchLiveSubscriptionVariables>;
export const BatchDetailDocument = new TypedDocumentString(`
    query BatchDetail($id: ID!) {
  monitoringBatch(id: $id) {
    ...BatchDetail
  }
}
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
fragment BatchDetail on MonitoringBatch {
  ...BatchRow
  description
  externalUrl
  deployment {
    id
  }
  modelHistory {
    modelId
    predictionCount
    startTime
    endTime
  }
  predictionJob {
    id
    status
    createdAt
  }
}`) as unknown as TypedDocumentString<BatchDetailQuery, BatchDetailQueryVariables>;
export const CreateBatchDocument = new TypedDocumentString(`
    mutation CreateBatch($input: CreateMonitoringBatchInput!) {
  createMonitoringBatch(input: $input) {
    __typename
    ... on CreateMonitoringBatchSuccess {
      batch {
        id
        name
      }
    }
    ...BatchMutationError
  }
}
    fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<CreateBatchMutation, CreateBatchMutationVariables>;
export const UpdateBatchInfoDocument = new TypedDocumentString(`
    mutation UpdateBatchInfo($input: UpdateMonitoringBatchInput!) {
  updateMonitoringBatch(input: $input) {
    __typename
    ... on UpdateMonitoringBatchSuccess {
      batch {
        ...BatchDetail
      }
    }
    ...BatchMutationError
  }
}
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
fragment BatchDetail on MonitoringBatch {
  ...BatchRow
  description
  externalUrl
  deployment {
    id
  }
  modelHistory {
    modelId
    predictionCount
    startTime
    endTime
  }
  predictionJob {
    id
    status
    createdAt
  }
}
fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<UpdateBatchInfoMutation, UpdateBatchInfoMutationVariables>;
export const UpdateBatchPeriodDocument = new TypedDocumentString(`
    mutation UpdateBatchPeriod($input: UpdateBatchModelHistoryInput!) {
  updateBatchModelHistory(input: $input) {
    __typename
    ... on UpdateBatchModelHistorySuccess {
      batch {
        ...BatchDetail
      }
    }
    ...BatchMutationError
  }
}
    fragment BatchRow on MonitoringBatch {
  id
  name
  createdAt
  createdBy {
    id
    name
  }
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
fragment BatchDetail on MonitoringBatch {
  ...BatchRow
  description
  externalUrl
  deployment {
    id
  }
  modelHistory {
    modelId
    predictionCount
    startTime
    endTime
  }
  predictionJob {
    id
    status
    createdAt
  }
}
fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<UpdateBatchPeriodMutation, UpdateBatchPeriodMutationVariables>;
export const LockBatchDocument = new TypedDocumentString(`
    mutation LockBatch($id: ID!) {
  lockMonitoringBatch(id: $id) {
    __typename
    ... on LockMonitoringBatchSuccess {
      batch {
        ...BatchLiveFields
      }
    }
    ...BatchMutationError
  }
}
    fragment BatchLiveFields on MonitoringBatch {
  id
  name
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<LockBatchMutation, LockBatchMutationVariables>;
export const UnlockBatchDocument = new TypedDocumentString(`
    mutation UnlockBatch($id: ID!) {
  unlockMonitoringBatch(id: $id) {
    __typename
    ... on UnlockMonitoringBatchSuccess {
      batch {
        ...BatchLiveFields
      }
    }
    ...BatchMutationError
  }
}
    fragment BatchLiveFields on MonitoringBatch {
  id
  name
  isLocked
  earliestPredictionAt
  latestPredictionAt
  predictionCount
}
fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<UnlockBatchMutation, UnlockBatchMutationVariables>;
export const DeleteBatchDocument = new TypedDocumentString(`
    mutation DeleteBatch($id: ID!) {
  deleteMonitoringBatch(id: $id) {
    __typename
    ... on DeleteMonitoringBatchSuccess {
      deletedBatchId
    }
    ...BatchMutationError
  }
}
    fragment BatchMutationError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
  ... on BatchQuotaExceededError {
    resetsAt
  }
}`) as unknown as TypedDocumentString<DeleteBatchMutation, DeleteBatchMutationVariables>;
export const DeploymentPageDocument = new TypedDocumentString(`
    query DeploymentPage($id: ID!) {
  deployment(id: $id) {
    ...DeploymentHeader
  }
}
    fragment DeploymentHeader on Deployment {
  id
  label
  description
  targetType
  targetName
  classNames
  positiveClass
  modelId
  batchMonitoringEnabled
  features {
    name
    type
    importance
  }
}`) as unknown as TypedDocumentString<DeploymentPageQuery, DeploymentPageQueryVariables>;
export const ExportTabExportsDocument = new TypedDocumentString(`
    query ExportTabExports($deploymentId: ID!) {
  deployment(id: $deploymentId) {
    id
    dataExports(first: 20) {
      ...ExportTabExport
    }
  }
}
    fragment ExportTabExport on DataExport {
  id
  status
  format
  includeActuals
  batchCount
  rowCount
  rowsWritten
  progress
  sizeBytes
  downloadUrl
  expiresAt
  expired
  error
  createdAt
  finishedAt
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<ExportTabExportsQuery, ExportTabExportsQueryVariables>;
export const ExportTabExportDocument = new TypedDocumentString(`
    query ExportTabExport($id: ID!) {
  dataExport(id: $id) {
    ...ExportTabExport
  }
}
    fragment ExportTabExport on DataExport {
  id
  status
  format
  includeActuals
  batchCount
  rowCount
  rowsWritten
  progress
  sizeBytes
  downloadUrl
  expiresAt
  expired
  error
  createdAt
  finishedAt
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<ExportTabExportQuery, ExportTabExportQueryVariables>;
export const ExportTabCreateDocument = new TypedDocumentString(`
    mutation ExportTabCreate($input: CreateDataExportInput!) {
  createDataExport(input: $input) {
    __typename
    ... on CreateDataExportSuccess {
      export {
        ...ExportTabExport
      }
    }
    ... on Error {
      message
    }
    ... on ValidationError {
      fieldErrors {
        field
        message
      }
    }
  }
}
    fragment ExportTabExport on DataExport {
  id
  status
  format
  includeActuals
  batchCount
  rowCount
  rowsWritten
  progress
  sizeBytes
  downloadUrl
  expiresAt
  expired
  error
  createdAt
  finishedAt
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<ExportTabCreateMutation, ExportTabCreateMutationVariables>;
export const ExportTabProgressDocument = new TypedDocumentString(`
    subscription ExportTabProgress($id: ID!) {
  dataExportProgress(id: $id) {
    ...ExportTabExport
  }
}
    fragment ExportTabExport on DataExport {
  id
  status
  format
  includeActuals
  batchCount
  rowCount
  rowsWritten
  progress
  sizeBytes
  downloadUrl
  expiresAt
  expired
  error
  createdAt
  finishedAt
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<ExportTabProgressSubscription, ExportTabProgressSubscriptionVariables>;
export const DeploymentsInventoryDocument = new TypedDocumentString(`
    query DeploymentsInventory($search: String, $first: Int!, $after: String) {
  deployments(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        ...InventoryDeployment
      }
    }
  }
}
    fragment InventoryDeployment on Deployment {
  id
  label
  targetType
  batchMonitoringEnabled
  health {
    service {
      status
      reason
    }
    drift {
      status
      reason
    }
    accuracy {
      status
      reason
    }
  }
  activity {
    day
    predictionCount
  }
}`) as unknown as TypedDocumentString<DeploymentsInventoryQuery, DeploymentsInventoryQueryVariables>;
export const JobsTabJobsDocument = new TypedDocumentString(`
    query JobsTabJobs($deploymentId: ID!, $first: Int!, $after: String) {
  deployment(id: $deploymentId) {
    id
    batchPredictionJobs(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...JobsTabJob
        }
      }
    }
  }
}
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<JobsTabJobsQuery, JobsTabJobsQueryVariables>;
export const JobsTabDefinitionsDocument = new TypedDocumentString(`
    query JobsTabDefinitions($deploymentId: ID!) {
  deployment(id: $deploymentId) {
    id
    batchPredictionJobDefinitions(first: 100) {
      totalCount
      edges {
        node {
          ...JobsTabDefinition
        }
      }
    }
  }
}
    fragment JobsTabDefinition on BatchPredictionJobDefinition {
  id
  name
  enabled
  schedule {
    minute
    hour
    dayOfMonth
    month
    dayOfWeek
    cron
  }
  batchPredictionJob {
    intakeSettings {
      type
      url
    }
  }
  nextScheduledRunTime
  lastScheduledRunTime
  lastStartedJobStatus
  lastStartedJobTime
  lastSuccessfulRunTime
  lastFailedRunTime
}`) as unknown as TypedDocumentString<JobsTabDefinitionsQuery, JobsTabDefinitionsQueryVariables>;
export const JobsTabJobDocument = new TypedDocumentString(`
    query JobsTabJob($id: ID!) {
  batchPredictionJob(id: $id) {
    ...JobsTabJob
    logs
    spec {
      intakeSettings {
        type
        url
      }
      numConcurrent
      chunkSize
      monitoringBatchPrefix
      abortOnError
    }
  }
}
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<JobsTabJobQuery, JobsTabJobQueryVariables>;
export const JobsTabJobProgressDocument = new TypedDocumentString(`
    subscription JobsTabJobProgress($id: ID!) {
  batchPredictionJobProgress(id: $id) {
    ...JobsTabJob
  }
}
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<JobsTabJobProgressSubscription, JobsTabJobProgressSubscriptionVariables>;
export const JobsTabAbortDocument = new TypedDocumentString(`
    mutation JobsTabAbort($id: ID!) {
  abortBatchPredictionJob(id: $id) {
    __typename
    ... on AbortBatchPredictionJobSuccess {
      job {
        ...JobsTabJob
      }
    }
    ... on Error {
      message
    }
  }
}
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}`) as unknown as TypedDocumentString<JobsTabAbortMutation, JobsTabAbortMutationVariables>;
export const JobsTabRunDefinitionDocument = new TypedDocumentString(`
    mutation JobsTabRunDefinition($id: ID!) {
  runBatchPredictionJobDefinition(id: $id) {
    __typename
    ... on RunBatchPredictionJobDefinitionSuccess {
      job {
        ...JobsTabJob
      }
      definition {
        ...JobsTabDefinition
      }
    }
    ... on Error {
      message
    }
    ... on ValidationError {
      fieldErrors {
        field
        message
      }
    }
  }
}
    fragment JobsTabJob on BatchPredictionJob {
  id
  status
  statusDetails
  createdAt
  startedAt
  finishedAt
  inputRows
  scoredRows
  failedRows
  percentageCompleted
  downloadPath
  resultsDeleted
  createdBy {
    id
    name
  }
  definition {
    id
    name
  }
  monitoringBatch {
    id
    name
  }
  deployment {
    id
  }
}
fragment JobsTabDefinition on BatchPredictionJobDefinition {
  id
  name
  enabled
  schedule {
    minute
    hour
    dayOfMonth
    month
    dayOfWeek
    cron
  }
  batchPredictionJob {
    intakeSettings {
      type
      url
    }
  }
  nextScheduledRunTime
  lastScheduledRunTime
  lastStartedJobStatus
  lastStartedJobTime
  lastSuccessfulRunTime
  lastFailedRunTime
}`) as unknown as TypedDocumentString<JobsTabRunDefinitionMutation, JobsTabRunDefinitionMutationVariables>;
export const JobsTabSetDefinitionEnabledDocument = new TypedDocumentString(`
    mutation JobsTabSetDefinitionEnabled($id: ID!, $enabled: Boolean!) {
  updateBatchPredictionJobDefinition(input: {id: $id, enabled: $enabled}) {
    __typename
    ... on UpdateBatchPredictionJobDefinitionSuccess {
      definition {
        ...JobsTabDefinition
      }
    }
    ... on Error {
      message
    }
    ... on ValidationError {
      fieldErrors {
        field
        message
      }
    }
  }
}
    fragment JobsTabDefinition on BatchPredictionJobDefinition {
  id
  name
  enabled
  schedule {
    minute
    hour
    dayOfMonth
    month
    dayOfWeek
    cron
  }
  batchPredictionJob {
    intakeSettings {
      type
      url
    }
  }
  nextScheduledRunTime
  lastScheduledRunTime
  lastStartedJobStatus
  lastStartedJobTime
  lastSuccessfulRunTime
  lastFailedRunTime
}`) as unknown as TypedDocumentString<JobsTabSetDefinitionEnabledMutation, JobsTabSetDefinitionEnabledMutationVariables>;
export const SelectorBatchesDocument = new TypedDocumentString(`
    query SelectorBatches($id: ID!, $first: Int!, $after: String, $search: String) {
  deployment(id: $id) {
    id
    batches(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...SelectorBatch
        }
      }
    }
  }
}
    fragment SelectorBatch on MonitoringBatch {
  id
  name
  createdAt
  predictionCount
}`) as unknown as TypedDocumentString<SelectorBatchesQuery, SelectorBatchesQueryVariables>;
export const SelectorBatchEventsDocument = new TypedDocumentString(`
    subscription SelectorBatchEvents($deploymentId: ID!) {
  batchEvents(deploymentId: $deploymentId) {
    kind
    batch {
      ...SelectorBatch
    }
  }
}
    fragment SelectorBatch on MonitoringBatch {
  id
  name
  createdAt
  predictionCount
}`) as unknown as TypedDocumentString<SelectorBatchEventsSubscription, SelectorBatchEventsSubscriptionVariables>;
export const SettingsTabDeploymentDocument = new TypedDocumentString(`
    query SettingsTabDeployment($id: ID!) {
  deployment(id: $id) {
    ...SettingsTabDeployment
  }
}
    fragment SettingsTabDeployment on Deployment {
  id
  label
  description
  targetType
  predictionThreshold
  batchMonitoringEnabled
  associationIdColumn
  healthSettings {
    service {
      batchCount
      errorRateAtRisk
      errorRateFailing
    }
    dataDrift {
      batchCount
      driftThreshold
      importanceThreshold
      significanceLevel
      minSampleSize
      lowImportanceAtRiskCount
      lowImportanceFailingCount
      highImportanceAtRiskCount
      highImportanceFailingCount
      excludedFeatures
    }
    accuracy {
      metric
      batchCount
      atRiskThreshold
      failingThreshold
    }
  }
}`) as unknown as TypedDocumentString<SettingsTabDeploymentQuery, SettingsTabDeploymentQueryVariables>;
export const SettingsTabUpdateDeploymentDocument = new TypedDocumentString(`
    mutation SettingsTabUpdateDeployment($input: UpdateDeploymentSettingsInput!) {
  updateDeploymentSettings(input: $input) {
    __typename
    ... on UpdateDeploymentSettingsSuccess {
      deployment {
        ...SettingsTabDeployment
      }
    }
    ... on Error {
      message
    }
    ... on ValidationError {
      fieldErrors {
        field
        message
      }
    }
  }
}
    fragment SettingsTabDeployment on Deployment {
  id
  label
  description
  targetType
  predictionThreshold
  batchMonitoringEnabled
  associationIdColumn
  healthSettings {
    service {
      batchCount
      errorRateAtRisk
      errorRateFailing
    }
    dataDrift {
      batchCount
      driftThreshold
      importanceThreshold
      significanceLevel
      minSampleSize
      lowImportanceAtRiskCount
      lowImportanceFailingCount
      highImportanceAtRiskCount
      highImportanceFailingCount
      excludedFeatures
    }
    accuracy {
      metric
      batchCount
      atRiskThreshold
      failingThreshold
    }
  }
}`) as unknown as TypedDocumentString<SettingsTabUpdateDeploymentMutation, SettingsTabUpdateDeploymentMutationVariables>;
export const SettingsTabUpdateHealthDocument = new TypedDocumentString(`
    mutation SettingsTabUpdateHealth($input: UpdateHealthSettingsInput!) {
  updateHealthSettings(input: $input) {
    __typename
    ... on UpdateHealthSettingsSuccess {
      deployment {
        ...SettingsTabDeployment
      }
    }
    ... on Error {
      message
    }
    ... on ValidationError {
      fieldErrors {
        field
        message
      }
    }
  }
}
    fragment SettingsTabDeployment on Deployment {
  id
  label
  description
  targetType
  predictionThreshold
  batchMonitoringEnabled
  associationIdColumn
  healthSettings {
    service {
      batchCount
      errorRateAtRisk
      errorRateFailing
    }
    dataDrift {
      batchCount
      driftThreshold
      importanceThreshold
      significanceLevel
      minSampleSize
      lowImportanceAtRiskCount
      lowImportanceFailingCount
      highImportanceAtRiskCount
      highImportanceFailingCount
      excludedFeatures
    }
    accuracy {
      metric
      batchCount
      atRiskThreshold
      failingThreshold
    }
  }
}`) as unknown as TypedDocumentString<SettingsTabUpdateHealthMutation, SettingsTabUpdateHealthMutationVariables>;