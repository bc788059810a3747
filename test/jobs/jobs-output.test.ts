import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceStats } from '../helpers/db.js';
import {
  createJob,
  csvObjects,
  download,
  expectedAnswer,
  expectPredictionCells,
  inferences,
  inputCsv,
  inputRows,
  jobDeployment,
  MODELS,
  type Protocol,
  runJob,
  storedChunks,
  waitForJob,
} from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { batchPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// What a batch prediction job writes: its output file (DataRobot's columns, every row scored by the
// deployment's model backend over either protocol, in input order) and its monitoring batch (name
// from the prefix, every prediction, one request per chunk).

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const ROWS = inputRows(13);
const CSV = inputCsv(ROWS);

describe('the output file', () => {
  const cases: [Protocol, 'reg' | 'bin' | 'multi'][] = [];
  for (const protocol of ['OPEN_INFERENCE_V2', 'MLFLOW'] as const)
    for (const model of ['reg', 'bin', 'multi'] as const) cases.push([protocol, model]);

  const predictionColumns: Record<'reg' | 'bin' | 'multi', string[]> = {
    reg: ['price_PREDICTION'],
    bin: ['churn_no_PREDICTION', 'churn_yes_PREDICTION', 'churn_PREDICTION', 'THRESHOLD', 'POSITIVE_CLASS'],
    multi: ['kind_x_PREDICTION', 'kind_y_PREDICTION', 'kind_z_PREDICTION', 'kind_PREDICTION'],
  };

  it.each(cases)('%s, %s model: every row as the model computes it, in input order, in DataRobot columns', async (protocol, model) => {
    const deployment = await jobDeployment(server, models, model, { protocol });
    const before = inferences(models, model).length;
    const job = await runJob(server, { deploymentId: deployment.id, passthroughColumns: ['id'], chunkSize: 40, numConcurrent: 3 }, CSV);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      statusDetails: 'Scored 13 rows',
      scoredRows: 13,
      failedRows: 0,
      jobIntakeSize: 13,
      percentageCompleted: 100,
    });
    const chunks = await storedChunks(server, job.id);
    expect(chunks.length).toBeGreaterThan(2); // several chunks, scored 3 at a time
    expect(chunks.every((c) => c.done)).toBe(true);
    expect(inferences(models, model).length - before).toBe(chunks.length);

    const file = await download(server, job.id);
    expect(file.status).toBe(200);
    expect(file.type).toMatch(/^text\/csv/);
    const { columns, rows } = csvObjects(file.text);
    expect(columns).toEqual(['id', ...predictionColumns[model]]);
    expect(rows.map((r) => r.id)).toEqual(ROWS.map((r) => r.id));
    for (const [i, row] of ROWS.entries()) expectPredictionCells(model, rows[i]!, row);
  });

  const BIN = 'bin';
  async function binOutput(spec: Record<string, unknown>) {
    const deployment = await jobDeployment(server, models, BIN);
    const job = await runJob(server, { deploymentId: deployment.id, ...spec }, CSV);
    expect(job.status, job.statusDetails).toBe('COMPLETED');
    const file = await download(server, job.id);
    expect(file.status).toBe(200);
    return csvObjects(file.text);
  }

  it('without passthrough columns holds the predictions alone', async () => {
    const { columns, rows } = await binOutput({});
    expect(columns).toEqual(['churn_no_PREDICTION', 'churn_yes_PREDICTION', 'churn_PREDICTION', 'THRESHOLD', 'POSITIVE_CLASS']);
    expect(rows).toHaveLength(13);
    for (const [i, row] of ROWS.entries()) expectPredictionCells(BIN, rows[i]!, row);
  });

  it('passes every input column through, first and unchanged, with passthroughColumnsSet all', async () => {
    const { columns, rows } = await binOutput({ passthroughColumnsSet: 'all', chunkSize: 30 });
    expect(columns.slice(0, 5)).toEqual(['id', 'a', 'b', 'c', 'note']);
    const cell = (v: number | string | null) => (v === null ? '' : String(v));
    expect(rows.map((r) => [r.id, r.a, r.b, r.c, r.note])).toEqual(ROWS.map((r, i) => [r.id, cell(r.a), cell(r.b), cell(r.c), `n${i}`]));
    for (const [i, row] of ROWS.entries()) expectPredictionCells(BIN, rows[i]!, row);
  });

  it('passes the named columns through in the order named', async () => {
    const { columns, rows } = await binOutput({ passthroughColumns: ['note', 'id'] });
    expect(columns.slice(0, 3)).toEqual(['note', 'id', 'churn_no_PREDICTION']);
    expect(rows.map((r) => r.note)).toEqual(ROWS.map((_, i) => `n${i}`));
  });

  it('leaves the class probabilities out with includeProbabilities false', async () => {
    const { columns, rows } = await binOutput({ includeProbabilities: false, passthroughColumns: ['id'] });
    expect(columns).toEqual(['id', 'churn_PREDICTION', 'THRESHOLD', 'POSITIVE_CLASS']);
    ROWS.forEach((row, i) => {
      expect(rows[i]!.churn_PREDICTION).toBe(expectedAnswer(BIN, row)[1]! >= 0.5 ? 'yes' : 'no');
    });
  });

  it('adds prediction_status (OK for every scored row) with includePredictionStatus', async () => {
    const { columns, rows } = await binOutput({ includePredictionStatus: true });
    expect(columns.at(-1)).toBe('prediction_status');
    expect(rows.map((r) => r.prediction_status)).toEqual(ROWS.map(() => 'OK'));
  });

  it('renames and drops columns with columnNamesRemapping, as an object or as a list', async () => {
    const remap = { id: 'row_id', churn_PREDICTION: 'label', churn_no_PREDICTION: null, THRESHOLD: null };
    const asObject = await binOutput({ passthroughColumns: ['id'], includePredictionStatus: true, columnNamesRemapping: remap });
    expect(asObject.columns).toEqual(['row_id', 'churn_yes_PREDICTION', 'label', 'POSITIVE_CLASS', 'prediction_status']);
    ROWS.forEach((row, i) => {
      const out = asObject.rows[i]!;
      expect(out.row_id).toBe(row.id);
      expect(Number(out.churn_yes_PREDICTION)).toBeCloseTo(expectedAnswer(BIN, row)[1]!, 9);
      expect(out.label).toBe(expectedAnswer(BIN, row)[1]! >= 0.5 ? 'yes' : 'no');
    });
    const asList = await binOutput({
      passthroughColumns: ['id'],
      includePredictionStatus: true,
      columnNamesRemapping: Object.entries(remap).map(([inputName, outputName]) => ({ inputName, outputName })),
    });
    expect(asList).toEqual(asObject);
  });
});

describe('the input', () => {
  it('passes through cells with commas, quotes, line breaks and non-ASCII text unchanged (a BOM skipped)', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const notes = ['Zürich, "Süd"', 'line one\nline two', '😀 ok', ''];
    const csv = `\uFEFFid,a,b,c,note\n${notes.map((note, i) => `r${i},${i},1,red,"${note.replaceAll('"', '""')}"`).join('\n')}\n`;
    const job = await runJob(server, { deploymentId: deployment.id, passthroughColumnsSet: 'all', chunkSize: 20 }, csv);
    expect(job.status, job.statusDetails).toBe('COMPLETED');
    const { columns, rows } = csvObjects((await download(server, job.id)).text);
    expect(columns).toEqual(['id', 'a', 'b', 'c', 'note', 'price_PREDICTION']);
    expect(rows.map((r) => r.note)).toEqual(notes);
    expect(rows.map((r) => Number(r.price_PREDICTION))).toEqual(notes.map((_, i) => 1.5 + 2 * i - 0.5 + 3));
  });

  it('is read from an intake URL', async () => {
    const rows = inputRows(7);
    const files = http.createServer((req, res) => {
      if (req.url !== '/in.csv') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/csv' }).end(inputCsv(rows));
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
      const deployment = await jobDeployment(server, models, 'reg');
      const spec = { deploymentId: deployment.id, passthroughColumns: ['id'], intakeSettings: { type: 'url', url: `${url}/in.csv` } };
      const job = await createJob(server, spec);
      const done = await waitForJob(server, job.id);
      expect(done).toMatchObject({ status: 'COMPLETED', jobIntakeSize: 7, scoredRows: 7 });
      const output = csvObjects((await download(server, job.id)).text);
      expect(output.rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      for (const [i, row] of rows.entries()) expectPredictionCells('reg', output.rows[i]!, row);
      // A URL that answers 404: the job fails saying so.
      const missing = await createJob(server, { ...spec, intakeSettings: { type: 'url', url: `${url}/none.csv` } });
      const failed = await waitForJob(server, missing.id);
      expect(failed).toMatchObject({
        status: 'FAILED',
        statusDetails: `Input refused: Reading the input from ${url}/none.csv answered 404`,
      });
    } finally {
      files.closeAllConnections();
      await new Promise((resolve) => files.close(resolve));
    }
  });
});

describe("the run's monitoring batch", () => {
  it('is named <prefix> - YYYY-MM-DD HH:MM:SS (UTC), holds every prediction and one request per chunk with its execution time', async () => {
    const deployment = await jobDeployment(server, models, 'slow');
    const startedAt = Math.floor(Date.now() / 1000) * 1000;
    const job = await runJob(
      server,
      { deploymentId: deployment.id, monitoringBatchPrefix: 'Nightly scoring', chunkSize: 60, numConcurrent: 2 },
      CSV,
    );
    const finishedAt = Date.now();
    expect(job.status, job.statusDetails).toBe('COMPLETED');
    expect(job.monitoringBatchId).toMatch(/^mb_/);

    const batch = await server.rest('GET', batchPath(deployment.id, job.monitoringBatchId!));
    expect(batch.status).toBe(200);
    const match = /^Nightly scoring - (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(batch.json.batchName!);
    expect(match, batch.json.batchName).not.toBeNull();
    const named = Date.parse(`${match![1]}T${match![2]}Z`);
    expect(named).toBeGreaterThanOrEqual(startedAt);
    expect(named).toBeLessThanOrEqual(finishedAt);
    expect(batch.json.predictionsCount).toBe(13);

    const chunks = await storedChunks(server, job.id);
    const [stats] = await serviceStats(server, job.monitoringBatchId!);
    expect(stats).toMatchObject({
      request_count: chunks.length,
      prediction_count: 13,
      user_error_count: 0,
      server_error_count: 0,
      execution_time_count: chunks.length,
    });
    // The backend sleeps 250 ms a request: what each request took is what the backend took.
    expect(stats!.execution_time_min).toBeGreaterThanOrEqual(240);
    expect(stats!.execution_time_max).toBeLessThan(5000);

    // The stored predictions are the model's, each row once.
    const stored = await server.sql<
      { prediction: number }[]
    >`select prediction from prediction_rows where batch_id = ${job.monitoringBatchId}`;
    const sorted = (values: number[]) => [...values].sort((x, y) => x - y);
    const expected = sorted(ROWS.map((row) => expectedAnswer('slow', row)[0]!));
    sorted(stored.map((r) => Number(r.prediction))).forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i]!, 9);
    });
    expect(stored).toHaveLength(13);
  });

  it('is named after "Batch prediction job" when the spec names no prefix, and linked to the job', async () => {
    const deployment = await jobDeployment(server, models, 'reg');
    const job = await runJob(server, { deploymentId: deployment.id }, CSV);
    const batch = await server.rest('GET', batchPath(deployment.id, job.monitoringBatchId!));
    expect(batch.json.batchName).toMatch(/^Batch prediction job - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(batch.json.description).toBe(`Predictions of batch prediction job ${job.id}`);
  });
});
