import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../helpers/db.js';
import { createDeployment, createOrganization } from '../helpers/fixtures.js';
import {
  asJob,
  createJob,
  download,
  getJob,
  inputCsv,
  inputRows,
  JOB_NOT_FOUND,
  JOBS,
  type JobJson,
  jobDeployment,
  jobPath,
  MODELS,
  postJob,
  runJob,
  uploadCsv,
  waitForJob,
} from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { relativeLink } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// DataRobot's Batch Prediction API routes: the job spec and its validation, the CSV upload and what
// it refuses (storing nothing), the list with its filters and pages, fromExisting, and tenancy.

const MAX_UPLOAD_BYTES = 64 * 1024;
let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer({ maxUploadBytes: MAX_UPLOAD_BYTES }), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const MISSING_JOB = 'job_000000000000000000000000';
const CSV = inputCsv(inputRows(5));

describe('creating a job', () => {
  it("answers 202 with DataRobot's defaults filled in, waiting for its upload", async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const answer = await postJob(server, { deploymentId: deployment.id });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    const job = asJob(answer);
    expect(job.id).toMatch(/^job_/);
    expect(answer.headers.get('location')).toBe(`${server.url}${jobPath(job.id)}`);
    expect(job).toMatchObject({
      status: 'INITIALIZING',
      percentageCompleted: 0,
      scoredRows: 0,
      failedRows: 0,
      jobIntakeSize: null,
      statusDetails: 'Job created; waiting for the CSV upload',
      monitoringBatchId: null,
      source: 'api',
      resultsDeleted: false,
      links: { self: `${server.url}${jobPath(job.id)}`, csvUpload: `${server.url}${jobPath(job.id, 'csvUpload/')}` },
    });
    expect(job.links.download).toBeUndefined();
    expect(job.jobSpec).toEqual({
      deploymentId: deployment.id,
      intakeSettings: { type: 'localFile' },
      outputSettings: { type: 'localFile' },
      csvSettings: { delimiter: ',', quotechar: '"', encoding: 'utf-8' },
      passthroughColumns: null,
      passthroughColumnsSet: null,
      includeProbabilities: true,
      includePredictionStatus: false,
      chunkSize: 'auto',
      numConcurrent: 4,
      abortOnError: true,
      columnNamesRemapping: [], // DataRobot's list of {inputName, outputName}
      skipDriftTracking: false,
      monitoringBatchPrefix: null,
    });
    expect(await getJob(server, job.id)).toEqual({ ...job, elapsedTimeSec: expect.any(Number) });
  });

  it('refuses a spec naming each setting at fault, and stores no job', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const before = await countRows(server, 'batch_prediction_jobs', 'deployment_id', deployment.id);
    const refusals: [Record<string, unknown>, Record<string, string>][] = [
      [{ deploymentId: deployment.id, outputFormat: 'csv' }, { outputFormat: 'is not a setting batchlens supports' }],
      [
        { deploymentId: deployment.id, timeseriesSettings: {}, csvSettings: { delimiter: ',', escapechar: '\\' } },
        { timeseriesSettings: 'is not a setting batchlens supports', 'csvSettings.escapechar': 'is not a setting batchlens supports' },
      ],
      [{ deploymentId: deployment.id, numConcurrent: 0 }, { numConcurrent: 'must be at least 1' }],
      [{ deploymentId: deployment.id, numConcurrent: 33 }, { numConcurrent: 'must be at most 32' }],
      [{ deploymentId: deployment.id, numConcurrent: 2.5 }, { numConcurrent: 'must be an integer' }],
      [
        { deploymentId: deployment.id, intakeSettings: { type: 'url', url: 'ftp://example.com/in.csv' } },
        { 'intakeSettings.url': 'must be an http(s) URL' },
      ],
      [
        { deploymentId: deployment.id, intakeSettings: { type: 'url', url: 'not a url' } },
        { 'intakeSettings.url': 'must be an http(s) URL' },
      ],
      [{ deploymentId: deployment.id, chunkSize: 5 }, { chunkSize: expect.stringMatching(/at least 20/) }],
      [
        { deploymentId: deployment.id, passthroughColumns: ['id'], passthroughColumnsSet: 'all' },
        { passthroughColumnsSet: 'give either passthroughColumns or passthroughColumnsSet, not both' },
      ],
      [{}, { deploymentId: 'is required' }],
    ];
    for (const [body, errors] of refusals) {
      const answer = await postJob(server, body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.json.errors, JSON.stringify(body)).toEqual(errors);
    }
    const s3 = await postJob(server, { deploymentId: deployment.id, intakeSettings: { type: 's3', url: 's3://bucket/in.csv' } });
    expect(s3.status).toBe(422);
    expect(Object.keys(s3.json.errors!)).toEqual([expect.stringMatching(/^intakeSettings/)]);
    expect(s3.json.message).toMatch(/localFile or url/);
    const notObject = await postJob(server, [{ deploymentId: deployment.id }]);
    expect(notObject.status).toBe(422);
    expect(await countRows(server, 'batch_prediction_jobs', 'deployment_id', deployment.id)).toBe(before);
  });

  it('refuses a deployment without batch monitoring or without a model backend', async () => {
    const off = await jobDeployment(server, models, 'reg');
    await server.rest('PATCH', `/api/v2/deployments/${off.id}/settings/`, { body: { batchMonitoring: { enabled: false } } });
    const disabled = await postJob(server, { deploymentId: off.id });
    expect(disabled.status).toBe(422);
    expect(disabled.json.message).toMatch(/Batch monitoring is not enabled/);
    const bare = await createDeployment(server);
    const noBackend = await postJob(server, { deploymentId: bare.id });
    expect(noBackend.status).toBe(422);
    expect(noBackend.json.message).toMatch(/has no model backend/);
  });
});

describe('the CSV upload', () => {
  async function freshJob(spec: Record<string, unknown> = {}) {
    const deployment = await jobDeployment(server, models, 'reg');
    return createJob(server, { deploymentId: deployment.id, chunkSize: 20, ...spec });
  }

  /** Nothing of a refused upload is stored: no chunk, no input, and the job still takes one. */
  async function expectNothingStored(job: JobJson) {
    expect(await countRows(server, 'batch_prediction_job_chunks', 'job_id' as 'id', job.id)).toBe(0);
    expect(await getJob(server, job.id)).toMatchObject({ status: 'INITIALIZING', jobIntakeSize: null });
  }

  it('answers 406 unless the body is CSV (text/csv or text/plain)', async () => {
    const job = await freshJob();
    for (const contentType of ['application/json', 'application/octet-stream', null]) {
      const answer = await uploadCsv(server, job.id, CSV, { contentType });
      expect(answer.status, String(contentType)).toBe(406);
      expect(answer.json.message).toMatch(/Content-Type must be text\/csv/);
    }
    await expectNothingStored(job);
    const plain = await uploadCsv(server, job.id, CSV, { contentType: 'text/plain; charset=utf-8' });
    expect(plain.status, JSON.stringify(plain.json)).toBe(202);
    expect(asJob(plain).jobIntakeSize).toBe(5);
  });

  it('stores the rows in row-aligned chunks and answers 202; a second upload is 422 and changes nothing', async () => {
    const job = await freshJob();
    const first = await uploadCsv(server, job.id, CSV);
    expect(first.status).toBe(202);
    expect(asJob(first)).toMatchObject({
      jobIntakeSize: 5,
      statusDetails: expect.stringMatching(/^Input received \(5 rows in \d+ chunks\)/),
    });
    const chunks =
      await server.sql`select chunk, first_line::int, row_count from batch_prediction_job_chunks where job_id = ${job.id} order by chunk`;
    expect(chunks.reduce((n, c) => n + c.row_count, 0)).toBe(5);
    expect(chunks.length).toBeGreaterThan(1);
    let line = 2;
    for (const chunk of chunks) {
      expect(chunk.first_line).toBe(line);
      line += chunk.row_count;
    }
    const second = await uploadCsv(server, job.id, inputCsv(inputRows(2)));
    expect(second.status).toBe(422);
    expect(second.json.message).toBe('The input of this job was already uploaded');
    const done = await waitForJob(server, job.id);
    expect(done).toMatchObject({ status: 'COMPLETED', jobIntakeSize: 5, scoredRows: 5 });
    expect(await countRows(server, 'batch_prediction_job_chunks', 'job_id' as 'id', job.id)).toBe(chunks.length);
  });

  it('takes one of two uploads sent at once, whole', async () => {
    const job = await freshJob();
    const answers = await Promise.all([
      uploadCsv(server, job.id, inputCsv(inputRows(30))),
      uploadCsv(server, job.id, inputCsv(inputRows(31))),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
    const taken = asJob(answers.find((a) => a.status === 202)!).jobIntakeSize!;
    const [{ rows }] = (await server.sql`
      select coalesce(sum(row_count), 0)::int as rows from batch_prediction_job_chunks where job_id = ${job.id}`) as unknown as [
      { rows: number },
    ];
    expect(rows).toBe(taken);
  });

  it('refuses bad files naming the line (and feature), storing nothing', async () => {
    const good = inputCsv(inputRows(30));
    const refusals: [string, string, Record<string, unknown>][] = [
      ['an empty file', '', { file: expect.stringMatching(/^is empty/) }],
      ['a header alone', 'id,a,b,c\n', { file: 'has a header but no rows to score' }],
      ['a header without feature b', 'id,a,c\nr1,1,red\n', { 'line 1': 'misses the feature columns "b"' }],
      ['a row with a cell too few, after many good rows', `${good}r30,1,2\n`, { 'line 32': 'has 3 cells, but the header has 5 columns' }],
      ['a bad number', 'id,a,b,c\nr1,1,2,red\nr2,1,two,blue\n', { 'line 3.b': 'must be a finite number, got "two"' }],
      ['a repeated column', 'id,a,b,c,a\nr1,1,2,red,3\n', { 'line 1': 'repeats the columns "a"' }],
      ['an unclosed quote', 'id,a,b,c\nr1,1,2,red\nr2,1,2,"blue\n', { 'line 3': expect.stringMatching(/quote/) }],
      [
        'two bad rows',
        'id,a,b,c\nr1,x,2,red\nr2,1,2\n',
        { 'line 2.a': 'must be a finite number, got "x"', 'line 3': 'has 3 cells, but the header has 4 columns' },
      ],
    ];
    for (const [what, csv, errors] of refusals) {
      const job = await freshJob();
      const answer = await uploadCsv(server, job.id, csv);
      expect(answer.status, what).toBe(422);
      expect(answer.json.errors, what).toEqual(errors);
      await expectNothingStored(job);
    }
  });

  it('answers 413 for a file over maxUploadBytes, storing nothing', async () => {
    const job = await freshJob();
    const answer = await uploadCsv(server, job.id, inputCsv(inputRows(MAX_UPLOAD_BYTES / 10)));
    expect(answer.status).toBe(413);
    await expectNothingStored(job);
    expect((await uploadCsv(server, job.id, CSV)).status).toBe(202);
  });

  it('refuses passthroughColumns the input does not have', async () => {
    const job = await freshJob({ passthroughColumns: ['id', 'customer'] });
    const answer = await uploadCsv(server, job.id, CSV);
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({ passthroughColumns: 'names columns the input does not have: "customer"' });
    await expectNothingStored(job);
  });

  it('is refused for a job that reads a URL, and for an aborted job', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const aborted = await createJob(server, { deploymentId: deployment.id });
    const deleted = await server.rest('DELETE', jobPath(aborted.id));
    expect(deleted.status).toBe(202);
    expect(asJob(deleted)).toMatchObject({ status: 'ABORTED', statusDetails: 'Aborted by the user' });
    const late = await uploadCsv(server, aborted.id, CSV);
    expect(late.status).toBe(422);
    expect(late.json.message).toBe('The job is ABORTED; it takes no upload');
    // An unreachable URL: the job fails reading it; an upload is refused either way.
    const url = await createJob(server, { deploymentId: deployment.id, intakeSettings: { type: 'url', url: 'http://127.0.0.1:9/in.csv' } });
    expect(url.links.csvUpload).toBeUndefined();
    const upload = await uploadCsv(server, url.id, CSV);
    expect(upload.status).toBe(422);
  });
});

describe('the list of jobs', () => {
  it('pages newest first by offset and limit, and filters by status and deployment', async () => {
    const org = await createOrganization(server);
    const [first, second] = await Promise.all([
      jobDeployment(server, models, 'reg', { token: org.token }),
      jobDeployment(server, models, 'bin', { token: org.token }),
    ]);
    const done = await runJob(server, { deploymentId: first.id }, CSV, org.token);
    expect(done.status).toBe('COMPLETED');
    const waiting = [
      await createJob(server, { deploymentId: first.id }, org.token),
      await createJob(server, { deploymentId: second.id }, org.token),
    ];
    const list = async (query: string) => {
      const answer = await server.rest('GET', `${JOBS}${query}`, { token: org.token });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer.json as unknown as { count: number; totalCount: number; next: string | null; previous: string | null; data: JobJson[] };
    };
    const all = await list('');
    expect(all.data.map((j) => j.id)).toEqual([waiting[1]!.id, waiting[0]!.id, done.id]);
    expect(all).toMatchObject({ count: 3, totalCount: 3, next: null, previous: null });
    const page = await list('?offset=1&limit=1');
    expect(page).toMatchObject({ count: 1, totalCount: 3 });
    expect(page.data[0]!.id).toBe(waiting[0]!.id);
    expect((await list(relativeLink(server, page.next!).slice(JOBS.length))).data[0]!.id).toBe(done.id);
    expect((await list(relativeLink(server, page.previous!).slice(JOBS.length))).data[0]!.id).toBe(waiting[1]!.id);
    expect((await list('?status=COMPLETED')).data.map((j) => j.id)).toEqual([done.id]);
    expect((await list('?status=INITIALIZING,COMPLETED')).totalCount).toBe(3);
    expect((await list(`?deploymentId=${second.id}`)).data.map((j) => j.id)).toEqual([waiting[1]!.id]);
    expect(all.data[2]!.links.download).toBe(`${server.url}${jobPath(done.id, 'download/')}`);
    for (const bad of ['?status=DONE', '?limit=-1', '?offset=x']) {
      const answer = await server.rest('GET', `${JOBS}${bad}`, { token: org.token });
      expect(answer.status, bad).toBe(422);
    }
  });
});

describe('fromExisting', () => {
  it('starts a new job with the spec of an existing one', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const original = await createJob(server, { deploymentId: deployment.id, numConcurrent: 2, monitoringBatchPrefix: 'again' });
    const answer = await server.rest('POST', `${JOBS}fromExisting/`, { body: { predictionJobId: original.id } });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    const copy = asJob(answer);
    expect(copy.id).not.toBe(original.id);
    expect(copy).toMatchObject({ status: 'INITIALIZING', jobSpec: original.jobSpec });
    const missing = await server.rest('POST', `${JOBS}fromExisting/`, { body: {} });
    expect(missing.status).toBe(422);
    expect(missing.json.errors).toEqual({ predictionJobId: 'is required' });
  });
});

describe('tenancy', () => {
  it("answers another organization's job exactly like a missing one, on every route", async () => {
    const owner = await createOrganization(server);
    const stranger = await createOrganization(server);
    const deployment = await jobDeployment(server, models, 'reg', { token: owner.token });
    const finished = await runJob(server, { deploymentId: deployment.id }, CSV, owner.token);
    const waiting = await createJob(server, { deploymentId: deployment.id }, owner.token);
    const routes = (id: string) => ({
      get: () => server.rest('GET', jobPath(id), { token: stranger.token }),
      delete: () => server.rest('DELETE', jobPath(id), { token: stranger.token }),
      upload: () => uploadCsv(server, id, CSV, { token: stranger.token }),
      download: async () => {
        const file = await download(server, id, stranger.token);
        return { status: file.status, json: JSON.parse(file.text) as unknown };
      },
      fromExisting: () => server.rest('POST', `${JOBS}fromExisting/`, { token: stranger.token, body: { predictionJobId: id } }),
    });
    for (const id of [finished.id, waiting.id, MISSING_JOB]) {
      for (const [name, send] of Object.entries(routes(id))) {
        const answer = await send();
        expect([name, id, answer.status, answer.json]).toEqual([name, id, 404, JOB_NOT_FOUND]);
      }
    }
    // Nothing happened to the owner's jobs.
    expect(await getJob(server, waiting.id, owner.token)).toMatchObject({ status: 'INITIALIZING', jobIntakeSize: null });
    expect(await getJob(server, finished.id, owner.token)).toMatchObject({ status: 'COMPLETED', resultsDeleted: false });
    expect((await download(server, finished.id, owner.token)).status).toBe(200);
    const list = await server.rest('GET', `${JOBS}?deploymentId=${deployment.id}`, { token: stranger.token });
    expect(list.json).toMatchObject({ count: 0, totalCount: 0, data: [] });
    const all = await server.rest('GET', JOBS, { token: stranger.token });
    expect(all.json).toMatchObject({ totalCount: 0 });
  });

  it("refuses a job on another organization's deployment exactly like one on a missing deployment: 422 naming deploymentId", async () => {
    const owner = await createOrganization(server);
    const stranger = await createOrganization(server);
    const deployment = await jobDeployment(server, models, 'reg', { token: owner.token });
    const foreign = await postJob(server, { deploymentId: deployment.id }, stranger.token);
    const missing = await postJob(server, { deploymentId: 'dep_000000000000000000000000' }, stranger.token);
    expect(foreign.status).toBe(422);
    expect(foreign.json).toEqual({
      message: 'Invalid input: deploymentId: Deployment not found',
      errors: { deploymentId: 'Deployment not found' },
    });
    expect(missing.json).toEqual(foreign.json);
  });
});
