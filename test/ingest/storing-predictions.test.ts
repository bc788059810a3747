import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportPredictionsDocument } from '../generated/graphql.js';
import { batchCounters, columnStats, countRows, serviceStats, storedPredictions } from '../helpers/db.js';
import { createBatch, createBinaryDeployment, createDeployment, createMulticlassDeployment } from '../helpers/fixtures.js';
import {
  binaryRows,
  CITIES,
  CLASSES,
  CSV,
  csv,
  expectedColumnStats,
  minuteRows,
  multiclassRows,
  NDJSON,
  ndjson,
  regressionRows,
  storedRow,
  timeRange,
} from '../helpers/ingest-data.js';
import { BATCH_HEADER, bulkPath, inputsPath, post, postJson } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// What an ingest stores, over every route (GraphQL reportPredictions, the REST agent's
// predictionInputs, the bulk NDJSON / CSV upload): every row, the batch's counters and model
// history, per-column sums equal to the same sums over the raw rows, and one request of N
// predictions. The REST tests' rows are exact in binary floating point, so sums compare exactly.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('reportPredictions (GraphQL)', () => {
  it('stores every row, updates the batch counters and model history, and records one request', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = minuteRows(50);
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, modelId: 'model-a', executionTimeMs: 120.5, rows },
    });
    expect(result.reportPredictions).toMatchObject({
      __typename: 'ReportPredictionsSuccess',
      rowCount: 50,
      unknownFeatures: [],
      batch: {
        predictionCount: 50,
        earliestPredictionAt: '2026-01-01T00:00:00.000Z',
        latestPredictionAt: '2026-01-01T00:49:00.000Z',
        modelHistory: [
          { modelId: 'model-a', predictionCount: 50, startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-01T00:49:00.000Z' },
        ],
      },
    });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(50);
    const [service] = await server.sql`select * from batch_service_stats where batch_id = ${batch.id}`;
    expect(service).toMatchObject({
      model_id: 'model-a',
      request_count: '1',
      prediction_count: '50',
      execution_time_count: '1',
      execution_time_sum: 120.5,
    });
    const consumers = await server.sql`select user_id, request_count from batch_consumers where batch_id = ${batch.id}`;
    expect(consumers).toHaveLength(1);
  });

  it('keeps per-column sums equal to the same quantities computed from the raw rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = minuteRows(200, 7);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(0, 120) } });
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(120) } });
    const ages = rows.map((r) => (r.features as { age: number | null }).age);
    const present = ages.filter((a): a is number => a !== null);
    const [age] = await server.sql`select * from batch_column_stats where batch_id = ${batch.id} and column_name = 'age'`;
    expect(Number(age!.row_count)).toBe(200);
    expect(Number(age!.missing_count)).toBe(ages.length - present.length);
    expect(age!.sum).toBeCloseTo(
      present.reduce((a, b) => a + b, 0),
      9,
    );
    expect(age!.sum_of_squares).toBeCloseTo(
      present.reduce((a, b) => a + b * b, 0),
      6,
    );
    const [prediction] = await server.sql`select * from batch_column_stats where batch_id = ${batch.id} and is_prediction`;
    expect(prediction!.sum).toBeCloseTo(
      rows.reduce((a, r) => a + r.prediction!, 0),
      9,
    );
    // No baseline yet: nothing is binned, and it says so.
    expect(prediction!.bin_counts).toBeNull();
    expect(prediction!.baseline_version).toBeNull();
  });

  it('lists unknown feature columns and ignores them', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: { age: 3, colour: 'red', zip: 1 }, prediction: 1 }] },
    });
    expect(result.reportPredictions).toMatchObject({ rowCount: 1, unknownFeatures: ['colour', 'zip'] });
    const [row] = await server.sql`select features from prediction_rows where batch_id = ${batch.id}`;
    expect(row!.features).toEqual({ age: 3, city: null });
  });
});

describe('the bulk upload: every row stored, aggregates equal to the raw rows', () => {
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
          ? await createBinaryDeployment(server)
          : await createMulticlassDeployment(server, CLASSES);
    const batch = await createBatch(server, deployment.id);
    const rows = make();
    const body = format === 'ndjson' ? ndjson(rows) : csv(rows, target);
    const answer = await post(server, bulkPath(deployment.id, batch.id, '?modelId=model-7&executionTimeMs=1234.5'), body, {
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
    expect(await storedPredictions(server, batch.id)).toEqual(rows.map((row) => storedRow(row, target, 'model-7')));
    const { earliest, latest } = timeRange(rows);
    expect(await batchCounters(server, batch.id)).toEqual({
      prediction_count: rows.length,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
      is_locked: false,
    });
    expect(await columnStats(server, batch.id)).toEqual(expectedColumnStats(rows, target, 'model-7'));
    const history = await server.sql`
      select model_id, prediction_count::int as prediction_count, earliest_prediction_at, latest_prediction_at from batch_model_history where batch_id = ${batch.id}`;
    expect(history).toEqual([
      { model_id: 'model-7', prediction_count: rows.length, earliest_prediction_at: earliest, latest_prediction_at: latest },
    ]);

    // One request of N predictions, with the execution time given.
    expect(await serviceStats(server, batch.id)).toEqual([
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
    const first = await post(server, bulkPath(deployment.id, batch.id, '?executionTimeMs=10'), ndjson(rows.slice(0, 250)));
    expect(first.status).toBe(200);
    const second = await post(server, bulkPath(deployment.id, batch.id), csv(rows.slice(250), 'regression'), { contentType: CSV });
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ rowCount: 350, predictionsCount: 600 });
    const { earliest, latest } = timeRange(rows);
    expect(await batchCounters(server, batch.id)).toMatchObject({
      prediction_count: 600,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
    });
    // Sums of two uploads: exact, because every value is a multiple of a power of two.
    expect(await columnStats(server, batch.id)).toEqual(expectedColumnStats(rows, 'regression', deployment.modelId));
    expect(await serviceStats(server, batch.id)).toEqual([
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
    const answer = await post(server, bulkPath(deployment.id, batch.id), body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ rowCount: 2, unknownFeatures: ['colour', 'zip'] });
    const csvBatch = await createBatch(server, deployment.id);
    const csvAnswer = await post(server, bulkPath(deployment.id, csvBatch.id), '\uFEFFage,prediction,shoe\n4,5,42\n', { contentType: CSV });
    expect(csvAnswer.status, JSON.stringify(csvAnswer.json)).toBe(200);
    expect(csvAnswer.json).toMatchObject({ rowCount: 1, unknownFeatures: ['shoe'] });
    expect((await storedPredictions(server, csvBatch.id)).map((r) => r.features)).toEqual([{ age: 4, city: null }]);
  });
});

describe('predictionInputs (the agent route for rows)', () => {
  it('takes the batch id from the body, rows only and no request statistics', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(300, 51, 'in-');
    const answer = await postJson(server, inputsPath(deployment.id), { batchId: batch.id, modelId: 'agent-model', data: rows });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    expect(answer.json).toEqual({
      batchId: batch.id,
      batchName: batch.name,
      rowCount: 300,
      predictionsCount: 300,
      unknownFeatures: [],
      actualsJoined: 0,
    });
    expect(await storedPredictions(server, batch.id)).toEqual(rows.map((row) => storedRow(row, 'regression', 'agent-model')));
    expect(await columnStats(server, batch.id)).toEqual(expectedColumnStats(rows, 'regression', 'agent-model'));
    const { earliest, latest } = timeRange(rows);
    expect(await batchCounters(server, batch.id)).toMatchObject({
      prediction_count: 300,
      earliest_prediction_at: earliest,
      latest_prediction_at: latest,
    });
    expect(await serviceStats(server, batch.id)).toEqual([]);
    expect(await countRows(server, 'batch_consumers', 'batch_id', batch.id)).toBe(0);
    expect(await countRows(server, 'batch_execution_time_buckets', 'batch_id', batch.id)).toBe(0);
  });

  it('takes the batch id from the header; the body wins over the header', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const other = await createBatch(server, deployment.id);
    const byHeader = await postJson(
      server,
      inputsPath(deployment.id),
      { data: regressionRows(4, 52) },
      { headers: { [BATCH_HEADER]: batch.id } },
    );
    expect(byHeader.status, JSON.stringify(byHeader.json)).toBe(202);
    expect(byHeader.json).toMatchObject({ batchId: batch.id, rowCount: 4, predictionsCount: 4 });
    const both = await postJson(
      server,
      inputsPath(deployment.id),
      { batchId: other.id, data: regressionRows(2, 53) },
      { headers: { [BATCH_HEADER]: batch.id } },
    );
    expect(both.json).toMatchObject({ batchId: other.id, predictionsCount: 2 });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(4);
    expect(await countRows(server, 'predictions', 'batch_id', other.id)).toBe(2);
    // Without the trailing slash too, as some clients send it.
    const bare = await postJson(
      server,
      inputsPath(deployment.id).slice(0, -1),
      { data: regressionRows(1, 54) },
      { headers: { [BATCH_HEADER]: batch.id } },
    );
    expect(bare.status).toBe(202);
  });
});

describe('counts per predicted label and per day', () => {
  it('counts predictions per predicted class and per UTC day of their timestamp', async () => {
    const deployment = await createBinaryDeployment(server, server.adminToken, { predictionThreshold: 0.3 });
    const batch = await createBatch(server, deployment.id);
    const probabilities = [0.1, 0.29, 0.3, 0.8, 0.95];
    const rows = probabilities.map((p, i) => ({ features: {}, prediction: p, timestamp: `2026-03-0${1 + (i % 2)}T23:59:00Z` }));
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    const [history] = await server.sql`select label_counts from batch_model_history where batch_id = ${batch.id}`;
    expect((history!.label_counts as string[]).map(Number)).toEqual([2, 3]); // no, yes (p ≥ 0.3 is "yes")
    const days = await server.sql`select day::text, count from batch_daily_counts where batch_id = ${batch.id} order by day`;
    expect(days.map((d) => [d.day, Number(d.count)])).toEqual([
      ['2026-03-01', 3],
      ['2026-03-02', 2],
    ]);
  });
});
