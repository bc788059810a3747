import {
  CreateDeploymentDocument,
  type CreateDeploymentInput,
  CreateMonitoringBatchDocument,
  CreateOrganizationDocument,
} from '../generated/graphql.js';
import type { TestServer } from './server.js';

let counter = 0;
const unique = (prefix: string) => `${prefix} ${++counter} ${Math.random().toString(36).slice(2, 8)}`;

/** A new tenant; returns its admin's token. */
/** Well-formed ids nobody has, and the REST answers for them (a foreign id must answer the same). */
export const MISSING_DEPLOYMENT = 'dep_000000000000000000000000';
export const MISSING_BATCH = 'mb_000000000000000000000000';
export const DEPLOYMENT_NOT_FOUND = { message: 'Deployment not found' };
export const BATCH_NOT_FOUND = { message: 'Monitoring batch not found' };

export async function createOrganization(server: TestServer, dailyBatchLimit: number | null = 100) {
  const data = await server.op(CreateOrganizationDocument, { input: { name: unique('org'), dailyBatchLimit } });
  if (data.createOrganization.__typename !== 'CreateOrganizationSuccess') throw new Error(JSON.stringify(data));
  return {
    token: data.createOrganization.secret,
    organizationId: data.createOrganization.organization.id,
    adminId: data.createOrganization.admin.id,
  };
}

/** A regression deployment with batch monitoring on, unless overridden. */
export async function createDeployment(server: TestServer, token = server.adminToken, input: Partial<CreateDeploymentInput> = {}) {
  const data = await server.op(
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

export async function createBatch(server: TestServer, deploymentId: string, name = unique('batch'), token = server.adminToken) {
  const data = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId, name } }, token);
  if (data.createMonitoringBatch.__typename !== 'CreateMonitoringBatchSuccess') throw new Error(JSON.stringify(data));
  return data.createMonitoringBatch.batch;
}
