import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringBatchDocument, ServiceHealthDocument } from '../generated/graphql.js';
import { countRows, storedPredictions } from '../helpers/db.js';
import { BATCH_NOT_FOUND, createBatch, createDeployment, createOrganization, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { closedPortUrl, type ModelServer, startModelServer } from '../helpers/model-server.js';
import { BATCH_HEADER, batchPath, LOCKED_MESSAGE, lockBatch, quotaUsed } from '../helpers/rest.js';
import {
  backendFor,
  createScoredDeployment,
  expectModelAnswers,
  MODELS,
  type ModelName,
  type PredictionJson,
  predict,
  ROWS,
} from '../helpers/scoring.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Where real-time predictions land: the batch of the X-DataRobot-Model-Monitoring-Batch-Id header,
// a new batch from ?monitoringBatchPrefix=, or the day's unassigned batch; with the request's
// statistics, in one transaction. A batch that would refuse the rows refuses the request before the
// backend is called; a failing backend answers 502/504 and counts as a server error in the batch.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const dataOf = (json: unknown) => (json as { data: PredictionJson[] }).data;

async function serviceHealth(deploymentId: string, batchId: string) {
  const data = await server.op(ServiceHealthDocument, { id: deploymentId, batches: { batchIds: [batchId] } });
  return data.deployment!.serviceHealth;
}

async function predictionCount(batchId: string) {
  return (await server.op(MonitoringBatchDocument, { id: batchId })).monitoringBatch!.predictionCount;
}

describe('the batch of a real-time request', () => {
  it("stores the scored rows and the request's statistics in the header's batch", async () => {
    const deployment = await createScoredDeployment(server, models, 'bin');
    const batch = await createBatch(server, deployment.id);
    const answer = await predict(server, deployment.id, ROWS, { headers: { [BATCH_HEADER]: batch.id } });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const data = dataOf(answer.json);
    expectModelAnswers(data, 'bin');

    expect(await predictionCount(batch.id)).toBe(3);
    const stored = await storedPredictions(server, batch.id);
    expect(stored.map((row) => row.probabilities)).toEqual(data.map((row) => row.predictionValues.map((v) => v.value)));
    expect(stored.map((row) => row.predicted_label)).toEqual(data.map((row) => row.prediction));
    expect(stored.map((row) => row.features)).toEqual(ROWS.map(({ a, b, c }) => ({ a, b, c })));

    const health = await serviceHealth(deployment.id, batch.id);
    expect(health).toMatchObject({ totalRequests: 1, totalPredictions: 3, userErrorRate: 0, serverErrorRate: 0 });
    expect(health.executionTime.count).toBe(1);
    expect(health.executionTime.max).toBeCloseTo(Number(answer.headers.get('x-datarobot-execution-time')), -1);
  });

  it('counts a request refused for its rows as a user error in the batch, with no row', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const batch = await createBatch(server, deployment.id);
    const answer = await predict(server, deployment.id, [{ a: 'x' }], { headers: { [BATCH_HEADER]: batch.id } });
    expect(answer.status).toBe(422);
    expect(await serviceHealth(deployment.id, batch.id)).toMatchObject({ totalRequests: 1, totalPredictions: 0, userErrorRate: 1 });
    expect(await predictionCount(batch.id)).toBe(0);
  });

  it('creates a batch named `<prefix> - <UTC date and time>` from ?monitoringBatchPrefix=, counted in the quota', async () => {
    const deployment = await createScoredDeployment(server, models, 'multi');
    const used = await quotaUsed(server, deployment.id, server.adminToken);
    const answer = await predict(server, deployment.id, ROWS, { query: '?monitoringBatchPrefix=nightly' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const [batch] =
      await server.sql`select id, name, prediction_count::int as n from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(batch!.name).toMatch(/^nightly - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(batch!.n).toBe(3);
    expect(await quotaUsed(server, deployment.id, server.adminToken)).toBe(used + 1);
    const both = await predict(server, deployment.id, ROWS, {
      query: '?monitoringBatchPrefix=nightly',
      headers: { [BATCH_HEADER]: batch!.id as string },
    });
    expect(both.status).toBe(422);
    expect(both.json.errors).toEqual({ monitoringBatchPrefix: 'give either batchId or batchPrefix, not both' });
  });

  it("puts rows sent without a batch in the deployment's unassigned batch of the UTC day", async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    for (let i = 0; i < 2; i++) expect((await predict(server, deployment.id, ROWS)).status).toBe(200);
    const batches =
      await server.sql`select id, name, prediction_count::int as n from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(batches.map(({ name, n }) => ({ name, n }))).toEqual([
      { name: `Unassigned predictions - ${new Date().toISOString().slice(0, 10)}`, n: 6 },
    ]);
    expect(await serviceHealth(deployment.id, batches[0]!.id)).toMatchObject({ totalRequests: 2, totalPredictions: 6 });
  });
});

describe('a batch that would refuse the rows refuses the request before scoring', () => {
  /** Sends ROWS into `batchId`; the answer, after checking the backend was never called. */
  async function refusedBeforeScoring(deploymentId: string, options: Parameters<typeof predict>[3]) {
    const before = models.received.length;
    const answer = await predict(server, deploymentId, ROWS, options);
    expect(models.received.length, 'the model server received a request').toBe(before);
    expect(await countRows(server, 'predictions', 'deployment_id', deploymentId)).toBe(0);
    return answer;
  }

  it('a locked, deleted, unknown, foreign or other deployment’s batch', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const locked = await createBatch(server, deployment.id);
    expect((await lockBatch(server, deployment.id, locked.id)).status).toBe(200);
    const deleted = await createBatch(server, deployment.id);
    expect((await server.rest('DELETE', batchPath(deployment.id, deleted.id))).status).toBe(204);
    const other = await createTenant(server);
    const foreign = await createBatch(server, other.deploymentId, undefined, other.token);
    const sibling = await createBatch(server, (await createDeployment(server)).id);

    const lockedAnswer = await refusedBeforeScoring(deployment.id, { headers: { [BATCH_HEADER]: locked.id } });
    expect(lockedAnswer.status).toBe(409);
    expect(lockedAnswer.json).toEqual({ message: LOCKED_MESSAGE, batchId: locked.id });
    for (const batchId of [deleted.id, MISSING_BATCH, foreign.id, sibling.id]) {
      const answer = await refusedBeforeScoring(deployment.id, { headers: { [BATCH_HEADER]: batchId } });
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
    // Nothing was counted in the locked batch either.
    expect(await serviceHealth(deployment.id, locked.id)).toMatchObject({ totalRequests: 0 });
  });

  it('a deployment with batch monitoring off', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg', { input: { batchMonitoringEnabled: false } });
    const answer = await refusedBeforeScoring(deployment.id, {});
    expect(answer.status).toBe(422);
    expect(answer.json.message).toBe('Batch monitoring is not enabled on this deployment; enable settings.batchMonitoring first');
  });

  it('a used-up daily quota when the request needs a new batch (prefix, or the first unassigned one): 429 with the reset time', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createScoredDeployment(server, models, 'reg', { token: org.token });
    const batch = await createBatch(server, deployment.id, undefined, org.token);
    for (const query of ['?monitoringBatchPrefix=hourly', '']) {
      const answer = await refusedBeforeScoring(deployment.id, { query, token: org.token });
      expect(answer.status).toBe(429);
      expect(answer.json).toMatchObject({ limit: 1, used: 1, resetAt: expect.any(String) });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // An existing batch needs no quota.
    expect((await predict(server, deployment.id, ROWS, { token: org.token, headers: { [BATCH_HEADER]: batch.id } })).status).toBe(200);
  });

  it('a batch locked while the backend scores: refused by the ingest transaction, nothing stored', async () => {
    const deployment = await createScoredDeployment(server, models, 'slow');
    const batch = await createBatch(server, deployment.id);
    const before = models.received.length;
    const pending = predict(server, deployment.id, ROWS, { headers: { [BATCH_HEADER]: batch.id } });
    while (models.received.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await lockBatch(server, deployment.id, batch.id)).status).toBe(200);
    const answer = await pending;
    expect(answer.status).toBe(409);
    expect(await predictionCount(batch.id)).toBe(0);
  });
});

describe('a failing backend', () => {
  const failures: [string, ModelName | 'down', 'OPEN_INFERENCE_V2' | 'MLFLOW', number, string, RegExp][] = [
    ['down (nothing listens)', 'down', 'OPEN_INFERENCE_V2', 502, 'UNREACHABLE', /: could not connect \(ECONNREFUSED\)$/],
    ['down (nothing listens)', 'down', 'MLFLOW', 502, 'UNREACHABLE', /: could not connect \(ECONNREFUSED\)$/],
    ['slower than timeoutMs', 'slow', 'OPEN_INFERENCE_V2', 504, 'TIMEOUT', /: no answer within 200 ms$/],
    ['answering 503', 'failing', 'OPEN_INFERENCE_V2', 502, 'HTTP_ERROR', /: POST \/v2\/models\/failing\/infer answered 503: /],
    ['answering 503', 'failing', 'MLFLOW', 502, 'HTTP_ERROR', /: POST \/invocations answered 503: /],
    ['answering a row short', 'malformed', 'OPEN_INFERENCE_V2', 502, 'MALFORMED_ANSWER', /: outputs\[0\] has 2 values; 3 rows need 3$/],
    ['answering a row short', 'malformed', 'MLFLOW', 502, 'MALFORMED_ANSWER', /: the answer has 2 predictions for 3 rows$/],
  ];

  it.each(failures)(
    '%s (%s, %s): %i %s naming the backend, a server error in the batch',
    async (_, model, protocol, status, failure, reason) => {
      const url = model === 'down' ? await closedPortUrl() : models.url;
      const name = model === 'down' ? 'reg' : model;
      const backend = { ...backendFor(url, name, protocol), ...(model === 'slow' ? { timeoutMs: 200 } : {}) };
      const deployment = await createScoredDeployment(server, url, 'reg', { protocol, input: { modelBackend: backend } });
      const batch = await createBatch(server, deployment.id);
      const answer = await predict(server, deployment.id, ROWS, { headers: { [BATCH_HEADER]: batch.id } });
      expect(answer.status).toBe(status);
      const described = protocol === 'MLFLOW' ? `MLFLOW ${backend.url}` : `OPEN_INFERENCE_V2 ${url}/v2/models/${name}`;
      expect(answer.json).toMatchObject({ failure, message: expect.stringMatching(reason) });
      expect(answer.json.message!.startsWith(`Model backend ${described}: `)).toBe(true);
      expect(await serviceHealth(deployment.id, batch.id)).toMatchObject({ totalRequests: 1, totalPredictions: 0, serverErrorRate: 1 });
      expect(await predictionCount(batch.id)).toBe(0);
    },
  );
});
