import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortBatchPredictionJobDocument,
  BatchPredictionJobProgressDocument,
  CreateBatchPredictionJobDocument,
  type CreateBatchPredictionJobInput,
  JobBatchEventsLiveDocument,
} from '../generated/graphql.js';
import { createBatch, createTenant } from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import {
  createScoredDeployment,
  inputCsv,
  jobReaching,
  PRICE_MODEL,
  type Running,
  startCsvServer,
  startModelServer,
} from '../helpers/jobs-graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// batchPredictionJobProgress (C11): the job now, then its changes coalesced (a handful of messages
// for dozens of stored chunks), completing after the final status; over graphql-ws and SSE; not
// found for a foreign or missing job. And the run's batch in batchEvents.

let server: TestServer;
let models: Running;
let files: Running;

beforeAll(async () => {
  [server, models, files] = await Promise.all([
    // One update a second at most: chunks are stored faster than that even on a busy machine, so
    // a stream that sent one message per chunk would show.
    startTestServer({ liveMaxUpdatesPerSecond: 1 }),
    startModelServer({ price: PRICE_MODEL, slow: { ...PRICE_MODEL, behaviour: { delayMs: 150 } } }),
    startCsvServer(),
  ]);
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
  await models?.stop();
  await files?.stop();
});

async function createJob(input: CreateBatchPredictionJobInput) {
  const { createBatchPredictionJob: result } = await server.op(CreateBatchPredictionJobDocument, { input });
  if (result.__typename !== 'CreateBatchPredictionJobSuccess') throw new Error(JSON.stringify(result));
  return result.job;
}

const urlIntake = (rows: number) => ({ type: 'URL' as const, url: `${files.url}/rows/${rows}.csv` });
const STATUS_ORDER = ['INITIALIZING', 'RUNNING', 'COMPLETED'];

describe('batchPredictionJobProgress over graphql-ws', () => {
  it('sends the job now, a few coalesced updates however many chunks, the COMPLETED state, and completes', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    // About 9 bytes a row, 100 bytes a chunk: 100 chunks, each stored (and announced) on its own.
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(1000), chunkSize: '100', numConcurrent: 4 });
    const sub = watch(connect(server), BatchPredictionJobProgressDocument, { id: job.id });
    await Promise.race([sub.done, new Promise((_, reject) => setTimeout(() => reject(new Error('no completion in 60 s')), 60_000))]);
    expect(sub.errors).toEqual([]);
    expect(sub.completed).toBe(true);

    const states = sub.messages.map((m) => m.data.batchPredictionJobProgress);
    const last = states.at(-1)!;
    expect(last).toMatchObject({ id: job.id, status: 'COMPLETED', percentageCompleted: 100, scoredRows: 1000, inputRows: 1000 });
    expect(last.monitoringBatch).toMatchObject({ predictionCount: 1000 });
    expect(states.filter((s) => s.status === 'COMPLETED')).toHaveLength(1);
    // Never backwards: statuses in order, counts growing.
    for (let i = 1; i < states.length; i++) {
      expect(STATUS_ORDER.indexOf(states[i]!.status)).toBeGreaterThanOrEqual(STATUS_ORDER.indexOf(states[i - 1]!.status));
      expect(states[i]!.scoredRows).toBeGreaterThanOrEqual(states[i - 1]!.scoredRows);
    }
    // Coalesced: at most one a second (this server's setting) besides the first, and far fewer than the chunks stored.
    const [row] = await server.sql<{ chunks: number }[]>`select chunk_count as chunks from batch_prediction_jobs where id = ${job.id}`;
    const chunks = row!.chunks;
    expect(chunks).toBeGreaterThanOrEqual(80);
    const seconds = (sub.messages.at(-1)!.at - sub.messages[0]!.at) / 1000;
    expect(sub.messages.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(sub.messages.length).toBeLessThan(chunks / 2);
  });

  it('sends a finished job once and completes', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(4) });
    await jobReaching(server, job.id, ['COMPLETED']);
    const sub = watch(connect(server), BatchPredictionJobProgressDocument, { id: job.id });
    await sub.done;
    expect(sub.messages.map((m) => m.data.batchPredictionJobProgress.status)).toEqual(['COMPLETED']);
    expect(sub.errors).toEqual([]);
  });

  it('ends with the ABORTED state when the job is aborted', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'slow');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(400), chunkSize: '200', numConcurrent: 1 });
    const sub = watch(connect(server), BatchPredictionJobProgressDocument, { id: job.id });
    await sub.until((m) => m.batchPredictionJobProgress.status === 'RUNNING', 10_000);
    await server.op(AbortBatchPredictionJobDocument, { id: job.id });
    // Within a second of the abort at this server's rate (one update a second), with room for a busy machine.
    await Promise.race([sub.done, new Promise((_, reject) => setTimeout(() => reject(new Error('not completed within 3 s')), 3000))]);
    expect(sub.messages.at(-1)!.data.batchPredictionJobProgress).toMatchObject({ status: 'ABORTED', statusDetails: 'Aborted by the user' });
  });

  it("refuses another organization's job and a missing one with NOT_FOUND", async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' } });
    const other = await createTenant(server);
    for (const id of [job.id, 'job_000000000000000000000000']) {
      const sub = watch(connect(server, other.token), BatchPredictionJobProgressDocument, { id });
      await sub.done;
      expect(sub.messages).toEqual([]);
      expect(JSON.stringify(sub.errors)).toContain('Batch prediction job not found');
      expect(JSON.stringify(sub.errors)).toContain('"code":"NOT_FOUND"');
    }
  });
});

describe('batchPredictionJobProgress over SSE', () => {
  it('streams the job to its final state and ends the response', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(30) });
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query: print(BatchPredictionJobProgressDocument), variables: { id: job.id } }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text(); // the stream ends once the final state is sent
    expect(text).toContain('"status":"COMPLETED"');
    expect(text).toContain('"scoredRows":30');
  });
});

describe("a run's batch in batchEvents", () => {
  it('announces the batch the run creates (CREATED), linked to the job', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' }, monitoringBatchPrefix: 'evented' });
    const events = watch(connect(server), JobBatchEventsLiveDocument, { deploymentId: deployment.id });
    // batchEvents sends no current state: a batch of our own that arrives shows the subscription is on.
    for (let attempt = 1; ; attempt++) {
      const marker = await createBatch(server, deployment.id, `marker ${attempt}`);
      const arrived = await events
        .until((e) => e.batchEvents.batch.id === marker.id, 500)
        .then(
          () => true,
          () => false,
        );
      if (arrived) break;
      if (attempt === 20) throw new Error('batchEvents never started');
    }
    const upload = await server.rest('PUT', job.csvUploadPath!, { rawBody: inputCsv(5), headers: { 'content-type': 'text/csv' } });
    expect(upload.status).toBe(202);
    const created = await events.until((e) => e.batchEvents.kind === 'CREATED' && !e.batchEvents.batch.name.startsWith('marker'), 15_000);
    expect(created.data.batchEvents.batch.name).toMatch(/^evented - /);
    expect(created.data.batchEvents.batch.description).toBe(`Predictions of batch prediction job ${job.id}`);
    expect(created.data.batchEvents.batch.predictionJob).toEqual({ id: job.id });
    const done = await jobReaching(server, job.id, ['COMPLETED']);
    expect(done.monitoringBatch!.id).toBe(created.data.batchEvents.batch.id);
    await events.stop();
  });
});
