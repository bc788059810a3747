import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PredictionRowInput, ReportPredictionsDocument } from '../generated/graphql.js';
import { batchCounters, countRows, deploymentSnapshot } from '../helpers/db.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { CSV, csv, minuteRows, NDJSON, ndjson, regressionRows } from '../helpers/ingest-data.js';
import { random } from '../helpers/random.js';
import { bulkPath, inputsPath, post, postJson, seededBatch } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// An ingest is stored whole or not at all: one bad row anywhere (row 250 of 500, line 100,001 of
// 200,000) refuses the request, names the row and field, and leaves every table as it was.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('reportPredictions (GraphQL)', () => {
  it('stores nothing when one row in the middle is bad, and names the row and field', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = minuteRows(500);
    rows[250] = { ...rows[250]!, features: { age: 'forty', city: 'Oslo' } };
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'rows.250.features.age' }] });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_column_stats', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_service_stats', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_model_history', 'batch_id', batch.id)).toBe(0);
    const [stored] = await server.sql`select prediction_count, earliest_prediction_at from monitoring_batches where id = ${batch.id}`;
    expect(stored).toEqual({ prediction_count: '0', earliest_prediction_at: null });
  });

  const badRows: [string, PredictionRowInput, string][] = [
    ['a missing regression prediction', { features: { age: 1 } }, 'rows.1.prediction'],
    ['class probabilities on a regression target', { features: {}, prediction: 1, probabilities: [0.5, 0.5] }, 'rows.1.probabilities'],
    ['an association id used twice in the request', { features: {}, prediction: 1, associationId: 'dup' }, 'rows.1.associationId'],
  ];
  it.each(badRows)('refuses %s', async (_what, bad, field) => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows: PredictionRowInput[] = [{ features: {}, prediction: 1, associationId: 'dup' }, bad];
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field }] });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
  });

  it('refuses more than 10,000 rows with a pointer to the bulk route', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = Array.from({ length: 10_001 }, () => ({ features: {}, prediction: 1 }));
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'rows', message: expect.stringContaining('bulk') }],
    });
  });
});

describe('the bulk upload', () => {
  it('stores nothing when one row of a 200,000-row NDJSON upload is bad, and names its line and field', async () => {
    const { deployment, batch, before } = await seededBatch(server);
    const next = random(32);
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      lines.push(`{"features":{"age":${Math.floor(next() * 400) / 4},"city":"Oslo"},"prediction":${i % 1000},"associationId":"big-${i}"}`);
    }
    lines[100_000] = '{"features":{"age":"forty","city":"Oslo"},"prediction":1}';
    const answer = await post(server, bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(answer.status).toBe(422);
    expect(answer.json).toEqual({
      message: 'Invalid input: line 100001.features.age: must be a finite number, got "forty"',
      errors: { 'line 100001.features.age': 'must be a finite number, got "forty"' },
    });
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
    // The same upload without the bad row goes in whole: the refusal was about that row alone.
    lines[100_000] = '{"features":{"age":40,"city":"Oslo"},"prediction":1}';
    const fixed = await post(server, bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect(fixed.json).toMatchObject({ rowCount: 200_000, predictionsCount: 200_010 });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(200_010);
  });

  it('stores nothing when a row of a large CSV has the wrong number of cells or a non-numeric value', async () => {
    const { deployment, batch, before } = await seededBatch(server);
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
      const answer = await post(server, bulkPath(deployment.id, batch.id), body, { contentType: CSV });
      expect(answer.status, what).toBe(422);
      expect(answer.json.errors, what).toEqual(errors);
      expect(await deploymentSnapshot(server, deployment.id), what).toEqual(before);
    }
  });

  it('refuses truncated NDJSON naming the last line, and stores nothing', async () => {
    const { deployment, batch, before } = await seededBatch(server);
    const body = ndjson(regressionRows(5000, 33, 'cut-'));
    const truncated = body.slice(0, body.length - 30); // the last line cut mid-object, no newline
    const answer = await post(server, bulkPath(deployment.id, batch.id), truncated);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {})).toEqual(['line 5000']);
    expect(answer.json.errors?.['line 5000']).toMatch(/^is not valid JSON: /);
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
    // Cut inside a quoted CSV cell: the record never ends.
    const csvBody = csv(regressionRows(300, 34), 'regression');
    const csvAnswer = await post(server, bulkPath(deployment.id, batch.id), `${csvBody}1,"Par`, { contentType: CSV });
    expect(csvAnswer.status).toBe(422);
    expect(csvAnswer.json.errors).toEqual({ 'line 302': 'has a quoted cell that is never closed (cell 2)' });
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });

  it('refuses an empty upload, a header-only CSV and one of blank lines, and stores nothing', async () => {
    const { deployment, batch, before } = await seededBatch(server);
    for (const [body, contentType] of [
      ['', NDJSON],
      ['\n\n\r\n', NDJSON],
      ['', CSV],
      ['age,city,prediction\n', CSV],
    ] as const) {
      const answer = await post(server, bulkPath(deployment.id, batch.id), body, { contentType });
      expect(answer.status, `${contentType} ${JSON.stringify(body)}`).toBe(422);
      expect(answer.json.errors).toEqual(
        contentType === CSV && body === '' ? { 'line 1': 'the CSV has no header row' } : { 'line 1': 'the upload has no prediction rows' },
      );
    }
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });

  it('reports every bad row (up to a limit), none of them stored', async () => {
    const { deployment, batch, before } = await seededBatch(server);
    const body = [
      '{"features":{"age":1},"prediction":1}',
      '[1,2,3]',
      '{"features":{"age":1},"prediction":1,"probabilities":[0.5,0.5]}',
      '{"features":{"age":1}}',
      '{"features":{"age":1},"prediction":1,"timestamp":"2026-02-30T00:00:00Z"}',
      'not json',
    ].join('\n');
    const answer = await post(server, bulkPath(deployment.id, batch.id), body);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {})).toEqual([
      'line 2',
      'line 3.probabilities',
      'line 4.prediction',
      'line 5.timestamp',
      'line 6',
    ]);
    const many = Array.from({ length: 50 }, () => '{"features":{"age":"x"},"prediction":1}').join('\n');
    const capped = await post(server, bulkPath(deployment.id, batch.id), many);
    expect(capped.status).toBe(422);
    expect(Object.keys(capped.json.errors ?? {})).toHaveLength(20);
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });
});

describe('predictionInputs', () => {
  it('refuses a bad row naming data.<index> and stores nothing; caps rows at 10,000', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows: unknown[] = regressionRows(50, 60);
    rows[37] = { features: { age: 'old' }, prediction: 1 };
    const answer = await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: rows });
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({ 'data.37.features.age': 'must be a finite number, got "old"' });
    const tooMany = await postJson(server, inputsPath(deployment.id), {
      batchId: batch.id,
      data: Array.from({ length: 10_001 }, () => ({ features: {}, prediction: 1 })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors?.data).toContain('bulk');
    const empty = await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: [] });
    expect(empty.status).toBe(422);
    expect(Object.keys(empty.json.errors ?? {})).toEqual(['data']);
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    expect(await batchCounters(server, batch.id)).toMatchObject({ prediction_count: 0 });
  });
});
