import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REALTIME_BODY_BYTES } from '../../src/modules/scoring/rest.js';
import type { ModelBackendProtocol } from '../generated/graphql.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment, createTenant, DEPLOYMENT_NOT_FOUND, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { BATCH_HEADER, post } from '../helpers/rest.js';
import {
  createScoredDeployment,
  expectModelAnswers,
  MODELS,
  type ModelName,
  type PredictionJson,
  predict,
  predictPath,
  ROWS,
  ROWS_CSV,
} from '../helpers/scoring.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// DataRobot's real-time prediction route (POST /predApi/v1.0/deployments/{id}/predictions, and the
// same under /api/v2): rows in as CSV or JSON records, scored by the deployment's model backend (the
// example model server, a child process), answered in DataRobot's shape. Which batch the rows land
// in, and a failing backend: realtime-batches.test.ts.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const dataOf = (json: unknown) => (json as { data: PredictionJson[] }).data;

describe('scoring rows on the model backend', () => {
  const cases: [ModelBackendProtocol, ModelName][] = [];
  for (const protocol of ['OPEN_INFERENCE_V2', 'MLFLOW'] as const)
    for (const model of ['reg', 'bin', 'multi'] as const) cases.push([protocol, model]);

  it.each(cases)('%s, %s model: answers what the model computes, row by row in input order', async (protocol, model) => {
    const deployment = await createScoredDeployment(server, models, model, { protocol });
    const answer = await predict(server, deployment.id, ROWS);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expectModelAnswers(dataOf(answer.json), model);
    expect(Number(answer.headers.get('x-datarobot-execution-time'))).toBeGreaterThanOrEqual(0);
    const inference = models.received.at(-1)!;
    expect(inference.path).toBe(protocol === 'MLFLOW' ? `/mlflow/${model}/invocations` : `/v2/models/${model}/infer`);
  });

  it('reads CSV sent as text/csv or text/plain as it reads JSON records', async () => {
    const deployment = await createScoredDeployment(server, models, 'bin');
    for (const contentType of ['text/csv', 'text/plain; charset=UTF-8']) {
      const answer = await predict(server, deployment.id, ROWS_CSV, { contentType });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expectModelAnswers(dataOf(answer.json), 'bin');
    }
  });

  it('answers the same under /api/v2 as under /predApi/v1.0', async () => {
    const deployment = await createScoredDeployment(server, models, 'multi');
    const predApi = await predict(server, deployment.id, ROWS);
    const api = await post(server, predictPath(deployment.id, '', 'api'), JSON.stringify(ROWS), { contentType: 'application/json' });
    expect(api.status).toBe(200);
    expect(api.json).toEqual(predApi.json);
  });

  it('passes through the columns asked for, by name (repeated or a comma list) or all of them', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const passthrough = async (query: string, rows: unknown[] | string = ROWS) => {
      const answer = await predict(server, deployment.id, rows, { query });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return dataOf(answer.json).map((row) => row.passthroughValues);
    };
    expect(await passthrough('')).toEqual([undefined, undefined, undefined]);
    const idAndC = [
      { id: 'r1', c: 'red' },
      { id: 'r2', c: 'blue' },
      { id: 'r3', c: 'green' },
    ];
    expect(await passthrough('?passthroughColumns=id&passthroughColumns=c')).toEqual(idAndC);
    expect(await passthrough('?passthroughColumns=id,c')).toEqual(idAndC);
    expect(await passthrough('?passthroughColumns=id,c', ROWS_CSV)).toEqual(idAndC);
    expect(await passthrough('?passthroughColumnsSet=all')).toEqual(ROWS);
    // A JSON record without the column answers null for it.
    expect(await passthrough('?passthroughColumns=constructor', [{ a: 1 }, { a: 2, constructor: 'own' }])).toEqual([
      { constructor: null },
      { constructor: 'own' },
    ]);
    // CSV cells are text, as sent; an empty cell is null.
    expect((await passthrough('?passthroughColumnsSet=all', ROWS_CSV))[1]).toEqual({ id: 'r2', a: '-3.5', b: null, c: 'blue' });
  });

  it('refuses passthrough columns that are not in the data, or both ways of asking at once', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const before = models.received.length;
    const unknown = await predict(server, deployment.id, ROWS, { query: '?passthroughColumns=id,nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors).toEqual({ passthroughColumns: 'not in the data: "nope"' });
    const both = await predict(server, deployment.id, ROWS, { query: '?passthroughColumns=id&passthroughColumnsSet=all' });
    expect(both.status).toBe(422);
    expect(both.json.errors).toHaveProperty('passthroughColumns');
    const notAll = await predict(server, deployment.id, ROWS, { query: '?passthroughColumnsSet=some' });
    expect(notAll.json.errors).toEqual({ passthroughColumnsSet: 'must be "all"' });
    expect(models.received.length).toBe(before);
  });
});

describe('refusing a request before scoring', () => {
  it('refuses a bad row with 422 naming the row and field, scores nothing and stores no row', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const batch = await createBatch(server, deployment.id);
    const headers = { [BATCH_HEADER]: batch.id };
    const before = models.received.length;

    const json = await predict(server, deployment.id, [ROWS[0], { a: 'two', b: 1, c: 'red' }, ROWS[2]], { headers });
    expect(json.status).toBe(422);
    expect(json.json.errors).toEqual({ 'rows.1.features.a': 'must be a finite number, got "two"' });

    const csv = await predict(server, deployment.id, 'a,b,c\n1,2,red\n3,x,blue\n', { headers });
    expect(csv.status).toBe(422);
    expect(csv.json.errors).toEqual({ 'line 3.features.b': 'must be a finite number, got "x"' });

    const ragged = await predict(server, deployment.id, 'a,b,c\n1,2\n', { headers });
    expect(ragged.json.errors).toEqual({ 'line 2': 'has 2 cells, but the header has 3 columns' });
    const notRecords = await predict(server, deployment.id, [ROWS[0], 7], { headers });
    expect(notRecords.json.errors).toEqual({ 'rows.1': 'must be an object of column values' });
    const empty = await predict(server, deployment.id, [], { headers });
    expect(empty.json.errors).toEqual({ rows: 'the request holds no rows' });

    expect(models.received.length).toBe(before);
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
  });

  it('refuses content types other than CSV and JSON with 415 naming the accepted ones', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    for (const contentType of ['application/x-ndjson', 'multipart/form-data; boundary=x', null]) {
      const answer = await predict(server, deployment.id, ROWS_CSV, { contentType });
      expect(answer.status).toBe(415);
      expect(answer.json.message).toBe(
        `Content-Type must be text/csv, text/plain (CSV) or application/json (a list of records), got ${contentType?.split(';')[0] ?? 'none'}`,
      );
    }
    const notJson = await predict(server, deployment.id, 'id,a\n', { contentType: 'application/json' });
    expect(notJson.status).toBe(400);
  });

  it(`refuses a body over ${MAX_REALTIME_BODY_BYTES} bytes (50 MB) with 413, declared or streamed`, async () => {
    const deployment = await createScoredDeployment(server, models, 'reg');
    const before = models.received.length;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    async function* body(megabytes: number) {
      yield 'id,a,b,c\n';
      for (let i = 0; i < megabytes; i++) yield chunk;
    }
    const declared = await post(server, predictPath(deployment.id), body(1), {
      contentType: 'text/csv',
      contentLength: MAX_REALTIME_BODY_BYTES + 1,
      hangUp: true,
    });
    expect(declared.status).toBe(413);
    const streamed = await post(server, predictPath(deployment.id), body(51), { contentType: 'text/csv' });
    expect(streamed.status).toBe(413);
    expect(streamed.json.message).toContain('50 MB');
    expect(models.received.length).toBe(before);
  });

  it('answers 422 with the reason when the deployment has no model backend', async () => {
    const deployment = await createDeployment(server);
    const answer = await predict(server, deployment.id, ROWS);
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({
      message: `Deployment ${deployment.id} has no model backend; set one with updateDeploymentSettings(modelBackend)`,
      failure: 'NOT_CONFIGURED',
    });
  });

  it("answers another organization's deployment exactly as a missing one (404), without scoring", async () => {
    const other = await createTenant(server);
    const foreign = await createScoredDeployment(server, models, 'reg', { token: other.token });
    const before = models.received.length;
    const answers = await Promise.all([predict(server, foreign.id, ROWS), predict(server, MISSING_DEPLOYMENT, ROWS)]);
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual(DEPLOYMENT_NOT_FOUND);
    }
    expect(models.received.length).toBe(before);
    // Its own organization scores on it.
    expect((await predict(server, foreign.id, ROWS, { token: other.token })).status).toBe(200);
  });
});
