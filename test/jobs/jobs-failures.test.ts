import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceStats } from '../helpers/db.js';
import { createBatch, createOrganization } from '../helpers/fixtures.js';
import {
  csvObjects,
  download,
  expectedAnswer,
  FAST_JOBS,
  inferences,
  inputCsv,
  inputRows,
  jobDeployment,
  MODELS,
  type ModelName,
  type Protocol,
  runJob,
  storedChunks,
} from '../helpers/jobs.js';
import { closedPortUrl, type ModelServer, startModelServer } from '../helpers/model-server.js';
import { limitsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nextUtcMidnight } from '../helpers/time.js';

// A run that cannot score: the daily batch quota is used up (nothing is scored), the model backend
// is down, too slow, answers 5xx (retried with backoff; the run fails after jobBackendAttempts tries)
// or answers nonsense (not retried) — and abortOnError false, where a failed chunk's rows are
// written as failed rows and the run goes on.

const RETRY_BASE_MS = 200;
let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer({ ...FAST_JOBS, jobRetryBaseMs: RETRY_BASE_MS }), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const ROWS = inputRows(6);
const CSV = inputCsv(ROWS);
const ATTEMPTS = FAST_JOBS.jobBackendAttempts;

/** A run of the 6 rows in one chunk, one chunk at a time, on a deployment scoring through `model`. */
async function runOn(
  model: ModelName,
  options: { protocol?: Protocol; timeoutMs?: number; url?: string; spec?: Record<string, unknown> } = {},
) {
  const deployment = await jobDeployment(server, options.url ?? models, model, options);
  const job = await runJob(server, { deploymentId: deployment.id, numConcurrent: 1, passthroughColumns: ['id'], ...options.spec }, CSV);
  return { deployment, job };
}

/** The retry lines of a job's log, with when each was written. */
const retryLogs = (logs: string[]) =>
  logs
    .filter((line) => / try \d+ of \d+ in \d+ ms$/.test(line))
    .map((line) => ({ at: Date.parse(line.slice(0, 24)), text: line.slice(25) }));

describe('the daily batch quota', () => {
  it('fails the run before anything is scored, saying so and when the quota resets', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await jobDeployment(server, models, 'reg', { token: org.token });
    await createBatch(server, deployment.id, 'the one batch of the day', org.token);
    const before = inferences(models, 'reg').length;
    const resetBefore = nextUtcMidnight();
    const job = await runJob(server, { deploymentId: deployment.id }, CSV, org.token);
    expect(job).toMatchObject({ status: 'FAILED', scoredRows: 0, failedRows: 0, monitoringBatchId: null });
    const resetsAt = /it resets at (\S+)$/.exec(job.statusDetails)?.[1];
    expect(job.statusDetails).toMatch(
      /^Monitoring batch quota exceeded: Daily batch limit of 1 reached for this deployment; it resets at /,
    );
    expect([resetBefore, nextUtcMidnight()]).toContain(resetsAt);
    expect(inferences(models, 'reg').length).toBe(before);
    // Nothing was scored: no output is offered.
    expect((job as { links?: Record<string, string> }).links?.download).toBeUndefined();
    const download = await server.rest('GET', `/api/v2/batchPredictions/${(job as { id: string }).id}/download/`, { token: org.token });
    expect(download.status).toBe(404);
    const quota = await server.rest('GET', limitsPath(deployment.id), { token: org.token });
    expect(quota.json).toMatchObject({ used: 1, limit: 1, remaining: 0 });
  });
});

describe('a failing model backend (abortOnError, the default)', () => {
  it('down (nothing listens): retried with backoff, then FAILED naming the backend, recorded as a server error', async () => {
    const url = await closedPortUrl();
    const { job } = await runOn('reg', { url });
    expect(job.status).toBe('FAILED');
    expect(job.statusDetails).toBe(
      `Model backend failed on chunk 0 (lines 2–7) after ${ATTEMPTS} tries: Model backend OPEN_INFERENCE_V2 ${url}/v2/models/reg: could not connect (ECONNREFUSED)`,
    );
    const retries = retryLogs(job.logs);
    expect(retries.map((r) => r.text)).toEqual([
      `chunk 0: Model backend OPEN_INFERENCE_V2 ${url}/v2/models/reg: could not connect (ECONNREFUSED); try 2 of ${ATTEMPTS} in ${RETRY_BASE_MS} ms`,
      `chunk 0: Model backend OPEN_INFERENCE_V2 ${url}/v2/models/reg: could not connect (ECONNREFUSED); try 3 of ${ATTEMPTS} in ${2 * RETRY_BASE_MS} ms`,
    ]);
    expect(retries[1]!.at - retries[0]!.at).toBeGreaterThanOrEqual(RETRY_BASE_MS);
    const [stats] = await serviceStats(server, job.monitoringBatchId!);
    expect(stats).toMatchObject({ request_count: 1, server_error_count: 1, prediction_count: 0 });
  });

  it('too slow (timeoutMs): each try times out, then FAILED', async () => {
    const before = inferences(models, 'stuck').length;
    const started = Date.now();
    const { job } = await runOn('stuck', { timeoutMs: 150, protocol: 'MLFLOW' });
    expect(job.status).toBe('FAILED');
    expect(job.statusDetails).toBe(
      `Model backend failed on chunk 0 (lines 2–7) after ${ATTEMPTS} tries: Model backend MLFLOW ${models.url}/mlflow/stuck: no answer within 150 ms`,
    );
    expect(inferences(models, 'stuck').length - before).toBe(ATTEMPTS);
    // 3 timeouts and 2 waits, not 3 times the backend's 5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150 + 3 * RETRY_BASE_MS);
    expect(Date.now() - started).toBeLessThan(5000);
    const [stats] = await serviceStats(server, job.monitoringBatchId!);
    expect(stats).toMatchObject({ request_count: 1, server_error_count: 1 });
  });

  it('503 twice, then answering: retried with growing waits, and the run completes with the right output', async () => {
    const before = inferences(models, 'flaky').length;
    const { job } = await runOn('flaky');
    expect(job.status, job.statusDetails).toBe('COMPLETED');
    expect(inferences(models, 'flaky').length - before).toBe(3);
    const retries = retryLogs(job.logs);
    expect(retries.map((r) => r.text)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^chunk 0: Model backend OPEN_INFERENCE_V2 .*/v2/models/flaky: POST /v2/models/flaky/infer answered 503: .*; try 2 of 3 in ${RETRY_BASE_MS} ms$`,
        ),
      ),
      expect.stringMatching(new RegExp(`answered 503: .*; try 3 of 3 in ${2 * RETRY_BASE_MS} ms$`)),
    ]);
    expect(retries[1]!.at - retries[0]!.at).toBeGreaterThanOrEqual(RETRY_BASE_MS);
    const { rows } = csvObjects((await download(server, job.id)).text);
    expect(rows.map((r) => r.id)).toEqual(ROWS.map((r) => r.id));
    ROWS.forEach((row, i) => {
      expect(Number(rows[i]!.price_PREDICTION)).toBeCloseTo(expectedAnswer('flaky', row)[0]!, 9);
    });
    const [stats] = await serviceStats(server, job.monitoringBatchId!);
    expect(stats).toMatchObject({ request_count: 1, server_error_count: 0, prediction_count: 6 });
  });

  it.each(['OPEN_INFERENCE_V2', 'MLFLOW'] as const)(
    'always 503 (%s): FAILED after jobBackendAttempts tries with the reason, a server error in the batch',
    async (protocol) => {
      const before = inferences(models, 'failing').length;
      const { job } = await runOn('failing', { protocol });
      expect(job.status).toBe('FAILED');
      const backend = protocol === 'MLFLOW' ? `MLFLOW ${models.url}/mlflow/failing` : `OPEN_INFERENCE_V2 ${models.url}/v2/models/failing`;
      const path = protocol === 'MLFLOW' ? '/invocations' : '/v2/models/failing/infer';
      expect(job.statusDetails).toMatch(
        `Model backend failed on chunk 0 (lines 2–7) after 3 tries: Model backend ${backend}: POST ${path} answered 503: `,
      );
      expect(inferences(models, 'failing').length - before).toBe(ATTEMPTS);
      expect(retryLogs(job.logs)).toHaveLength(ATTEMPTS - 1);
      expect(job.logs.at(-1)).toMatch(/Model backend failed on chunk 0/);
      const [stats] = await serviceStats(server, job.monitoringBatchId!);
      expect(stats).toMatchObject({ request_count: 1, server_error_count: 1, prediction_count: 0 });
      expect((await storedChunks(server, job.id)).map((c) => c.done)).toEqual([false]);
    },
  );

  it.each(['OPEN_INFERENCE_V2', 'MLFLOW'] as const)(
    'a malformed answer (%s): FAILED at once (not retried), naming the backend',
    async (protocol) => {
      const before = inferences(models, 'malformed').length;
      const { job } = await runOn('malformed', { protocol });
      expect(job.status).toBe('FAILED');
      const backend =
        protocol === 'MLFLOW' ? `MLFLOW ${models.url}/mlflow/malformed` : `OPEN_INFERENCE_V2 ${models.url}/v2/models/malformed`;
      const what = protocol === 'MLFLOW' ? 'the answer has 5 predictions for 6 rows' : 'outputs[0] has 5 values; 6 rows need 6';
      expect(job.statusDetails).toBe(`Model backend failed on chunk 0 (lines 2–7) after 1 try: Model backend ${backend}: ${what}`);
      expect(inferences(models, 'malformed').length - before).toBe(1);
    },
  );
});

describe('abortOnError false', () => {
  it("writes a failed chunk's rows as failed rows (empty predictions, the error in prediction_status) and completes", async () => {
    const rows = inputRows(12);
    const deployment = await jobDeployment(server, models, 'firstChunkFails');
    const job = await runJob(
      server,
      {
        deploymentId: deployment.id,
        abortOnError: false,
        numConcurrent: 1,
        chunkSize: 40,
        passthroughColumns: ['id'],
        includePredictionStatus: true,
      },
      inputCsv(rows),
    );
    expect(job.status, job.statusDetails).toBe('COMPLETED');
    const chunks = await storedChunks(server, job.id);
    expect(chunks.length).toBeGreaterThan(1);
    const failed = chunks[0]!.row_count;
    expect(job).toMatchObject({
      failedRows: failed,
      scoredRows: 12 - failed,
      percentageCompleted: 100,
      statusDetails: `Scored ${12 - failed} rows; ${failed} rows failed`,
    });

    const output = csvObjects((await download(server, job.id)).text);
    expect(output.columns).toEqual(['id', 'price_PREDICTION', 'prediction_status']);
    expect(output.rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    output.rows.forEach((out, i) => {
      if (i < failed) {
        expect(out.price_PREDICTION).toBe('');
        expect(out.prediction_status).toMatch(/^Model backend OPEN_INFERENCE_V2 .*\/v2\/models\/firstChunkFails: POST .* answered 500: /);
      } else {
        expect(out.prediction_status).toBe('OK');
        expect(Number(out.price_PREDICTION)).toBeCloseTo(expectedAnswer('firstChunkFails', rows[i]!)[0]!, 9);
      }
    });
    const [stats] = await serviceStats(server, job.monitoringBatchId!);
    expect(stats).toMatchObject({ request_count: chunks.length, server_error_count: 1, prediction_count: 12 - failed });
    const [{ n }] =
      (await server.sql`select count(*)::int as n from prediction_rows where batch_id = ${job.monitoringBatchId}`) as unknown as [
        { n: number },
      ];
    expect(n).toBe(12 - failed);
  });
});
