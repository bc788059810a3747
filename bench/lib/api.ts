import { randomBytes } from 'node:crypto';

/** A GraphQL request that must succeed; returns `data`. */
export async function graphql<T = Record<string, unknown>>(url: string, token: string, query: string, variables?: unknown): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!response.ok || body.errors?.length || !body.data) throw new Error(`GraphQL failed (${response.status}): ${JSON.stringify(body)}`);
  return body.data;
}

/** Results are unions; anything but the expected success type is an error. */
function success<T>(result: { __typename: string } & Record<string, unknown>, typename: string): T {
  if (result.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(result)}`);
  return result as T;
}

const suffix = () => randomBytes(4).toString('hex');
const ERROR_FIELDS = `... on Error { message } ... on ValidationError { fieldErrors { field message } }`;

/** A new organization with no daily batch limit; returns its admin's token. */
export async function createOrganization(
  url: string,
  adminToken: string,
  name = `bench ${suffix()}`,
): Promise<{ id: string; token: string }> {
  const data = await graphql<{ createOrganization: { __typename: string } }>(
    url,
    adminToken,
    `mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename
      ... on CreateOrganizationSuccess { organization { id } secret } ${ERROR_FIELDS} } }`,
    { input: { name, dailyBatchLimit: null } },
  );
  const ok = success<{ organization: { id: string }; secret: string }>(data.createOrganization, 'CreateOrganizationSuccess');
  return { id: ok.organization.id, token: ok.secret };
}

export interface FeatureSpec {
  name: string;
  type: 'NUMERIC' | 'CATEGORICAL';
}

export interface CreatedDeployment {
  id: string;
  modelId: string;
}

export async function createDeployment(
  url: string,
  token: string,
  input: {
    features: FeatureSpec[];
    targetType?: 'REGRESSION' | 'BINARY' | 'MULTICLASS';
    classNames?: string[];
    positiveClass?: string;
    label?: string;
    /** The deployment's model backend (CreateDeploymentInput.modelBackend), for jobs and real-time scoring. */
    modelBackend?: { protocol: 'OPEN_INFERENCE_V2' | 'MLFLOW'; url: string; modelName?: string; timeoutMs?: number };
  },
): Promise<CreatedDeployment> {
  const data = await graphql<{ createDeployment: { __typename: string } }>(
    url,
    token,
    `mutation ($input: CreateDeploymentInput!) { createDeployment(input: $input) { __typename
      ... on CreateDeploymentSuccess { deployment { id modelId } } ${ERROR_FIELDS} } }`,
    {
      input: {
        label: input.label ?? `bench deployment ${suffix()}`,
        targetType: input.targetType ?? 'REGRESSION',
        targetName: 'target',
        batchMonitoringEnabled: true,
        features: input.features,
        ...(input.classNames ? { classNames: input.classNames } : {}),
        ...(input.positiveClass ? { positiveClass: input.positiveClass } : {}),
        ...(input.modelBackend ? { modelBackend: input.modelBackend } : {}),
      },
    },
  );
  return success<{ deployment: CreatedDeployment }>(data.createDeployment, 'CreateDeploymentSuccess').deployment;
}

export async function createBatch(
  url: string,
  token: string,
  deploymentId: string,
  name = `bench batch ${suffix()}`,
): Promise<{ id: string; name: string }> {
  const data = await graphql<{ createMonitoringBatch: { __typename: string } }>(
    url,
    token,
    `mutation ($input: CreateMonitoringBatchInput!) { createMonitoringBatch(input: $input) { __typename
      ... on CreateMonitoringBatchSuccess { batch { id name } } ${ERROR_FIELDS} } }`,
    { input: { deploymentId, name } },
  );
  return success<{ batch: { id: string; name: string } }>(data.createMonitoringBatch, 'CreateMonitoringBatchSuccess').batch;
}
