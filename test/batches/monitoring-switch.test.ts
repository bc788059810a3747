import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteMonitoringBatchDocument,
  DeploymentDocument,
  LockMonitoringBatchDocument,
  MonitoringBatchDocument,
  ReportPredictionsDocument,
  UpdateDeploymentSettingsDocument,
  UpdateMonitoringBatchDocument,
} from '../generated/graphql.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment, createTenant } from '../helpers/fixtures.js';
import { minuteRows } from '../helpers/ingest-data.js';
import {
  actualsPath,
  answersOf,
  batchesPath,
  batchPath,
  createRestBatch,
  everyIngestRoute,
  postBatch,
  postJson,
  quotaUsed,
  settingsPath,
} from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Batch monitoring is a per-deployment switch (C1): while it is off, batches cannot be created,
// edited, locked, deleted or fed predictions; they can still be read, and nothing is lost.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('with batch monitoring off', () => {
  it('GraphQL refuses edits, locks and deletes', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const ops = [
      (await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'x' } })).updateMonitoringBatch,
      (await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch,
      (await server.op(DeleteMonitoringBatchDocument, { id: batch.id })).deleteMonitoringBatch,
    ];
    for (const result of ops) expect(result.__typename).toBe('BatchMonitoringDisabledError');
    // Reads still work: the data is not lost by switching the badge off.
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch?.name).toBe(batch.name);
  });

  it('reportPredictions is refused', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(1) },
    });
    expect(result.reportPredictions.__typename).toBe('BatchMonitoringDisabledError');
  });

  it('every REST ingest route is refused', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const got = await answersOf({
      ...everyIngestRoute(server, deployment.id, batch.id),
      actuals: () => postJson(server, actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 1 }] }),
    });
    for (const [route, answer] of Object.entries(got)) {
      expect(answer.status, route).toBe(422);
      expect((answer.json as { message: string }).message, route).toContain('Batch monitoring is not enabled');
    }
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
  });
});

describe('PATCH /settings/ {"batchMonitoring": {"enabled": …}}', () => {
  it('switches batch monitoring off: creating, editing and deleting are refused; reading still works', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'before switching off' });

    const off = await server.rest('PATCH', settingsPath(deploymentId), { token, body: { batchMonitoring: { enabled: false } } });
    expect(off.status).toBe(200);
    expect(off.json).toEqual({ batchMonitoring: { enabled: false } });
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(false);

    const refusal = { message: 'Batch monitoring is not enabled on this deployment; enable settings.batchMonitoring first' };
    const created = await postBatch(server, deploymentId, token, { batchName: 'while off' });
    expect(created.status).toBe(422);
    expect(created.json).toEqual(refusal);
    const patched = await server.rest('PATCH', batchPath(deploymentId, batch.id), { token, body: { batchName: 'edited while off' } });
    expect(patched.status).toBe(422);
    expect(patched.json).toEqual(refusal);
    const deleted = await server.rest('DELETE', batchPath(deploymentId, batch.id), { token });
    expect(deleted.status).toBe(422);
    expect(deleted.json).toEqual(refusal);

    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(1);
    expect(await quotaUsed(server, deploymentId, token)).toBe(1);
    const one = await server.rest('GET', batchPath(deploymentId, batch.id), { token });
    expect(one.json).toEqual(batch);
    const listed = await server.rest('GET', batchesPath(deploymentId), { token });
    expect(listed.json).toMatchObject({ totalCount: 1, data: [batch] });
  });

  it('switches batch monitoring back on: creating, editing and deleting work again', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'survivor' });
    await server.rest('PATCH', settingsPath(deploymentId), { token, body: { batchMonitoring: { enabled: false } } });
    const on = await server.rest('PATCH', settingsPath(deploymentId).replace(/\/$/, ''), {
      token,
      body: { batchMonitoring: { enabled: true } },
    });
    expect(on.status).toBe(200);
    expect(on.json).toEqual({ batchMonitoring: { enabled: true } });
    expect((await postBatch(server, deploymentId, token, { batchName: 'after switching on' })).status).toBe(201);
    expect((await server.rest('PATCH', batchPath(deploymentId, batch.id), { token, body: { isLocked: true } })).json.isLocked).toBe(true);
    expect((await server.rest('DELETE', batchPath(deploymentId, batch.id), { token })).status).toBe(204);
  });

  it('enables batch monitoring on a deployment created without it', async () => {
    const { token } = await createTenant(server);
    const plain = await createDeployment(server, token, { batchMonitoringEnabled: false });
    expect((await postBatch(server, plain.id, token, { batchName: 'too early' })).status).toBe(422);
    await server.rest('PATCH', settingsPath(plain.id), { token, body: { batchMonitoring: { enabled: true } } });
    expect((await postBatch(server, plain.id, token, { batchName: 'now allowed' })).status).toBe(201);
  });

  const badBodies: [string, unknown, string][] = [
    ['an empty object', {}, 'batchMonitoring'],
    ['a JSON array', [], 'batchMonitoring'],
    ['a JSON null', null, 'batchMonitoring'],
    ['enabled as the string "yes"', { batchMonitoring: { enabled: 'yes' } }, 'batchMonitoring.enabled'],
    ['enabled as 1', { batchMonitoring: { enabled: 1 } }, 'batchMonitoring.enabled'],
    ['enabled missing', { batchMonitoring: {} }, 'batchMonitoring.enabled'],
    ['batchMonitoring as true', { batchMonitoring: true }, 'batchMonitoring.enabled'],
    ['batchMonitoring as null', { batchMonitoring: null }, 'batchMonitoring.enabled'],
  ];
  it.each(badBodies)('answers 422 naming the field for %s, and changes nothing', async (_case, body, field) => {
    const { token, deploymentId } = await createTenant(server);
    const answer = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {})).toEqual([field]);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });

  it('answers 400 for invalid JSON and 415 for a non-JSON content type', async () => {
    const { token, deploymentId } = await createTenant(server);
    const broken = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: '{"batchMonitoring":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    const typed = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: '{"batchMonitoring":{"enabled":false}}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(typed.status).toBe(415);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });
});
