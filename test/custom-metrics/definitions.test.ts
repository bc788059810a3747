import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateCustomMetricDocument,
  CustomMetricDocument,
  CustomMetricNodeDocument,
  DeleteCustomMetricDocument,
  DeploymentCustomMetricsDocument,
  UpdateCustomMetricDocument,
} from '../generated/graphql.js';
import { createMetric, customMetricPath, report, storedValues } from '../helpers/custom-metrics.js';
import { createBatch, createTenant } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Custom metric definitions over GraphQL (C8): the same service as the REST routes, with typed
// result unions — created, read (by id, as a node, on its deployment), changed, deleted.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('createCustomMetric', () => {
  it('creates a metric, readable by id, as a node, on its deployment (oldest first) and over REST', async () => {
    const { token, deploymentId, adminId } = await createTenant(server);
    const first = await createMetric(server, deploymentId, { name: 'first' }, token);
    const created = await server.op(
      CreateCustomMetricDocument,
      {
        input: {
          deploymentId,
          name: '  Revenue ',
          units: 'USD',
          type: 'GAUGE',
          directionality: 'LOWER_IS_BETTER',
          isModelSpecific: true,
          baselineValue: 2.5,
          description: 'money in',
          timeStep: 'day',
        },
      },
      token,
    );
    expect(created.createCustomMetric).toMatchObject({
      __typename: 'CreateCustomMetricSuccess',
      customMetric: {
        name: 'Revenue',
        units: 'USD',
        type: 'GAUGE',
        directionality: 'LOWER_IS_BETTER',
        isModelSpecific: true,
        baselineValue: 2.5,
        description: 'money in',
        timeStep: 'day',
        createdBy: { id: adminId },
        deployment: { id: deploymentId },
      },
    });
    if (created.createCustomMetric.__typename !== 'CreateCustomMetricSuccess') throw new Error('not created');
    const metric = created.createCustomMetric.customMetric;
    expect((await server.op(CustomMetricDocument, { id: metric.id }, token)).customMetric).toEqual(metric);
    expect((await server.op(CustomMetricNodeDocument, { id: metric.id }, token)).node).toEqual({ id: metric.id, name: 'Revenue' });
    const { deployment } = await server.op(DeploymentCustomMetricsDocument, { id: deploymentId }, token);
    expect(deployment!.customMetrics.map((m) => m.id)).toEqual([first.id, metric.id]);
    const rest = await server.rest('GET', customMetricPath(deploymentId, metric.id), { token });
    expect(rest.json).toMatchObject({ type: 'gauge', directionality: 'lowerIsBetter', baselineValues: [{ value: 2.5 }], timeStep: 'day' });
    expect(first).toMatchObject({ timeStep: 'hour', description: '', baselineValue: null });
  });

  it('refuses bad fields by name (ValidationError) and a taken name (ConflictError)', async () => {
    const { token, deploymentId } = await createTenant(server);
    await createMetric(server, deploymentId, { name: 'taken' }, token);
    const base = { deploymentId, type: 'SUM', directionality: 'HIGHER_IS_BETTER', isModelSpecific: false } as const;
    const bad = await server.op(CreateCustomMetricDocument, { input: { ...base, name: '', units: 'u'.repeat(256), timeStep: ' ' } }, token);
    expect(bad.createCustomMetric).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [
        { field: 'name', message: 'must not be empty' },
        { field: 'units', message: 'must be at most 255 characters' },
        { field: 'timeStep', message: 'must not be empty' },
      ],
    });
    const taken = await server.op(CreateCustomMetricDocument, { input: { ...base, name: 'taken', units: 'x' } }, token);
    expect(taken.createCustomMetric).toEqual({
      __typename: 'ConflictError',
      message: 'A custom metric named "taken" already exists on this deployment',
      field: 'name',
    });
  });
});

describe('updateCustomMetric', () => {
  it('changes only what is given; baselineValue null removes the baseline; a taken name is a ConflictError', async () => {
    const { token, deploymentId } = await createTenant(server);
    const metric = await createMetric(server, deploymentId, { name: 'a', baselineValue: 1, description: 'd' }, token);
    await createMetric(server, deploymentId, { name: 'b' }, token);
    const update = async (input: Record<string, unknown>) =>
      (await server.op(UpdateCustomMetricDocument, { input: { id: metric.id, ...input } }, token)).updateCustomMetric;
    expect(await update({ units: 'ms', directionality: 'LOWER_IS_BETTER' })).toMatchObject({
      customMetric: { name: 'a', units: 'ms', directionality: 'LOWER_IS_BETTER', baselineValue: 1, description: 'd' },
    });
    expect(await update({ baselineValue: null, description: null })).toMatchObject({
      customMetric: { baselineValue: null, description: '' },
    });
    expect(await update({ name: 'b' })).toMatchObject({ __typename: 'ConflictError', field: 'name' });
    expect(await update({ name: null })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'name', message: 'must not be null' }],
    });
    expect(await update({ type: 'GAUGE' })).toMatchObject({ customMetric: { type: 'GAUGE', name: 'a' } });
    const batch = await createBatch(server, deploymentId, 'b', token);
    await report(server, metric.id, [{ value: 1, batchId: batch.id }], { token });
    expect(await update({ type: 'SUM' })).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'type' }] });
    expect(await update({ isModelSpecific: true })).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'isModelSpecific' }],
    });
  });
});

describe('deleteCustomMetric', () => {
  it('deletes the metric and its values; a second delete is a NotFoundError', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createBatch(server, deploymentId, 'b', token);
    const metric = await createMetric(server, deploymentId, {}, token);
    await report(server, metric.id, [{ value: 3, batchId: batch.id }], { token });
    expect((await server.op(DeleteCustomMetricDocument, { id: metric.id }, token)).deleteCustomMetric).toEqual({
      __typename: 'DeleteCustomMetricSuccess',
      deletedCustomMetricId: metric.id,
    });
    expect(await storedValues(server, metric.id)).toEqual([]);
    expect((await server.op(CustomMetricDocument, { id: metric.id }, token)).customMetric).toBeNull();
    expect((await server.op(DeleteCustomMetricDocument, { id: metric.id }, token)).deleteCustomMetric).toEqual({
      __typename: 'NotFoundError',
      message: 'Custom metric not found',
      resource: 'CustomMetric',
    });
  });
});
