import {
  CreateDeploymentDocument,
  type CreateDeploymentInput,
  CreateMonitoringBatchDocument,
  CreateOrganizationDocument,
  CreateUserDocument,
  type UserRole,
} from '../generated/graphql.js';
import { type Endpoint, runOperation } from './graphql.js';

// What most tests start from, made through the public GraphQL API of any running server.

let counter = 0;
const unique = (prefix: string) => `${prefix} ${++counter} ${Math.random().toString(36).slice(2, 8)}`;

/** Well-formed ids nobody has, and the REST answers for them (a foreign id must answer the same). */
export const MISSING_DEPLOYMENT = 'dep_000000000000000000000000';
export const MISSING_BATCH = 'mb_000000000000000000000000';
export const DEPLOYMENT_NOT_FOUND = { message: 'Deployment not found' };
export const BATCH_NOT_FOUND = { message: 'Monitoring batch not found' };

/** A new tenant; returns its admin's token and ids. */
export async function createOrganization(server: Endpoint, dailyBatchLimit: number | null = 100) {
  const data = await runOperation(server, CreateOrganizationDocument, { input: { name: unique('org'), dailyBatchLimit } });
  if (data.createOrganization.__typename !== 'CreateOrganizationSuccess') throw new Error(JSON.stringify(data));
  return {
    token: data.createOrganization.secret,
    organizationId: data.createOrganization.organization.id,
    adminId: data.createOrganization.admin.id,
  };
}

/** A regression deployment (features age and city) with batch monitoring on, unless overridden. */
export async function createDeployment(server: Endpoint, token = server.adminToken, input: Partial<CreateDeploymentInput> = {}) {
  const data = await runOperation(
    server,
    CreateDeploymentDocument,
    {
      input: {
        label: unique('deployment'),
        targetType: 'REGRESSION',
        targetName: 'price',
        batchMonitoringEnabled: true,
        features: [
          { name: 'age', type: 'NUMERIC', importance: 0.8 },
          { name: 'city', type: 'CATEGORICAL', importance: 0.2 },
        ],
        ...input,
      },
    },
    token,
  );
  if (data.createDeployment.__typename !== 'CreateDeploymentSuccess') throw new Error(JSON.stringify(data));
  return data.createDeployment.deployment;
}

/** A binary deployment: classes no / yes, positive yes, threshold 0.5 unless overridden. */
export function createBinaryDeployment(server: Endpoint, token = server.adminToken, input: Partial<CreateDeploymentInput> = {}) {
  return createDeployment(server, token, {
    targetType: 'BINARY',
    targetName: 'churn',
    classNames: ['no', 'yes'],
    positiveClass: 'yes',
    predictionThreshold: 0.5,
    ...input,
  });
}

/** A multiclass deployment over the given classes. */
export function createMulticlassDeployment(server: Endpoint, classNames: string[], token = server.adminToken) {
  return createDeployment(server, token, { targetType: 'MULTICLASS', targetName: 'animal', classNames });
}

/** A new organization with one batch-enabled deployment: what most REST tests need. */
export async function createTenant(server: Endpoint, dailyBatchLimit: number | null = 100) {
  const org = await createOrganization(server, dailyBatchLimit);
  const deployment = await createDeployment(server, org.token);
  return { ...org, deploymentId: deployment.id };
}

export async function createBatch(server: Endpoint, deploymentId: string, name = unique('batch'), token = server.adminToken) {
  const data = await runOperation(server, CreateMonitoringBatchDocument, { input: { deploymentId, name } }, token);
  if (data.createMonitoringBatch.__typename !== 'CreateMonitoringBatchSuccess') throw new Error(JSON.stringify(data));
  return data.createMonitoringBatch.batch;
}

/** Another user of the token's organization; returns the user and the user's own token. */
export async function createUser(server: Endpoint, token: string, name: string, role?: UserRole) {
  const data = await runOperation(server, CreateUserDocument, { input: { name, ...(role ? { role } : {}) } }, token);
  if (data.createUser.__typename !== 'CreateUserSuccess') throw new Error(JSON.stringify(data));
  return { id: data.createUser.user.id, name: data.createUser.user.name, secret: data.createUser.secret };
}
