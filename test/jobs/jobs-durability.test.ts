import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceStats } from '../helpers/db.js';
import {
  csvObjects,
  download,
  FAST_JOBS,
  inferences,
  inputCsv,
  inputRows,
  jobDeployment,
  MODELS,
  startJob,
  storedChunks,
  waitForJob,
} from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { ServerProcess, stopProcesses } from '../helpers/processes.js';
import { batchPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// A run is neither lost nor doubled when a server dies: every chunk is stored with its rows in one
// transaction, its claim runs out when its worker is gone, and another process's sweeper wakes the
// run. The API of these tests is a server that works on no job (jobWorkers 0) on the same database;
// the work is done by server processes (`tsx src/main.ts`) that are killed with SIGKILL, or by a
// second in-process server.

/** The same fast settings as FAST_JOBS, as a server process reads them. */
const FAST_ENV = {
  BATCHLENS_JOB_LEASE_SECONDS: String(FAST_JOBS.jobLeaseSeconds),
  BATCHLENS_JOB_SCHEDULER_INTERVAL_MS: String(FAST_JOBS.jobSchedulerIntervalMs),
  BATCHLENS_JOB_RETRY_BASE_MS: String(FAST_JOBS.jobRetryBaseMs),
  BATCHLENS_JOB_BACKEND_ATTEMPTS: String(FAST_JOBS.jobBackendAttempts),
};

let api: TestServer;
let models: ModelServer;
const servers: TestServer[] = [];
beforeAll(async () => {
  [api, models] = await Promise.all([startTestServer({ ...FAST_JOBS, jobWorkers: 0 }), startModelServer(MODELS)]);
});
afterAll(async () => {
  await stopProcesses();
  await Promise.all([...servers.map((s) => s.stop()), api?.stop(), models?.stop()]);
});

const worker = () => ServerProcess.spawn({ databaseUrl: api.app.databaseUrl, token: api.adminToken, env: FAST_ENV });

/** Starts a run of `rows` on the slow model (250 ms a request) in chunks of 2 rows, and waits until a worker has stored some. */
async function runUntilSome(rows: ReturnType<typeof inputRows>, scored: number) {
  const deployment = await jobDeployment(api, models, 'slow');
  const job = await startJob(
    api,
    { deploymentId: deployment.id, chunkSize: 20, numConcurrent: 2, passthroughColumns: ['id'] },
    inputCsv(rows),
  );
  const running = await waitForJob(api, job.id, (j) => j.scoredRows >= scored, { timeoutMs: 60_000 });
  expect(running.status).toBe('RUNNING');
  return { deployment, job: running, batchId: running.monitoringBatchId! };
}

describe('a server killed (SIGKILL) in the middle of a run', () => {
  it('leaves the run to another process, which completes it with every input row in the batch exactly once', {
    timeout: 180_000,
  }, async () => {
    const rows = inputRows(40);
    const first = await (await worker()).ready();
    const { job, batchId } = await runUntilSome(rows, 6);
    first.kill();
    await first.exited;
    const atKill = (await storedChunks(api, job.id)).filter((c) => c.done).length;
    expect(atKill).toBeLessThan(20);

    // Nobody works on it now; another process starts and takes it over once the claims run out.
    const second = await (await worker()).ready();
    const done = await waitForJob(api, job.id, undefined, { timeoutMs: 60_000 });
    expect(done, second.output()).toMatchObject({ status: 'COMPLETED', scoredRows: 40, failedRows: 0, monitoringBatchId: batchId });

    // Every row once in the batch: 40 predictions, whose features are the 40 input rows'.
    const stored = await api.sql<{ a: number }[]>`select (features->>'a')::float8 as a from prediction_rows where batch_id = ${batchId}`;
    expect(stored.map((r) => r.a).sort((x, y) => x - y)).toEqual(rows.map((r) => Number(r.a)).sort((x, y) => x - y));
    const batch = await api.rest('GET', batchPath(done.jobSpec.deploymentId as string, batchId));
    expect(batch.json.predictionsCount).toBe(40);
    // One request per chunk: the chunks the dead server had in flight were scored again, stored once.
    const chunks = await storedChunks(api, job.id);
    expect(chunks.every((c) => c.done)).toBe(true);
    expect(chunks.some((c) => c.attempts > 1)).toBe(true);
    const [stats] = await serviceStats(api, batchId);
    expect(stats).toMatchObject({ request_count: chunks.length, prediction_count: 40 });

    // The output: every id once, in input order.
    const file = await download(api, job.id);
    expect(file.status).toBe(200);
    expect(csvObjects(file.text).rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    await second.terminate();
  });

  it('and whose batch is deleted meanwhile: the run that is taken over ends ABORTED, and no row lands in another batch', {
    timeout: 180_000,
  }, async () => {
    const first = await (await worker()).ready();
    const { deployment, job, batchId } = await runUntilSome(inputRows(40), 4);
    first.kill();
    await first.exited;
    expect((await api.rest('DELETE', batchPath(deployment.id, batchId))).status).toBe(204);
    // The deleted batch is purged (in about a second) before anyone takes the run over.
    for (let i = 0; (await api.sql`select 1 from monitoring_batches where id = ${batchId}`).length > 0; i++) {
      expect(i).toBeLessThan(200);
      await sleep(50);
    }
    servers.push(await startTestServer({ ...FAST_JOBS, databaseUrl: api.app.databaseUrl }));
    const ended = await waitForJob(api, job.id, undefined, { timeoutMs: 30_000 });
    expect(ended.status, ended.statusDetails).toBe('ABORTED');
    expect(ended.statusDetails).toMatch(/deleted during the run/);
    const [{ n }] = (await api.sql`select count(*)::int as n from prediction_rows where deployment_id = ${deployment.id}`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(0);
    expect(await api.sql`select id from monitoring_batches where deployment_id = ${deployment.id}`).toEqual([]);
  });
});

describe('two servers working on one run', () => {
  it('score each chunk once, even when scoring a chunk takes longer than a claim lasts', { timeout: 60_000 }, async () => {
    const [one, two] = await Promise.all([
      startTestServer({ ...FAST_JOBS, databaseUrl: api.app.databaseUrl }),
      startTestServer({ ...FAST_JOBS, databaseUrl: api.app.databaseUrl }),
    ]);
    servers.push(one, two);
    // 2.5 s a request: longer than the 2 s claim.
    const deployment = await jobDeployment(api, models, 'slower');
    const before = inferences(models, 'slower').length;
    const rows = inputRows(8);
    const job = await startJob(
      api,
      { deploymentId: deployment.id, chunkSize: 20, numConcurrent: 2, passthroughColumns: ['id'] },
      inputCsv(rows),
    );
    const done = await waitForJob(api, job.id, undefined, { timeoutMs: 40_000 });
    expect(done).toMatchObject({ status: 'COMPLETED', scoredRows: 8 });
    const chunks = await storedChunks(api, job.id);
    expect(inferences(models, 'slower').length - before).toBe(chunks.length);
    expect(csvObjects((await download(api, job.id)).text).rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });
});
