import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateDeploymentDocument,
  type CreateDeploymentInput,
  CreateMonitoringBatchDocument,
  DeploymentDocument,
  DeploymentsDocument,
  NodeDocument,
  UpdateDeploymentSettingsDocument,
} from './generated/graphql.js';
import { createDeployment, createOrganization } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const binary: CreateDeploymentInput = {
  label: 'churn',
  targetType: 'BINARY',
  targetName: 'churned',
  classNames: ['no', 'yes'],
  positiveClass: 'yes',
  predictionThreshold: 0.4,
  features: [{ name: 'tenure', type: 'NUMERIC', importance: 1 }],
};

async function create(input: CreateDeploymentInput, token = server.adminToken) {
  return (await server.op(CreateDeploymentDocument, { input }, token)).createDeployment;
}

describe('creating a deployment', () => {
  it('stores every setting and starts with an empty quota', async () => {
    const result = await create({ ...binary, description: 'weekly churn', modelId: 'model-7', batchMonitoringEnabled: true });
    expect(result).toMatchObject({
      __typename: 'CreateDeploymentSuccess',
      deployment: {
        label: 'churn',
        description: 'weekly churn',
        targetType: 'BINARY',
        classNames: ['no', 'yes'],
        positiveClass: 'yes',
        predictionThreshold: 0.4,
        modelId: 'model-7',
        batchMonitoringEnabled: true,
        features: [{ name: 'tenure', type: 'NUMERIC', importance: 1 }],
        batchQuota: { used: 0, limit: null, remaining: null },
      },
    });
  });

  it('defaults: batch monitoring off, threshold 0.5, a generated model id', async () => {
    const result = await create({ label: 'plain', targetType: 'REGRESSION', targetName: 'y' });
    if (result.__typename !== 'CreateDeploymentSuccess') throw new Error(JSON.stringify(result));
    expect(result.deployment.batchMonitoringEnabled).toBe(false);
    expect(result.deployment.predictionThreshold).toBe(0.5);
    expect(result.deployment.modelId).toMatch(/^model_/);
  });

  const invalid: [string, CreateDeploymentInput, string][] = [
    ['an empty label', { ...binary, label: ' ' }, 'label'],
    ['a label over 512 characters', { ...binary, label: 'x'.repeat(513) }, 'label'],
    ['a binary target with 3 classes', { ...binary, classNames: ['a', 'b', 'c'], positiveClass: 'a' }, 'classNames'],
    ['a positive class not among the classes', { ...binary, positiveClass: 'maybe' }, 'positiveClass'],
    ['repeated class names', { ...binary, classNames: ['yes', 'yes'] }, 'classNames'],
    ['classes on a regression target', { label: 'r', targetType: 'REGRESSION', targetName: 'y', classNames: ['a', 'b'] }, 'classNames'],
    ['a multiclass target with one class', { label: 'm', targetType: 'MULTICLASS', targetName: 'y', classNames: ['a'] }, 'classNames'],
    ['a threshold above 1', { ...binary, predictionThreshold: 1.5 }, 'predictionThreshold'],
    [
      'a repeated feature name',
      {
        ...binary,
        features: [
          { name: 'a', type: 'NUMERIC' },
          { name: 'a', type: 'CATEGORICAL' },
        ],
      },
      'features.1.name',
    ],
    ['a feature importance below 0', { ...binary, features: [{ name: 'a', type: 'NUMERIC', importance: -0.1 }] }, 'features.0.importance'],
    ['an empty target name', { ...binary, targetName: '' }, 'targetName'],
  ];
  it.each(invalid)('refuses %s, naming the field', async (_what, input, field) => {
    const before = await server.sql`select count(*)::int as n from deployments`;
    const result = await create(input);
    expect(result.__typename).toBe('ValidationError');
    if (result.__typename !== 'ValidationError') return;
    expect(result.fieldErrors.map((e) => e.field)).toContain(field);
    expect(await server.sql`select count(*)::int as n from deployments`).toEqual(before);
  });
});

describe('deployment settings (C1)', () => {
  it('switches batch monitoring on and off, and batch creation follows the badge', async () => {
    const deployment = await createDeployment(server, server.adminToken, { batchMonitoringEnabled: false });
    const refused = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'b' } });
    expect(refused.createMonitoringBatch).toMatchObject({ __typename: 'BatchMonitoringDisabledError' });
    expect(refused.createMonitoringBatch.__typename === 'BatchMonitoringDisabledError' && refused.createMonitoringBatch.message).toMatch(
      /not enabled/,
    );

    const on = await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: true } });
    expect(on.updateDeploymentSettings).toMatchObject({ deployment: { batchMonitoringEnabled: true } });
    const created = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'b' } });
    expect(created.createMonitoringBatch.__typename).toBe('CreateMonitoringBatchSuccess');
    // A refused creation used no quota.
    expect((await server.op(DeploymentDocument, { id: deployment.id })).deployment?.batchQuota.used).toBe(1);
  });

  it('changes only the given fields; null description clears it; null label is refused', async () => {
    const deployment = await createDeployment(server, server.adminToken, { description: 'old' });
    const changed = await server.op(UpdateDeploymentSettingsDocument, {
      input: { deploymentId: deployment.id, modelId: 'model-2', description: null },
    });
    expect(changed.updateDeploymentSettings).toMatchObject({
      deployment: { modelId: 'model-2', description: null, label: deployment.label },
    });
    const nullLabel = await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, label: null } });
    expect(nullLabel.updateDeploymentSettings).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'label', message: 'must not be null' }],
    });
  });
});

describe('reading deployments', () => {
  it('pages newest first with totalCount and finds by label or exact id', async () => {
    const org = await createOrganization(server);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createDeployment(server, org.token, { label: `Fraud model ${i}` }));
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const page = (await server.op(DeploymentsDocument, { first: 2, after }, org.token)).deployments;
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(made.map((d) => d.id).reverse());
    const byLabel = (await server.op(DeploymentsDocument, { search: 'fraud MODEL 3' }, org.token)).deployments;
    expect(byLabel.edges.map((e) => e.node.id)).toEqual([made[3]!.id]);
    const byId = (await server.op(DeploymentsDocument, { search: made[1]!.id }, org.token)).deployments;
    expect(byId.edges.map((e) => e.node.id)).toEqual([made[1]!.id]);
  });

  it('refuses a page size over 100 and a forged cursor with a clear error, not a 500', async () => {
    // Hand-written on purpose: the literal page arguments are the bad input.
    const big = await server.graphql('{ deployments(first: 101) { totalCount } }');
    expect(big.status).toBe(200);
    expect(big.errors?.[0]).toMatchObject({ message: expect.stringContaining('first'), extensions: { code: 'BAD_USER_INPUT' } });
    const forged = await server.graphql('{ deployments(after: "nonsense") { totalCount } }');
    expect(forged.errors?.[0]).toMatchObject({ message: expect.stringContaining('after'), extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('tenancy', () => {
  it("answers another organization's deployment exactly like a missing one", async () => {
    const a = await createOrganization(server);
    const b = await createOrganization(server);
    const deployment = await createDeployment(server, a.token);
    const missing = 'dep_ffffffffffffffffffffffff';

    for (const id of [deployment.id, missing]) {
      expect((await server.op(DeploymentDocument, { id }, b.token)).deployment).toBeNull();
      expect((await server.op(NodeDocument, { id }, b.token)).node).toBeNull();
    }
    const foreign = await server.op(
      UpdateDeploymentSettingsDocument,
      { input: { deploymentId: deployment.id, label: 'mine now' } },
      b.token,
    );
    const absent = await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: missing, label: 'mine now' } }, b.token);
    expect(foreign).toEqual(absent);
    expect(foreign.updateDeploymentSettings).toMatchObject({ __typename: 'NotFoundError', message: 'Deployment not found' });
    const createForeign = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'x' } }, b.token);
    const createAbsent = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: missing, name: 'x' } }, b.token);
    expect(createForeign).toEqual(createAbsent);
    expect((await server.op(DeploymentsDocument, {}, b.token)).deployments.totalCount).toBe(0);
    expect((await server.op(DeploymentDocument, { id: deployment.id }, a.token)).deployment?.label).toBe(deployment.label);
  });

  it('resolves node(id) for a deployment of the own organization', async () => {
    const deployment = await createDeployment(server);
    expect((await server.op(NodeDocument, { id: deployment.id })).node).toMatchObject({
      __typename: 'Deployment',
      id: deployment.id,
      label: deployment.label,
    });
  });
});
