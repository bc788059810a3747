import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMonitoringBatchDocument, UpdateDeploymentSettingsDocument } from './generated/graphql.js';
import {
  BATCH_NOT_FOUND,
  createBatch,
  createDeployment,
  createOrganization,
  DEPLOYMENT_NOT_FOUND,
  MISSING_BATCH,
  MISSING_DEPLOYMENT,
} from './helpers/fixtures.js';
import { type RestAnswer, startTestServer, type TestServer } from './helpers/server.js';

// The REST ingest routes (issue 3: C6, C7) end to end, over real HTTP against a real server and
// PostgreSQL: the agent's predictionInputs / predictionRequests / actuals fromJSON routes and the
// streamed bulk NDJSON / CSV upload. Expected aggregates are computed here from the rows each test
// generated; every value is a multiple of a power of two, so sums are exact and compared exactly.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const LOCKED_MESSAGE = 'Monitoring batch is locked and accepts no new predictions';

const api = (deploymentId: string) => `/api/v2/deployments/${deploymentId}`;
const inputsPath = (deploymentId: string) => `${api(deploymentId)}/predictionInputs/fromJSON/`;
const requestsPath = (deploymentId: string) => `${api(deploymentId)}/predictionRequests/fromJSON/`;
const actualsPath = (deploymentId: string) => `${api(deploymentId)}/actuals/fromJSON/`;
const bulkPath = (deploymentId: string, batchId: string, query = '') =>
  `${api(deploymentId)}/monitoringBatches/${batchId}/predictions${query}`;
const BATCH_HEADER = 'X-DataRobot-Model-Monitoring-Batch-Id';
const NDJSON = 'application/x-ndjson';
const CSV = 'text/csv';

// ---------------------------------------------------------------------------------------------
// HTTP

type Body = string | Buffer | AsyncIterable<string | Buffer>;

interface PostOptions {
  /** null: no Content-Type header at all. */
  contentType?: string | null;
  token?: string | null;
  headers?: Record<string, string>;
  /** Declared length of a streamed body (otherwise it is sent chunked). */
  contentLength?: number;
  target?: TestServer;
  /**
   * When the server answers before the body is complete: stop sending and close the connection
   * (a client giving up). By default the rest of the body is still sent, as most clients do.
   */
  hangUp?: boolean;
}

/**
 * A POST over node:http, so nothing is added behind our back (fetch sets a Content-Type for string
 * bodies). A streamed body is written chunk by chunk with backpressure. Resolves once the answer
 * is read and the body is sent (or, with hangUp, as soon as the answer is read).
 */
function post(path: string, body: Body, options: PostOptions = {}): Promise<RestAnswer & { sentBytes: number }> {
  const target = options.target ?? server;
  const token = options.token === undefined ? target.adminToken : options.token;
  const headers: Record<string, string | number> = { ...options.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? NDJSON;
  const fixed = typeof body === 'string' || Buffer.isBuffer(body);
  if (fixed) headers['content-length'] = Buffer.byteLength(body);
  else if (options.contentLength !== undefined) headers['content-length'] = options.contentLength;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, target.url), { method: 'POST', headers, agent: false });
    let sentBytes = 0;
    let answered = false;
    let sending: Promise<void> = Promise.resolve();
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = text;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const answer = { status: res.statusCode!, headers: responseHeaders, json, sentBytes };
        if (options.hangUp) {
          req.destroy();
          resolve(answer);
        } else void sending.then(() => resolve({ ...answer, sentBytes }));
      });
    });
    // Once answered, a connection cut while we were still sending is the server's right.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (fixed) {
      sentBytes = Buffer.byteLength(body);
      req.end(body);
      return;
    }
    sending = (async () => {
      for await (const chunk of body) {
        if (req.destroyed || (answered && options.hangUp)) return;
        sentBytes += Buffer.byteLength(chunk);
        if (!req.write(chunk)) {
          await new Promise<void>((done) => {
            const finish = () => {
              req.off('drain', finish);
              req.off('close', finish);
              done();
            };
            req.on('drain', finish);
            req.on('close', finish);
          });
        }
      }
      if (!req.destroyed) req.end();
    })().catch((error: unknown) => {
      if (!answered) reject(error);
    });
  });
}

const postJson = (path: string, body: unknown, options: PostOptions = {}) =>
  post(path, JSON.stringify(body), { contentType: 'application/json', ...options });

// ---------------------------------------------------------------------------------------------
// Data: deterministic, exact in binary floating point.

/** Deterministic pseudo-random numbers, so failures reproduce. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}

type FeatureValue = number | string | null;

interface Row {
  features: Record<string, FeatureValue>;
  prediction?: number;
  probabilities?: number[] | Record<string, number>;
  associationId?: string;
  timestamp?: string;
}

const BASE_TIME = Date.UTC(2026, 2, 1);
const CITIES = ['Paris', 'Oslo', 'São Paulo, "SP"', 'Lima'];
const CLASSES = ['cat', 'dog', 'fox'];

function features(next: () => number, i: number, cities = CITIES): Record<string, FeatureValue> {
  return {
    age: i % 7 === 3 ? null : Math.floor(next() * 400) / 4,
    city: i % 5 === 4 ? null : cities[Math.floor(next() * cities.length)]!,
  };
}

function timestampOf(next: () => number): string {
  return new Date(BASE_TIME + Math.floor(next() * 86_400) * 1000).toISOString();
}

function regressionRows(n: number, seed: number, idPrefix: string | null = null, cities = CITIES): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    features: features(next, i, cities),
    prediction: Math.floor(next() * 8000 - 2000) / 8,
    ...(idPrefix === null ? {} : { associationId: `${idPrefix}${i}` }),
    timestamp: timestampOf(next),
  }));
}

/** Binary (classes no / yes, positive yes): p(yes) in 1/1024 steps, given as prediction, list or object. */
function binaryRows(n: number, seed: number): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = Math.floor(next() * 1025) / 1024;
    const target = i % 3 === 0 ? { prediction: p } : i % 3 === 1 ? { probabilities: [1 - p, p] } : { probabilities: { yes: p, no: 1 - p } };
    return { features: features(next, i), ...target, associationId: `b-${seed}-${i}`, timestamp: timestampOf(next) };
  });
}

/** Multiclass (cat / dog / fox): probabilities in 1/64 steps, as a list or keyed by class. */
function multiclassRows(n: number, seed: number): Row[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = Math.floor(next() * 65);
    const b = Math.floor(next() * (65 - a));
    const values = [a / 64, b / 64, (64 - a - b) / 64];
    const probabilities = i % 2 ? values : { cat: values[0]!, dog: values[1]!, fox: values[2]! };
    return { features: features(next, i), probabilities, associationId: `m-${seed}-${i}`, timestamp: timestampOf(next) };
  });
}

const ndjson = (rows: Row[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

function csvCell(value: FeatureValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV with header age, city, then the target columns, associationId, timestamp. */
function csv(rows: Row[], target: 'regression' | 'binary' | 'multiclass'): string {
  const targetColumns = target === 'regression' ? ['prediction'] : target === 'binary' ? ['no', 'yes'] : CLASSES;
  const lines = [['age', 'city', ...targetColumns, 'associationId', 'timestamp'].join(',')];
  for (const row of rows) {
    const values = target === 'regression' ? [row.prediction!] : probabilityList(row, target === 'binary' ? ['no', 'yes'] : CLASSES);
    lines.push(
      [
        csvCell(row.features.age),
        csvCell(row.features.city),
        ...values.map(csvCell),
        csvCell(row.associationId),
        csvCell(row.timestamp),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function probabilityList(row: Row, classes: string[]): number[] {
  if (row.probabilities === undefined) return [1 - row.prediction!, row.prediction!];
  if (Array.isArray(row.probabilities)) return row.probabilities;
  const keyed = row.probabilities;
  return classes.map((name) => keyed[name]!);
}

/** What the predictions table must hold for a row. */
function storedRow(row: Row, target: 'regression' | 'binary' | 'multiclass', modelId: string) {
  let prediction: number | null = null;
  let probabilities: number[] | null = null;
  let predictedLabel: string | null = null;
  if (target === 'regression') prediction = row.prediction!;
  else if (target === 'binary') {
    probabilities = probabilityList(row, ['no', 'yes']);
    prediction = probabilities[1]!;
    predictedLabel = prediction >= 0.5 ? 'yes' : 'no';
  } else {
    probabilities = probabilityList(row, CLASSES);
    let best = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
    predictedLabel = CLASSES[best]!;
  }
  return {
    model_id: modelId,
    timestamp: new Date(row.timestamp!),
    features: { age: row.features.age ?? null, city: row.features.city ?? null },
    prediction,
    probabilities,
    predicted_label: predictedLabel,
    association_id: row.associationId ?? null,
  };
}

function storedRows(batchId: string) {
  return server.sql`
    select model_id, timestamp, features, prediction, probabilities, predicted_label, association_id
    from predictions where batch_id = ${batchId} order by id`;
}

interface ColumnExpectation {
  column_name: string;
  is_prediction: boolean;
  model_id: string;
  row_count: number;
  missing_count: number;
  sum: number;
  sum_of_squares: number;
}

/** batch_column_stats as the raw rows say they must be (features, then the prediction column). */
function expectedColumnStats(rows: Row[], target: 'regression' | 'binary' | 'multiclass', modelId: string): ColumnExpectation[] {
  const numeric = (values: FeatureValue[]) => {
    const present = values.filter((v): v is number => typeof v === 'number');
    return {
      row_count: values.length,
      missing_count: values.length - present.length,
      sum: present.reduce((a, b) => a + b, 0),
      sum_of_squares: present.reduce((a, b) => a + b * b, 0),
    };
  };
  const ages = rows.map((r) => r.features.age ?? null);
  const cities = rows.map((r) => r.features.city ?? null);
  const predictions = rows.map((r) => storedRow(r, target, modelId));
  return [
    { column_name: 'age', is_prediction: false, model_id: modelId, ...numeric(ages) },
    {
      column_name: 'city',
      is_prediction: false,
      model_id: modelId,
      row_count: rows.length,
      missing_count: cities.filter((c) => c === null).length,
      sum: 0,
      sum_of_squares: 0,
    },
    {
      column_name: '',
      is_prediction: true,
      model_id: modelId,
      ...(target === 'multiclass'
        ? { row_count: rows.length, missing_count: 0, sum: 0, sum_of_squares: 0 }
        : numeric(predictions.map((p) => p.prediction))),
    },
  ];
}

function columnStats(batchId: string) {
  return server.sql<ColumnExpectation[]>`
    select column_name, is_prediction, model_id, row_count::int as row_count, missing_count::int as missing_count, sum, sum_of_squares
    from batch_column_stats where batch_id = ${batchId} order by model_id, is_prediction, column_name`;
}

function serviceStats(batchId: string) {
  return server.sql`
    select model_id, request_count::int as request_count, prediction_count::int as prediction_count,
      user_error_count::int as user_error_count, server_error_count::int as server_error_count,
      execution_time_count::int as execution_time_count, execution_time_sum, execution_time_min, execution_time_max
    from batch_service_stats where batch_id = ${batchId} order by model_id`;
}

async function batchRow(batchId: string) {
  const [row] = await server.sql`
    select prediction_count::int as prediction_count, earliest_prediction_at, latest_prediction_at, is_locked
    from monitoring_batches where id = ${batchId}`;
  return row!;
}

async function countRows(table: string, column: 'batch_id' | 'deployment_id', id: string): Promise<number> {
  const [row] = await server.sql.unsafe(`select count(*)::int as n from ${table} where ${column} = $1`, [id]);
  return row!.n as number;
}

const TABLES = [
  'monitoring_batches',
  'predictions',
  'actuals',
  'batch_model_history',
  'batch_column_stats',
  'batch_service_stats',
  'batch_execution_time_buckets',
  'batch_consumers',
  'batch_accuracy_stats',
  'batch_quota_usage',
];

/** Everything stored for a deployment, table by table, in a stable order: to show nothing changed. */
async function deploymentSnapshot(deploymentId: string): Promise<Record<string, unknown>> {
  const snapshot: Record<string, unknown> = {};
  for (const table of TABLES) {
    const [row] = await server.sql.unsafe(
      `select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]'::jsonb) as rows from ${table} t where deployment_id = $1`,
      [deploymentId],
    );
    snapshot[table] = row!.rows;
  }
  return snapshot;
}

const minMax = (rows: Row[]) => {
  const times = rows.map((r) => Date.parse(r.timestamp!));
  return { earliest: new Date(Math.min(...times)), latest: new Date(Math.max(...times)) };
};

function binaryDeployment(token = server.adminToken) {
  return createDeployment(server, token, {
    targetType: 'BINARY',
    targetName: 'churn',
    classNames: ['no', 'yes'],
    positiveClass: 'yes',
    predictionThreshold: 0.5,
  });
}

function multiclassDeployment(token = server.adminToken) {
  return createDeployment(server, token, { targetType: 'MULTICLASS', targetName: 'animal', classNames: CLASSES });
}

async function lockBatch(deploymentId: string, batchId: string, token = server.adminToken) {
  return server.rest('PATCH', `${api(deploymentId)}/monitoringBatches/${batchId}/`, { token, body: { isLocked: true } });
}

// ---------------------------------------------------------------------------------------------

describe('bulk upload: every row stored, aggregates equal to the raw rows', () => {
  const cases = [
    { target: 'regression', format: 'ndjson', rows: () => regressionRows(3000, 11, 'rn-') },
    { target: 'regression', format: 'csv', rows: () => regressionRows(3000, 12, 'rc-', [...CITIES, 'Kyiv\nUkraine']) },
    { target: 'binary', format: 'ndjson', rows: () => binaryRows(2000, 13) },
    { target: 'binary', format: 'csv', rows: () => binaryRows(2000, 14) },
    { target: 'multiclass', format: 'ndjson', rows: () => multiclassRows(2000, 15) },
    { target: 'multiclass', format: 'csv', rows: () => multiclassRows(2000, 16) },
  ] as const;

  it.each(cases)('$target $format', async ({ target, format, rows: make }) => {
    const deployment =
      target === 'regression'
        ? await createDeployment(server)
        : target === 'binary'
          ? await binaryDeployment()
          : await multiclassDeployment();
    const batch = await createBatch(server, deployment.id);
    const rows = make();
    const body = format === 'ndjson' ? ndjson(rows) : csv(rows, target);
    const answer = await post(bulkPath(deployment.id, batch.id, '?modelId=model-7&executionTimeMs=1234.5'), body, {
      contentType: format === 'ndjson' ? NDJSON : `${CSV}; charset=utf-8`,
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toEqual({
      batchId: batch.id,
      batchName: batch.name,
      rowCount: rows.length,
      predictionsCount: rows.length,
      unknownFeatures: [],
      actualsJoined: 0,
    });

    // Every row, exactly, in order.
    expect(await storedRows(batch.id)).toEqual(rows.map((row) => storedRow(row, target, 'model-7')));
    const { earliest, latest } = minMax(rows);
    expect(await batchRow(batch.id)).toEqual({
      prediction_count: rows.length,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
      is_locked: false,
    });
    expect(await columnStats(batch.id)).toEqual(expectedColumnStats(rows, target, 'model-7'));
    const history = await server.sql`
      select model_id, prediction_count::int as prediction_count, earliest_prediction_at, latest_prediction_at from batch_model_history where batch_id = ${batch.id}`;
    expect(history).toEqual([
      { model_id: 'model-7', prediction_count: rows.length, earliest_prediction_at: earliest, latest_prediction_at: latest },
    ]);

    // One request of N predictions, with the execution time given.
    expect(await serviceStats(batch.id)).toEqual([
      {
        model_id: 'model-7',
        request_count: 1,
        prediction_count: rows.length,
        user_error_count: 0,
        server_error_count: 0,
        execution_time_count: 1,
        execution_time_sum: 1234.5,
        execution_time_min: 1234.5,
        execution_time_max: 1234.5,
      },
    ]);
    const buckets = await server.sql`select count::int as count from batch_execution_time_buckets where batch_id = ${batch.id}`;
    expect(buckets).toEqual([{ count: 1 }]);
    const consumers =
      await server.sql`select model_id, request_count::int as request_count from batch_consumers where batch_id = ${batch.id}`;
    expect(consumers).toEqual([{ model_id: 'model-7', request_count: 1 }]);
  });

  it('adds a second upload to the first, with the deployment model when no modelId is given', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(600, 21, 'two-');
    const first = await post(bulkPath(deployment.id, batch.id, '?executionTimeMs=10'), ndjson(rows.slice(0, 250)));
    expect(first.status).toBe(200);
    const second = await post(bulkPath(deployment.id, batch.id), csv(rows.slice(250), 'regression'), { contentType: CSV });
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ rowCount: 350, predictionsCount: 600 });
    const { earliest, latest } = minMax(rows);
    expect(await batchRow(batch.id)).toMatchObject({
      prediction_count: 600,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
    });
    // Sums of two uploads: exact, because every value is a multiple of a power of two.
    expect(await columnStats(batch.id)).toEqual(expectedColumnStats(rows, 'regression', deployment.modelId));
    expect(await serviceStats(batch.id)).toEqual([
      expect.objectContaining({
        request_count: 2,
        prediction_count: 600,
        execution_time_count: 1,
        execution_time_sum: 10,
        execution_time_min: 10,
        execution_time_max: 10,
      }),
    ]);
  });

  it('lists unknown columns, skips blank lines, takes CRLF and a byte order mark', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const body = `\uFEFF{"features":{"age":1,"colour":"red"},"prediction":2}\r\n\r\n\n{"features":{"zip":"x"},"prediction":"3.5"}`;
    const answer = await post(bulkPath(deployment.id, batch.id), body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ rowCount: 2, unknownFeatures: ['colour', 'zip'] });
    const csvBatch = await createBatch(server, deployment.id);
    const csvAnswer = await post(bulkPath(deployment.id, csvBatch.id), '\uFEFFage,prediction,shoe\n4,5,42\n', { contentType: CSV });
    expect(csvAnswer.status, JSON.stringify(csvAnswer.json)).toBe(200);
    expect(csvAnswer.json).toMatchObject({ rowCount: 1, unknownFeatures: ['shoe'] });
    expect((await storedRows(csvBatch.id)).map((r) => r.features)).toEqual([{ age: 4, city: null }]);
  });
});

describe('bulk upload: atomicity', () => {
  /** A batch with a few rows already, so "unchanged" means more than "empty". */
  async function seededBatch() {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const seeded = await post(bulkPath(deployment.id, batch.id, '?executionTimeMs=5'), ndjson(regressionRows(10, 31, 'seed-')));
    expect(seeded.status).toBe(200);
    return { deployment, batch, before: await deploymentSnapshot(deployment.id) };
  }

  it('stores nothing when one row of a 200,000-row NDJSON upload is bad, and names its line and field', async () => {
    const { deployment, batch, before } = await seededBatch();
    const next = random(32);
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      lines.push(`{"features":{"age":${Math.floor(next() * 400) / 4},"city":"Oslo"},"prediction":${i % 1000},"associationId":"big-${i}"}`);
    }
    lines[100_000] = '{"features":{"age":"forty","city":"Oslo"},"prediction":1}';
    const answer = await post(bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(answer.status).toBe(422);
    expect(answer.json).toEqual({
      message: 'Invalid input: line 100001.features.age: must be a finite number, got "forty"',
      errors: { 'line 100001.features.age': 'must be a finite number, got "forty"' },
    });
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
    // The same upload without the bad row goes in whole: the refusal was about that row alone.
    lines[100_000] = '{"features":{"age":40,"city":"Oslo"},"prediction":1}';
    const fixed = await post(bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect(fixed.json).toMatchObject({ rowCount: 200_000, predictionsCount: 200_010 });
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(200_010);
  });

  it('refuses a duplicate association id far into a large upload (past the ids it remembers), naming its line', async () => {
    const { deployment, batch, before } = await seededBatch();
    const lines: string[] = [];
    for (let i = 0; i < 150_000; i++)
      lines.push(`{"features":{"age":${i % 90},"city":"Oslo"},"prediction":${i % 1000},"associationId":"far-${i}"}`);
    // Line 149,001 repeats line 120,001 — both past the first 100,000 ids, which are the ones remembered.
    lines[149_000] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"far-120000"}';
    const repeated = await post(bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(repeated.status).toBe(422);
    expect(repeated.json.errors).toEqual({
      'line 149001.associationId': '"far-120000" repeats the association id of an earlier row of this request',
    });
    // The last line repeats an id committed by the seeding upload: refused after the data ended.
    lines[149_000] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"far-149000"}';
    lines[149_999] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"seed-3"}';
    const used = await post(bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(used.status).toBe(422);
    expect(used.json.errors).toEqual({ 'line 150000.associationId': '"seed-3" is already used by another prediction of this deployment' });
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });

  it('stores nothing when a row of a large CSV has the wrong number of cells or a non-numeric value', async () => {
    const { deployment, batch, before } = await seededBatch();
    const header = 'age,city,prediction,associationId,timestamp';
    const lines = [header];
    for (let i = 0; i < 100_000; i++) lines.push(`${i % 90},Paris,${i % 17},csv-${i},2026-03-01T00:00:00Z`);
    const variants: [string, string, Record<string, string>][] = [
      [
        '12,Paris,3,extra-cell,2026-03-01T00:00:00Z,surplus',
        'wrong cell count',
        { 'line 50002': 'has 6 cells, but the header has 5 columns' },
      ],
      ['12,Paris', 'too few cells', { 'line 50002': 'has 2 cells, but the header has 5 columns' }],
      ['1e400,Paris,3,,', 'an infinite number', { 'line 50002.features.age': 'must be a finite number, got "1e400"' }],
      ['12,Paris,NaN,,', 'NaN as a prediction', { 'line 50002.prediction': 'must be a finite number, got "NaN"' }],
      ['0x10,Paris,3,,', 'a hexadecimal number', { 'line 50002.features.age': 'must be a finite number, got "0x10"' }],
    ];
    for (const [bad, what, errors] of variants) {
      const body = `${[...lines.slice(0, 50_001), bad, ...lines.slice(50_001)].join('\n')}\n`;
      const answer = await post(bulkPath(deployment.id, batch.id), body, { contentType: CSV });
      expect(answer.status, what).toBe(422);
      expect(answer.json.errors, what).toEqual(errors);
      expect(await deploymentSnapshot(deployment.id), what).toEqual(before);
    }
  });

  it('refuses truncated NDJSON naming the last line, and stores nothing', async () => {
    const { deployment, batch, before } = await seededBatch();
    const body = ndjson(regressionRows(5000, 33, 'cut-'));
    const truncated = body.slice(0, body.length - 30); // the last line cut mid-object, no newline
    const answer = await post(bulkPath(deployment.id, batch.id), truncated);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors)).toEqual(['line 5000']);
    expect(answer.json.errors['line 5000']).toMatch(/^is not valid JSON: /);
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
    // Cut inside a quoted CSV cell: the record never ends.
    const csvBody = csv(regressionRows(300, 34), 'regression');
    const csvAnswer = await post(bulkPath(deployment.id, batch.id), `${csvBody}1,"Par`, { contentType: CSV });
    expect(csvAnswer.status).toBe(422);
    expect(csvAnswer.json.errors).toEqual({ 'line 302': 'has a quoted cell that is never closed (cell 2)' });
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });

  it('refuses an empty upload, a header-only CSV and one of blank lines, and stores nothing', async () => {
    const { deployment, batch, before } = await seededBatch();
    for (const [body, contentType] of [
      ['', NDJSON],
      ['\n\n\r\n', NDJSON],
      ['', CSV],
      ['age,city,prediction\n', CSV],
    ] as const) {
      const answer = await post(bulkPath(deployment.id, batch.id), body, { contentType });
      expect(answer.status, `${contentType} ${JSON.stringify(body)}`).toBe(422);
      expect(answer.json.errors).toEqual(
        contentType === CSV && body === '' ? { 'line 1': 'the CSV has no header row' } : { 'line 1': 'the upload has no prediction rows' },
      );
    }
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });

  it('reports every bad row (up to a limit), none of them stored', async () => {
    const { deployment, batch, before } = await seededBatch();
    const body = [
      '{"features":{"age":1},"prediction":1}',
      '[1,2,3]',
      '{"features":{"age":1},"prediction":1,"probabilities":[0.5,0.5]}',
      '{"features":{"age":1}}',
      '{"features":{"age":1},"prediction":1,"timestamp":"2026-02-30T00:00:00Z"}',
      'not json',
    ].join('\n');
    const answer = await post(bulkPath(deployment.id, batch.id), body);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors)).toEqual(['line 2', 'line 3.probabilities', 'line 4.prediction', 'line 5.timestamp', 'line 6']);
    const many = Array.from({ length: 50 }, () => '{"features":{"age":"x"},"prediction":1}').join('\n');
    const capped = await post(bulkPath(deployment.id, batch.id), many);
    expect(capped.status).toBe(422);
    expect(Object.keys(capped.json.errors)).toHaveLength(20);
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });
});

describe('bulk upload: content type and size limits', () => {
  it('answers 415 for anything but NDJSON or CSV, before reading the body', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const body = ndjson(regressionRows(3, 41));
    for (const contentType of ['application/json', 'text/plain', null, 'multipart/form-data; boundary=x', 'text/csvx']) {
      const answer = await post(bulkPath(deployment.id, batch.id), body, { contentType });
      expect(answer.status, String(contentType)).toBe(415);
      expect(answer.json.message).toMatch(/^Content-Type must be application\/x-ndjson or text\/csv/);
    }
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(0);
    // The NDJSON aliases and parameters are fine.
    for (const contentType of ['application/ndjson', 'application/jsonl', 'Application/X-NDJSON; charset=utf-8']) {
      expect((await post(bulkPath(deployment.id, batch.id), ndjson(regressionRows(1, 42)), { contentType })).status, contentType).toBe(200);
    }
  });

  describe('with a server whose limits are small', () => {
    let small: TestServer;
    beforeAll(async () => {
      small = await startTestServer({ maxUploadBytes: 50 * 1024 * 1024, maxBodyBytes: 256 * 1024 });
    });
    afterAll(async () => {
      await small?.stop();
    });

    /** `total` bytes of valid NDJSON rows, made as they are sent. */
    async function* generatedRows(total: number): AsyncGenerator<Buffer> {
      const line = `${JSON.stringify({ features: { age: 1, city: 'Oslo', note: 'n'.repeat(300) }, prediction: 2 })}\n`;
      const chunk = Buffer.from(line.repeat(Math.floor((1024 * 1024) / line.length)));
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    }

    async function smallTenant() {
      const deployment = await createDeployment(small);
      const batch = await createBatch(small, deployment.id);
      return { deployment, batch };
    }

    it('answers 413 to a 100 MB stream over the 50 MB limit, stores nothing, and keeps serving', async () => {
      const { deployment, batch } = await smallTenant();
      const answer = await post(bulkPath(deployment.id, batch.id), generatedRows(100 * 1024 * 1024), { target: small });
      expect(answer.status).toBe(413);
      expect(answer.json.message).toContain(`${50 * 1024 * 1024} bytes`);
      expect(answer.sentBytes).toBeLessThan(100 * 1024 * 1024);
      const [stored] = await small.sql`select count(*)::int as n from predictions where batch_id = ${batch.id}`;
      expect(stored!.n).toBe(0);
      const [counters] = await small.sql`select prediction_count::int as n from monitoring_batches where id = ${batch.id}`;
      expect(counters!.n).toBe(0);
      const [aggregates] = await small.sql`
        select (select count(*) from batch_column_stats where batch_id = ${batch.id})::int
             + (select count(*) from batch_service_stats where batch_id = ${batch.id})::int as n`;
      expect(aggregates!.n).toBe(0);

      // A declared Content-Length over the limit is refused the same way.
      const declared = await post(bulkPath(deployment.id, batch.id), generatedRows(100 * 1024 * 1024), {
        target: small,
        contentLength: 100 * 1024 * 1024,
      });
      expect(declared.status).toBe(413);

      // Still serving: health, and an upload under the limit.
      expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
      const fine = await post(bulkPath(deployment.id, batch.id), generatedRows(2 * 1024 * 1024), { target: small });
      expect(fine.status, JSON.stringify(fine.json)).toBe(200);
      expect(fine.json).toMatchObject({ unknownFeatures: ['note'] });
    });

    it('answers 413 on the fromJSON routes past maxBodyBytes, declared or streamed', async () => {
      const { deployment, batch } = await smallTenant();
      const big = {
        batchId: batch.id,
        data: regressionRows(3000, 43).map(({ timestamp: _, ...row }) => ({
          ...row,
          features: { ...row.features, note: 'x'.repeat(100) },
        })),
      };
      const text = JSON.stringify(big);
      expect(text.length).toBeGreaterThan(256 * 1024);
      for (const path of [inputsPath(deployment.id), requestsPath(deployment.id), actualsPath(deployment.id)]) {
        const declared = await post(path, text, { target: small, contentType: 'application/json' });
        expect(declared.status, path).toBe(413);
        async function* chunks() {
          for (let i = 0; i < text.length; i += 16 * 1024) yield text.slice(i, i + 16 * 1024);
        }
        const streamed = await post(path, chunks(), { target: small, contentType: 'application/json' });
        expect(streamed.status, path).toBe(413);
      }
      const [stored] = await small.sql`select count(*)::int as n from predictions where deployment_id = ${deployment.id}`;
      expect(stored!.n).toBe(0);
      // Under the limit, the same route works.
      const ok = await postJson(inputsPath(deployment.id), { batchId: batch.id, data: big.data.slice(0, 100) }, { target: small });
      expect(ok.status, JSON.stringify(ok.json)).toBe(202);
    });

    it('stays up after uploads it stopped reading: over the limit, refused early, or abandoned by the client', async () => {
      const { deployment, batch } = await smallTenant();
      const locked = await createBatch(small, deployment.id);
      expect(
        (await small.rest('PATCH', `${api(deployment.id)}/monitoringBatches/${locked.id}/`, { body: { isLocked: true } })).status,
      ).toBe(200);
      /** 20 bad rows (the most reported) first, then 30 MB of good ones the server never needs to read. */
      async function* badThenGood(): AsyncGenerator<Buffer> {
        yield Buffer.from('{"features":{"age":"x"},"prediction":1}\n'.repeat(25));
        yield* generatedRows(30 * 1024 * 1024);
      }
      const answers = await Promise.all([
        post(bulkPath(deployment.id, batch.id), generatedRows(60 * 1024 * 1024), { target: small }),
        post(bulkPath(deployment.id, batch.id), badThenGood(), { target: small }),
        post(bulkPath(deployment.id, batch.id), badThenGood(), { target: small, hangUp: true }),
        post(bulkPath(deployment.id, locked.id), generatedRows(30 * 1024 * 1024), { target: small, hangUp: true }),
        post(inputsPath(deployment.id), generatedRows(1024 * 1024), { target: small, contentType: 'application/json' }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([413, 422, 422, 409, 413]);
      expect(Object.keys(answers[1]!.json.errors)).toHaveLength(20);
      // The server cuts off bodies it does not read after a grace period (5 s): still up after it.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
      const fine = await post(bulkPath(deployment.id, batch.id), ndjson(regressionRows(10, 44)), { target: small });
      expect(fine.status).toBe(200);
      expect(fine.json).toMatchObject({ rowCount: 10, predictionsCount: 10 });
    });
  });
});

describe('agent routes', () => {
  it('predictionInputs: batch id from the body, rows only and no request statistics', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(300, 51, 'in-');
    const answer = await postJson(inputsPath(deployment.id), { batchId: batch.id, modelId: 'agent-model', data: rows });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    expect(answer.json).toEqual({
      batchId: batch.id,
      batchName: batch.name,
      rowCount: 300,
      predictionsCount: 300,
      unknownFeatures: [],
      actualsJoined: 0,
    });
    expect(await storedRows(batch.id)).toEqual(rows.map((row) => storedRow(row, 'regression', 'agent-model')));
    expect(await columnStats(batch.id)).toEqual(expectedColumnStats(rows, 'regression', 'agent-model'));
    const { earliest, latest } = minMax(rows);
    expect(await batchRow(batch.id)).toMatchObject({
      prediction_count: 300,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
    });
    expect(await serviceStats(batch.id)).toEqual([]);
    expect(await countRows('batch_consumers', 'batch_id', batch.id)).toBe(0);
    expect(await countRows('batch_execution_time_buckets', 'batch_id', batch.id)).toBe(0);
  });

  it('predictionInputs: batch id from the header; the body wins over the header', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const other = await createBatch(server, deployment.id);
    const byHeader = await postJson(inputsPath(deployment.id), { data: regressionRows(4, 52) }, { headers: { [BATCH_HEADER]: batch.id } });
    expect(byHeader.status, JSON.stringify(byHeader.json)).toBe(202);
    expect(byHeader.json).toMatchObject({ batchId: batch.id, rowCount: 4, predictionsCount: 4 });
    const both = await postJson(
      inputsPath(deployment.id),
      { batchId: other.id, data: regressionRows(2, 53) },
      { headers: { [BATCH_HEADER]: batch.id } },
    );
    expect(both.json).toMatchObject({ batchId: other.id, predictionsCount: 2 });
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(4);
    expect(await countRows('predictions', 'batch_id', other.id)).toBe(2);
    // Without the trailing slash too, as some clients send it.
    const bare = await postJson(
      inputsPath(deployment.id).slice(0, -1),
      { data: regressionRows(1, 54) },
      { headers: { [BATCH_HEADER]: batch.id } },
    );
    expect(bare.status).toBe(202);
  });

  it('predictionInputs: a prefix creates a named batch and counts against the quota (429 with Retry-After)', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createDeployment(server, org.token);
    const first = await postJson(
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { data: regressionRows(5, 55) },
      { token: org.token },
    );
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    expect(first.json.batchName).toMatch(/^nightly - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const createdAt = Date.parse(`${first.json.batchName.slice('nightly - '.length).replace(' ', 'T')}Z`);
    expect(Math.abs(Date.now() - createdAt)).toBeLessThan(60_000);
    expect(first.json).toMatchObject({ rowCount: 5, predictionsCount: 5 });
    const before = await deploymentSnapshot(deployment.id);

    const second = await postJson(
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { data: regressionRows(5, 56) },
      { token: org.token },
    );
    expect(second.status).toBe(429);
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const midnight = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(second.json).toEqual({ message: expect.stringContaining('Daily batch limit of 1'), limit: 1, used: 1, resetAt: midnight });
    // The stats route and the bulk-free paths share the quota.
    const stats = await postJson(
      `${requestsPath(deployment.id)}?monitoringBatchPrefix=nightly`,
      { numPredictions: 3 },
      { token: org.token },
    );
    expect(stats.status).toBe(429);
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);

    // A prefix together with a batch id is refused, naming the wire's field.
    const batch = first.json.batchId as string;
    const both = await postJson(
      `${inputsPath(deployment.id)}?monitoringBatchPrefix=x`,
      { batchId: batch, data: regressionRows(1, 57) },
      { token: org.token },
    );
    expect(both.status).toBe(422);
    expect(Object.keys(both.json.errors)).toEqual(['monitoringBatchPrefix']);
  });

  it("predictionInputs and predictionRequests without a batch: the day's unassigned batch", async () => {
    const deployment = await createDeployment(server);
    const name = `Unassigned predictions - ${new Date().toISOString().slice(0, 10)}`;
    const answers = await Promise.all([
      postJson(inputsPath(deployment.id), { data: regressionRows(3, 58) }),
      postJson(inputsPath(deployment.id), { data: regressionRows(4, 59) }),
      postJson(requestsPath(deployment.id), { numPredictions: 7, executionTimeMs: 12 }),
    ]);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    expect(new Set(answers.map((a) => a.json.batchName))).toEqual(new Set([name]));
    expect(new Set(answers.map((a) => a.json.batchId)).size).toBe(1);
    const batchId = answers[0]!.json.batchId as string;
    expect(await countRows('monitoring_batches', 'deployment_id', deployment.id)).toBe(1);
    expect(await batchRow(batchId)).toMatchObject({ prediction_count: 7 });
    expect(await serviceStats(batchId)).toEqual([
      expect.objectContaining({ request_count: 1, prediction_count: 7, execution_time_count: 1, execution_time_sum: 12 }),
    ]);
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
      const answer = await postJson(requestsPath(deployment.id), body, { headers });
      expect(answer.status, JSON.stringify(answer.json)).toBe(202);
      expect(answer.json).toEqual({ batchId: batch.id, batchName: batch.name });
    }
    expect(await serviceStats(batch.id)).toEqual([
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
    expect(await countRows('batch_execution_time_buckets', 'batch_id', batch.id)).toBe(2);
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(0);
    expect(await countRows('batch_column_stats', 'batch_id', batch.id)).toBe(0);
    expect(await countRows('batch_model_history', 'batch_id', batch.id)).toBe(0);
    expect(await batchRow(batch.id)).toMatchObject({ prediction_count: 0, earliest_prediction_at: null });
    for (const bad of [
      { numPredictions: -1 },
      { numPredictions: 1.5 },
      { numPredictions: '3' },
      {},
      { numPredictions: 1, executionTimeMs: -2 },
      { numPredictions: 1, userError: 'yes' },
    ]) {
      const answer = await postJson(requestsPath(deployment.id), { batchId: batch.id, ...bad });
      expect(answer.status, JSON.stringify(bad)).toBe(422);
    }
  });

  it('predictionInputs refuses a bad row naming data.<index> and stores nothing; caps rows at 10,000', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows: unknown[] = regressionRows(50, 60);
    rows[37] = { features: { age: 'old' }, prediction: 1 };
    const answer = await postJson(inputsPath(deployment.id), { batchId: batch.id, data: rows });
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({ 'data.37.features.age': 'must be a finite number, got "old"' });
    const tooMany = await postJson(inputsPath(deployment.id), {
      batchId: batch.id,
      data: Array.from({ length: 10_001 }, () => ({ features: {}, prediction: 1 })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors.data).toContain('bulk');
    const empty = await postJson(inputsPath(deployment.id), { batchId: batch.id, data: [] });
    expect(empty.status).toBe(422);
    expect(Object.keys(empty.json.errors)).toEqual(['data']);
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(0);
    expect(await batchRow(batch.id)).toMatchObject({ prediction_count: 0 });
  });
});

describe('locked, deleted, foreign batches, and tenancy', () => {
  /** One request of each route (both bulk formats) at a deployment and batch. */
  function everyRoute(deploymentId: string, batchId: string, token: string | null = server.adminToken) {
    const row = { features: { age: 1, city: 'Oslo' }, prediction: 1 };
    return {
      inputsBody: () => postJson(inputsPath(deploymentId), { batchId, data: [row] }, { token }),
      inputsHeader: () => postJson(inputsPath(deploymentId), { data: [row] }, { token, headers: { [BATCH_HEADER]: batchId } }),
      requests: () => postJson(requestsPath(deploymentId), { batchId, numPredictions: 1 }, { token }),
      requestsHeader: () => postJson(requestsPath(deploymentId), { numPredictions: 1 }, { token, headers: { [BATCH_HEADER]: batchId } }),
      bulkNdjson: () => post(bulkPath(deploymentId, batchId), ndjson([row]), { token }),
      bulkCsv: () => post(bulkPath(deploymentId, batchId), 'age,city,prediction\n1,Oslo,1\n', { token, contentType: CSV }),
    };
  }

  async function answers(routes: Record<string, () => Promise<RestAnswer>>) {
    const out: Record<string, { status: number; json: unknown }> = {};
    for (const [name, send] of Object.entries(routes)) {
      const { status, json } = await send();
      out[name] = { status, json };
    }
    return out;
  }

  it('refuses a locked batch with 409 on every route and stores nothing', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    expect((await post(bulkPath(deployment.id, batch.id), ndjson(regressionRows(5, 61)))).status).toBe(200);
    expect((await lockBatch(deployment.id, batch.id)).status).toBe(200);
    const before = await deploymentSnapshot(deployment.id);
    const got = await answers(everyRoute(deployment.id, batch.id));
    for (const [route, answer] of Object.entries(got)) {
      expect(answer, route).toEqual({ status: 409, json: { message: LOCKED_MESSAGE, batchId: batch.id } });
    }
    // A big streamed upload to a locked batch is refused without reading it all.
    async function* endless() {
      const chunk = Buffer.from(ndjson(regressionRows(2000, 62)));
      for (let i = 0; i < 100; i++) yield chunk;
    }
    const streamed = await post(bulkPath(deployment.id, batch.id), endless());
    expect(streamed.status).toBe(409);
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });

  it('answers 404 for a deleted batch and for a batch of another deployment', async () => {
    const deployment = await createDeployment(server);
    const sibling = await createDeployment(server);
    const deleted = await createBatch(server, deployment.id);
    const siblingBatch = await createBatch(server, sibling.id);
    expect((await post(bulkPath(deployment.id, deleted.id), ndjson(regressionRows(5, 63)))).status).toBe(200);
    const removed = await server.op(DeleteMonitoringBatchDocument, { id: deleted.id });
    expect(removed.deleteMonitoringBatch.__typename).toBe('DeleteMonitoringBatchSuccess');
    const siblingBefore = await deploymentSnapshot(sibling.id);
    const missing = await answers(everyRoute(deployment.id, MISSING_BATCH));
    for (const [route, answer] of Object.entries(missing)) expect(answer, route).toEqual({ status: 404, json: BATCH_NOT_FOUND });
    expect(await answers(everyRoute(deployment.id, deleted.id))).toEqual(missing);
    expect(await answers(everyRoute(deployment.id, siblingBatch.id))).toEqual(missing);
    expect(await countRows('predictions', 'batch_id', deleted.id)).toBeLessThanOrEqual(5);
    expect(await batchRow(deleted.id)).toMatchObject({ prediction_count: 5 });
    expect(await deploymentSnapshot(sibling.id)).toEqual(siblingBefore);
  });

  it("answers another organization's ids exactly like missing ones on every route, and changes nothing", async () => {
    const a = await createOrganization(server);
    const b = await createOrganization(server);
    const deploymentA = await createDeployment(server, a.token);
    const batchA = await createBatch(server, deploymentA.id, 'A batch', a.token);
    const seeded = await post(bulkPath(deploymentA.id, batchA.id), ndjson(regressionRows(8, 64, 'a-')), { token: a.token });
    expect(seeded.status).toBe(200);
    const actualsA = await postJson(
      actualsPath(deploymentA.id),
      {
        data: [
          { associationId: 'a-1', actualValue: 3 },
          { associationId: 'a-early', actualValue: 1 },
        ],
      },
      { token: a.token },
    );
    expect(actualsA.status).toBe(202);
    const deploymentB = await createDeployment(server, b.token);
    const before = await deploymentSnapshot(deploymentA.id);

    // A's deployment and batch, with B's token ↔ ids that do not exist.
    const foreign = await answers(everyRoute(deploymentA.id, batchA.id, b.token));
    const missing = await answers(everyRoute(MISSING_DEPLOYMENT, MISSING_BATCH, b.token));
    for (const [route, answer] of Object.entries(missing)) expect(answer, route).toEqual({ status: 404, json: DEPLOYMENT_NOT_FOUND });
    expect(foreign).toEqual(missing);

    // B's own deployment, A's batch ↔ a batch that does not exist.
    const foreignBatch = await answers(everyRoute(deploymentB.id, batchA.id, b.token));
    const missingBatch = await answers(everyRoute(deploymentB.id, MISSING_BATCH, b.token));
    for (const [route, answer] of Object.entries(missingBatch)) expect(answer, route).toEqual({ status: 404, json: BATCH_NOT_FOUND });
    expect(foreignBatch).toEqual(missingBatch);

    // Routes that name no batch: the deployment alone decides.
    const noBatch = (deploymentId: string) => ({
      inputs: () => postJson(inputsPath(deploymentId), { data: [{ features: {}, prediction: 1 }] }, { token: b.token }),
      inputsPrefix: () =>
        postJson(`${inputsPath(deploymentId)}?monitoringBatchPrefix=p`, { data: [{ features: {}, prediction: 1 }] }, { token: b.token }),
      requests: () => postJson(requestsPath(deploymentId), { numPredictions: 2 }, { token: b.token }),
      requestsPrefix: () => postJson(`${requestsPath(deploymentId)}?monitoringBatchPrefix=p`, { numPredictions: 2 }, { token: b.token }),
      actuals: () => postJson(actualsPath(deploymentId), { data: [{ associationId: 'a-2', actualValue: 5 }] }, { token: b.token }),
      actualsEarly: () => postJson(actualsPath(deploymentId), { data: [{ associationId: 'a-early', actualValue: 9 }] }, { token: b.token }),
    });
    const foreignNoBatch = await answers(noBatch(deploymentA.id));
    const missingNoBatch = await answers(noBatch(MISSING_DEPLOYMENT));
    for (const [route, answer] of Object.entries(missingNoBatch))
      expect(answer, route).toEqual({ status: 404, json: DEPLOYMENT_NOT_FOUND });
    expect(foreignNoBatch).toEqual(missingNoBatch);

    expect(await deploymentSnapshot(deploymentA.id)).toEqual(before);
    expect(await countRows('monitoring_batches', 'deployment_id', deploymentB.id)).toBe(0);
  });

  it('answers 401 without a valid token on every route', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    for (const token of [null, 'bl_not_a_token']) {
      const got = await answers({
        ...everyRoute(deployment.id, batch.id, token),
        actuals: () => postJson(actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 1 }] }, { token }),
      });
      for (const [route, answer] of Object.entries(got)) expect(answer.status, route).toBe(401);
    }
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(0);
  });

  it('refuses every route when batch monitoring is off', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const got = await answers({
      ...everyRoute(deployment.id, batch.id),
      actuals: () => postJson(actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 1 }] }),
    });
    for (const [route, answer] of Object.entries(got)) {
      expect(answer.status, route).toBe(422);
      expect((answer.json as { message: string }).message, route).toContain('Batch monitoring is not enabled');
    }
    expect(await countRows('predictions', 'batch_id', batch.id)).toBe(0);
  });
});

describe('actuals over REST', () => {
  interface Pair {
    prediction: number;
    actual: number;
  }

  function regressionAccuracy(pairs: Pair[]) {
    const sum = (f: (p: Pair) => number) => pairs.reduce((a, p) => a + f(p), 0);
    const nonZero = pairs.filter((p) => p.actual !== 0);
    return {
      count: pairs.length,
      sum_error: sum((p) => p.prediction - p.actual),
      sum_absolute_error: sum((p) => Math.abs(p.prediction - p.actual)),
      sum_squared_error: sum((p) => (p.prediction - p.actual) ** 2),
      sum_actual: sum((p) => p.actual),
      sum_squared_actual: sum((p) => p.actual ** 2),
      non_zero_actual_count: nonZero.length,
      sum_absolute_percentage_error: nonZero.reduce((a, p) => a + Math.abs((p.prediction - p.actual) / p.actual), 0),
    };
  }

  async function accuracyOf(batchId: string) {
    const rows = await server.sql`
      select count::int as count, sum_error, sum_absolute_error, sum_squared_error, sum_actual, sum_squared_actual,
        non_zero_actual_count::int as non_zero_actual_count, sum_absolute_percentage_error
      from batch_accuracy_stats where batch_id = ${batchId}`;
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  function expectAccuracy(stored: Record<string, unknown>, pairs: Pair[]) {
    const { sum_absolute_percentage_error: mape, ...exact } = regressionAccuracy(pairs);
    const { sum_absolute_percentage_error: storedMape, ...storedExact } = stored;
    expect(storedExact).toEqual(exact);
    expect(storedMape as number).toBeCloseTo(mape, 9);
  }

  it('keeps early actuals, joins them when the bulk upload arrives, and replaces re-submitted ones', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(40, 71, 'acc-');
    const next = random(72);
    const actual = new Map(rows.map((r) => [r.associationId!, i32(next) === 0 ? 0 : Math.floor(next() * 4000 - 1000) / 4]));

    // Half the actuals arrive first: accepted, unmatched, listed.
    const earlyIds = rows.slice(0, 20).map((r) => r.associationId!);
    const early = await postJson(actualsPath(deployment.id), {
      data: earlyIds.map((id) => ({ associationId: id, actualValue: actual.get(id), wasActedOn: true })),
    });
    expect(early.status, JSON.stringify(early.json)).toBe(202);
    expect(early.json).toEqual({ acceptedCount: 20, matchedCount: 0, unmatchedAssociationIds: earlyIds });
    expect(await countRows('batch_accuracy_stats', 'batch_id', batch.id)).toBe(0);

    // The bulk upload joins them.
    const ingest = await post(bulkPath(deployment.id, batch.id), csv(rows, 'regression'), { contentType: CSV });
    expect(ingest.status, JSON.stringify(ingest.json)).toBe(200);
    expect(ingest.json).toMatchObject({ rowCount: 40, actualsJoined: 20 });
    const pairsOf = (ids: string[]) =>
      ids.map((id) => ({ prediction: rows.find((r) => r.associationId === id)!.prediction!, actual: actual.get(id)! }));
    expectAccuracy(await accuracyOf(batch.id), pairsOf(earlyIds));

    // The rest after: matched at once; an unknown id is kept and listed.
    const lateIds = rows.slice(20).map((r) => r.associationId!);
    const late = await postJson(actualsPath(deployment.id), {
      data: [
        ...lateIds.map((id) => ({ associationId: id, actualValue: String(actual.get(id)), timestamp: '2026-03-02T10:00:00Z' })),
        { associationId: 'nobody', actualValue: 1 },
      ],
    });
    expect(late.status).toBe(202);
    expect(late.json).toEqual({ acceptedCount: 21, matchedCount: 20, unmatchedAssociationIds: ['nobody'] });
    const allIds = rows.map((r) => r.associationId!);
    expectAccuracy(await accuracyOf(batch.id), pairsOf(allIds));

    // Re-submitting replaces: the aggregates hold only the latest actual of each id.
    actual.set('acc-3', 17.25);
    actual.set('acc-30', 0);
    actual.set('acc-31', -2.5);
    const again = await postJson(actualsPath(deployment.id), {
      data: ['acc-3', 'acc-30', 'acc-31'].map((id) => ({ associationId: id, actualValue: actual.get(id) })),
    });
    expect(again.json).toEqual({ acceptedCount: 3, matchedCount: 3, unmatchedAssociationIds: [] });
    // …and once more with the same values: nothing moves.
    await postJson(actualsPath(deployment.id), { data: [{ associationId: 'acc-3', actualValue: 17.25 }] });
    expectAccuracy(await accuracyOf(batch.id), pairsOf(allIds));
    const stored =
      await server.sql`select association_id, actual_value from actuals where deployment_id = ${deployment.id} and association_id in ('acc-3', 'acc-30', 'acc-31') order by association_id`;
    expect(stored).toEqual([
      { association_id: 'acc-3', actual_value: 17.25 },
      { association_id: 'acc-30', actual_value: 0 },
      { association_id: 'acc-31', actual_value: -2.5 },
    ]);

    // A late prediction through predictionInputs joins the kept actual.
    const joined = await postJson(inputsPath(deployment.id), {
      batchId: batch.id,
      data: [{ features: {}, prediction: 4, associationId: 'nobody' }],
    });
    expect(joined.json).toMatchObject({ rowCount: 1, actualsJoined: 1 });
    expectAccuracy(await accuracyOf(batch.id), [...pairsOf(allIds), { prediction: 4, actual: 1 }]);
  });

  it('joins multiclass actuals into the confusion matrix and log loss', async () => {
    const deployment = await multiclassDeployment();
    const batch = await createBatch(server, deployment.id);
    const rows = multiclassRows(60, 73);
    const outcomes = rows.map((_, i) => CLASSES[(i * 7) % 3]!);
    const early = await postJson(actualsPath(deployment.id), {
      data: rows.slice(0, 30).map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i] })),
    });
    expect(early.json).toMatchObject({ acceptedCount: 30, matchedCount: 0 });
    const ingest = await post(bulkPath(deployment.id, batch.id), ndjson(rows));
    expect(ingest.json).toMatchObject({ rowCount: 60, actualsJoined: 30 });
    const late = await postJson(actualsPath(deployment.id), {
      data: rows.slice(30).map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i + 30] })),
    });
    expect(late.json).toMatchObject({ acceptedCount: 30, matchedCount: 30 });
    const confusion = new Array<number>(9).fill(0);
    let logLoss = 0;
    rows.forEach((row, i) => {
      const stored = storedRow(row, 'multiclass', '');
      const actualIndex = CLASSES.indexOf(outcomes[i]!);
      confusion[actualIndex * 3 + CLASSES.indexOf(stored.predicted_label!)]!++;
      logLoss += -Math.log(Math.min(Math.max(stored.probabilities![actualIndex]!, 1e-15), 1 - 1e-15));
    });
    const [stats] =
      await server.sql`select count::int as count, log_loss_sum, confusion from batch_accuracy_stats where batch_id = ${batch.id}`;
    expect(stats!.count).toBe(60);
    expect((stats!.confusion as string[]).map(Number)).toEqual(confusion);
    expect(stats!.log_loss_sum).toBeCloseTo(logLoss, 9);
    const refused = await postJson(actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 'cow' }] });
    expect(refused.status).toBe(422);
    expect(refused.json.errors).toEqual({ 'data.0.actualValue': 'must be one of the classes: cat, dog, fox' });
  });

  it('refuses an association id already used by an earlier upload, naming the line or row', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const other = await createBatch(server, deployment.id);
    expect((await post(bulkPath(deployment.id, batch.id), ndjson(regressionRows(20, 74, 'used-')))).status).toBe(200);
    const before = await deploymentSnapshot(deployment.id);
    const message = '"used-7" is already used by another prediction of this deployment';

    const fresh = regressionRows(3000, 75, 'fresh-');
    fresh[2500]!.associationId = 'used-7';
    const bulk = await post(bulkPath(deployment.id, batch.id), ndjson(fresh));
    expect(bulk.status).toBe(422);
    expect(bulk.json.errors).toEqual({ 'line 2501.associationId': message });
    const asCsv = await post(bulkPath(deployment.id, batch.id), csv(fresh, 'regression'), { contentType: CSV });
    expect(asCsv.status).toBe(422);
    expect(asCsv.json.errors).toEqual({ 'line 2502.associationId': message });
    const agent = await postJson(inputsPath(deployment.id), { batchId: batch.id, data: fresh.slice(2490, 2510) });
    expect(agent.status).toBe(422);
    expect(agent.json.errors).toEqual({ 'data.10.associationId': message });
    // Also when the earlier prediction is in another batch of the deployment.
    const elsewhere = await post(bulkPath(deployment.id, other.id), ndjson([{ features: {}, prediction: 1, associationId: 'used-7' }]));
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.json.errors).toEqual({ 'line 1.associationId': message });
    expect(await deploymentSnapshot(deployment.id)).toEqual(before);
  });

  it('refuses duplicates within one upload, naming both rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(10, 76, 'dup-');
    rows[8]!.associationId = 'dup-2';
    const bulk = await post(bulkPath(deployment.id, batch.id), ndjson(rows));
    expect(bulk.json.errors).toEqual({ 'line 9.associationId': 'repeats the association id of line 3' });
    const asCsv = await post(bulkPath(deployment.id, batch.id), csv(rows, 'regression'), { contentType: CSV });
    expect(asCsv.json.errors).toEqual({ 'line 10.associationId': 'repeats the association id of line 4' });
    const agent = await postJson(inputsPath(deployment.id), { batchId: batch.id, data: rows });
    expect(agent.json.errors).toEqual({ 'data.8.associationId': 'repeats the association id of data.2' });
    // An integer association id and its string spelling are the same id.
    const mixed = await postJson(inputsPath(deployment.id), {
      batchId: batch.id,
      data: [
        { features: {}, prediction: 1, associationId: 12 },
        { features: {}, prediction: 1, associationId: '12' },
      ],
    });
    expect(mixed.json.errors).toEqual({ 'data.1.associationId': 'repeats the association id of data.0' });
    const actuals = await postJson(actualsPath(deployment.id), {
      data: [
        { associationId: 'q', actualValue: 1 },
        { associationId: 'r', actualValue: 1 },
        { associationId: 'q', actualValue: 2 },
      ],
    });
    expect(actuals.status).toBe(422);
    expect(actuals.json.errors).toEqual({ 'data.2.associationId': 'repeats the association id of data.0' });
    const tooMany = await postJson(actualsPath(deployment.id), {
      data: Array.from({ length: 10_001 }, (_, i) => ({ associationId: `many-${i}`, actualValue: 1 })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors).toEqual({ data: 'must contain at most 10000 actuals per request (got 10001)' });
    const empty = await postJson(actualsPath(deployment.id), { data: [] });
    expect(empty.json.errors).toEqual({ data: 'must contain at least one actual' });
    expect(await countRows('predictions', 'deployment_id', deployment.id)).toBe(0);
    expect(await countRows('actuals', 'deployment_id', deployment.id)).toBe(0);
  });
});

/** 1 in 8 draws as 0 (for actual values of 0, which Σ|err/y| skips). */
function i32(next: () => number): number {
  return Math.floor(next() * 8);
}

describe('a lock racing with bulk uploads', () => {
  it('either stores a whole upload before the lock or refuses it whole with 409, 10 rounds', async () => {
    const deployment = await createDeployment(server);
    const outcomes: number[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = await createBatch(server, deployment.id);
      const rows = regressionRows(4000, 80 + round, `race-${round}-`);
      const body = round % 2 ? csv(rows, 'regression') : ndjson(rows);
      const [upload, lock] = await Promise.all([
        post(bulkPath(deployment.id, batch.id, '?executionTimeMs=3'), body, { contentType: round % 2 ? CSV : NDJSON }),
        new Promise((resolve) => setTimeout(resolve, (round % 5) * 8)).then(() => lockBatch(deployment.id, batch.id)),
      ]);
      expect(lock.status).toBe(200);
      expect(lock.json.isLocked).toBe(true);
      outcomes.push(upload.status);
      const stored = await countRows('predictions', 'batch_id', batch.id);
      if (upload.status === 200) {
        expect(upload.json).toMatchObject({ rowCount: 4000, predictionsCount: 4000 });
        expect(stored).toBe(4000);
        expect(await columnStats(batch.id)).toEqual(expectedColumnStats(rows, 'regression', deployment.modelId));
        expect(await serviceStats(batch.id)).toEqual([expect.objectContaining({ request_count: 1, prediction_count: 4000 })]);
      } else {
        expect(upload.status, JSON.stringify(upload.json)).toBe(409);
        expect(upload.json).toEqual({ message: LOCKED_MESSAGE, batchId: batch.id });
        expect(stored).toBe(0);
        expect(await countRows('batch_column_stats', 'batch_id', batch.id)).toBe(0);
        expect(await countRows('batch_service_stats', 'batch_id', batch.id)).toBe(0);
        expect(await countRows('batch_model_history', 'batch_id', batch.id)).toBe(0);
      }
      expect(await batchRow(batch.id)).toMatchObject({ prediction_count: stored, is_locked: true });
      // Locked now, whatever happened: the next upload is refused.
      expect((await post(bulkPath(deployment.id, batch.id), ndjson(rows.slice(0, 1)))).status).toBe(409);
    }
    expect(outcomes.every((s) => s === 200 || s === 409)).toBe(true);
  });
});

describe('no 500 for malformed input', () => {
  let deploymentId: string;
  let batchId: string;
  let binaryId: string;
  beforeAll(async () => {
    const deployment = await createDeployment(server);
    deploymentId = deployment.id;
    batchId = (await createBatch(server, deploymentId)).id;
    binaryId = (await binaryDeployment()).id;
  });

  const deep = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

  /** Bodies for the three fromJSON routes. */
  const jsonBodies: [string, string | Buffer][] = [
    ['invalid JSON', '{"data": ['],
    ['a trailing comma', '{"data": [],}'],
    ['an array', '[]'],
    ['a string', '"data"'],
    ['null', 'null'],
    ['a number', '1e999'],
    ['data as an object', '{"data": {"0": {}}}'],
    ['data as a string', '{"data": "rows"}'],
    ['rows as arrays', '{"data": [[1, 2], []]}'],
    ['rows as null', '{"data": [null, 1, "x", true]}'],
    [
      'infinite numbers',
      '{"data": [{"features": {"age": 1e999}, "prediction": -1e999, "associationId": 1e999, "actualValue": 1e999}], "numPredictions": 1e999}',
    ],
    [
      'huge integers',
      '{"data": [{"features": {"age": 123456789012345678901234567890}, "prediction": 1e308, "associationId": 12345678901234567890, "actualValue": 1e308}], "numPredictions": 1e300, "executionTimeMs": 1e300}',
    ],
    [
      'NaN strings',
      '{"data": [{"features": {"age": "NaN"}, "prediction": "NaN", "associationId": "n", "actualValue": "NaN"}], "numPredictions": "NaN", "executionTimeMs": "Infinity"}',
    ],
    [
      'nested garbage in features',
      '{"data": [{"features": {"age": {"$gt": 1}, "city": [[["x"]]], "other": {"a": {"b": null}}}, "prediction": [1], "associationId": {"id": 1}, "actualValue": {"v": 1}, "wasActedOn": "yes", "timestamp": 5}]}',
    ],
    ['features as a list', '{"data": [{"features": [1, 2], "prediction": 1}]}'],
    ['NUL in a feature value', '{"data": [{"features": {"city": "a\\u0000b"}, "prediction": 1, "associationId": "z", "actualValue": 1}]}'],
    ['NUL in a feature name', '{"data": [{"features": {"a\\u0000": 1}, "prediction": 1}]}'],
    [
      'NUL in ids',
      '{"batchId": "mb_\\u0000", "modelId": "m\\u0000", "data": [{"features": {}, "prediction": 1, "associationId": "\\u0000", "actualValue": 1}], "numPredictions": 1}',
    ],
    ['deep nesting', `{"data": [${deep(5000, '1')}], "numPredictions": ${deep(5000, '1')}}`],
    ['deep nesting with a NUL', `{"data": [{"features": {"age": ${deep(20000, '"\\u0000"')}}, "prediction": 1}]}`],
    ['a wrong batch id type', '{"batchId": {"id": "mb_1"}, "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['a numeric batch id', '{"batchId": 12, "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['an empty batch id', '{"batchId": "", "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['a very long batch id', `{"batchId": "${'b'.repeat(100_000)}", "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}`],
    ['a wrong model id type', '{"modelId": ["m"], "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    [
      'impossible timestamps',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "2026-13-45T99:99:99Z", "associationId": "t", "actualValue": 1}]}',
    ],
    [
      'a timestamp before year 1',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "0001-01-01T00:00:00+01:00", "associationId": "t0", "actualValue": 1}]}',
    ],
    [
      'a timestamp after year 9999',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "9999-12-31T23:30:00-01:00", "associationId": "t9", "actualValue": 1}]}',
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"data": [{"features": {"city": "'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}, "prediction": 1, "associationId": "u", "actualValue": 1}], "numPredictions": 1}'),
      ]),
    ],
    ['a lone surrogate', '{"data": [{"features": {"city": "\\ud800"}, "prediction": 1, "associationId": "\\udfff", "actualValue": 1}]}'],
  ];

  it.each(jsonBodies)('fromJSON routes: %s', async (_what, body) => {
    for (const path of [inputsPath(deploymentId), requestsPath(deploymentId), actualsPath(deploymentId)]) {
      for (const headers of [{}, { [BATCH_HEADER]: batchId }] as Record<string, string>[]) {
        const answer = await post(path, body, { contentType: 'application/json', headers });
        expect(answer.status, `${path} ${JSON.stringify(answer.json).slice(0, 300)}`).toBeLessThan(500);
        expect([202, 400, 404, 413, 422], `${path} ${JSON.stringify(answer.json).slice(0, 300)}`).toContain(answer.status);
      }
    }
  });

  it('fromJSON routes: malformed headers and query strings', async () => {
    const body = JSON.stringify({ data: [{ features: {}, prediction: 1 }], numPredictions: 1 });
    const variants: [string, PostOptions][] = [
      ['?monitoringBatchPrefix=', {}],
      ['?monitoringBatchPrefix=%00', {}],
      ['?monitoringBatchPrefix=%E0%A4%A', {}],
      [`?monitoringBatchPrefix=${'p'.repeat(5000)}`, {}],
      ['', { headers: { [BATCH_HEADER]: '' } }],
      ['', { headers: { [BATCH_HEADER]: '%00' } }],
      ['', { headers: { [BATCH_HEADER]: 'mb_\u00ff' } }],
      ['', { contentType: 'text/plain' }],
      ['', { contentType: 'application/json; charset=latin1' }],
      ['', { contentType: null }],
    ];
    for (const [query, options] of variants) {
      for (const path of [inputsPath(deploymentId), requestsPath(deploymentId)]) {
        const answer = await post(`${path}${query}`, body, { contentType: 'application/json', ...options });
        expect(answer.status, `${path}${query.slice(0, 40)} ${JSON.stringify(options)}: ${JSON.stringify(answer.json)}`).toBeLessThan(500);
      }
    }
    // An empty body reads as {}: a validation error, not a crash.
    for (const path of [inputsPath(deploymentId), requestsPath(deploymentId), actualsPath(deploymentId)]) {
      const answer = await post(path, '', { contentType: null });
      expect(answer.status, path).toBe(422);
    }
  });

  const ndjsonBodies: [string, string | Buffer][] = [
    ['an array per line', '[1,2,3]\n["a"]\n'],
    ['scalars per line', '1\n"x"\nnull\ntrue\n'],
    ['invalid JSON', '{"features": {"age": 1}, "prediction": 1\n{}}\n'],
    ['infinite numbers', '{"features": {"age": 1e999}, "prediction": 1}\n{"features": {}, "prediction": -1e999}\n'],
    [
      'huge numbers',
      '{"features": {"age": 1.7976931348623157e308}, "prediction": 1e308, "associationId": 123456789012345678901234567890}\n',
    ],
    [
      'NaN strings',
      '{"features": {"age": "NaN"}, "prediction": "NaN"}\n{"features": {}, "prediction": "Infinity", "probabilities": "NaN"}\n',
    ],
    [
      'nested garbage',
      '{"features": {"age": {"a": [1]}, "city": {"x": 1}}, "prediction": {"value": 1}, "associationId": [], "timestamp": {}}\n',
    ],
    [
      'NUL characters',
      '{"features": {"city": "a\\u0000", "b\\u0000": 1}, "prediction": 1, "associationId": "\\u0000", "timestamp": "2026-01-01\\u0000"}\n',
    ],
    ['raw NUL bytes', Buffer.from('{"features": {"city": "a\u0000"}, "prediction": 1}\n\u0000\u0000\n', 'latin1')],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"features": {"city": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}, "prediction": 1}\n')]),
    ],
    ['a lone surrogate', '{"features": {"city": "\\ud800"}, "prediction": 1, "associationId": "\\udc00"}\n'],
    [
      'a line over 1 MiB',
      `{"features": {"city": "${'x'.repeat(1.5 * 1024 * 1024)}"}, "prediction": 1}\n{"features": {}, "prediction": 1}\n`,
    ],
    ['deep nesting', `${deep(100_000, '1')}\n{"features": {"age": ${deep(50_000, '{}')}}, "prediction": 1}\n`],
    ['deep nesting with a NUL', `{"features": {"age": ${deep(50_000, '"\\u0000"')}}, "prediction": 1}\n`],
    [
      'timestamps out of range',
      '{"features": {}, "prediction": 1, "timestamp": "0001-01-01T00:00:00+01:00"}\n{"features": {}, "prediction": 1, "timestamp": "9999-12-31T23:30:00-01:00"}\n',
    ],
    ['only whitespace lines', '   \n\t\n  \r\n'],
    ['probabilities on regression', '{"features": {}, "prediction": 1, "probabilities": {"a": 1}}\n'],
  ];

  it.each(ndjsonBodies)('bulk NDJSON: %s', async (_what, body) => {
    for (const [deployment, batch] of [
      [deploymentId, (await createBatch(server, deploymentId)).id],
      [binaryId, (await createBatch(server, binaryId)).id],
    ] as const) {
      const answer = await post(bulkPath(deployment, batch), body);
      expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBe(422);
      expect(answer.json.errors).toBeTypeOf('object');
      expect(await countRows('predictions', 'batch_id', batch)).toBe(0);
    }
  });

  const csvBodies: [string, string | Buffer][] = [
    ['no target column', 'age,city\n1,Oslo\n'],
    ['a duplicate header', 'age,age,prediction\n1,2,3\n'],
    ['an empty header cell', 'age,,prediction\n1,2,3\n'],
    ['a NUL in the header', 'age,ci\u0000ty,prediction\n1,2,3\n'],
    ['an unclosed quote', 'age,city,prediction\n1,"Oslo,3\n'],
    ['a character after a closing quote', 'age,city,prediction\n1,"Oslo"x,3\n'],
    ['too many cells', 'age,city,prediction\n1,Oslo,3,4,5\n'],
    ['too few cells', 'age,city,prediction\n1\n'],
    ['non-numeric values', 'age,city,prediction\nforty,Oslo,3\n1,Oslo,three\n'],
    ['NaN and Infinity', 'age,city,prediction\nNaN,Oslo,Infinity\n1,Oslo,-Infinity\n'],
    ['huge numbers', 'age,city,prediction\n1e400,Oslo,1\n1,Oslo,-1e400\n'],
    ['raw NUL bytes', 'age,city,prediction,associationId\n1,a\u0000b,1,x\n1,b,1\u0000,y\n1,c,1,\u0000\n'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('age,city,prediction\n1,'), Buffer.from([0xff, 0xfe]), Buffer.from(',1\n')])],
    [
      'bad timestamps',
      'age,city,prediction,timestamp\n1,Oslo,1,yesterday\n1,Oslo,1,0001-01-01T00:00:00+01:00\n1,Oslo,1,9999-12-31T23:30:00-01:00\n',
    ],
    ['a record over 1 MiB', `age,city,prediction\n1,"${'x'.repeat(1.5 * 1024 * 1024)}",1\n`],
    ['only a header and blank lines', 'age,city,prediction\n\n\r\n'],
    ['a JSON body', '{"features": {"age": 1}, "prediction": 1}\n'],
  ];

  it.each(csvBodies)('bulk CSV: %s', async (_what, body) => {
    const batchId = (await createBatch(server, deploymentId)).id;
    const answer = await post(bulkPath(deploymentId, batchId), body, { contentType: CSV });
    expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBe(422);
    expect(answer.json.errors).toBeTypeOf('object');
    expect(await countRows('predictions', 'batch_id', batchId)).toBe(0);
  });

  it('bulk: malformed query parameters and ids', async () => {
    const body = ndjson([{ features: {}, prediction: 1 }]);
    const batchId = (await createBatch(server, deploymentId)).id;
    const refused: [string, Record<string, string>][] = [
      ['?executionTimeMs=abc', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=-1', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=Infinity', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=1e400', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=0x10', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=%20', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=1e300', { executionTimeMs: 'must be at most 10000000000' }],
      ['?modelId=%00', { modelId: 'must not contain the NUL character (\\u0000)' }],
      [`?modelId=${'m'.repeat(1000)}`, { modelId: 'must be at most 256 characters' }],
    ];
    for (const [query, errors] of refused) {
      const answer = await post(bulkPath(deploymentId, batchId, query), body);
      expect(answer.status, `${query}: ${JSON.stringify(answer.json)}`).toBe(422);
      expect(answer.json.errors, query).toEqual(errors);
    }
    expect(await countRows('predictions', 'batch_id', batchId)).toBe(0);
    for (const query of ['?executionTimeMs=12.5', '?executionTimeMs=1e3', '?executionTimeMs=.5', '?executionTimeMs=']) {
      expect((await post(bulkPath(deploymentId, batchId, query), body)).status, query).toBe(200);
    }
    expect(await serviceStats(batchId)).toEqual([
      expect.objectContaining({ request_count: 4, execution_time_count: 3, execution_time_sum: 1013 }),
    ]);
    for (const [deployment, batch] of [
      [deploymentId, '%00'],
      [deploymentId, '%E0%A4%A'],
      ['%00', batchId],
      [deploymentId, 'b'.repeat(5000)],
    ]) {
      const answer = await post(bulkPath(deployment!, batch!), body);
      expect(answer.status, `${deployment} ${batch}`).toBe(404);
    }
  });

  it('refuses a batch id that is not a string instead of looking up its String()', async () => {
    for (const batchIdValue of [{ id: batchId }, [batchId], 12, true]) {
      for (const path of [inputsPath(deploymentId), requestsPath(deploymentId)]) {
        const answer = await postJson(path, { batchId: batchIdValue, numPredictions: 1, data: [{ features: {}, prediction: 1 }] });
        expect(answer.status, path).toBe(422);
        expect(answer.json.errors, path).toEqual({ batchId: 'must be a string' });
      }
    }
  });

  it('keeps __proto__ and constructor columns from touching declared features', async () => {
    const batch = await createBatch(server, deploymentId);
    const answer = await post(
      bulkPath(deploymentId, batch.id),
      '{"features": {"__proto__": {"age": 1}, "constructor": 1}, "prediction": 1}\n',
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ rowCount: 1, unknownFeatures: ['__proto__', 'constructor'] });
    const csvAnswer = await post(bulkPath(deploymentId, batch.id), '__proto__,constructor,prediction\n1,2,3\n', { contentType: CSV });
    expect(csvAnswer.status).toBe(200);
    expect((await storedRows(batch.id)).map((r) => r.features)).toEqual([
      { age: null, city: null },
      { age: null, city: null },
    ]);
  });
});
