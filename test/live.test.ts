import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchEventsLiveDocument,
  BatchLiveDocument,
  BatchQuotaLiveDocument,
  BatchWithDeploymentLiveDocument,
  CreateApiTokenDocument,
  CreateMonitoringBatchDocument,
  DeleteMonitoringBatchDocument,
  DeploymentHealthLiveDocument,
  LockMonitoringBatchDocument,
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  RevokeApiTokenDocument,
  UnlockMonitoringBatchDocument,
  UpdateMonitoringBatchDocument,
  UpdateOrganizationSettingsDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization, createUser, MISSING_BATCH } from './helpers/fixtures.js';
import { closeSockets, connect, openSocket, watch } from './helpers/graphql-ws.js';
import { secondRows } from './helpers/ingest-data.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sleep } from './helpers/time.js';

// Subscriptions end to end: a real graphql-ws client against real servers on one database.

let server: TestServer;
let other: TestServer; // a second instance on the same database

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer({ databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
});
afterAll(async () => {
  await closeSockets();
  await other?.stop();
  await server?.stop();
});

describe('monitoringBatch subscription', () => {
  it('sends the batch now, then its counts as rows land, lock changes, and completes on delete', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'live');
    const sub = watch(connect(server), BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(25) } });
    await sub.until((m) => m.monitoringBatch.predictionCount === 25 && m.monitoringBatch.latestPredictionAt === '2026-01-01T00:00:24.000Z');
    await server.op(LockMonitoringBatchDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.isLocked === true);
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    await sub.done;
    expect(sub.completed).toBe(true);
    expect(sub.errors).toEqual([]);
  });

  it('coalesces a burst into a handful of messages and always delivers the final value', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(50, i * 50) } }),
      ),
    );
    const committed = Date.now();
    const last = await sub.until((m) => m.monitoringBatch.predictionCount === 3000, 2000);
    expect(last).toBeTruthy();
    const seconds = (Date.now() - started) / 1000;
    // ≤ 10 updates a second (default), plus the first state and the final one.
    expect(sub.messages.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
    expect(Date.now() - committed).toBeLessThan(1500);
    const counts = sub.messages.map((m) => m.data.monitoringBatch.predictionCount);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts); // never goes back
  });

  it('sees changes made through another server instance on the same database', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    await other.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(7) } },
      server.adminToken,
    );
    await sub.until((m) => m.monitoringBatch.predictionCount === 7);
    await other.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'renamed elsewhere' } }, server.adminToken);
    await sub.until((m) => m.monitoringBatch.name === 'renamed elsewhere');
  });

  it("answers another organization's batch like a missing one", async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    for (const id of [batch.id, MISSING_BATCH]) {
      const sub = watch(connect(server, org.token), BatchLiveDocument, { id });
      await sub.done;
      expect(sub.messages).toEqual([]);
      expect(JSON.stringify(sub.errors)).toContain('Monitoring batch not found');
    }
  });
});

describe('shared execution of identical subscriptions', () => {
  const statementsReading = (table: string, since: number) =>
    server.statements.slice(since).filter((s) => s.includes(`from "${table}"`)).length;

  it('executes a state once for all its subscribers, hands each the current state on joining, and keeps the others when one leaves', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sockets = Array.from({ length: 5 }, () => connect(server));
    const subs = Array.from({ length: 20 }, (_, i) => watch(sockets[i % 5]!, BatchWithDeploymentLiveDocument, { id: batch.id }));
    for (const sub of subs) await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    const since = server.statements.length;
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(4) } });
    for (const sub of subs)
      await sub.until((m) => m.monitoringBatch.predictionCount === 4 && m.monitoringBatch.deployment.id === deployment.id);
    // One execution of the new state: the nested deployment is loaded once, not 20 times.
    expect(statementsReading('deployments', since)).toBeLessThanOrEqual(3);
    // A late subscriber of the running group gets the current state first.
    const late = watch(connect(server), BatchWithDeploymentLiveDocument, { id: batch.id });
    await late.until((m) => m.monitoringBatch.predictionCount === 4, 2000);
    // Half of them leave; the rest keep receiving.
    for (const sub of subs.slice(0, 10)) await sub.stop();
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(3, 10) } });
    for (const sub of [...subs.slice(10), late]) await sub.until((m) => m.monitoringBatch.predictionCount === 7);
    // All leave; a new subscriber starts a fresh execution.
    for (const sub of [...subs.slice(10), late]) await sub.stop();
    const again = watch(connect(server), BatchWithDeploymentLiveDocument, { id: batch.id });
    await again.until((m) => m.monitoringBatch.predictionCount === 7);
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    await again.done;
    expect(again.errors).toEqual([]);
  });

  it('never shares across organizations or users: the same operation and variables from a foreign organization is not found', async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const owner = watch(connect(server), BatchWithDeploymentLiveDocument, { id: batch.id });
    await owner.until((m) => m.monitoringBatch.id === batch.id);
    const foreign = watch(connect(server, org.token), BatchWithDeploymentLiveDocument, { id: batch.id });
    await foreign.done;
    expect(foreign.messages).toEqual([]);
    expect(JSON.stringify(foreign.errors)).toContain('Monitoring batch not found');
    // Another user of the owner's organization gets their own execution, and the same data.
    const member = await createUser(server, server.adminToken, 'colleague');
    const colleague = watch(connect(server, member.secret), BatchWithDeploymentLiveDocument, { id: batch.id });
    await colleague.until((m) => m.monitoringBatch.id === batch.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: secondRows(2) } });
    await owner.until((m) => m.monitoringBatch.predictionCount === 2);
    await colleague.until((m) => m.monitoringBatch.predictionCount === 2);
    expect(foreign.messages).toEqual([]);
  });
});

describe('batchQuota subscription', () => {
  it('sends the quota now, then after each creation and a limit change', async () => {
    const org = await createOrganization(server, 5);
    const deployment = await createDeployment(server, org.token);
    const sub = watch(connect(server, org.token), BatchQuotaLiveDocument, { deploymentId: deployment.id });
    await sub.until((m) => m.batchQuota.used === 0 && m.batchQuota.limit === 5);
    await other.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'one' } }, org.token);
    await sub.until((m) => m.batchQuota.used === 1 && m.batchQuota.remaining === 4);
    await server.op(UpdateOrganizationSettingsDocument, { input: { dailyBatchLimit: 2 } }, org.token);
    await sub.until((m) => m.batchQuota.limit === 2 && m.batchQuota.remaining === 1);
  });
});

describe('batchEvents subscription', () => {
  it('streams every lifecycle event in order', async () => {
    const deployment = await createDeployment(server);
    const sub = watch(connect(server), BatchEventsLiveDocument, { deploymentId: deployment.id });
    await sleep(300); // subscribed
    const batch = await createBatch(server, deployment.id, 'evented');
    await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'evented 2' } });
    await other.op(LockMonitoringBatchDocument, { id: batch.id }, server.adminToken);
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id });
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    await sub.until((m) => m.batchEvents.kind === 'DELETED');
    expect(sub.messages.map((m) => m.data.batchEvents.kind)).toEqual(['CREATED', 'UPDATED', 'LOCKED', 'UNLOCKED', 'DELETED']);
    expect(sub.messages.every((m) => m.data.batchEvents.batch.id === batch.id)).toBe(true);
    expect(sub.messages[1]!.data.batchEvents.batch.name).toBe('evented 2');
  });
});

describe('deploymentHealth subscription', () => {
  it('sends health now and again when a status changes', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), DeploymentHealthLiveDocument, { deploymentId: deployment.id });
    await sub.until((m) => m.deploymentHealth.service.status === 'UNKNOWN');
    await server.op(ReportDeploymentStatsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1, systemError: true },
    });
    await sub.until((m) => m.deploymentHealth.service.status === 'FAILING');
  });
});

describe('auth on live connections', () => {
  it('closes a subscribed socket within 5 seconds of its token being revoked', async () => {
    const created = await server.op(CreateApiTokenDocument, { input: { name: 'dashboard' } });
    if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error('no token');
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const socket = openSocket(server, { authorization: `Bearer ${created.createApiToken.secret}` });
    const sub = watch(socket.client, BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.id === batch.id);
    const revokedAt = Date.now();
    await server.op(RevokeApiTokenDocument, { id: created.createApiToken.token.id });
    const closedWith = await Promise.race([socket.closed, sleep(6000).then(() => undefined)]);
    expect(closedWith).toBe(4403);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
  });

  it('serves a subscription over SSE too, current state first', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'over sse');
    const controller = new AbortController();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query: print(BatchLiveDocument), variables: { id: batch.id } }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('over sse')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"predictionCount":0');
    controller.abort();
  });
});
