import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateMonitoringBatchDocument,
  DeleteMonitoringBatchDocument,
  DeploymentBatchesDocument,
  ReportPredictionsDocument,
  UpdateOrganizationSettingsDocument,
} from '../generated/graphql.js';
import { countRows, deploymentSnapshot } from '../helpers/db.js';
import { createBatch, createDeployment, createOrganization, createTenant } from '../helpers/fixtures.js';
import { minuteRows, regressionRows } from '../helpers/ingest-data.js';
import { batchPath, createRestBatch, inputsPath, limitsPath, postBatch, postJson, requestsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nextUtcMidnight } from '../helpers/time.js';

// The daily batch quota (C5): an organization's dailyBatchLimit batches per deployment and UTC day,
// exact under parallel creation, counted by every way a batch is made (including the prefix of an
// ingest), never refunded by a delete; refusals say when it resets (resetsAt, Retry-After).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the daily batch quota over GraphQL (C5)', () => {
  it('lets exactly K of N parallel creations through and types the rest with resetsAt', async () => {
    const org = await createOrganization(server, 10);
    const deployment = await createDeployment(server, org.token);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: `b${i}` } }, org.token),
      ),
    );
    const kinds = results.map((r) => r.createMonitoringBatch.__typename);
    expect(kinds.filter((k) => k === 'CreateMonitoringBatchSuccess')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'BatchQuotaExceededError')).toHaveLength(20);
    const nextMidnight = new Date();
    nextMidnight.setUTCHours(24, 0, 0, 0);
    const refusal = results.find((r) => r.createMonitoringBatch.__typename === 'BatchQuotaExceededError')!.createMonitoringBatch;
    expect(refusal).toMatchObject({
      resetsAt: nextMidnight.toISOString(),
      quota: { used: 10, limit: 10, remaining: 0, resetsAt: nextMidnight.toISOString() },
      message: expect.stringContaining('limit of 10'),
    });
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deployment.id)).toBe(10);
    const quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toEqual({ used: 10, limit: 10, remaining: 0, resetsAt: nextMidnight.toISOString() });
  });

  it('counts per deployment, does not refund deletions, and ignores earlier days', async () => {
    const org = await createOrganization(server, 2);
    const first = await createDeployment(server, org.token);
    const second = await createDeployment(server, org.token);
    const a = await createBatch(server, first.id, 'a', org.token);
    await createBatch(server, first.id, 'b', org.token);
    expect((await server.op(DeleteMonitoringBatchDocument, { id: a.id }, org.token)).deleteMonitoringBatch.__typename).toBe(
      'DeleteMonitoringBatchSuccess',
    );
    const third = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: first.id, name: 'c' } }, org.token);
    expect(third.createMonitoringBatch.__typename).toBe('BatchQuotaExceededError');
    await createBatch(server, second.id, 'other deployment', org.token);
    // Yesterday's usage (full) does not count today.
    await server.sql`insert into batch_quota_usage (deployment_id, day, used) values (${second.id}, (now() at time zone 'utc')::date - 1, 2)`;
    const quota = (await server.op(DeploymentBatchesDocument, { deploymentId: second.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 1, remaining: 1 });
  });

  it('follows limit changes: null is unlimited, 0 refuses everything, lowering below use leaves 0 remaining', async () => {
    const org = await createOrganization(server, 3);
    const deployment = await createDeployment(server, org.token);
    await createBatch(server, deployment.id, 'one', org.token);
    await createBatch(server, deployment.id, 'two', org.token);
    const setLimit = (limit: number | null) =>
      server.op(UpdateOrganizationSettingsDocument, { input: { dailyBatchLimit: limit } }, org.token);
    await setLimit(1);
    let quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 2, limit: 1, remaining: 0 });
    await setLimit(0);
    const zero = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'z' } }, org.token);
    expect(zero.createMonitoringBatch.__typename).toBe('BatchQuotaExceededError');
    await setLimit(null);
    for (let i = 0; i < 3; i++) await createBatch(server, deployment.id, `free ${i}`, org.token);
    quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 5, limit: null, remaining: null });
  });
});

describe('the daily batch quota over REST', () => {
  it('answers 429 with Retry-After, resetAt, limit and used once the day is used up', async () => {
    const { token, deploymentId } = await createTenant(server, 2);
    expect((await postBatch(server, deploymentId, token, { batchName: 'first' })).status).toBe(201);
    expect((await postBatch(server, deploymentId, token, { batchName: 'second' })).status).toBe(201);

    const refused = await postBatch(server, deploymentId, token, { batchName: 'third' });
    const now = Date.now();
    expect(refused.status).toBe(429);
    const resetAt = nextUtcMidnight();
    expect(refused.json).toEqual({
      message: `Daily batch limit of 2 reached for this deployment; it resets at ${resetAt}`,
      limit: 2,
      used: 2,
      resetAt,
    });
    const retryAfter = refused.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    const expectedSeconds = (Date.parse(resetAt) - now) / 1000;
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(Math.floor(expectedSeconds) - 5);
    expect(Number(retryAfter)).toBeLessThanOrEqual(Math.ceil(expectedSeconds) + 5);
    expect(Number(retryAfter)).toBeLessThanOrEqual(86_400);
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(2);
  });

  it('reads the quota from GET /monitoringBatchLimits/', async () => {
    const { token, deploymentId } = await createTenant(server, 2);
    const fresh = await server.rest('GET', limitsPath(deploymentId), { token });
    expect(fresh.status).toBe(200);
    expect(fresh.json).toEqual({ limit: 2, used: 0, remaining: 2, resetAt: nextUtcMidnight() });
    await postBatch(server, deploymentId, token, { batchName: 'one' });
    await postBatch(server, deploymentId, token, { batchName: 'two' });
    await postBatch(server, deploymentId, token, { batchName: 'three (refused)' });
    const spent = await server.rest('GET', limitsPath(deploymentId), { token });
    expect(spent.json).toEqual({ limit: 2, used: 2, remaining: 0, resetAt: nextUtcMidnight() });
  });

  it('does not refund a deleted batch', async () => {
    const { token, deploymentId } = await createTenant(server, 2);
    const first = await createRestBatch(server, deploymentId, token, { batchName: 'first' });
    await createRestBatch(server, deploymentId, token, { batchName: 'second' });
    expect((await server.rest('DELETE', batchPath(deploymentId, first.id), { token })).status).toBe(204);
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toMatchObject({ limit: 2, used: 2, remaining: 0 });
    expect((await postBatch(server, deploymentId, token, { batchName: 'replacement' })).status).toBe(429);
  });

  it('counts per deployment', async () => {
    const { token, deploymentId } = await createTenant(server, 1);
    const second = await createDeployment(server, token);
    expect((await postBatch(server, deploymentId, token, { batchName: 'a' })).status).toBe(201);
    expect((await postBatch(server, deploymentId, token, { batchName: 'b' })).status).toBe(429);
    expect((await postBatch(server, second.id, token, { batchName: 'c' })).status).toBe(201);
    expect((await server.rest('GET', limitsPath(second.id), { token })).json).toMatchObject({ limit: 1, used: 1, remaining: 0 });
  });

  it('lets exactly the remaining number of parallel creates through', async () => {
    const { token, deploymentId } = await createTenant(server, 3);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postBatch(server, deploymentId, token, { batchName: `parallel ${i}` })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(3);
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toMatchObject({ used: 3, remaining: 0 });
  });

  it('answers limit and remaining null for an unlimited organization', async () => {
    const { token, deploymentId } = await createTenant(server, null);
    await createRestBatch(server, deploymentId, token, { batchName: 'unlimited' });
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toEqual({
      limit: null,
      used: 1,
      remaining: null,
      resetAt: nextUtcMidnight(),
    });
  });
});

describe('batches created by an ingest with a prefix', () => {
  it('reportPredictions creates the batch from a prefix in the same transaction and counts it against the quota', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createDeployment(server, org.token);
    const first = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchPrefix: 'nightly', rows: minuteRows(3) } },
      org.token,
    );
    expect(first.reportPredictions.__typename).toBe('ReportPredictionsSuccess');
    if (first.reportPredictions.__typename !== 'ReportPredictionsSuccess') return;
    expect(first.reportPredictions.batch.name).toMatch(/^nightly - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const second = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchPrefix: 'nightly', rows: minuteRows(3, 2) } },
      org.token,
    );
    expect(second.reportPredictions.__typename).toBe('BatchQuotaExceededError');
    expect((await server.sql`select count(*)::int as n from prediction_rows where deployment_id = ${deployment.id}`)[0]!.n).toBe(3);
  });

  it('predictionInputs: a prefix creates a named batch and counts against the quota (429 with Retry-After)', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createDeployment(server, org.token);
    const first = await postJson(
      server,
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { data: regressionRows(5, 55) },
      { token: org.token },
    );
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    expect(first.json.batchName).toMatch(/^nightly - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const createdAt = Date.parse(`${first.json.batchName!.slice('nightly - '.length).replace(' ', 'T')}Z`);
    expect(Math.abs(Date.now() - createdAt)).toBeLessThan(60_000);
    expect(first.json).toMatchObject({ rowCount: 5, predictionsCount: 5 });
    const before = await deploymentSnapshot(server, deployment.id);

    const second = await postJson(
      server,
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { data: regressionRows(5, 56) },
      { token: org.token },
    );
    expect(second.status).toBe(429);
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const midnight = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(second.json).toEqual({ message: expect.stringContaining('Daily batch limit of 1'), limit: 1, used: 1, resetAt: midnight });
    // The stats route and the bulk-free paths share the quota.
    const stats = await postJson(
      server,
      `${requestsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { numPredictions: 3 },
      { token: org.token },
    );
    expect(stats.status).toBe(429);
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);

    // A prefix together with a batch id is refused, naming the wire's field.
    const batch = first.json.batchId as string;
    const both = await postJson(
      server,
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=x`,
      { batchId: batch, data: regressionRows(1, 57) },
      { token: org.token },
    );
    expect(both.status).toBe(422);
    expect(Object.keys(both.json.errors ?? {})).toEqual(['monitoringBatchPrefix']);
  });
});
