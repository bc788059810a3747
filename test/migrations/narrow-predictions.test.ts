// Issue 14: migrations 0012/0013 convert the predictions table in place. A database is filled by
// the PREVIOUS version of batchlens (the commit before 0012 was added, extracted from git and run as
// its own server process), then this version starts on it: every stored row reads back as sent
// (the prediction_rows view against the old table), each batch's CSV download is byte for byte the
// same, the duplicate association-id rule covers the old rows, actuals join old rows, and new
// uploads continue the old ids.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeleteMonitoringBatchDocument, ReportPredictionsDocument, SubmitActualsDocument } from '../generated/graphql.js';
import { createBatch, createBinaryDeployment, createDeployment } from '../helpers/fixtures.js';
import type { Endpoint } from '../helpers/graphql.js';
import { runOperation } from '../helpers/graphql.js';
import { binaryRows, regressionRows } from '../helpers/ingest-data.js';
import { connectTo, newToken, ROOT, ServerProcess, stopProcesses } from '../helpers/processes.js';
import { bulkPath, post } from '../helpers/rest.js';
import { createTestDatabase } from '../helpers/server.js';

const checkouts: string[] = [];
afterAll(async () => {
  await stopProcesses();
  for (const dir of checkouts) rmSync(dir, { recursive: true, force: true });
});

/** The version before the narrow layout: the parent of the commit that added migration 0012. */
function previousVersion(): string {
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', 'drizzle/0012_storage_keys.sql'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1);
  if (!added) throw new Error('git log does not know drizzle/0012_storage_keys.sql: this test needs the repository history');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-previous-'));
  checkouts.push(dir);
  execFileSync('sh', ['-c', `git archive ${added}^ | tar -x -C ${dir}`], { cwd: ROOT });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

async function download(endpoint: Endpoint & { url: string }, deploymentId: string, batchId: string): Promise<string> {
  const response = await fetch(
    `${endpoint.url}/api/v2/deployments/${deploymentId}/monitoringBatches/${batchId}/predictions/?includeActuals=true`,
    {
      headers: { authorization: `Bearer ${endpoint.adminToken}` },
    },
  );
  expect(response.status).toBe(200);
  return response.text();
}

const ndjson = (rows: object[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

describe('migrating a database filled by the previous version', () => {
  it('keeps every row, export and rule, and continues the ids', async () => {
    const databaseUrl = await createTestDatabase({ empty: true });
    const token = newToken();
    const old = await ServerProcess.spawn({ databaseUrl, token, root: previousVersion() }).then((s) => s.ready());
    const before: Endpoint & { url: string } = { url: old.url, adminToken: token };

    // A regression deployment whose numeric and categorical features interleave, one without features, a binary one.
    const regression = await createDeployment(before, token, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.5 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.2 },
        { name: 'score', type: 'NUMERIC', importance: 0.2 },
        { name: 'zip', type: 'CATEGORICAL', importance: 0.1 },
      ],
    });
    const bare = await createDeployment(before, token, { features: [] });
    const binary = await createBinaryDeployment(before, token);
    const [r1, r2, gone, e1, b1] = await Promise.all([
      createBatch(before, regression.id),
      createBatch(before, regression.id),
      createBatch(before, regression.id),
      createBatch(before, bare.id),
      createBatch(before, binary.id),
    ]);
    // Association ids of every kind: canonical UUIDs, upper-case UUIDs (not canonical: stored as text), others, none.
    const uuids = Array.from({ length: 120 }, () => randomUUID());
    const idOf = (i: number) =>
      i % 4 === 0 ? uuids[i]! : i % 4 === 1 ? uuids[i]!.toUpperCase() : i % 4 === 2 ? `order-${i}\t"x"` : undefined;
    const rows = regressionRows(120, 7).map((row, i) => ({
      ...row,
      features: { ...row.features, score: i % 9 === 0 ? null : i * 0.1 + 1e-9, zip: i % 6 === 0 ? null : `Z${i % 13}`, unknown: 1 },
      associationId: idOf(i),
    }));
    expect((await post(before, bulkPath(regression.id, r1.id), ndjson(rows.slice(0, 80)))).status).toBe(200);
    const challenger = await runOperation(before, ReportPredictionsDocument, {
      input: {
        deploymentId: regression.id,
        batchId: r1.id,
        modelId: 'challenger',
        rows: rows
          .slice(80, 100)
          .map(({ features, prediction, associationId, timestamp }) => ({ features, prediction, associationId, timestamp })),
      },
    });
    expect(challenger.reportPredictions.__typename).toBe('ReportPredictionsSuccess');
    expect((await post(before, bulkPath(regression.id, r2.id), ndjson(rows.slice(100)))).status).toBe(200);
    expect((await post(before, bulkPath(regression.id, gone.id), ndjson(regressionRows(10, 8, 'gone-')))).status).toBe(200);
    expect((await post(before, bulkPath(bare.id, e1.id), ndjson([{ features: {}, prediction: 1.5 }, { prediction: -2 }]))).status).toBe(
      200,
    );
    const binaries = binaryRows(60, 3);
    // Half the binary actuals arrive before their predictions, a quarter after, the rest after the migration.
    const actual = (i: number) => ({ associationId: binaries[i]!.associationId!, actualValue: i % 3 ? 'yes' : 'no' });
    await runOperation(before, SubmitActualsDocument, {
      input: { deploymentId: binary.id, actuals: binaries.slice(0, 30).map((_, i) => actual(i)) },
    });
    expect((await post(before, bulkPath(binary.id, b1.id), ndjson(binaries))).status).toBe(200);
    await runOperation(before, SubmitActualsDocument, {
      input: { deploymentId: binary.id, actuals: binaries.slice(30, 45).map((_, i) => actual(30 + i)) },
    });
    const deleted = await runOperation(before, DeleteMonitoringBatchDocument, { id: gone.id });
    expect(deleted.deleteMonitoringBatch.__typename).toBe('DeleteMonitoringBatchSuccess');

    const sql = connectTo(databaseUrl);
    const oldRows = await sql`
      select id::int, deployment_id, batch_id, model_id, timestamp, features, prediction, probabilities, predicted_label, association_id
      from predictions where batch_id <> ${gone.id} order by id`;
    expect(oldRows.length).toBe(80 + 20 + 20 + 2 + 60);
    const batches = [
      [regression.id, r1.id],
      [regression.id, r2.id],
      [bare.id, e1.id],
      [binary.id, b1.id],
    ] as const;
    const csvBefore = await Promise.all(batches.map(([d, b]) => download(before, d, b)));
    expect(csvBefore.map((csv) => csv.trimEnd().split('\n').length)).toEqual([101, 21, 3, 61]); // header + rows
    await old.terminate();

    // This version on the same database: migrations 0012 and 0013 run at start.
    const server = await ServerProcess.spawn({ databaseUrl, token }).then((s) => s.ready());
    const after: Endpoint & { url: string } = { url: server.url, adminToken: token };
    const newRows = await sql`
      select id::int, deployment_id, batch_id, model_id, timestamp, features, prediction, probabilities, predicted_label, association_id
      from prediction_rows where batch_id <> ${gone.id} order by id`;
    expect(newRows).toEqual(oldRows);
    // Canonical UUIDs (i % 4 = 0) as uuid; upper-case UUIDs, other regression ids and the binary ones as text.
    const [stored] = await sql`
      select count(association_uuid)::int as uuids, count(association_text)::int as texts
      from predictions p join monitoring_batches b on b.key = p.batch_key where b.id <> ${gone.id}`;
    expect(stored).toEqual({ uuids: 30, texts: 30 + 30 + 60 });
    expect(await Promise.all(batches.map(([d, b]) => download(after, d, b)))).toEqual(csvBefore);

    // The duplicate rule covers the converted rows, whichever column holds the id.
    for (const i of [0, 1, 2]) {
      const again = await post(
        after,
        bulkPath(regression.id, r2.id),
        ndjson([{ features: { age: 1 }, prediction: 1, associationId: idOf(i) }]),
      );
      expect(again.status, `${idOf(i)}: ${JSON.stringify(again.json)}`).toBe(422);
      expect(JSON.stringify(again.json)).toContain('is already used by another prediction of this deployment');
    }
    // Actuals join converted rows.
    const late = await runOperation(after, SubmitActualsDocument, {
      input: { deploymentId: binary.id, actuals: binaries.slice(45).map((_, i) => actual(45 + i)) },
    });
    expect(late.submitActuals).toMatchObject({ acceptedCount: 15, matchedCount: 15, unmatchedAssociationIds: [] });
    // New rows continue after the old ids.
    const maxOld = Math.max(...oldRows.map((r) => r.id as number));
    const fresh = await post(after, bulkPath(regression.id, r2.id), ndjson(regressionRows(5, 9, 'fresh-')));
    expect(fresh.status).toBe(200);
    const [first] = await sql`select min(id)::int as min from prediction_rows where association_id like 'fresh-%'`;
    expect(first!.min).toBeGreaterThan(maxOld);
    expect(server.stderr).not.toContain('unexpected error');
  }, 180_000);
});
