import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCounters } from '../helpers/db.js';
import {
  asJob,
  csvObjects,
  download,
  FAST_JOBS,
  getJob,
  inferences,
  inputCsv,
  inputRows,
  jobDeployment,
  jobPath,
  MODELS,
  parseCsv,
  runJob,
  startJob,
  storedChunks,
  waitForJob,
} from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { batchPath, lockBatch } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// Ending a run early: DELETE of a running job (the backend call in flight is cancelled), a lock or
// delete of its monitoring batch (what was stored stays consistent, nothing after), DELETE of a
// finished job and the retention of results; and the download while the run goes on.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(FAST_JOBS), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

/** Chunks of 2 rows (chunkSize 20 bytes) scored on the slow model (250 ms a request). */
const SLOW_SPEC = { chunkSize: 20, passthroughColumns: ['id'] };

/** What a run stored: its counters, its chunks and its batch, read behind the API. */
async function stored(jobId: string, batchId: string) {
  const chunks = await storedChunks(server, jobId);
  const [{ n }] = (await server.sql`select count(*)::int as n from prediction_rows where batch_id = ${batchId}`) as unknown as [
    { n: number },
  ];
  return {
    doneChunks: chunks.filter((c) => c.done).length,
    doneRows: chunks.filter((c) => c.done).reduce((sum, c) => sum + c.row_count, 0),
    predictions: n,
    predictionCount: (await batchCounters(server, batchId))?.prediction_count as number,
  };
}

/** Messages of the job queue for a job that a worker holds (pg-boss state active). */
async function activeMessages(jobId: string): Promise<number> {
  const [{ n }] = (await server.sql`
    select count(*)::int as n from pgboss.job where name = 'batchlens-prediction-job' and data->>'jobId' = ${jobId} and state = 'active'`) as unknown as [
    { n: number },
  ];
  return n;
}

describe('DELETE of a running job', () => {
  it('aborts it at once and lets go of the backend within 2 s; nothing is stored after', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const rows = inputRows(40);
    const job = await startJob(server, { deploymentId: deployment.id, ...SLOW_SPEC, numConcurrent: 2 }, inputCsv(rows));
    const running = await waitForJob(server, job.id, (j) => j.scoredRows >= 2);
    expect(running.status).toBe('RUNNING');

    const deleted = await server.rest('DELETE', jobPath(job.id));
    const abortedAt = Date.now();
    expect(deleted.status).toBe(202);
    expect(asJob(deleted)).toMatchObject({ status: 'ABORTED', statusDetails: 'Aborted by the user', resultsDeleted: false });
    expect(asJob(deleted).logs.at(-1)).toMatch(/aborted by user usr_/);

    // The worker's slice ends (its queue message completes) within 2 s.
    while ((await activeMessages(job.id)) > 0) {
      expect(Date.now() - abortedAt).toBeLessThan(2000);
      await sleep(50);
    }
    const requests = inferences(models, 'slow').length;
    const after = await stored(job.id, running.monitoringBatchId!);
    await sleep(1000);
    expect(inferences(models, 'slow').length).toBe(requests);
    expect(await stored(job.id, running.monitoringBatchId!)).toEqual(after);
    const final = await getJob(server, job.id);
    expect(final).toMatchObject({ status: 'ABORTED', scoredRows: after.doneRows, failedRows: 0 });
    expect(after.predictions).toBe(after.doneRows);
    expect(after.predictionCount).toBe(after.doneRows);
    expect(after.doneRows).toBeLessThan(40);

    // The partial output stays downloadable: the rows scored before the abort, in input order.
    const file = await download(server, job.id);
    expect(file.status).toBe(200);
    const ids = csvObjects(file.text).rows.map((r) => r.id);
    expect(ids).toEqual(rows.slice(0, ids.length).map((r) => r.id));
  });
});

describe('a lock or delete of the run’s monitoring batch', () => {
  it('lock: the run ends ABORTED saying so; the batch holds exactly the committed chunks, and nothing after', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const job = await startJob(server, { deploymentId: deployment.id, ...SLOW_SPEC, numConcurrent: 2 }, inputCsv(inputRows(40)));
    const running = await waitForJob(server, job.id, (j) => j.scoredRows >= 4);
    const batchId = running.monitoringBatchId!;
    const locked = await lockBatch(server, deployment.id, batchId);
    expect(locked.status).toBe(200);

    const ended = await waitForJob(server, job.id);
    expect(ended).toMatchObject({ status: 'ABORTED', statusDetails: `Monitoring batch ${batchId} was locked during the run` });
    const after = await stored(job.id, batchId);
    expect(after.doneRows).toBeGreaterThanOrEqual(4);
    expect(after.doneRows).toBeLessThan(40);
    expect(after).toEqual({ ...after, predictions: after.doneRows, predictionCount: after.doneRows });
    expect(ended.scoredRows).toBe(after.doneRows);
    await sleep(1000);
    expect(await stored(job.id, batchId)).toEqual(after);
    expect((await getJob(server, job.id)).scoredRows).toBe(after.doneRows);
  });

  it('delete: the run ends ABORTED saying so, and stores nothing after', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const job = await startJob(server, { deploymentId: deployment.id, ...SLOW_SPEC, numConcurrent: 2 }, inputCsv(inputRows(40)));
    const running = await waitForJob(server, job.id, (j) => j.scoredRows >= 4);
    const batchId = running.monitoringBatchId!;
    expect((await server.rest('DELETE', batchPath(deployment.id, batchId))).status).toBe(204);

    const ended = await waitForJob(server, job.id);
    expect(ended).toMatchObject({ status: 'ABORTED', statusDetails: `Monitoring batch ${batchId} was deleted during the run` });
    const chunks = async () => (await storedChunks(server, job.id)).filter((c) => c.done).reduce((sum, c) => sum + c.row_count, 0);
    const doneRows = await chunks();
    expect(ended.scoredRows).toBe(doneRows);
    expect(doneRows).toBeLessThan(40);
    await sleep(1000);
    expect(await chunks()).toBe(doneRows);
    // No row of the run went anywhere else (such as the deployment's batch of unassigned predictions).
    const [{ n }] = (await server.sql`
      select count(*)::int as n from prediction_rows where deployment_id = ${deployment.id} and batch_id <> ${batchId}`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(0);
  });
});

describe('DELETE of a finished job, and retention', () => {
  it('deletes its input and output (resultsDeleted); the job stays readable and its download is 404', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const job = await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(5)));
    expect(job.status).toBe('COMPLETED');
    expect(job.links.download).toBeDefined();
    for (let i = 0; i < 2; i++) {
      const deleted = await server.rest('DELETE', jobPath(job.id));
      expect(deleted.status).toBe(202);
      expect(asJob(deleted)).toMatchObject({ status: 'COMPLETED', resultsDeleted: true, scoredRows: 5 });
    }
    const read = await getJob(server, job.id);
    expect(read).toMatchObject({ status: 'COMPLETED', resultsDeleted: true });
    expect(read.links.download).toBeUndefined();
    expect(await storedChunks(server, job.id)).toEqual([]);
    const file = await download(server, job.id);
    expect(file.status).toBe(404);
    expect(JSON.parse(file.text)).toEqual({ message: 'The input and output of this job were deleted' });
    // The predictions stay in the batch: only the job's files go.
    expect((await batchCounters(server, job.monitoringBatchId!))?.prediction_count).toBe(5);
  });

  it('deletes the input and output of jobs finished longer ago than jobRetentionHours', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const [old, recent] = [
      await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(3))),
      await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(3))),
    ];
    // Time passes for one of them (the default retention is 48 hours).
    await server.sql`update batch_prediction_jobs set finished_at = now() - interval '49 hours' where id = ${old.id}`;
    await waitForJob(server, old.id, (j) => j.resultsDeleted, { timeoutMs: 5000 });
    expect((await download(server, old.id)).status).toBe(404);
    expect(await storedChunks(server, old.id)).toEqual([]);
    expect(await getJob(server, recent.id)).toMatchObject({ resultsDeleted: false });
    expect((await download(server, recent.id)).status).toBe(200);
  });
});

describe('the download', () => {
  it('streams the output while the job runs, and is complete at its end', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const rows = inputRows(16);
    const job = await startJob(server, { deploymentId: deployment.id, ...SLOW_SPEC, numConcurrent: 1 }, inputCsv(rows));
    await waitForJob(server, job.id, (j) => j.status !== 'INITIALIZING');
    const response = await fetch(`${server.url}${jobPath(job.id, 'download/')}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (text.split('\n').length < 3) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += value;
    }
    // The header and the first rows are here, and the job is still scoring.
    expect(text.startsWith('id,price_PREDICTION\nr0,')).toBe(true);
    expect((await getJob(server, job.id)).status).toBe('RUNNING');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect((await getJob(server, job.id)).status).toBe('COMPLETED');
    expect(parseCsv(text).map((cells) => cells[0])).toEqual(['id', ...rows.map((r) => r.id)]);
    expect(text).toBe((await download(server, job.id)).text);
  });

  it('in progress when the run is aborted is cut off, not ended as if the file were complete', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const job = await startJob(server, { deploymentId: deployment.id, ...SLOW_SPEC, numConcurrent: 1 }, inputCsv(inputRows(16)));
    await waitForJob(server, job.id, (j) => j.scoredRows >= 2);
    const response = await fetch(`${server.url}${jobPath(job.id, 'download/')}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).done).toBe(false);
    expect((await server.rest('DELETE', jobPath(job.id))).status).toBe(202);
    const rest = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    })();
    await expect(rest).rejects.toThrow();
    // Downloaded after the abort, the partial output is what there is: a whole answer.
    const partial = await download(server, job.id);
    expect(partial.status).toBe(200);
    expect(csvObjects(partial.text).rows.length).toBeLessThan(16);
  });

  it('is 404 before the job starts scoring', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const created = await server.rest('POST', '/api/v2/batchPredictions/', { body: { deploymentId: deployment.id } });
    const file = await download(server, asJob(created).id);
    expect(file.status).toBe(404);
    expect(JSON.parse(file.text)).toEqual({ message: 'No output: the job is INITIALIZING and has not started scoring yet' });
  });
});
