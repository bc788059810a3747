import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  CreateDataExportDocument,
  type CreateDataExportInput,
  DataExportDocument,
  DataExportProgressDocument,
  DeleteMonitoringBatchDocument,
  DeploymentDataExportsDocument,
} from '../generated/graphql.js';
import { batchDownloadPath, download, exportsPath, featureCell, readCsv, readParquetFile } from '../helpers/exports.js';
import { createBatch, createDeployment, createMulticlassDeployment, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { CLASSES, multiclassRows, NDJSON, type Row, regressionRows } from '../helpers/ingest-data.js';
import { actualsPath, bulkPath, post, postJson } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Data export (C12): the rows of a batch selection as CSV or Parquet, read back with libraries
// other than the writers (csv-parse; parquet-wasm + apache-arrow) and compared row by row with
// what was ingested — unicode, empty and missing values, actuals, every class. A consistent
// snapshot, deleted batches left out, expiry, the DataRobot-style REST routes and tenancy.

let server: TestServer;
beforeAll(async () => {
  // Row groups of 16 rows, so that every Parquet file here has several.
  server = await startTestServer({ jobSchedulerIntervalMs: 100, exportRowGroupRows: 16 });
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

const ndjson = (rows: Row[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

async function upload(deploymentId: string, batchId: string, rows: Row[]) {
  const answer = await post(server, bulkPath(deploymentId, batchId), ndjson(rows), { contentType: NDJSON });
  expect(answer.status, JSON.stringify(answer.json)).toBeLessThan(300);
}

/** Cities with unicode, CSV specials and an empty string (stored as missing, as ingest treats it). */
const CITIES = ['Zürich ✓ 東京', 'São Paulo, "SP"', 'line\nbreak', '', ' padded '];

interface Expected {
  batchId: string;
  batchName: string;
  row: Row;
  actual?: { value: number; timestamp: string; wasActedOn: boolean };
}

const REGRESSION_HEADER = ['batch_id', 'batch_name', 'model_id', 'timestamp', 'association_id', 'age', 'city', 'prediction'];
const ACTUAL_HEADER = ['actual_value', 'actual_timestamp', 'was_acted_on'];

function csvRowOf(e: Expected, modelId: string, withActuals: boolean): (string | null)[] {
  const r = e.row;
  const cells = [
    e.batchId,
    e.batchName,
    modelId,
    new Date(r.timestamp!).toISOString(),
    r.associationId ?? null,
    featureCell(r.features.age),
    featureCell(r.features.city),
    String(r.prediction),
  ];
  if (withActuals) {
    cells.push(
      e.actual ? String(e.actual.value) : null,
      e.actual ? new Date(e.actual.timestamp).toISOString() : null,
      e.actual ? String(e.actual.wasActedOn) : null,
    );
  }
  return cells;
}

function parquetRowOf(e: Expected, modelId: string, withActuals: boolean): unknown[] {
  const r = e.row;
  const feature = (v: unknown) => (v === null || v === undefined || v === '' ? null : v);
  const cells: unknown[] = [
    e.batchId,
    e.batchName,
    modelId,
    Date.parse(r.timestamp!),
    r.associationId ?? null,
    feature(r.features.age),
    feature(r.features.city),
    r.prediction,
  ];
  if (withActuals) cells.push(e.actual?.value ?? null, e.actual ? Date.parse(e.actual.timestamp) : null, e.actual?.wasActedOn ?? null);
  return cells;
}

async function createExport(input: CreateDataExportInput, token = server.adminToken) {
  const { createDataExport: result } = await server.op(CreateDataExportDocument, { input }, token);
  return result;
}

async function finishedExport(input: CreateDataExportInput) {
  const result = await createExport(input);
  if (result.__typename !== 'CreateDataExportSuccess') throw new Error(JSON.stringify(result));
  const socket = connect(server);
  const progress = watch(socket, DataExportProgressDocument, { id: result.export.id });
  await progress.done;
  expect(progress.errors).toEqual([]);
  const last = progress.messages.at(-1)!.data.dataExportProgress;
  if (last.status !== 'SUCCEEDED')
    throw new Error(JSON.stringify((await server.op(DataExportDocument, { id: result.export.id })).dataExport));
  expect(last.progress).toBe(1);
  const { dataExport } = await server.op(DataExportDocument, { id: result.export.id });
  return dataExport!;
}

describe('a regression deployment exported', () => {
  let deploymentId: string;
  let modelId: string;
  const batches: { id: string; name: string; expected: Expected[] }[] = [];

  beforeAll(async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.5 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.5 },
      ],
    });
    deploymentId = deployment.id;
    modelId = deployment.modelId;
    for (let b = 0; b < 3; b++) {
      const name = `nightly ${b} — ünïcode ✓, "quoted"`;
      const batch = await createBatch(server, deploymentId, name);
      const rows = regressionRows(40 + b * 10, 100 + b, `exp-${b}-`, CITIES);
      rows.forEach((row, i) => {
        if (i % 9 === 0) delete row.associationId;
      });
      await upload(deploymentId, batch.id, rows);
      batches.push({ id: batch.id, name, expected: rows.map((row) => ({ batchId: batch.id, batchName: name, row })) });
    }
    // Actuals for some rows of each batch (an actual arriving before the export is joined to it).
    const data = batches.flatMap((b) =>
      b.expected
        .filter((e, i) => e.row.associationId && i % 3 === 0)
        .map((e, i) => {
          e.actual = { value: Math.round(e.row.prediction! * 4 + i) / 4, timestamp: '2026-05-01T12:00:00.250Z', wasActedOn: i % 2 === 0 };
          return {
            associationId: e.row.associationId,
            actualValue: e.actual.value,
            timestamp: e.actual.timestamp,
            wasActedOn: e.actual.wasActedOn,
          };
        }),
    );
    const answer = await postJson(server, actualsPath(deploymentId), { data });
    expect(answer.status).toBe(202);
  });

  it('streams one batch as CSV: every row as ingested, unicode, quotes, newlines, empty and missing cells', async () => {
    const batch = batches[1]!;
    const answer = await download(server, batchDownloadPath(deploymentId, batch.id, '?format=csv'));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    const { header, rows } = readCsv(answer.body);
    expect(header).toEqual(REGRESSION_HEADER);
    expect(rows).toEqual(batch.expected.map((e) => csvRowOf(e, modelId, false)));
  });

  it('streams one batch as Parquet with typed columns, with its actuals', async () => {
    const batch = batches[0]!;
    const answer = await download(server, batchDownloadPath(deploymentId, batch.id, '?format=parquet&includeActuals=true'));
    expect(answer.status).toBe(200);
    expect(answer.body.subarray(0, 4).toString()).toBe('PAR1');
    const file = await readParquetFile(answer.body);
    expect(file.header).toEqual([...REGRESSION_HEADER, ...ACTUAL_HEADER]);
    expect(file.types).toEqual([
      'Utf8',
      'Utf8',
      'Utf8',
      'Timestamp<MILLISECOND, UTC>',
      'Utf8',
      'Float64',
      'Utf8',
      'Float64',
      'Float64',
      'Timestamp<MILLISECOND, UTC>',
      'Bool',
    ]);
    expect(file.rows).toEqual(batch.expected.map((e) => parquetRowOf(e, modelId, true)));
  });

  it('exports a selection by id (CSV, with actuals) through createDataExport, its progress subscription and the download', async () => {
    const selected = [batches[2]!, batches[0]!];
    const exp = await finishedExport({
      deploymentId,
      selection: { batchIds: selected.map((b) => b.id) },
      format: 'CSV',
      includeActuals: true,
    });
    // Batch order: oldest first, whatever order the ids were given in.
    expect(exp.batchIds).toEqual([batches[0]!.id, batches[2]!.id]);
    const expected = [batches[0]!, batches[2]!].flatMap((b) => b.expected);
    expect(exp.rowCount).toBe(expected.length);
    expect(exp.rowsWritten).toBe(expected.length);
    expect(exp.expiresAt).not.toBeNull();
    const file = await download(server, exp.downloadUrl!);
    expect(file.status).toBe(200);
    expect(Number(file.headers['content-length'])).toBe(exp.sizeBytes);
    const { header, rows } = readCsv(file.body);
    expect(header).toEqual([...REGRESSION_HEADER, ...ACTUAL_HEADER]);
    expect(rows).toEqual(expected.map((e) => csvRowOf(e, modelId, true)));
  });

  it('exports the last N batches as Parquet, in row groups of the configured size', async () => {
    const exp = await finishedExport({ deploymentId, selection: { last: 2 }, format: 'PARQUET', includeActuals: false });
    const expected = [batches[1]!, batches[2]!].flatMap((b) => b.expected);
    const file = await readParquetFile((await download(server, exp.downloadUrl!)).body);
    expect(file.rows).toEqual(expected.map((e) => parquetRowOf(e, modelId, false)));
    expect(file.rowGroups).toBe(Math.ceil(expected.length / 16));
  });

  it('leaves out batches deleted before the export, and refuses a selection with no live batch', async () => {
    const name = 'to delete';
    const doomed = await createBatch(server, deploymentId, name);
    await upload(deploymentId, doomed.id, regressionRows(5, 7, null, CITIES));
    await server.op(DeleteMonitoringBatchDocument, { id: doomed.id });
    const exp = await finishedExport({
      deploymentId,
      selection: { batchIds: [doomed.id, batches[1]!.id] },
      format: 'CSV',
      includeActuals: false,
    });
    expect(exp.batchIds).toEqual([batches[1]!.id]);
    const { rows } = readCsv((await download(server, exp.downloadUrl!)).body);
    expect(rows).toEqual(batches[1]!.expected.map((e) => csvRowOf(e, modelId, false)));

    const refused = await createExport({
      deploymentId,
      selection: { batchIds: [doomed.id, MISSING_BATCH] },
      format: 'CSV',
      includeActuals: false,
    });
    expect(refused).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'selection', message: 'selects no live batch of this deployment' }],
    });
    const answer = await download(server, batchDownloadPath(deploymentId, doomed.id));
    expect(answer.status).toBe(404);
  });

  it('lists the deployment’s exports, newest first, by status', async () => {
    const { deployment } = await server.op(DeploymentDataExportsDocument, { id: deploymentId, first: 100, status: 'SUCCEEDED' });
    expect(deployment!.dataExports.length).toBeGreaterThanOrEqual(3);
    expect(deployment!.dataExports.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const rest = await server.rest('GET', `${exportsPath(deploymentId)}?limit=2`);
    expect(rest.status).toBe(200);
    const body = rest.json as unknown as { count: number; totalCount: number; data: { id: string }[]; next: string | null };
    expect(body.count).toBe(2);
    expect(body.data.map((e) => e.id)).toEqual(deployment!.dataExports.slice(0, 2).map((e) => e.id));
    expect(body.next).not.toBeNull();
  });

  it('removes an expired export’s file (and stale partial files): the download answers 410 and downloadUrl is null', async () => {
    const exp = await finishedExport({ deploymentId, selection: { last: 1 }, format: 'CSV', includeActuals: false });
    const [row] = await server.sql<{ file_name: string }[]>`select file_name from data_exports where id = ${exp.id}`;
    const file = path.join(loadConfig({}).exportDir, row!.file_name);
    expect(existsSync(file)).toBe(true);
    // And a partial file a killed process left two days ago (a fresh one is someone's work in progress).
    const stale = path.join(loadConfig({}).exportDir, `${exp.id}.csv.0000-stale.partial`);
    const fresh = path.join(loadConfig({}).exportDir, `${exp.id}.csv.0000-fresh.partial`);
    writeFileSync(stale, 'half');
    writeFileSync(fresh, 'half');
    const twoDaysAgo = new Date(Date.now() - 48 * 3_600_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    await server.sql`update data_exports set expires_at = now() - interval '1 second' where id = ${exp.id}`;
    for (let i = 0; i < 100 && (existsSync(file) || existsSync(stale)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(file)).toBe(false);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    rmSync(fresh);
    const { dataExport } = await server.op(DataExportDocument, { id: exp.id });
    expect(dataExport).toMatchObject({ status: 'SUCCEEDED', expired: true, downloadUrl: null });
    const answer = await download(server, `${exportsPath(deploymentId)}${exp.id}/download/`);
    expect(answer.status).toBe(410);
  });
});

describe('an export whose writer died', () => {
  it('is taken over once its claim expires, and written exactly once', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(25, 9);
    await upload(deployment.id, batch.id, rows);
    // As a process killed mid-export leaves it: RUNNING, a claim that has run out, a partial file.
    const id = 'exp_0000000000000000000000aa';
    await server.sql`
      insert into data_exports (id, organization_id, deployment_id, created_by_id, batch_ids, format, include_actuals, status, claimed_until, attempts, started_at)
      select ${id}, organization_id, id, (select id from users where organization_id = d.organization_id limit 1), array[${batch.id}], 'CSV', false,
             'RUNNING', now() - interval '1 second', 1, now()
      from deployments d where id = ${deployment.id}`;
    for (let i = 0; i < 100; i++) {
      const { dataExport } = await server.op(DataExportDocument, { id });
      if (dataExport?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { dataExport } = await server.op(DataExportDocument, { id });
    expect(dataExport).toMatchObject({ status: 'SUCCEEDED', rowCount: 25, rowsWritten: 25 });
    const [claims] = await server.sql<{ attempts: number }[]>`select attempts from data_exports where id = ${id}`;
    expect(claims!.attempts).toBe(2);
    expect(readCsv((await download(server, dataExport!.downloadUrl!)).body).rows.length).toBe(25);
  });
});

describe('a multiclass deployment exported', () => {
  it('has one probability column per class and the predicted label, in CSV and Parquet', async () => {
    const deployment = await createMulticlassDeployment(server, CLASSES);
    const batch = await createBatch(server, deployment.id);
    const rows = multiclassRows(30, 5);
    await upload(deployment.id, batch.id, rows);
    const probabilities = (r: Row) =>
      Array.isArray(r.probabilities) ? r.probabilities : CLASSES.map((c) => (r.probabilities as Record<string, number>)[c]!);
    const label = (r: Row) => {
      const p = probabilities(r);
      return CLASSES[p.indexOf(Math.max(...p))]!;
    };
    const csv = readCsv((await download(server, batchDownloadPath(deployment.id, batch.id))).body);
    expect(csv.header.slice(5)).toEqual(['age', 'city', 'probability_cat', 'probability_dog', 'probability_fox', 'predicted_label']);
    expect(csv.rows.map((r) => r.slice(7))).toEqual(rows.map((r) => [...probabilities(r).map(String), label(r)]));
    const parquet = await readParquetFile((await download(server, batchDownloadPath(deployment.id, batch.id, '?format=PARQUET'))).body);
    expect(parquet.rows.map((r) => r.slice(7))).toEqual(rows.map((r) => [...probabilities(r), label(r)]));
  });
});

describe('a feature named like a fixed column', () => {
  it('keeps the feature’s name and moves the fixed column aside', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'timestamp', type: 'NUMERIC', importance: 0.5 },
        { name: 'batch_id', type: 'CATEGORICAL', importance: 0.5 },
      ],
    });
    const batch = await createBatch(server, deployment.id);
    await upload(deployment.id, batch.id, [
      { features: { timestamp: 1.5, batch_id: 'mine' }, prediction: 2, timestamp: '2026-01-01T00:00:00Z' },
    ]);
    const { header, rows } = readCsv((await download(server, batchDownloadPath(deployment.id, batch.id))).body);
    expect(header).toEqual(['_batch_id', 'batch_name', 'model_id', '_timestamp', 'association_id', 'timestamp', 'batch_id', 'prediction']);
    expect(rows[0]!.slice(5)).toEqual(['1.5', 'mine', '2']);
  });
});

describe('a consistent snapshot', () => {
  it('holds all or none of an upload that commits while the export streams', async () => {
    const deployment = await createDeployment(server, server.adminToken, { features: [{ name: 'x', type: 'NUMERIC', importance: 1 }] });
    const batch = await createBatch(server, deployment.id);
    const before = Array.from({ length: 20_000 }, (_, i) => ({ features: { x: i }, prediction: i, timestamp: '2026-01-01T00:00:00Z' }));
    await upload(deployment.id, batch.id, before);

    // A slow reader: the response starts (the snapshot is taken), then an upload commits, then the rest is read.
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = http.get(
        new URL(batchDownloadPath(deployment.id, batch.id), server.url),
        { headers: { authorization: `Bearer ${server.adminToken}` }, agent: false },
        (res) => {
          const parts: Buffer[] = [];
          res.once('data', async (first: Buffer) => {
            parts.push(first);
            res.pause();
            await upload(deployment.id, batch.id, [{ features: { x: -1 }, prediction: -1, timestamp: '2026-01-01T00:00:00Z' }]);
            res.on('data', (part: Buffer) => parts.push(part));
            res.resume();
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
    const during = readCsv(body).rows;
    expect(during.length).toBe(20_000);
    expect(during.some((r) => r[5] === '-1')).toBe(false);
    // Taken after the commit: all of it.
    const after = readCsv((await download(server, batchDownloadPath(deployment.id, batch.id))).body).rows;
    expect(after.length).toBe(20_001);
    expect(after.at(-1)![5]).toBe('-1');
  });

  it('survives clients that hang up mid-download: the connections go back to the pool', async () => {
    const deployment = await createDeployment(server, server.adminToken, { features: [{ name: 'x', type: 'NUMERIC', importance: 1 }] });
    const batch = await createBatch(server, deployment.id);
    await upload(
      deployment.id,
      batch.id,
      Array.from({ length: 30_000 }, (_, i) => ({ features: { x: i }, prediction: i, timestamp: '2026-01-01T00:00:00Z' })),
    );
    // More hang-ups than the pool has connections: a leaked connection would starve the last download.
    for (let i = 0; i < 12; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          new URL(batchDownloadPath(deployment.id, batch.id, i % 2 ? '?format=parquet' : ''), server.url),
          { headers: { authorization: `Bearer ${server.adminToken}` }, agent: false },
          (res) => {
            // Hang up in the middle of the rows (not after the header, before PostgreSQL sent any).
            let received = 0;
            res.on('data', (part: Buffer) => {
              received += part.length;
              if (received > 300_000 && !req.destroyed) {
                req.destroy();
                resolve();
              }
            });
          },
        );
        req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(error)));
      });
    }
    // No connection is left inside an export's transaction.
    for (let i = 0; i < 100; i++) {
      const [open] = await server.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
          and (state like 'idle in transaction%' or query like 'copy (select%' and state = 'active')`;
      if (open!.n === 0) break;
      if (i === 99) expect(open!.n).toBe(0);
      await new Promise((r) => setTimeout(r, 50));
    }
    const complete = await download(server, batchDownloadPath(deployment.id, batch.id));
    expect(readCsv(complete.body).rows.length).toBe(30_000);
  });
});

describe('downloads streaming at once', () => {
  it('are at most half the pool: one more is refused (503, Retry-After) while the API keeps answering', async () => {
    // A pool of 4 connections: 2 streaming slots.
    const small = await startTestServer({ dbPoolSize: 4 });
    try {
      const deployment = await createDeployment(small, small.adminToken, { features: [{ name: 'x', type: 'NUMERIC', importance: 1 }] });
      const batch = await createBatch(small, deployment.id);
      const rows = Array.from({ length: 100_000 }, (_, i) => ({ features: { x: i }, prediction: i, timestamp: '2026-01-01T00:00:00Z' }));
      const answer = await post(small, bulkPath(deployment.id, batch.id), ndjson(rows), { contentType: NDJSON });
      expect(answer.status).toBe(200);
      // Two clients that read the first bytes, then stop reading: their downloads stay open.
      const stalled = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<http.ClientRequest>((resolve, reject) => {
              const req = http.get(
                new URL(batchDownloadPath(deployment.id, batch.id), small.url),
                { headers: { authorization: `Bearer ${small.adminToken}` }, agent: false },
                (res) =>
                  res.once('data', () => {
                    res.pause();
                    resolve(req);
                  }),
              );
              req.on('error', reject);
            }),
        ),
      );
      const refused = await small.rest('GET', batchDownloadPath(deployment.id, batch.id));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.json).toMatchObject({ message: '2 downloads are streaming already; try again in a few seconds' });
      // Everything else still has connections.
      const { dataExport } = await small.op(DataExportDocument, { id: 'exp_000000000000000000000000' });
      expect(dataExport).toBeNull();
      expect((await small.rest('GET', exportsPath(deployment.id))).status).toBe(200);
      // The slots come back when those clients go.
      for (const req of stalled) req.destroy();
      let again = await download(small, batchDownloadPath(deployment.id, batch.id));
      for (let i = 0; i < 50 && again.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await download(small, batchDownloadPath(deployment.id, batch.id));
      }
      expect(again.status).toBe(200);
      expect(readCsv(again.body).rows.length).toBe(100_000);
    } finally {
      await small.stop();
    }
  });
});

describe('the DataRobot-style REST routes', () => {
  it('create answers 202 with a status Location that redirects (303) to the finished export', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await upload(deployment.id, batch.id, regressionRows(10, 3));
    const created = await server.rest('POST', exportsPath(deployment.id), {
      body: { batchIds: [batch.id], format: 'parquet', includeActuals: true },
    });
    expect(created.status).toBe(202);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v2\/status\/exp_[0-9a-f]+\/$/);
    const id = (created.json as unknown as { id: string }).id;
    let status: Response | undefined;
    for (let i = 0; i < 100; i++) {
      status = await fetch(`${server.url}${location}`, { headers: { authorization: `Bearer ${server.adminToken}` }, redirect: 'manual' });
      if (status.status === 303) break;
      expect(status.status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status!.status).toBe(303);
    expect(status!.headers.get('location')).toBe(`${exportsPath(deployment.id)}${id}/`);
    const got = await server.rest('GET', `${exportsPath(deployment.id)}${id}/`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({
      id,
      deploymentId: deployment.id,
      status: 'SUCCEEDED',
      format: 'parquet',
      includeActuals: true,
      rowCount: 10,
      batches: { batchIds: [batch.id] },
      error: null,
      downloadUrl: `${exportsPath(deployment.id)}${id}/download/`,
    });
    const file = await readParquetFile((await download(server, `${exportsPath(deployment.id)}${id}/download/`)).body);
    expect(file.rows.length).toBe(10);
  });

  it('refuses bad bodies and queries naming the field, and a download before it has succeeded', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const answers = await Promise.all([
      server.rest('POST', exportsPath(deployment.id), { body: { batchIds: [batch.id], format: 'xml' } }),
      server.rest('POST', exportsPath(deployment.id), { body: { batchIds: [batch.id], colour: 'red' } }),
      server.rest('POST', exportsPath(deployment.id), { body: { format: 'csv' } }),
      server.rest('POST', exportsPath(deployment.id), { body: { batchIds: 'all' } }),
      server.rest('GET', batchDownloadPath(deployment.id, batch.id, '?format=xlsx')),
      server.rest('GET', `${exportsPath(deployment.id)}?status=DONE`),
    ]);
    expect(answers.map((a) => a.status)).toEqual([422, 422, 422, 422, 422, 422]);
    expect(answers.map((a) => Object.keys((a.json as unknown as { errors: object }).errors))).toEqual([
      ['format'],
      ['colour'],
      ['batchIds'],
      ['batchIds'],
      ['format'],
      ['status'],
    ]);
    // Not yet written: a CREATED export's download is a 409 naming its status.
    const [row] = await server.sql<{ id: string }[]>`
      insert into data_exports (id, organization_id, deployment_id, created_by_id, batch_ids, format, include_actuals, status, claimed_until)
      select 'exp_pending000000000000000', organization_id, id, (select id from users where organization_id = d.organization_id limit 1), array[${batch.id}], 'CSV', false, 'RUNNING', now() + interval '1 hour'
      from deployments d where id = ${deployment.id} returning id`;
    const pending = await server.rest('GET', `${exportsPath(deployment.id)}${row!.id}/download/`);
    expect(pending.status).toBe(409);
    expect(pending.json).toMatchObject({ status: 'RUNNING' });
  });
});

describe('tenancy', () => {
  it('a foreign deployment, batch or export behaves exactly like a missing one, on every route, query, mutation and subscription', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await upload(deployment.id, batch.id, regressionRows(3, 1));
    const exp = await finishedExport({
      deploymentId: deployment.id,
      selection: { batchIds: [batch.id] },
      format: 'CSV',
      includeActuals: false,
    });
    const other = await createTenant(server);
    const token = other.token;
    const missing = 'exp_000000000000000000000000';
    const rest = async (method: string, p: string, body?: unknown) => {
      const answer = await server.rest(method, p, { token, ...(body ? { body } : {}) });
      return [answer.status, answer.json];
    };
    expect(await rest('GET', `${exportsPath(deployment.id)}${exp.id}/`)).toEqual(
      await rest('GET', `${exportsPath(deployment.id)}${missing}/`),
    );
    expect((await rest('GET', `${exportsPath(deployment.id)}${exp.id}/`))[0]).toBe(404);
    expect((await download(server, exp.downloadUrl!, token)).status).toBe(404);
    expect(await rest('GET', exportsPath(deployment.id))).toEqual(await rest('GET', exportsPath('dep_000000000000000000000000')));
    expect((await rest('POST', exportsPath(deployment.id), { batchIds: [batch.id] }))[0]).toBe(404);
    expect(await rest('GET', `/api/v2/status/${exp.id}/`)).toEqual([404, { message: 'Status not found' }]);
    expect((await download(server, batchDownloadPath(deployment.id, batch.id), token)).status).toBe(404);
    // The other tenant's own deployment cannot reach our batch either.
    const theirs = await createDeployment(server, token);
    expect((await download(server, batchDownloadPath(theirs.id, batch.id), token)).status).toBe(404);
    const viaTheirs = await createExport(
      { deploymentId: theirs.id, selection: { batchIds: [batch.id] }, format: 'CSV', includeActuals: false },
      token,
    );
    expect(viaTheirs).toMatchObject({ __typename: 'ValidationError' });

    expect((await server.op(DataExportDocument, { id: exp.id }, token)).dataExport).toBeNull();
    expect(
      await createExport({ deploymentId: deployment.id, selection: { last: 1 }, format: 'CSV', includeActuals: false }, token),
    ).toMatchObject({
      __typename: 'NotFoundError',
      resource: 'Deployment',
    });
    const socket = connect(server, token);
    const progress = watch(socket, DataExportProgressDocument, { id: exp.id });
    await progress.done;
    expect(progress.messages).toEqual([]);
    expect(JSON.stringify(progress.errors)).toContain('Data export not found');
  });
});
