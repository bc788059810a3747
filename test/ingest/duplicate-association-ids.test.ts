import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportPredictionsDocument } from '../generated/graphql.js';
import { countRows, deploymentSnapshot } from '../helpers/db.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { CSV, csv, ndjson, regressionRows } from '../helpers/ingest-data.js';
import { actualsPath, bulkPath, inputsPath, post, postJson, seededBatch } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// An association id (what actuals are joined by) names one prediction of a deployment: a request
// that repeats one of its own, or one already stored in any batch of the deployment, is refused
// whole, naming the row or line (as an integer or its string spelling, it is the same id).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('an association id already used in the deployment', () => {
  it('is refused by reportPredictions, naming the row', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: {}, prediction: 1, associationId: 'a-1' }] },
    });
    const again = await server.op(ReportPredictionsDocument, {
      input: {
        deploymentId: deployment.id,
        batchId: batch.id,
        rows: [
          { features: {}, prediction: 2, associationId: 'a-2' },
          { features: {}, prediction: 3, associationId: 'a-1' },
        ],
      },
    });
    expect(again.reportPredictions).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'rows.1.associationId', message: expect.stringContaining('a-1') }],
    });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(1);
  });

  it('refuses an association id already used by an earlier upload, naming the line or row', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const other = await createBatch(server, deployment.id);
    expect((await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(20, 74, 'used-')))).status).toBe(200);
    const before = await deploymentSnapshot(server, deployment.id);
    const message = '"used-7" is already used by another prediction of this deployment';

    const fresh = regressionRows(3000, 75, 'fresh-');
    fresh[2500]!.associationId = 'used-7';
    const bulk = await post(server, bulkPath(deployment.id, batch.id), ndjson(fresh));
    expect(bulk.status).toBe(422);
    expect(bulk.json.errors).toEqual({ 'line 2501.associationId': message });
    const asCsv = await post(server, bulkPath(deployment.id, batch.id), csv(fresh, 'regression'), { contentType: CSV });
    expect(asCsv.status).toBe(422);
    expect(asCsv.json.errors).toEqual({ 'line 2502.associationId': message });
    const agent = await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: fresh.slice(2490, 2510) });
    expect(agent.status).toBe(422);
    expect(agent.json.errors).toEqual({ 'data.10.associationId': message });
    // Also when the earlier prediction is in another batch of the deployment.
    const elsewhere = await post(
      server,
      bulkPath(deployment.id, other.id),
      ndjson([{ features: {}, prediction: 1, associationId: 'used-7' }]),
    );
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.json.errors).toEqual({ 'line 1.associationId': message });
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });

  it('refuses a duplicate association id far into a large upload (past the ids it remembers), naming its line', async () => {
    const { deployment, batch, before } = await seededBatch(server);
    const lines: string[] = [];
    for (let i = 0; i < 150_000; i++)
      lines.push(`{"features":{"age":${i % 90},"city":"Oslo"},"prediction":${i % 1000},"associationId":"far-${i}"}`);
    // Line 149,001 repeats line 120,001 — both past the first 100,000 ids, which are the ones remembered.
    lines[149_000] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"far-120000"}';
    const repeated = await post(server, bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(repeated.status).toBe(422);
    expect(repeated.json.errors).toEqual({
      'line 149001.associationId': '"far-120000" repeats the association id of an earlier row of this request',
    });
    // The last line repeats an id committed by the seeding upload: refused after the data ended.
    lines[149_000] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"far-149000"}';
    lines[149_999] = '{"features":{"age":1,"city":"Oslo"},"prediction":1,"associationId":"seed-3"}';
    const used = await post(server, bulkPath(deployment.id, batch.id), `${lines.join('\n')}\n`);
    expect(used.status).toBe(422);
    expect(used.json.errors).toEqual({ 'line 150000.associationId': '"seed-3" is already used by another prediction of this deployment' });
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });
});

describe('an association id repeated within one request', () => {
  it('refuses duplicates within one upload, naming both rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(10, 76, 'dup-');
    rows[8]!.associationId = 'dup-2';
    const bulk = await post(server, bulkPath(deployment.id, batch.id), ndjson(rows));
    expect(bulk.json.errors).toEqual({ 'line 9.associationId': 'repeats the association id of line 3' });
    const asCsv = await post(server, bulkPath(deployment.id, batch.id), csv(rows, 'regression'), { contentType: CSV });
    expect(asCsv.json.errors).toEqual({ 'line 10.associationId': 'repeats the association id of line 4' });
    const agent = await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: rows });
    expect(agent.json.errors).toEqual({ 'data.8.associationId': 'repeats the association id of data.2' });
    // An integer association id and its string spelling are the same id.
    const mixed = await postJson(server, inputsPath(deployment.id), {
      batchId: batch.id,
      data: [
        { features: {}, prediction: 1, associationId: 12 },
        { features: {}, prediction: 1, associationId: '12' },
      ],
    });
    expect(mixed.json.errors).toEqual({ 'data.1.associationId': 'repeats the association id of data.0' });
    const actuals = await postJson(server, actualsPath(deployment.id), {
      data: [
        { associationId: 'q', actualValue: 1 },
        { associationId: 'r', actualValue: 1 },
        { associationId: 'q', actualValue: 2 },
      ],
    });
    expect(actuals.status).toBe(422);
    expect(actuals.json.errors).toEqual({ 'data.2.associationId': 'repeats the association id of data.0' });
    const tooMany = await postJson(server, actualsPath(deployment.id), {
      data: Array.from({ length: 10_001 }, (_, i) => ({ associationId: `many-${i}`, actualValue: 1 })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors).toEqual({ data: 'must contain at most 10000 actuals per request (got 10001)' });
    const empty = await postJson(server, actualsPath(deployment.id), { data: [] });
    expect(empty.json.errors).toEqual({ data: 'must contain at least one actual' });
    expect(await countRows(server, 'predictions', 'deployment_id', deployment.id)).toBe(0);
    expect(await countRows(server, 'actuals', 'deployment_id', deployment.id)).toBe(0);
  });
});
