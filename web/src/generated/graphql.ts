/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
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

export type CreateMonitoringBatchInput = {
  deploymentId: string;
  /** At most 10,000 characters. */
  description?: string | null | undefined;
  /** An absolute http(s) URL. */
  externalUrl?: string | null | undefined;
  /** Trimmed; 1–512 characters. */
  name: string;
};

export type FeatureType =
  | 'CATEGORICAL'
  | 'NUMERIC';

export type HealthStatus =
  | 'AT_RISK'
  | 'FAILING'
  | 'PASSING'
  | 'UNKNOWN';

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

export type UpdateMonitoringBatchInput = {
  description?: string | null | undefined;
  externalUrl?: string | null | undefined;
  id: string;
  name?: string | null | undefined;
};

export type UserRole =
  | 'ADMIN'
  | 'MEMBER';

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

export type DeploymentsInventoryQueryVariables = Exact<{
  search?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type DeploymentsInventoryQuery = { deployments: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, label: string, targetType: TargetType, batchMonitoringEnabled: boolean, health: { service: { status: HealthStatus, reason: string }, drift: { status: HealthStatus, reason: string }, accuracy: { status: HealthStatus, reason: string } }, activity: Array<{ day: string, predictionCount: number }> } }> } };

export type InventoryDeploymentFragment = { id: string, label: string, targetType: TargetType, batchMonitoringEnabled: boolean, health: { service: { status: HealthStatus, reason: string }, drift: { status: HealthStatus, reason: string }, accuracy: { status: HealthStatus, reason: string } }, activity: Array<{ day: string, predictionCount: number }> };

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