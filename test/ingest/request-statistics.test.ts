import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportDeploymentStatsDocument } from '../generated/graphql.js';
import { batchCounters, countRows, serviceStats } from '../helpers/db.js';
import { createBatch, createDeployment, createOrganization, createUser } from '../helpers/fixtures.js';
import { regressionRows } from '../helpers/ingest-data.js';
import { BATCH_HEADER, inputsPath, postJson, requestsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Request statistics without rows (GraphQL reportDeploymentStats, REST predictionRequests): counts,
// errors, execution times and consumers per batch; and the day's batch of unassigned predictions
// that reports naming no batch go to.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('request statistics alone', () => {
  it('reportDeploymentStats records requests, errors, execution times and consumers without rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const reports = [
      { numPredictions: 10, executionTimeMs: 50, userError: false, systemError: false },
      { numPredictions: 5, executionTimeMs: 150, userError: true, systemError: false },
      { numPredictions: 0, systemError: true },
    ];
    for (const report of reports) {
      const result = await server.op(ReportDeploymentStatsDocument, {
        input: { deploymentId: deployment.id, batchId: batch.id, ...report },
      });
      expect(result.reportDeploymentStats.__typename).toBe('ReportDeploymentStatsSuccess');
    }
    const [stats] = await server.sql`select * from batch_service_stats where batch_id = ${batch.id}`;
    expect(stats).toMatchObject({
      request_count: '3',
      prediction_count: '15',
      user_error_count: '1',
      server_error_count: '1',
      execution_time_count: '2',
      execution_time_sum: 200,
      execution_time_min: 50,
      execution_time_max: 150,
    });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    const bad = await server.op(ReportDeploymentStatsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: -1 },
    });
    expect(bad.reportDeploymentStats).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'numPredictions' }] });
  });

  it('predictionRequests: request statistics only, no rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const reports: { body: Record<string, unknown>; headers: Record<string, string> }[] = [
      { body: { batchId: batch.id, numPredictions: 10, executionTimeMs: 40, modelId: 'm1' }, headers: {} },
      { body: { numPredictions: 5, executionTimeMs: 160, userError: true, modelId: 'm1' }, headers: { [BATCH_HEADER]: batch.id } },
      { body: { batchId: batch.id, numPredictions: 0, systemError: true, modelId: 'm1' }, headers: {} },
    ];
    for (const { body, headers } of reports) {
      const answer = await postJson(server, requestsPath(deployment.id), body, { headers });
      expect(answer.status, JSON.stringify(answer.json)).toBe(202);
      expect(answer.json).toEqual({ batchId: batch.id, batchName: batch.name });
    }
    expect(await serviceStats(server, batch.id)).toEqual([
      {
        model_id: 'm1',
        request_count: 3,
        prediction_count: 15,
        user_error_count: 1,
        server_error_count: 1,
        execution_time_count: 2,
        execution_time_sum: 200,
        execution_time_min: 40,
        execution_time_max: 160,
      },
    ]);
    expect(await countRows(server, 'batch_execution_time_buckets', 'batch_id', batch.id)).toBe(2);
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_column_stats', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_model_history', 'batch_id', batch.id)).toBe(0);
    expect(await batchCounters(server, batch.id)).toMatchObject({ prediction_count: 0, earliest_prediction_at: null });
    for (const bad of [
      { numPredictions: -1 },
      { numPredictions: 1.5 },
      { numPredictions: '3' },
      {},
      { numPredictions: 1, executionTimeMs: -2 },
      { numPredictions: 1, userError: 'yes' },
    ]) {
      const answer = await postJson(server, requestsPath(deployment.id), { batchId: batch.id, ...bad });
      expect(answer.status, JSON.stringify(bad)).toBe(422);
    }
  });
});

describe("the day's batch of unassigned predictions", () => {
  it("puts stats without a batch id into the day's batch of unassigned predictions", async () => {
    const deployment = await createDeployment(server);
    const results = await Promise.all(
      [1, 2, 3].map((n) => server.op(ReportDeploymentStatsDocument, { input: { deploymentId: deployment.id, numPredictions: n } })),
    );
    const names = new Set(
      results.map((r) =>
        r.reportDeploymentStats.__typename === 'ReportDeploymentStatsSuccess'
          ? r.reportDeploymentStats.batch.name
          : r.reportDeploymentStats.__typename,
      ),
    );
    expect([...names]).toEqual([`Unassigned predictions - ${new Date().toISOString().slice(0, 10)}`]);
  });

  it("predictionInputs and predictionRequests without a batch: the day's unassigned batch", async () => {
    const deployment = await createDeployment(server);
    const name = `Unassigned predictions - ${new Date().toISOString().slice(0, 10)}`;
    const answers = await Promise.all([
      postJson(server, inputsPath(deployment.id), { data: regressionRows(3, 58) }),
      postJson(server, inputsPath(deployment.id), { data: regressionRows(4, 59) }),
      postJson(server, requestsPath(deployment.id), { numPredictions: 7, executionTimeMs: 12 }),
    ]);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    expect(new Set(answers.map((a) => a.json.batchName))).toEqual(new Set([name]));
    expect(new Set(answers.map((a) => a.json.batchId)).size).toBe(1);
    const batchId = answers[0]!.json.batchId as string;
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deployment.id)).toBe(1);
    expect(await batchCounters(server, batchId)).toMatchObject({ prediction_count: 7 });
    expect(await serviceStats(server, batchId)).toEqual([
      expect.objectContaining({ request_count: 1, prediction_count: 7, execution_time_count: 1, execution_time_sum: 12 }),
    ]);
  });
});

describe('consumers', () => {
  it('counts distinct consumers per batch', async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server, org.token);
    const batch = await createBatch(server, deployment.id, 'shared', org.token);
    const second = await createUser(server, org.token, 'agent');
    for (const token of [org.token, org.token, second.secret]) {
      await server.op(
        ReportDeploymentStatsDocument,
        { input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1 } },
        token,
      );
    }
    const consumers = await server.sql`select request_count from batch_consumers where batch_id = ${batch.id} order by request_count`;
    expect(consumers.map((c) => Number(c.request_count))).toEqual([1, 2]);
  });
});
