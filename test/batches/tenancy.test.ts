import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteMonitoringBatchDocument,
  DeploymentBatchesDocument,
  DeploymentDocument,
  LockMonitoringBatchDocument,
  MonitoringBatchDocument,
  NodeDocument,
  ReportPredictionsDocument,
  UnlockMonitoringBatchDocument,
  UpdateBatchModelHistoryDocument,
  UpdateMonitoringBatchDocument,
} from '../generated/graphql.js';
import { countRows, deploymentSnapshot } from '../helpers/db.js';
import {
  BATCH_NOT_FOUND,
  createBatch,
  createDeployment,
  createOrganization,
  createTenant,
  DEPLOYMENT_NOT_FOUND,
  MISSING_BATCH,
  MISSING_DEPLOYMENT,
} from '../helpers/fixtures.js';
import { minuteRows, ndjson, regressionRows } from '../helpers/ingest-data.js';
import {
  actualsPath,
  answersOf,
  batchesPath,
  batchPath,
  bulkPath,
  createRestBatch,
  everyIngestRoute,
  inputsPath,
  limitsPath,
  post,
  postJson,
  requestsPath,
  settingsPath,
} from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Organizations are tenants: another organization's deployment or batch id is answered exactly like
// an id that does not exist, on every operation and route, and nothing of it changes.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('batch operations (GraphQL)', () => {
  it("answers another organization's batch exactly like a missing one, for every operation", async () => {
    const a = await createOrganization(server);
    const b = await createOrganization(server);
    const deployment = await createDeployment(server, a.token);
    const batch = await createBatch(server, deployment.id, 'private', a.token);
    const missing = 'mb_ffffffffffffffffffffffff';
    const period = { modelId: 'm', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' };
    const probes = async (id: string) => [
      (await server.op(MonitoringBatchDocument, { id }, b.token)).monitoringBatch,
      (await server.op(NodeDocument, { id }, b.token)).node,
      (await server.op(UpdateMonitoringBatchDocument, { input: { id, name: 'stolen' } }, b.token)).updateMonitoringBatch,
      (await server.op(UpdateBatchModelHistoryDocument, { input: { batchId: id, ...period } }, b.token)).updateBatchModelHistory,
      (await server.op(LockMonitoringBatchDocument, { id }, b.token)).lockMonitoringBatch,
      (await server.op(UnlockMonitoringBatchDocument, { id }, b.token)).unlockMonitoringBatch,
      (await server.op(DeleteMonitoringBatchDocument, { id }, b.token)).deleteMonitoringBatch,
    ];
    const foreign = await probes(batch.id);
    expect(foreign).toEqual(await probes(missing));
    expect(foreign[0]).toBeNull();
    expect(foreign[2]).toMatchObject({ __typename: 'NotFoundError' });
    expect((await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, b.token)).deployment).toBeNull();
    const intact = (await server.op(MonitoringBatchDocument, { id: batch.id }, a.token)).monitoringBatch;
    expect(intact).toMatchObject({ name: 'private', isLocked: false, modelHistory: [] });
  });
});

describe('reportPredictions (GraphQL)', () => {
  it("answers another organization's batch and deployment like missing ones", async () => {
    const other = await createOrganization(server);
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const foreign = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(1) } },
      other.token,
    );
    const missing = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: 'dep_000000000000000000000000', batchId: batch.id, rows: minuteRows(1) } },
      other.token,
    );
    expect(foreign).toEqual(missing);
    const ownDeployment = await createDeployment(server, other.token);
    const foreignBatch = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: ownDeployment.id, batchId: batch.id, rows: minuteRows(1) } },
      other.token,
    );
    expect(foreignBatch.reportPredictions).toMatchObject({ __typename: 'NotFoundError', resource: 'MonitoringBatch' });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
  });
});

describe('the batch routes (REST)', () => {
  it("answers another organization's deployment and batch ids exactly like ids that do not exist, on every route", async () => {
    const a = await createTenant(server);
    const aBatch = await createRestBatch(server, a.deploymentId, a.token, {
      batchName: "A's batch",
      description: "A's",
      externalContextUrl: 'https://a.example/1',
    });
    const aLimits = (await server.rest('GET', limitsPath(a.deploymentId), { token: a.token })).json;
    const b = await createTenant(server);

    type Probe = [method: string, route: (deploymentId: string, batchId: string) => string, body?: unknown];
    const probes: Probe[] = [
      ['GET', (d) => batchesPath(d)],
      ['GET', (d, id) => `${batchesPath(d)}?search=${id}`],
      ['POST', (d) => batchesPath(d), { batchName: 'intruder' }],
      ['POST', (d) => batchesPath(d), { batchName: '' }],
      ['GET', (d, id) => batchPath(d, id)],
      ['PATCH', (d, id) => batchPath(d, id), { batchName: 'hijacked', isLocked: true, description: null }],
      ['DELETE', (d, id) => batchPath(d, id)],
      ['GET', (d) => limitsPath(d)],
      ['PATCH', (d) => settingsPath(d), { batchMonitoring: { enabled: false } }],
    ];
    for (const [method, route, body] of probes) {
      const foreign = await server.rest(method, route(a.deploymentId, aBatch.id), { token: b.token, body });
      const missing = await server.rest(method, route(MISSING_DEPLOYMENT, MISSING_BATCH), { token: b.token, body });
      const label = `${method} ${route(':deploymentId', ':batchId')}`;
      expect(foreign.status, label).toBe(missing.status);
      expect(foreign.json, label).toEqual(missing.json);
      expect(foreign.status, label).toBeGreaterThanOrEqual(400);
      // A's batch id under B's own deployment, too.
      const ownForeign = await server.rest(method, route(b.deploymentId, aBatch.id), { token: b.token, body });
      const ownMissing = await server.rest(method, route(b.deploymentId, MISSING_BATCH), { token: b.token, body });
      if (method === 'GET' || method === 'PATCH' || method === 'DELETE') {
        expect(ownForeign.status, `${label} on B's deployment`).toBe(ownMissing.status);
        expect(ownForeign.json, `${label} on B's deployment`).toEqual(ownMissing.json);
      }
    }

    // B's own list does not leak A's batch by id or by creator.
    const byCreator = await server.rest('GET', `${batchesPath(b.deploymentId)}?createdBy=${a.adminId}`, { token: b.token });
    expect(byCreator.json.totalCount).toBe(0);

    // A's batch, deployment settings and quota are as they were.
    expect((await server.rest('GET', batchPath(a.deploymentId, aBatch.id), { token: a.token })).json).toEqual(aBatch);
    expect((await server.rest('GET', limitsPath(a.deploymentId), { token: a.token })).json).toEqual(aLimits);
    expect((await server.op(DeploymentDocument, { id: a.deploymentId }, a.token)).deployment?.batchMonitoringEnabled).toBe(true);
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', a.deploymentId)).toBe(1);
  });
});

describe('the ingest routes (REST)', () => {
  it("answers another organization's ids exactly like missing ones on every route, and changes nothing", async () => {
    const a = await createOrganization(server);
    const b = await createOrganization(server);
    const deploymentA = await createDeployment(server, a.token);
    const batchA = await createBatch(server, deploymentA.id, 'A batch', a.token);
    const seeded = await post(server, bulkPath(deploymentA.id, batchA.id), ndjson(regressionRows(8, 64, 'a-')), { token: a.token });
    expect(seeded.status).toBe(200);
    const actualsA = await postJson(
      server,
      actualsPath(deploymentA.id),
      {
        data: [
          { associationId: 'a-1', actualValue: 3 },
          { associationId: 'a-early', actualValue: 1 },
        ],
      },
      { token: a.token },
    );
    expect(actualsA.status).toBe(202);
    const deploymentB = await createDeployment(server, b.token);
    const before = await deploymentSnapshot(server, deploymentA.id);

    // A's deployment and batch, with B's token ↔ ids that do not exist.
    const foreign = await answersOf(everyIngestRoute(server, deploymentA.id, batchA.id, b.token));
    const missing = await answersOf(everyIngestRoute(server, MISSING_DEPLOYMENT, MISSING_BATCH, b.token));
    for (const [route, answer] of Object.entries(missing)) expect(answer, route).toEqual({ status: 404, json: DEPLOYMENT_NOT_FOUND });
    expect(foreign).toEqual(missing);

    // B's own deployment, A's batch ↔ a batch that does not exist.
    const foreignBatch = await answersOf(everyIngestRoute(server, deploymentB.id, batchA.id, b.token));
    const missingBatch = await answersOf(everyIngestRoute(server, deploymentB.id, MISSING_BATCH, b.token));
    for (const [route, answer] of Object.entries(missingBatch)) expect(answer, route).toEqual({ status: 404, json: BATCH_NOT_FOUND });
    expect(foreignBatch).toEqual(missingBatch);

    // Routes that name no batch: the deployment alone decides.
    const noBatch = (deploymentId: string) => ({
      inputs: () => postJson(server, inputsPath(deploymentId), { data: [{ features: {}, prediction: 1 }] }, { token: b.token }),
      inputsPrefix: () =>
        postJson(
          server,
          `${inputsPath(deploymentId)}?monitoringBatchPrefix=p`,
          { data: [{ features: {}, prediction: 1 }] },
          { token: b.token },
        ),
      requests: () => postJson(server, requestsPath(deploymentId), { numPredictions: 2 }, { token: b.token }),
      requestsPrefix: () =>
        postJson(server, `${requestsPath(deploymentId)}?monitoringBatchPrefix=p`, { numPredictions: 2 }, { token: b.token }),
      actuals: () => postJson(server, actualsPath(deploymentId), { data: [{ associationId: 'a-2', actualValue: 5 }] }, { token: b.token }),
      actualsEarly: () =>
        postJson(server, actualsPath(deploymentId), { data: [{ associationId: 'a-early', actualValue: 9 }] }, { token: b.token }),
    });
    const foreignNoBatch = await answersOf(noBatch(deploymentA.id));
    const missingNoBatch = await answersOf(noBatch(MISSING_DEPLOYMENT));
    for (const [route, answer] of Object.entries(missingNoBatch))
      expect(answer, route).toEqual({ status: 404, json: DEPLOYMENT_NOT_FOUND });
    expect(foreignNoBatch).toEqual(missingNoBatch);

    expect(await deploymentSnapshot(server, deploymentA.id)).toEqual(before);
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentB.id)).toBe(0);
  });
});
