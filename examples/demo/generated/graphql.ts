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

export type ActualInput = {
  /** Regression: a number; classification: one of the class names. */
  actualValue: unknown;
  associationId: string;
  timestamp?: string | null | undefined;
  wasActedOn?: boolean | null | undefined;
};

export type BatchPredictionJobIntakeInput = {
  type: BatchPredictionJobIntakeType;
  /** Required for URL (an http(s) URL of a CSV file); omitted for LOCAL_FILE. */
  url?: string | null | undefined;
};

/** Where a job reads its input CSV. */
export type BatchPredictionJobIntakeType =
  /** Uploaded by the client: `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv), see `csvUploadPath`. */
  | 'LOCAL_FILE'
  /** Read by batchlens from an http(s) URL when the job starts. */
  | 'URL';

export type BatchPredictionJobPassthroughColumnsSet =
  /** Every input column is copied to the output. */
  | 'ALL';

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

export type ColumnNameRemappingInput = {
  /** An output column as batchlens names it. */
  inputName: string;
  /** Its new name; null or omitted leaves the column out of the output. */
  outputName?: string | null | undefined;
};

export type CreateBatchPredictionJobDefinitionInput = {
  /** The job settings, as for createBatchPredictionJob. */
  batchPredictionJob: CreateBatchPredictionJobInput;
  /** Run on the schedule. Default false. */
  enabled?: boolean | null | undefined;
  /** Unique in the organization; 1–100 characters. Default: one made from the id. */
  name?: string | null | undefined;
  schedule?: JobScheduleInput | null | undefined;
};

/** A job's settings, as DataRobot's Batch Prediction API names them; omitted ones take DataRobot's defaults. */
export type CreateBatchPredictionJobInput = {
  /** Default true: a chunk the model backend cannot score fails the job. */
  abortOnError?: boolean | null | undefined;
  /** `auto` (default), `fixed`, `dynamic`, or bytes of input per chunk (20–41943040) as a decimal number. */
  chunkSize?: string | null | undefined;
  /** Output columns to rename or leave out. */
  columnNamesRemapping?: Array<ColumnNameRemappingInput> | null | undefined;
  /** A deployment with batch monitoring on and a model backend. */
  deploymentId: string;
  /** Default false. */
  includePredictionStatus?: boolean | null | undefined;
  /** Default true. */
  includeProbabilities?: boolean | null | undefined;
  /** URL: batchlens reads the CSV when the job starts. LOCAL_FILE: the client then uploads the CSV with `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv, same bearer token; the path is the job's `csvUploadPath`), and the job starts once it is in. */
  intakeSettings: BatchPredictionJobIntakeInput;
  /** The run records into a new batch named `<prefix> - <UTC date time>`. */
  monitoringBatchPrefix?: string | null | undefined;
  /** Chunks scored at once, 1–32. Default 4. */
  numConcurrent?: number | null | undefined;
  /** Input columns copied to the output (at most 100). */
  passthroughColumns?: Array<string> | null | undefined;
  /** ALL copies every input column; not with passthroughColumns. */
  passthroughColumnsSet?: BatchPredictionJobPassthroughColumnsSet | null | undefined;
  /** Default false. */
  skipDriftTracking?: boolean | null | undefined;
};

export type CreateCustomMetricInput = {
  baselineValue?: number | null | undefined;
  deploymentId: string;
  /** At most 10,000 characters. */
  description?: string | null | undefined;
  directionality: CustomMetricDirectionality;
  isModelSpecific: boolean;
  /** Unique in the deployment; 1–255 characters. */
  name: string;
  /** DataRobot's time bucket size, stored only. Default `hour`. */
  timeStep?: string | null | undefined;
  type: CustomMetricType;
  /** The y-axis label; 1–255 characters. */
  units: string;
};

export type CreateDataExportInput = {
  deploymentId: string;
  format?: DataExportFormat;
  /** Add each prediction’s actual (value, timestamp, acted-upon flag). */
  includeActuals?: boolean;
  selection: BatchSelection;
};

export type CreateDeploymentInput = {
  /** The input column batch prediction jobs read association ids from. */
  associationIdColumn?: string | null | undefined;
  /** Default false. */
  batchMonitoringEnabled?: boolean | null | undefined;
  /** Binary: exactly 2; multiclass: 2 or more; regression: none. */
  classNames?: Array<string> | null | undefined;
  description?: string | null | undefined;
  features?: Array<FeatureInput> | null | undefined;
  /** 1–512 characters. */
  label: string;
  /** Organization admins only. */
  modelBackend?: ModelBackendInput | null | undefined;
  /** The current model id; generated when omitted. */
  modelId?: string | null | undefined;
  /** Binary only: one of classNames. */
  positiveClass?: string | null | undefined;
  /** Binary only, 0–1. Default 0.5. */
  predictionThreshold?: number | null | undefined;
  targetName: string;
  targetType: TargetType;
};

export type CustomMetricBucketInput = {
  /** Accepted for DataRobot compatibility; not stored. */
  associationId?: string | null | undefined;
  batchId: string;
  /** 1 to 1000000000; default 1. Weighs the value of an AVERAGE metric. */
  sampleSize?: number | null | undefined;
  /** Default: now. The latest is a GAUGE metric’s value. */
  timestamp?: string | null | undefined;
  value: number;
};

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

export type FeatureInput = {
  /** 0–1. */
  importance?: number | null | undefined;
  name: string;
  type: FeatureType;
};

export type FeatureType =
  | 'CATEGORICAL'
  | 'NUMERIC';

export type HttpHeaderInput = {
  name: string;
  value: string;
};

/** Each field a list of values; omitted or null = every value ("*" in DataRobot's schedule). */
export type JobScheduleInput = {
  /** 1–31. */
  dayOfMonth?: Array<number> | null | undefined;
  /** 0 (Sunday) – 6. */
  dayOfWeek?: Array<number> | null | undefined;
  /** 0–23. */
  hour?: Array<number> | null | undefined;
  /** 0–59. */
  minute?: Array<number> | null | undefined;
  /** 1–12. */
  month?: Array<number> | null | undefined;
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

export type PredictionRowInput = {
  /** Joins the prediction to its actual; unique within the deployment. */
  associationId?: string | null | undefined;
  /** Feature name → value. Unknown names are ignored and listed in the answer. */
  features?: unknown;
  /** Regression: the predicted value. Binary: the probability of the positive class (instead of probabilities). */
  prediction?: number | null | undefined;
  /** Classification: one probability per class, in the deployment's classNames order, summing to 1. */
  probabilities?: Array<number> | null | undefined;
  /** When the prediction was made; default: when it is received. */
  timestamp?: string | null | undefined;
};

export type ReportCustomMetricValuesInput = {
  buckets: Array<CustomMetricBucketInput>;
  /** Check everything, store nothing. */
  dryRun?: boolean | null | undefined;
  metricId: string;
  /** For a model-specific metric: the model the values are of (default: the deployment's current model). Ignored otherwise. */
  modelId?: string | null | undefined;
};

export type ServiceHealthSettingsInput = {
  /** One of 1, 5, 10, 50, 100, 1000, 10000. */
  batchCount?: number | null | undefined;
  errorRateAtRisk?: number | null | undefined;
  errorRateFailing?: number | null | undefined;
};

export type SetTrainingBaselineInput = {
  deploymentId: string;
  rows: Array<PredictionRowInput>;
};

export type SubmitActualsInput = {
  actuals: Array<ActualInput>;
  deploymentId: string;
};

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

export type UpdateBatchPredictionJobDefinitionInput = {
  /** New job settings; its optional settings left out keep their stored value. */
  batchPredictionJob?: CreateBatchPredictionJobInput | null | undefined;
  enabled?: boolean | null | undefined;
  id: string;
  name?: string | null | undefined;
  schedule?: JobScheduleInput | null | undefined;
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

type DemoError_BatchLockedError_Fragment = { __typename: 'BatchLockedError', message: string };

type DemoError_BatchMonitoringDisabledError_Fragment = { __typename: 'BatchMonitoringDisabledError', message: string };

type DemoError_BatchNotSealedError_Fragment = { __typename: 'BatchNotSealedError', message: string };

type DemoError_BatchQuotaExceededError_Fragment = { __typename: 'BatchQuotaExceededError', message: string };

type DemoError_ConflictError_Fragment = { __typename: 'ConflictError', message: string };

type DemoError_ForbiddenError_Fragment = { __typename: 'ForbiddenError', message: string };

type DemoError_JobStateError_Fragment = { __typename: 'JobStateError', message: string };

type DemoError_ModelBackendError_Fragment = { __typename: 'ModelBackendError', message: string };

type DemoError_NotFoundError_Fragment = { __typename: 'NotFoundError', message: string };

type DemoError_ValidationError_Fragment = { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> };

export type DemoErrorFragment =
  | DemoError_BatchLockedError_Fragment
  | DemoError_BatchMonitoringDisabledError_Fragment
  | DemoError_BatchNotSealedError_Fragment
  | DemoError_BatchQuotaExceededError_Fragment
  | DemoError_ConflictError_Fragment
  | DemoError_ForbiddenError_Fragment
  | DemoError_JobStateError_Fragment
  | DemoError_ModelBackendError_Fragment
  | DemoError_NotFoundError_Fragment
  | DemoError_ValidationError_Fragment
;

export type DemoViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type DemoViewerQuery = { viewer: { id: string, name: string, role: UserRole } };

export type DemoDeploymentsQueryVariables = Exact<{
  search?: string | null | undefined;
}>;


export type DemoDeploymentsQuery = { deployments: { edges: Array<{ node: { id: string, label: string } }> } };

export type DemoCreateDeploymentMutationVariables = Exact<{
  input: CreateDeploymentInput;
}>;


export type DemoCreateDeploymentMutation = { createDeployment:
    | { deployment: { id: string, label: string } }
    | { __typename: 'ForbiddenError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoUpdateDeploymentSettingsMutationVariables = Exact<{
  input: UpdateDeploymentSettingsInput;
}>;


export type DemoUpdateDeploymentSettingsMutation = { updateDeploymentSettings:
    | { __typename: 'ForbiddenError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { deployment: { id: string, modelBackend: { protocol: ModelBackendProtocol, url: string, modelName: string | null } | null } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoUpdateHealthSettingsMutationVariables = Exact<{
  input: UpdateHealthSettingsInput;
}>;


export type DemoUpdateHealthSettingsMutation = { updateHealthSettings:
    | { __typename: 'NotFoundError', message: string }
    | { deployment: { id: string } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoCheckModelBackendMutationVariables = Exact<{
  deploymentId: string;
}>;


export type DemoCheckModelBackendMutation = { checkModelBackend:
    | { ready: boolean, backend: string, problems: Array<string> }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'NotFoundError', message: string }
   };

export type DemoSetTrainingBaselineMutationVariables = Exact<{
  input: SetTrainingBaselineInput;
}>;


export type DemoSetTrainingBaselineMutation = { setTrainingBaseline:
    | { __typename: 'NotFoundError', message: string }
    | { baseline: { version: number, rowCount: number } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoCreateCustomMetricMutationVariables = Exact<{
  input: CreateCustomMetricInput;
}>;


export type DemoCreateCustomMetricMutation = { createCustomMetric:
    | { __typename: 'ConflictError', message: string }
    | { customMetric: { id: string, name: string } }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoCreateJobDefinitionMutationVariables = Exact<{
  input: CreateBatchPredictionJobDefinitionInput;
}>;


export type DemoCreateJobDefinitionMutation = { createBatchPredictionJobDefinition:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'ConflictError', message: string }
    | { definition: { id: string, name: string, nextScheduledRunTime: string | null } }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoUpdateJobDefinitionMutationVariables = Exact<{
  input: UpdateBatchPredictionJobDefinitionInput;
}>;


export type DemoUpdateJobDefinitionMutation = { updateBatchPredictionJobDefinition:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'ConflictError', message: string }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { definition: { id: string, enabled: boolean } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoRunJobDefinitionMutationVariables = Exact<{
  id: string;
}>;


export type DemoRunJobDefinitionMutation = { runBatchPredictionJobDefinition:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'ModelBackendError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { jobId: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoJobQueryVariables = Exact<{
  id: string;
}>;


export type DemoJobQuery = { batchPredictionJob: { id: string, status: BatchPredictionJobStatus, statusDetails: string, scoredRows: number, failedRows: number, monitoringBatch: { id: string, name: string } | null } | null };

export type DemoRenameBatchMutationVariables = Exact<{
  input: UpdateMonitoringBatchInput;
}>;


export type DemoRenameBatchMutation = { updateMonitoringBatch:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { batch: { id: string, name: string } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoBatchModelHistoryMutationVariables = Exact<{
  input: UpdateBatchModelHistoryInput;
}>;


export type DemoBatchModelHistoryMutation = { updateBatchModelHistory:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { batch: { id: string } }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoSubmitActualsMutationVariables = Exact<{
  input: SubmitActualsInput;
}>;


export type DemoSubmitActualsMutation = { submitActuals:
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { acceptedCount: number, matchedCount: number, unmatchedAssociationIds: Array<string> }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoReportCustomMetricMutationVariables = Exact<{
  input: ReportCustomMetricValuesInput;
}>;


export type DemoReportCustomMetricMutation = { reportCustomMetricValues:
    | { __typename: 'BatchLockedError', message: string }
    | { __typename: 'BatchMonitoringDisabledError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { sampleCount: number }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoBatchAccuracyQueryVariables = Exact<{
  deploymentId: string;
  batchId: string;
}>;


export type DemoBatchAccuracyQuery = { deployment: { id: string, accuracy: { accuracy: number | null, predictionsWithActuals: number } } | null };

export type DemoCreateDataExportMutationVariables = Exact<{
  input: CreateDataExportInput;
}>;


export type DemoCreateDataExportMutation = { createDataExport:
    | { export: { id: string } }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'ValidationError', message: string, fieldErrors: Array<{ field: string, message: string }> }
   };

export type DemoDataExportQueryVariables = Exact<{
  id: string;
}>;


export type DemoDataExportQuery = { dataExport: { id: string, status: DataExportStatus, error: string | null, rowCount: number | null, sizeBytes: number | null } | null };

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
export const DemoErrorFragmentDoc = new TypedDocumentString(`
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}
    `, {"fragmentName":"DemoError"}) as unknown as TypedDocumentString<DemoErrorFragment, unknown>;
export const DemoViewerDocument = new TypedDocumentString(`
    query DemoViewer {
  viewer {
    id
    name
    role
  }
}
    `) as unknown as TypedDocumentString<DemoViewerQuery, DemoViewerQueryVariables>;
export const DemoDeploymentsDocument = new TypedDocumentString(`
    query DemoDeployments($search: String) {
  deployments(first: 50, search: $search) {
    edges {
      node {
        id
        label
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DemoDeploymentsQuery, DemoDeploymentsQueryVariables>;
export const DemoCreateDeploymentDocument = new TypedDocumentString(`
    mutation DemoCreateDeployment($input: CreateDeploymentInput!) {
  createDeployment(input: $input) {
    ... on CreateDeploymentSuccess {
      deployment {
        id
        label
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoCreateDeploymentMutation, DemoCreateDeploymentMutationVariables>;
export const DemoUpdateDeploymentSettingsDocument = new TypedDocumentString(`
    mutation DemoUpdateDeploymentSettings($input: UpdateDeploymentSettingsInput!) {
  updateDeploymentSettings(input: $input) {
    ... on UpdateDeploymentSettingsSuccess {
      deployment {
        id
        modelBackend {
          protocol
          url
          modelName
        }
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoUpdateDeploymentSettingsMutation, DemoUpdateDeploymentSettingsMutationVariables>;
export const DemoUpdateHealthSettingsDocument = new TypedDocumentString(`
    mutation DemoUpdateHealthSettings($input: UpdateHealthSettingsInput!) {
  updateHealthSettings(input: $input) {
    ... on UpdateHealthSettingsSuccess {
      deployment {
        id
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoUpdateHealthSettingsMutation, DemoUpdateHealthSettingsMutationVariables>;
export const DemoCheckModelBackendDocument = new TypedDocumentString(`
    mutation DemoCheckModelBackend($deploymentId: ID!) {
  checkModelBackend(deploymentId: $deploymentId) {
    ... on ModelBackendCheck {
      ready
      backend
      problems
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoCheckModelBackendMutation, DemoCheckModelBackendMutationVariables>;
export const DemoSetTrainingBaselineDocument = new TypedDocumentString(`
    mutation DemoSetTrainingBaseline($input: SetTrainingBaselineInput!) {
  setTrainingBaseline(input: $input) {
    ... on SetTrainingBaselineSuccess {
      baseline {
        version
        rowCount
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoSetTrainingBaselineMutation, DemoSetTrainingBaselineMutationVariables>;
export const DemoCreateCustomMetricDocument = new TypedDocumentString(`
    mutation DemoCreateCustomMetric($input: CreateCustomMetricInput!) {
  createCustomMetric(input: $input) {
    ... on CreateCustomMetricSuccess {
      customMetric {
        id
        name
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoCreateCustomMetricMutation, DemoCreateCustomMetricMutationVariables>;
export const DemoCreateJobDefinitionDocument = new TypedDocumentString(`
    mutation DemoCreateJobDefinition($input: CreateBatchPredictionJobDefinitionInput!) {
  createBatchPredictionJobDefinition(input: $input) {
    ... on CreateBatchPredictionJobDefinitionSuccess {
      definition {
        id
        name
        nextScheduledRunTime
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoCreateJobDefinitionMutation, DemoCreateJobDefinitionMutationVariables>;
export const DemoUpdateJobDefinitionDocument = new TypedDocumentString(`
    mutation DemoUpdateJobDefinition($input: UpdateBatchPredictionJobDefinitionInput!) {
  updateBatchPredictionJobDefinition(input: $input) {
    ... on UpdateBatchPredictionJobDefinitionSuccess {
      definition {
        id
        enabled
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoUpdateJobDefinitionMutation, DemoUpdateJobDefinitionMutationVariables>;
export const DemoRunJobDefinitionDocument = new TypedDocumentString(`
    mutation DemoRunJobDefinition($id: ID!) {
  runBatchPredictionJobDefinition(id: $id) {
    ... on RunBatchPredictionJobDefinitionSuccess {
      jobId
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoRunJobDefinitionMutation, DemoRunJobDefinitionMutationVariables>;
export const DemoJobDocument = new TypedDocumentString(`
    query DemoJob($id: ID!) {
  batchPredictionJob(id: $id) {
    id
    status
    statusDetails
    scoredRows
    failedRows
    monitoringBatch {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<DemoJobQuery, DemoJobQueryVariables>;
export const DemoRenameBatchDocument = new TypedDocumentString(`
    mutation DemoRenameBatch($input: UpdateMonitoringBatchInput!) {
  updateMonitoringBatch(input: $input) {
    ... on UpdateMonitoringBatchSuccess {
      batch {
        id
        name
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoRenameBatchMutation, DemoRenameBatchMutationVariables>;
export const DemoBatchModelHistoryDocument = new TypedDocumentString(`
    mutation DemoBatchModelHistory($input: UpdateBatchModelHistoryInput!) {
  updateBatchModelHistory(input: $input) {
    ... on UpdateBatchModelHistorySuccess {
      batch {
        id
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoBatchModelHistoryMutation, DemoBatchModelHistoryMutationVariables>;
export const DemoSubmitActualsDocument = new TypedDocumentString(`
    mutation DemoSubmitActuals($input: SubmitActualsInput!) {
  submitActuals(input: $input) {
    ... on SubmitActualsSuccess {
      acceptedCount
      matchedCount
      unmatchedAssociationIds
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoSubmitActualsMutation, DemoSubmitActualsMutationVariables>;
export const DemoReportCustomMetricDocument = new TypedDocumentString(`
    mutation DemoReportCustomMetric($input: ReportCustomMetricValuesInput!) {
  reportCustomMetricValues(input: $input) {
    ... on ReportCustomMetricValuesSuccess {
      sampleCount
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoReportCustomMetricMutation, DemoReportCustomMetricMutationVariables>;
export const DemoBatchAccuracyDocument = new TypedDocumentString(`
    query DemoBatchAccuracy($deploymentId: ID!, $batchId: ID!) {
  deployment(id: $deploymentId) {
    id
    accuracy(batches: {batchIds: [$batchId]}) {
      accuracy
      predictionsWithActuals
    }
  }
}
    `) as unknown as TypedDocumentString<DemoBatchAccuracyQuery, DemoBatchAccuracyQueryVariables>;
export const DemoCreateDataExportDocument = new TypedDocumentString(`
    mutation DemoCreateDataExport($input: CreateDataExportInput!) {
  createDataExport(input: $input) {
    ... on CreateDataExportSuccess {
      export {
        id
      }
    }
    ...DemoError
  }
}
    fragment DemoError on Error {
  __typename
  message
  ... on ValidationError {
    fieldErrors {
      field
      message
    }
  }
}`) as unknown as TypedDocumentString<DemoCreateDataExportMutation, DemoCreateDataExportMutationVariables>;
export const DemoDataExportDocument = new TypedDocumentString(`
    query DemoDataExport($id: ID!) {
  dataExport(id: $id) {
    id
    status
    error
    rowCount
    sizeBytes
  }
}
    `) as unknown as TypedDocumentString<DemoDataExportQuery, DemoDataExportQueryVariables>;