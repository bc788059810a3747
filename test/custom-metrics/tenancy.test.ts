import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchCustomMetricsDocument,
  CreateCustomMetricDocument,
  CustomMetricDocument,
  CustomMetricNodeDocument,
  CustomMetricSummaryDocument,
  CustomMetricValuesLiveDocument,
  DeleteCustomMetricDocument,
  DeploymentCustomMetricsDocument,
  ReportCustomMetricValuesDocument,
  UpdateCustomMetricDocument,
} from '../generated/graphql.js';
import {
  batchSummaryPath,
  createMetric,
  customMetricPath,
  customMetricsPath,
  fromJsonPath,
  MISSING_METRIC,
  metricBody,
  report,
  storedValues,
  valuesOverBatchPath,
} from '../helpers/custom-metrics.js';
import { createBatch, createDeployment, createTenant, MISSING_BATCH, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Organizations are tenants: another organization's deployment, metric or batch is answered exactly
// like an id that does not exist — on every route, query, mutation and the subscription — and
// nothing of it changes. A metric under another deployment of the same organization is missing too.

let server: TestServer;
let a: Awaited<ReturnType<typeof setupTenant>>;
let b: Awaited<ReturnType<typeof setupTenant>>;

/** A tenant with a deployment, a batch, and a metric with values in it. */
async function setupTenant() {
  const tenant = await createTenant(server);
  const batch = await createBatch(server, tenant.deploymentId, 'private', tenant.token);
  const metric = await createMetric(server, tenant.deploymentId, { name: 'secret', baselineValue: 1 }, tenant.token);
  await report(server, metric.id, [{ value: 42, sampleSize: 2, batchId: batch.id }], { token: tenant.token });
  return { ...tenant, batchId: batch.id, metricId: metric.id };
}

beforeAll(async () => {
  server = await startTestServer();
  a = await setupTenant();
  b = await setupTenant();
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

/** A's data as A sees it: compared before and after B's attempts. */
async function snapshotOfA() {
  return {
    metric: (await server.rest('GET', customMetricPath(a.deploymentId, a.metricId), { token: a.token })).json,
    values: await storedValues(server, a.metricId),
  };
}

/** Every REST route of a metric, as B sends them. */
function restRoutes(deploymentId: string, metricId: string, batchId: string) {
  const bucket = { buckets: [{ value: 1, batch: batchId }] };
  return [
    ['POST', customMetricsPath(deploymentId), metricBody({ name: 'mine' })],
    ['GET', customMetricsPath(deploymentId)],
    ['GET', customMetricPath(deploymentId, metricId)],
    ['PATCH', customMetricPath(deploymentId, metricId), { name: 'stolen' }],
    ['PATCH', customMetricPath(deploymentId, metricId), { bogus: true }],
    ['POST', fromJsonPath(deploymentId, metricId), bucket],
    ['POST', fromJsonPath(deploymentId, metricId), { buckets: 'not a list', extra: 1 }],
    ['GET', batchSummaryPath(deploymentId, metricId, `?batchId=${batchId}`)],
    ['GET', valuesOverBatchPath(deploymentId, metricId)],
    ['DELETE', customMetricPath(deploymentId, metricId)],
  ] as [string, string, unknown?][];
}

async function answers(routes: [string, string, unknown?][], token: string) {
  const out: { route: string; status: number; json: unknown }[] = [];
  for (const [method, path, body] of routes) {
    const { status, json } = await server.rest(method, path, { token, body });
    out.push({ route: method, status, json });
  }
  return out;
}

describe('REST routes', () => {
  it("answer another organization's deployment exactly like a missing one, on every route", async () => {
    const before = await snapshotOfA();
    const foreign = await answers(restRoutes(a.deploymentId, a.metricId, a.batchId), b.token);
    const missing = await answers(restRoutes(MISSING_DEPLOYMENT, a.metricId, a.batchId), b.token);
    expect(foreign).toEqual(missing);
    expect(foreign.every((answer) => answer.status === 404 && JSON.stringify(answer.json) === '{"message":"Deployment not found"}')).toBe(
      true,
    );
    expect(await snapshotOfA()).toEqual(before);
  });

  it("answer another organization's metric under one's own deployment, and a metric of another deployment, exactly like a missing one", async () => {
    const before = await snapshotOfA();
    const routes = (metricId: string) =>
      restRoutes(b.deploymentId, metricId, b.batchId).filter(
        ([method, path]) =>
          !(method === 'POST' && path.endsWith('customMetrics/')) && !(method === 'GET' && path.endsWith('customMetrics/')),
      );
    const foreign = await answers(routes(a.metricId), b.token);
    expect(foreign).toEqual(await answers(routes(MISSING_METRIC), b.token));
    expect(
      foreign.every((answer) => answer.status === 404 && JSON.stringify(answer.json) === '{"message":"Custom metric not found"}'),
    ).toBe(true);
    // Same organization, the metric's id under another of its deployments.
    const sibling = await createDeployment(server, a.token);
    const siblingRoutes = (metricId: string) => restRoutes(sibling.id, metricId, a.batchId).slice(2);
    expect(await answers(siblingRoutes(a.metricId), a.token)).toEqual(await answers(siblingRoutes(MISSING_METRIC), a.token));
    expect(await snapshotOfA()).toEqual(before);
  });

  it("refuses another organization's batch in a report exactly like a missing one, and leaves it out of a selection", async () => {
    const send = (batchId: string) =>
      server.rest('POST', fromJsonPath(b.deploymentId, b.metricId), { token: b.token, body: { buckets: [{ value: 1, batch: batchId }] } });
    const foreign = await send(a.batchId);
    expect(foreign.status).toBe(422);
    expect(foreign.json).toEqual((await send(MISSING_BATCH)).json);
    expect(foreign.json.errors).toEqual({ 'buckets.0.batch': 'is not a monitoring batch of this deployment' });
    const summary = (batchId: string) =>
      server.rest('GET', batchSummaryPath(b.deploymentId, b.metricId, `?batchId=${batchId}`), { token: b.token });
    expect((await summary(a.batchId)).json).toEqual((await summary(MISSING_BATCH)).json);
    expect((await summary(a.batchId)).json).toMatchObject({ batchCount: 0, metric: { value: null } });
    expect(await storedValues(server, a.metricId)).toEqual([expect.objectContaining({ bucket_count: 1, value_sum: 42 })]);
  });
});

describe('GraphQL', () => {
  it("answers another organization's metric, deployment and batch exactly like missing ones, in every query and mutation", async () => {
    const before = await snapshotOfA();
    const probes = async (ids: { deploymentId: string; metricId: string; batchId: string }) => [
      (await server.op(CustomMetricDocument, { id: ids.metricId }, b.token)).customMetric,
      (await server.op(CustomMetricNodeDocument, { id: ids.metricId }, b.token)).node,
      (await server.op(CustomMetricSummaryDocument, { id: ids.metricId, batches: { last: 5 } }, b.token)).customMetric,
      (await server.op(DeploymentCustomMetricsDocument, { id: ids.deploymentId }, b.token)).deployment,
      (await server.op(BatchCustomMetricsDocument, { id: ids.batchId }, b.token)).monitoringBatch,
      (await server.op(UpdateCustomMetricDocument, { input: { id: ids.metricId, name: 'stolen' } }, b.token)).updateCustomMetric,
      (await server.op(UpdateCustomMetricDocument, { input: { id: ids.metricId, name: '' } }, b.token)).updateCustomMetric,
      (
        await server.op(
          ReportCustomMetricValuesDocument,
          { input: { metricId: ids.metricId, buckets: [{ value: 1, batchId: ids.batchId }] } },
          b.token,
        )
      ).reportCustomMetricValues,
      (
        await server.op(
          CreateCustomMetricDocument,
          {
            input: {
              deploymentId: ids.deploymentId,
              name: 'mine',
              units: 'u',
              type: 'SUM',
              directionality: 'HIGHER_IS_BETTER',
              isModelSpecific: false,
            },
          },
          b.token,
        )
      ).createCustomMetric,
      (await server.op(DeleteCustomMetricDocument, { id: ids.metricId }, b.token)).deleteCustomMetric,
    ];
    const foreign = await probes(a);
    expect(foreign).toEqual(await probes({ deploymentId: MISSING_DEPLOYMENT, metricId: MISSING_METRIC, batchId: MISSING_BATCH }));
    expect(foreign.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(foreign[5]).toMatchObject({ __typename: 'NotFoundError', resource: 'CustomMetric' });
    expect(foreign[8]).toMatchObject({ __typename: 'NotFoundError', resource: 'Deployment' });
    expect(await snapshotOfA()).toEqual(before);
  });

  it("refuses another organization's batch in a report like a missing one, and leaves it out of a summary", async () => {
    const send = async (batchId: string) =>
      (await server.op(ReportCustomMetricValuesDocument, { input: { metricId: b.metricId, buckets: [{ value: 1, batchId }] } }, b.token))
        .reportCustomMetricValues;
    expect(await send(a.batchId)).toEqual(await send(MISSING_BATCH));
    expect(await send(a.batchId)).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'buckets.0.batchId' }] });
    const summary = async (batchId: string) =>
      (await server.op(CustomMetricSummaryDocument, { id: b.metricId, batches: { batchIds: [batchId] } }, b.token)).customMetric;
    expect(await summary(a.batchId)).toEqual(await summary(MISSING_BATCH));
    expect((await summary(a.batchId))!.summary).toMatchObject({ batchCount: 0, value: null, overBatches: [] });
  });

  it("refuses the customMetricValues subscription of another organization's batch exactly like a missing batch's", async () => {
    const errorsFor = async (batchId: string) => {
      const sub = watch(connect(server, b.token), CustomMetricValuesLiveDocument, { batchId });
      await sub.done;
      expect(sub.messages).toEqual([]);
      return JSON.stringify(sub.errors);
    };
    const foreign = await errorsFor(a.batchId);
    expect(foreign).toContain('Monitoring batch not found');
    expect(foreign).toEqual(await errorsFor(MISSING_BATCH));
    // Its own batch: the value now.
    const own = watch(connect(server, b.token), CustomMetricValuesLiveDocument, { batchId: b.batchId });
    const first = await own.until((m) => m.customMetricValues.values.length === 1);
    expect(first.data.customMetricValues.values[0]).toMatchObject({ metric: { id: b.metricId }, value: 42, sampleCount: 2 });
    await own.stop();
  });
});
