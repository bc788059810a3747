/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
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