import { expect } from 'vitest';
import { CsvReader } from '../../src/formats/csv.js';
import type { CreateDeploymentInput } from '../generated/graphql.js';
import { createDeployment } from './fixtures.js';
import type { FeatureValue, ModelFile, ModelServer } from './model-server.js';
import { modelAnswer } from './model-server.js';
import { backendFor, FEATURES, MODELS as SCORING_MODELS } from './scoring.js';
import { parseBody, type RestAnswer, type TestServer } from './server.js';
import { sleep } from './time.js';

// Batch prediction jobs over DataRobot's REST routes (/api/v2/batchPredictions/…): the models the
// example model server serves in these tests, deployments that score through them, jobs, their
// input rows and what their output must be.

export const JOBS = '/api/v2/batchPredictions/';
export const jobPath = (id: string, tail = '') => `${JOBS}${id}/${tail}`;
export const JOB_NOT_FOUND = { message: 'Batch prediction job not found' };

/** A job as the routes answer it (the fields tests read). */
export interface JobJson {
  id: string;
  status: 'INITIALIZING' | 'RUNNING' | 'COMPLETED' | 'ABORTED' | 'FAILED';
  percentageCompleted: number;
  scoredRows: number;
  failedRows: number;
  skippedRows: number;
  jobIntakeSize: number | null;
  statusDetails: string;
  logs: string[];
  jobSpec: Record<string, unknown>;
  links: { self: string; csvUpload?: string; download?: string };
  created: string;
  createdBy: { userId: string };
  monitoringBatchId: string | null;
  source: string;
  resultsDeleted: boolean;
}

export const asJob = (answer: RestAnswer) => answer.json as unknown as JobJson;

const regression = (behaviour: ModelFile['behaviour']): ModelFile => ({ ...SCORING_MODELS.reg, behaviour });

/**
 * What the tests' model server serves: the real-time tests' models (features a, b, c) and slow or
 * failing ones of the jobs'. `failFirst` counts per model over the server's life, so a model that
 * fails its first requests is used by one test only.
 */
export const MODELS = {
  reg: SCORING_MODELS.reg,
  bin: SCORING_MODELS.bin,
  multi: SCORING_MODELS.multi,
  failing: SCORING_MODELS.failing,
  malformed: SCORING_MODELS.malformed,
  /** 250 ms a request: a run of a few chunks takes seconds. */
  slow: regression({ delayMs: 250 }),
  /** 2.5 s a request: longer than FAST_JOBS' 2 s claim on a chunk. */
  slower: regression({ delayMs: 2500 }),
  /** Never answers within a short timeoutMs. */
  stuck: regression({ delayMs: 5000 }),
  /** Its first 2 requests answer 503. */
  flaky: regression({ failFirst: 2, failStatus: 503 }),
  /** Its first 3 requests answer 500: the first chunk fails all of FAST_JOBS' tries, the next ones pass. */
  firstChunkFails: regression({ failFirst: 3, failStatus: 500 }),
} satisfies Record<string, ModelFile>;

export type ModelName = keyof typeof MODELS;
export type Protocol = 'OPEN_INFERENCE_V2' | 'MLFLOW';

/** The deployment input for a model's target (as the real-time tests name them: price, churn, kind). */
function targetOf(model: ModelFile): Partial<CreateDeploymentInput> {
  if (model.targetType === 'BINARY')
    return { targetType: 'BINARY', targetName: 'churn', classNames: model.classNames, positiveClass: 'yes' };
  if (model.targetType === 'MULTICLASS') return { targetType: 'MULTICLASS', targetName: 'kind', classNames: model.classNames };
  return { targetType: 'REGRESSION', targetName: 'price' };
}

/** A batch-enabled deployment (features a, b, c; the model's target) that scores through `model`. */
export function jobDeployment(
  server: TestServer,
  models: ModelServer | string,
  model: ModelName,
  options: { protocol?: Protocol; token?: string; timeoutMs?: number } = {},
) {
  const url = typeof models === 'string' ? models : models.url;
  return createDeployment(server, options.token ?? server.adminToken, {
    ...targetOf(MODELS[model]),
    features: FEATURES.map((f) => ({ name: f.name, type: f.type })),
    modelBackend: { ...backendFor(url, model, options.protocol), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
  });
}

/** POST /batchPredictions/ (any body). */
export const postJob = (server: TestServer, body: unknown, token = server.adminToken) => server.rest('POST', JOBS, { token, body });

/** A new job (asserting the 202). */
export async function createJob(server: TestServer, spec: Record<string, unknown>, token = server.adminToken): Promise<JobJson> {
  const answer = await postJob(server, spec, token);
  expect(answer.status, JSON.stringify(answer.json)).toBe(202);
  return asJob(answer);
}

/** PUT …/csvUpload/; `contentType: null` sends none at all (fetch adds none for a byte body). */
export async function uploadCsv(
  server: TestServer,
  id: string,
  csv: string,
  options: { token?: string; contentType?: string | null } = {},
): Promise<RestAnswer> {
  const contentType = options.contentType === undefined ? 'text/csv' : options.contentType;
  const response = await fetch(`${server.url}${jobPath(id, 'csvUpload/')}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${options.token ?? server.adminToken}`,
      ...(contentType === null ? {} : { 'content-type': contentType }),
    },
    body: Buffer.from(csv, 'utf8'),
  });
  return { status: response.status, headers: response.headers, json: parseBody(await response.text()) };
}

export async function getJob(server: TestServer, id: string, token = server.adminToken): Promise<JobJson> {
  const answer = await server.rest('GET', jobPath(id), { token });
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return asJob(answer);
}

/** A job and its upload (asserting both). */
export async function startJob(
  server: TestServer,
  spec: Record<string, unknown>,
  csv: string,
  token = server.adminToken,
): Promise<JobJson> {
  const job = await createJob(server, spec, token);
  const uploaded = await uploadCsv(server, job.id, csv, { token });
  expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(202);
  return asJob(uploaded);
}

const FINAL = ['COMPLETED', 'ABORTED', 'FAILED'];

/** Polls the job until `until` holds (by default: it has ended); fails after `timeoutMs`. */
export async function waitForJob(
  server: TestServer,
  id: string,
  until: (job: JobJson) => boolean = (job) => FINAL.includes(job.status),
  options: { timeoutMs?: number; token?: string } = {},
): Promise<JobJson> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const job = await getJob(server, id, options.token);
    if (until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in time: ${JSON.stringify(job)}`);
    await sleep(50);
  }
}

/** Runs a job to its end. */
export async function runJob(server: TestServer, spec: Record<string, unknown>, csv: string, token = server.adminToken) {
  const job = await startJob(server, spec, csv, token);
  return waitForJob(server, job.id, undefined, { token });
}

export async function download(
  server: TestServer,
  id: string,
  token = server.adminToken,
): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${server.url}${jobPath(id, 'download/')}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

/** CSV text as rows of cells (empty cells as ''). */
export function parseCsv(text: string): string[][] {
  const reader = new CsvReader(Number.MAX_SAFE_INTEGER);
  reader.feed(Buffer.from(text, 'utf8'));
  const rows: string[][] = [];
  const take = (record: ReturnType<CsvReader['next']>) => {
    if (record && 'cells' in record) rows.push(record.cells.map((c) => c ?? ''));
  };
  for (let record = reader.next(); record; record = reader.next()) take(record);
  take(reader.finish());
  return rows;
}

/** A CSV file as objects by header name. */
export function csvObjects(text: string): { columns: string[]; rows: Record<string, string>[] } {
  const [columns = [], ...lines] = parseCsv(text);
  return { columns, rows: lines.map((cells) => Object.fromEntries(columns.map((c, i) => [c, cells[i]!]))) };
}

export interface InputRow {
  id: string;
  a: number | null;
  b: number | null;
  c: string | null;
}

/** `n` input rows with missing values and an unknown category among them, ids `<prefix>0` … */
export function inputRows(n: number, prefix = 'r'): InputRow[] {
  const categories = ['red', 'blue', 'green', null];
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    a: Math.round((i * 0.37 - 2.5) * 1000) / 1000,
    b: i % 5 === 3 ? null : (i % 7) - 2,
    c: categories[i % 4]!,
  }));
}

/** The rows as a CSV file: columns id, a, b, c, and `extra` (a column no model reads) unless false. */
export function inputCsv(rows: InputRow[], options: { extra?: boolean } = {}): string {
  const extra = options.extra !== false;
  const cell = (v: number | string | null) => (v === null ? '' : String(v));
  const header = `id,a,b,c${extra ? ',note' : ''}\n`;
  return header + rows.map((r, i) => `${r.id},${cell(r.a)},${cell(r.b)},${cell(r.c)}${extra ? `,n${i}` : ''}\n`).join('');
}

/** What the model answers for a row: regression the value; classification one probability per class. */
export function expectedAnswer(model: ModelName, row: InputRow): number[] {
  const features: Record<string, FeatureValue> = { a: row.a, b: row.b, c: row.c };
  return modelAnswer(MODELS[model], features);
}

/**
 * The prediction columns of an output row (DataRobot's names, includeProbabilities on) against the
 * model's formula: `<target>_<class>_PREDICTION`, `<target>_PREDICTION`, THRESHOLD, POSITIVE_CLASS.
 */
export function expectPredictionCells(model: ModelName, out: Record<string, string>, row: InputRow): void {
  const file: ModelFile = MODELS[model];
  const expected = expectedAnswer(model, row);
  if (file.targetType === 'REGRESSION') {
    expect(Number(out.price_PREDICTION)).toBeCloseTo(expected[0]!, 9);
    return;
  }
  const classes = file.classNames!;
  const target = file.targetType === 'BINARY' ? 'churn' : 'kind';
  classes.forEach((name, k) => {
    expect(Number(out[`${target}_${name}_PREDICTION`])).toBeCloseTo(expected[k]!, 9);
  });
  if (file.targetType === 'BINARY') {
    expect(out.churn_PREDICTION).toBe(expected[1]! >= 0.5 ? 'yes' : 'no');
    expect(out.THRESHOLD).toBe('0.5');
    expect(out.POSITIVE_CLASS).toBe('yes');
  } else {
    expect(out.kind_PREDICTION).toBe(classes[expected.indexOf(Math.max(...expected))]);
  }
}

/** The job's chunks as stored: row counts and whether each is scored (has its output). */
export function storedChunks(server: TestServer, jobId: string) {
  return server.sql<{ chunk: number; row_count: number; done: boolean; attempts: number }[]>`
    select chunk, row_count, output is not null as done, attempts from batch_prediction_job_chunks where job_id = ${jobId} order by chunk`;
}

/** Inference requests the model server received for `model` (either protocol). */
export const inferences = (models: ModelServer, model: string) =>
  models.received.filter(
    (r) => r.method === 'POST' && (r.path === `/v2/models/${model}/infer` || r.path === `/mlflow/${model}/invocations`),
  );

/** Small leases and intervals, so that takeovers, retries and sweeps happen within a test. */
export const FAST_JOBS = { jobLeaseSeconds: 2, jobSchedulerIntervalMs: 200, jobRetryBaseMs: 50, jobBackendAttempts: 3 };
