import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CreateApiTokenDocument,
  CreateMonitoringBatchDocument,
  CreateUserDocument,
  DeleteMonitoringBatchDocument,
  LockMonitoringBatchDocument,
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  RevokeApiTokenDocument,
  UnlockMonitoringBatchDocument,
  UpdateMonitoringBatchDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Subscriptions end to end: a real graphql-ws client against real servers on one database.

let server: TestServer;
let other: TestServer; // a second instance on the same database
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer({ databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await other?.stop();
  await server?.stop();
});

function connect(target: TestServer, token: string = server.adminToken, onClosed?: (code: number) => void): Client {
  const client = createClient({
    url: `${target.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {}, // a close we provoke is asserted through on.closed
    on: { closed: (event) => onClosed?.((event as { code: number }).code) },
  });
  clients.push(client);
  return client;
}

// biome-ignore lint: subscription payloads are checked field by field
type Json = any;

/** Collects a subscription's messages; `until` waits for one matching a predicate. */
function watch(client: Client, query: string, variables: Record<string, unknown>) {
  const messages: Json[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const iterator = client.iterate({ query, variables });
  const done = (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors) errors.push(...result.errors);
        else messages.push(result.data);
      }
    } catch (error) {
      errors.push(error);
    }
    completed = true;
  })();
  return {
    messages,
    errors,
    get completed() {
      return completed;
    },
    done,
    stop: () => iterator.return?.(),
    async until(predicate: (message: Json) => boolean, timeoutMs = 5000): Promise<Json> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages)} ${JSON.stringify(errors)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

const BATCH = `subscription($id: ID!) { monitoringBatch(id: $id) { id name predictionCount earliestPredictionAt latestPredictionAt isLocked } }`;
const rows = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    features: { age: i },
    prediction: i,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, offset + i)).toISOString(),
  }));

describe('monitoringBatch subscription', () => {
  it('sends the batch now, then its counts as rows land, lock changes, and completes on delete', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'live');
    const sub = watch(connect(server), BATCH, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(25) } });
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
    const sub = watch(connect(server), BATCH, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(50, i * 50) } }),
      ),
    );
    const committed = Date.now();
    const last = await sub.until((m) => m.monitoringBatch.predictionCount === 3000, 2000);
    expect(last).toBeTruthy();
    const seconds = (Date.now() - started) / 1000;
    // ≤ 10 updates a second (default), plus the first state and the final one.
    expect(sub.messages.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
    expect(Date.now() - committed).toBeLessThan(1500);
    const counts = sub.messages.map((m) => m.monitoringBatch.predictionCount);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts); // never goes back
  });

  it('sees changes made through another server instance on the same database', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), BATCH, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    await other.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(7) } },
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
    for (const id of [batch.id, 'mb_000000000000000000000000']) {
      const sub = watch(connect(server, org.token), BATCH, { id });
      await sub.done;
      expect(sub.messages).toEqual([]);
      expect(JSON.stringify(sub.errors)).toContain('Monitoring batch not found');
    }
  });
});

describe('shared execution of identical subscriptions', () => {
  const WITH_DEPLOYMENT = `subscription($id: ID!) { monitoringBatch(id: $id) { id predictionCount deployment { id label } } }`;
  const statementsReading = (table: string, since: number) =>
    server.statements.slice(since).filter((s) => s.includes(`from "${table}"`)).length;

  it('executes a state once for all its subscribers, hands each the current state on joining, and keeps the others when one leaves', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sockets = Array.from({ length: 5 }, () => connect(server));
    const subs = Array.from({ length: 20 }, (_, i) => watch(sockets[i % 5]!, WITH_DEPLOYMENT, { id: batch.id }));
    for (const sub of subs) await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    const since = server.statements.length;
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(4) } });
    for (const sub of subs)
      await sub.until((m) => m.monitoringBatch.predictionCount === 4 && m.monitoringBatch.deployment.id === deployment.id);
    // One execution of the new state: the nested deployment is loaded once, not 20 times.
    expect(statementsReading('deployments', since)).toBeLessThanOrEqual(3);
    // A late subscriber of the running group gets the current state first.
    const late = watch(connect(server), WITH_DEPLOYMENT, { id: batch.id });
    await late.until((m) => m.monitoringBatch.predictionCount === 4, 2000);
    // Half of them leave; the rest keep receiving.
    for (const sub of subs.slice(0, 10)) await sub.stop();
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(3, 10) } });
    for (const sub of [...subs.slice(10), late]) await sub.until((m) => m.monitoringBatch.predictionCount === 7);
    // All leave; a new subscriber starts a fresh execution.
    for (const sub of [...subs.slice(10), late]) await sub.stop();
    const again = watch(connect(server), WITH_DEPLOYMENT, { id: batch.id });
    await again.until((m) => m.monitoringBatch.predictionCount === 7);
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    await again.done;
    expect(again.errors).toEqual([]);
  });

  it('never shares across organizations or users: the same operation and variables from a foreign organization is not found', async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const owner = watch(connect(server), WITH_DEPLOYMENT, { id: batch.id });
    await owner.until((m) => m.monitoringBatch.id === batch.id);
    const foreign = watch(connect(server, org.token), WITH_DEPLOYMENT, { id: batch.id });
    await foreign.done;
    expect(foreign.messages).toEqual([]);
    expect(JSON.stringify(foreign.errors)).toContain('Monitoring batch not found');
    // Another user of the owner's organization gets their own execution, and the same data.
    const member = await server.op(CreateUserDocument, { input: { name: 'colleague' } });
    if (member.createUser.__typename !== 'CreateUserSuccess') throw new Error('no member');
    const colleague = watch(connect(server, member.createUser.secret), WITH_DEPLOYMENT, { id: batch.id });
    await colleague.until((m) => m.monitoringBatch.id === batch.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows(2) } });
    await owner.until((m) => m.monitoringBatch.predictionCount === 2);
    await colleague.until((m) => m.monitoringBatch.predictionCount === 2);
    expect(foreign.messages).toEqual([]);
  });
});

describe('batchQuota subscription', () => {
  it('sends the quota now, then after each creation and a limit change', async () => {
    const org = await createOrganization(server, 5);
    const deployment = await createDeployment(server, org.token);
    const sub = watch(
      connect(server, org.token),
      `subscription($d: ID!) { batchQuota(deploymentId: $d) { used limit remaining resetsAt } }`,
      { d: deployment.id },
    );
    await sub.until((m) => m.batchQuota.used === 0 && m.batchQuota.limit === 5);
    await other.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'one' } }, org.token);
    await sub.until((m) => m.batchQuota.used === 1 && m.batchQuota.remaining === 4);
    await server.graphql('mutation { updateOrganizationSettings(input: {dailyBatchLimit: 2}) { __typename } }', undefined, org.token);
    await sub.until((m) => m.batchQuota.limit === 2 && m.batchQuota.remaining === 1);
  });
});

describe('batchEvents subscription', () => {
  it('streams every lifecycle event in order', async () => {
    const deployment = await createDeployment(server);
    const sub = watch(connect(server), `subscription($d: ID!) { batchEvents(deploymentId: $d) { kind batch { id name isLocked } } }`, {
      d: deployment.id,
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // subscribed
    const batch = await createBatch(server, deployment.id, 'evented');
    await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'evented 2' } });
    await other.op(LockMonitoringBatchDocument, { id: batch.id }, server.adminToken);
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id });
    await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    await sub.until((m) => m.batchEvents.kind === 'DELETED');
    expect(sub.messages.map((m) => m.batchEvents.kind)).toEqual(['CREATED', 'UPDATED', 'LOCKED', 'UNLOCKED', 'DELETED']);
    expect(sub.messages.every((m) => m.batchEvents.batch.id === batch.id)).toBe(true);
    expect(sub.messages[1].batchEvents.batch.name).toBe('evented 2');
  });
});

describe('deploymentHealth subscription', () => {
  it('sends health now and again when a status changes', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), `subscription($d: ID!) { deploymentHealth(deploymentId: $d) { service { status reason } } }`, {
      d: deployment.id,
    });
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
    let closedWith: number | undefined;
    const sub = watch(
      connect(server, created.createApiToken.secret, (code) => (closedWith = code)),
      BATCH,
      { id: batch.id },
    );
    await sub.until((m) => m.monitoringBatch.id === batch.id);
    const revokedAt = Date.now();
    await server.op(RevokeApiTokenDocument, { id: created.createApiToken.token.id });
    while (closedWith === undefined && Date.now() - revokedAt < 6000) await new Promise((resolve) => setTimeout(resolve, 50));
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
      body: JSON.stringify({ query: BATCH, variables: { id: batch.id } }),
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
