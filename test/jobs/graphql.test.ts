import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortBatchPredictionJobDocument,
  BatchPredictionJobDocument,
  BatchPredictionJobOfBatchDocument,
  CreateBatchPredictionJobDocument,
  type CreateBatchPredictionJobInput,
  DeploymentJobsDocument,
  JobNodeDocument,
  MonitoringBatchDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createTenant, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
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

// Batch prediction jobs over GraphQL: created with a URL intake and run through the example model
// server to COMPLETED, the job and its spec, its monitoring batch both ways, a LOCAL_FILE job fed
// through the REST upload, refusals, the deployment's connection of jobs, abort, and tenancy.

const MISSING_JOB = 'job_000000000000000000000000';

let server: TestServer;
let models: Running;
let files: Running;

beforeAll(async () => {
  [server, models, files] = await Promise.all([
    startTestServer(),
    startModelServer({ price: PRICE_MODEL, slow: { ...PRICE_MODEL, behaviour: { delayMs: 150 } } }),
    startCsvServer(),
  ]);
});
afterAll(async () => {
  await server?.stop();
  await models?.stop();
  await files?.stop();
});

async function createJob(input: CreateBatchPredictionJobInput, token = server.adminToken) {
  const { createBatchPredictionJob: result } = await server.op(CreateBatchPredictionJobDocument, { input }, token);
  if (result.__typename !== 'CreateBatchPredictionJobSuccess') throw new Error(JSON.stringify(result));
  return result.job;
}

const urlIntake = (rows: number) => ({ type: 'URL' as const, url: `${files.url}/rows/${rows}.csv` });

describe('createBatchPredictionJob with a URL intake', () => {
  it('runs to COMPLETED through the model backend, records into its own batch, and reads the same as REST', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({
      deploymentId: deployment.id,
      intakeSettings: urlIntake(50),
      passthroughColumns: ['city'],
      chunkSize: '100',
      numConcurrent: 2,
      columnNamesRemapping: [{ inputName: 'city', outputName: 'town' }],
      monitoringBatchPrefix: 'nightly',
    });
    expect(job.spec).toEqual({
      deploymentId: deployment.id,
      intakeSettings: { type: 'URL', url: `${files.url}/rows/50.csv` },
      passthroughColumns: ['city'],
      passthroughColumnsSet: null,
      includeProbabilities: true,
      includePredictionStatus: false,
      chunkSize: '100',
      numConcurrent: 2,
      abortOnError: true,
      columnNamesRemapping: [{ inputName: 'city', outputName: 'town' }],
      skipDriftTracking: false,
      monitoringBatchPrefix: 'nightly',
    });
    expect(job).toMatchObject({ deployment: { id: deployment.id }, definitionId: null, csvUploadPath: null, resultsDeleted: false });
    expect(job.id).toMatch(/^job_/);

    const done = await jobReaching(server, job.id, ['COMPLETED', 'FAILED', 'ABORTED']);
    expect(done).toMatchObject({ status: 'COMPLETED', percentageCompleted: 100, scoredRows: 50, failedRows: 0, inputRows: 50 });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect(done.downloadPath).toBe(`/api/v2/batchPredictions/${job.id}/download/`);
    expect(done.monitoringBatch).toMatchObject({ predictionCount: 50, predictionJob: { id: job.id } });
    expect(done.monitoringBatch!.name).toMatch(/^nightly - /);

    // The output CSV at downloadPath: the remapped passthrough column, then the prediction.
    const download = await fetch(`${server.url}${done.downloadPath}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    const lines = (await download.text()).trim().split('\n');
    expect(lines[0]).toBe('town,price_PREDICTION');
    expect(lines).toHaveLength(51);
    expect(lines[2]).toBe('paris,1510'); // age 1, paris: 1000 + 10 + 500

    // One computation of progress and run time, whatever the transport.
    const rest = await server.rest('GET', `/api/v2/batchPredictions/${job.id}/`);
    expect(rest.json).toMatchObject({ percentageCompleted: done.percentageCompleted, elapsedTimeSec: done.elapsedTimeSec });
  });

  it('reaches the job by node(id) too', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' } });
    const { node } = await server.op(JobNodeDocument, { id: job.id });
    expect(node).toEqual({ __typename: 'BatchPredictionJob', id: job.id, status: 'INITIALIZING' });
  });
});

describe('MonitoringBatch.predictionJob', () => {
  it('links the batch a run made to the run, both ways; other batches have none', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(5) });
    const done = await jobReaching(server, job.id, ['COMPLETED']);
    const batchId = done.monitoringBatch!.id;
    const { monitoringBatch } = await server.op(BatchPredictionJobOfBatchDocument, { id: batchId });
    expect(monitoringBatch).toEqual({
      id: batchId,
      predictionCount: 5,
      predictionJob: { id: job.id, status: 'COMPLETED', monitoringBatch: { id: batchId } },
    });
    const plain = await createBatch(server, deployment.id);
    expect((await server.op(BatchPredictionJobOfBatchDocument, { id: plain.id })).monitoringBatch!.predictionJob).toBeNull();
  });
});

describe('a LOCAL_FILE job', () => {
  it('waits for its CSV at csvUploadPath, then runs', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' }, includePredictionStatus: true });
    expect(job).toMatchObject({
      status: 'INITIALIZING',
      inputRows: null,
      csvUploadPath: `/api/v2/batchPredictions/${job.id}/csvUpload/`,
      downloadPath: null,
      monitoringBatch: null,
      spec: { intakeSettings: { type: 'LOCAL_FILE', url: null }, includePredictionStatus: true },
    });
    const upload = await server.rest('PUT', job.csvUploadPath!, { rawBody: inputCsv(7), headers: { 'content-type': 'text/csv' } });
    expect(upload.status).toBe(202);
    const done = await jobReaching(server, job.id, ['COMPLETED', 'FAILED', 'ABORTED']);
    expect(done).toMatchObject({ status: 'COMPLETED', scoredRows: 7, inputRows: 7 });
  });
});

describe('createBatchPredictionJob refusals', () => {
  it('names the input field at fault', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const cases: [Partial<CreateBatchPredictionJobInput>, string][] = [
      [{ intakeSettings: { type: 'URL' } }, 'intakeSettings.url'],
      [{ intakeSettings: { type: 'URL', url: 'ftp://example.com/x.csv' } }, 'intakeSettings.url'],
      [{ intakeSettings: { type: 'LOCAL_FILE', url: 'http://example.com/x.csv' } }, 'intakeSettings.url'],
      [{ chunkSize: 'huge' }, 'chunkSize'],
      [{ chunkSize: '10' }, 'chunkSize'],
      [{ numConcurrent: 99 }, 'numConcurrent'],
      [{ passthroughColumns: ['city'], passthroughColumnsSet: 'ALL' }, 'passthroughColumnsSet'],
      [{ monitoringBatchPrefix: '   ' }, 'monitoringBatchPrefix'],
    ];
    for (const [input, field] of cases) {
      const { createBatchPredictionJob: result } = await server.op(CreateBatchPredictionJobDocument, {
        input: { deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' }, ...input },
      });
      expect(result.__typename, JSON.stringify(input)).toBe('ValidationError');
      if (result.__typename !== 'ValidationError') continue;
      expect(result.fieldErrors.map((e) => e.field)).toContain(field);
    }
  });

  it('answers NotFoundError for an unknown deployment, and the typed errors of a deployment that cannot run jobs', async () => {
    const missing = await server.op(CreateBatchPredictionJobDocument, {
      input: { deploymentId: MISSING_DEPLOYMENT, intakeSettings: { type: 'LOCAL_FILE' } },
    });
    expect(missing.createBatchPredictionJob).toMatchObject({ __typename: 'NotFoundError', resource: 'Deployment' });

    const noBackend = await createDeployment(server);
    const unscored = await server.op(CreateBatchPredictionJobDocument, {
      input: { deploymentId: noBackend.id, intakeSettings: { type: 'LOCAL_FILE' } },
    });
    expect(unscored.createBatchPredictionJob).toMatchObject({ __typename: 'ModelBackendError', failure: 'NOT_CONFIGURED' });

    const disabled = await createDeployment(server, server.adminToken, {
      batchMonitoringEnabled: false,
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: models.url, modelName: 'price' },
    });
    const off = await server.op(CreateBatchPredictionJobDocument, {
      input: { deploymentId: disabled.id, intakeSettings: { type: 'LOCAL_FILE' } },
    });
    expect(off.createBatchPredictionJob.__typename).toBe('BatchMonitoringDisabledError');
  });
});

describe('Deployment.batchPredictionJobs', () => {
  it('pages newest first with keyset cursors, counts the total, and filters by status', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createJob({ deploymentId: deployment.id, intakeSettings: { type: 'LOCAL_FILE' } })).id);
    const newestFirst = [...created].reverse();
    const page = (vars: { first?: number; after?: string; last?: number; before?: string; status?: ('INITIALIZING' | 'ABORTED')[] }) =>
      server.op(DeploymentJobsDocument, { deploymentId: deployment.id, ...vars }).then((d) => d.deployment!.batchPredictionJobs);

    const first = await page({ first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await page({ first: 2, after: first.pageInfo.endCursor! });
    expect(second.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(2, 4));
    const third = await page({ first: 2, after: second.pageInfo.endCursor! });
    expect(third.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(4));
    expect(third.pageInfo.hasNextPage).toBe(false);
    const back = await page({ last: 2, before: third.pageInfo.startCursor! });
    expect(back.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(2, 4));

    // createdAt desc, then id desc: the order holds across equal timestamps too.
    const all = (await page({ first: 10 })).edges.map((e) => e.node);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
    }

    const aborted = await server.op(AbortBatchPredictionJobDocument, { id: created[1]! });
    expect(aborted.abortBatchPredictionJob.__typename).toBe('AbortBatchPredictionJobSuccess');
    const onlyAborted = await page({ status: ['ABORTED'] });
    expect(onlyAborted.totalCount).toBe(1);
    expect(onlyAborted.edges.map((e) => e.node.id)).toEqual([created[1]]);
    expect((await page({ status: ['INITIALIZING'] })).totalCount).toBe(4);

    const forged = await server.graphql(DeploymentJobsDocument, { deploymentId: deployment.id, after: 'not-a-cursor' });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('abortBatchPredictionJob', () => {
  it('stops a running job: ABORTED at once and no chunk recorded after; a finished job is a JobStateError', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'slow');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(400), chunkSize: '200', numConcurrent: 1 });
    await jobReaching(server, job.id, ['RUNNING']);
    const askedAt = Date.now();
    const { abortBatchPredictionJob: result } = await server.op(AbortBatchPredictionJobDocument, { id: job.id });
    expect(result).toMatchObject({ __typename: 'AbortBatchPredictionJobSuccess', job: { id: job.id, status: 'ABORTED' } });
    const aborted = await jobReaching(server, job.id, ['ABORTED'], 2000);
    expect(Date.now() - askedAt).toBeLessThan(2000);
    expect(aborted.statusDetails).toBe('Aborted by the user');
    expect(aborted.scoredRows).toBeLessThan(400);
    // A chunk in flight when the abort came is not recorded: the counts stay where they were.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const later = (await server.op(BatchPredictionJobDocument, { id: job.id })).batchPredictionJob!;
    expect(later.scoredRows).toBe(aborted.scoredRows);
    expect(later.monitoringBatch?.predictionCount).toBe(aborted.scoredRows);

    const again = await server.op(AbortBatchPredictionJobDocument, { id: job.id });
    expect(again.abortBatchPredictionJob).toMatchObject({ __typename: 'JobStateError', jobId: job.id, status: 'ABORTED' });
    const missing = await server.op(AbortBatchPredictionJobDocument, { id: MISSING_JOB });
    expect(missing.abortBatchPredictionJob.__typename).toBe('NotFoundError');
  });
});

describe('tenancy', () => {
  it('another organization sees none of a job: null, NotFoundError on abort, and none in its own lists', async () => {
    const deployment = await createScoredDeployment(server, models.url, 'price');
    const job = await createJob({ deploymentId: deployment.id, intakeSettings: urlIntake(3) });
    const done = await jobReaching(server, job.id, ['COMPLETED']);
    const other = await createTenant(server);

    expect((await server.op(BatchPredictionJobDocument, { id: job.id }, other.token)).batchPredictionJob).toBeNull();
    expect((await server.op(JobNodeDocument, { id: job.id }, other.token)).node).toBeNull();
    expect((await server.op(MonitoringBatchDocument, { id: done.monitoringBatch!.id }, other.token)).monitoringBatch).toBeNull();
    const abort = await server.op(AbortBatchPredictionJobDocument, { id: job.id }, other.token);
    expect(abort.abortBatchPredictionJob).toMatchObject({ __typename: 'NotFoundError', message: 'Batch prediction job not found' });
    expect((await server.op(BatchPredictionJobDocument, { id: job.id })).batchPredictionJob!.status).toBe('COMPLETED');

    const ownList = await server.op(DeploymentJobsDocument, { deploymentId: other.deploymentId }, other.token);
    expect(ownList.deployment!.batchPredictionJobs).toMatchObject({ totalCount: 0, edges: [] });
    const foreignList = await server.op(DeploymentJobsDocument, { deploymentId: deployment.id }, other.token);
    expect(foreignList.deployment).toBeNull();

    const foreignCreate = await server.op(
      CreateBatchPredictionJobDocument,
      { input: { deploymentId: deployment.id, intakeSettings: urlIntake(3) } },
      other.token,
    );
    expect(foreignCreate.createBatchPredictionJob).toMatchObject({ __typename: 'NotFoundError', resource: 'Deployment' });
  });
});
