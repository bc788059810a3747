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

/** Which batches to merge: `batchIds` (ids of other deployments or organizations are left out) or `last` (the N most recent). Optionally one model. */
export type BatchSelection = {
  batchIds?: Array<string> | null | undefined;
  /** The N most recent batches (1–10000). */
  last?: number | null | undefined;
  /** Only what this model scored. */
  modelId?: string | null | undefined;
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

/** PSI = Σ (a − e)·ln(a/e) and KL divergence = Σ a·ln(a/e) (current ‖ baseline), both after replacing zero shares by 0.0001; Jensen–Shannon divergence with log base 2 (0…1); Hellinger distance √(½ Σ (√a − √e)²) (0…1). Shares are over the baseline bins plus missing. */
export type DriftMetric =
  | 'HELLINGER'
  | 'JS_DIVERGENCE'
  | 'KL_DIVERGENCE'
  | 'PSI';

export type FeatureType =
  | 'CATEGORICAL'
  | 'NUMERIC';

export type HealthStatus =
  | 'AT_RISK'
  | 'FAILING'
  | 'PASSING'
  | 'UNKNOWN';

export type TargetType =
  | 'BINARY'
  | 'MULTICLASS'
  | 'REGRESSION';

export type UserRole =
  | 'ADMIN'
  | 'MEMBER';

export type ServiceHealthTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
}>;


export type ServiceHealthTabQuery = { deployment: { id: string, serviceHealth: { batchCount: number, totalPredictions: number, totalRequests: number, userErrorRate: number | null, serverErrorRate: number | null, numConsumers: number, executionTime: { count: number, median: number | null, p90: number | null } }, overBatches: Array<{ batch: { id: string, name: string }, serviceHealth: { totalPredictions: number, totalRequests: number, userErrorRate: number | null, serverErrorRate: number | null, executionTime: { median: number | null, p90: number | null } } }> } | null };

export type DriftBinsFragment = { bins: Array<{ label: string, share: number, count: number }> };

export type FeatureDriftFieldsFragment = { name: string, score: number | null, importance: number | null, sampleSize: number, isDrifted: boolean | null, baseline: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } };

export type DataDriftTabQueryVariables = Exact<{
  id: string;
  batches: BatchSelection;
  metric: DriftMetric;
}>;


export type DataDriftTabQuery = { deployment: { id: string, dataDrift: { batchCount: number, hasBaseline: boolean, driftThreshold: number, metric: DriftMetric, features: Array<{ name: string, score: number | null, importance: number | null, sampleSize: number, isDrifted: boolean | null, baseline: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } }>, target: { name: string, score: number | null, importance: number | null, sampleSize: number, isDrifted: boolean | null, baseline: { bins: Array<{ label: string, share: number, count: number }> }, current: { bins: Array<{ label: string, share: number, count: number }> } } | null }, overBatches: Array<{ batch: { id: string, name: string }, dataDrift: { features: Array<{ name: string, score: number | null }>, target: { score: number | null } | null } }> } | null };

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
  isDrifted
  baseline {
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
export const SelectorBatchFragmentDoc = new TypedDocumentString(`
    fragment SelectorBatch on MonitoringBatch {
  id
  name
  createdAt
  predictionCount
}
    `, {"fragmentName":"SelectorBatch"}) as unknown as TypedDocumentString<SelectorBatchFragment, unknown>;
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
    query DataDriftTab($id: ID!, $batches: BatchSelection!, $metric: DriftMetric!) {
  deployment(id: $id) {
    id
    dataDrift(batches: $batches, metric: $metric) {
      batchCount
      hasBaseline
      driftThreshold
      metric
      features {
        ...FeatureDriftFields
      }
      target {
        ...FeatureDriftFields
      }
    }
    overBatches(batches: $batches, metric: $metric) {
      batch {
        id
        name
      }
      dataDrift {
        features {
          name
          score
        }
        target {
          score
        }
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
  isDrifted
  baseline {
    ...DriftBins
  }
  current {
    ...DriftBins
  }
}`) as unknown as TypedDocumentString<DataDriftTabQuery, DataDriftTabQueryVariables>;
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