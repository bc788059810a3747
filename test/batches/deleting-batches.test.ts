import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteMonitoringBatchDocument,
  DeploymentBatchesDocument,
  LockMonitoringBatchDocument,
  MonitoringBatchDocument,
  NodeDocument,
  ReportPredictionsDocument,
  UpdateBatchModelHistoryDocument,
  UpdateMonitoringBatchDocument,
} from '../generated/graphql.js';
import { countRows, deploymentSnapshot } from '../helpers/db.js';
import { BATCH_NOT_FOUND, createBatch, createDeployment, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { minuteRows, ndjson, regressionRows } from '../helpers/ingest-data.js';
import { answersOf, batchesPath, batchPath, bulkPath, createRestBatch, everyIngestRoute, post } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// A deleted batch (C4) is gone from every read at once, every route then answers it like a batch
// that never existed, and its rows and aggregates are purged in the background.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

// First in the file: its deleted batch should still be in the database (purged 1 s after a delete),
// and a purge scheduled by an earlier test's delete would come sooner.
describe('the ingest routes after a delete', () => {
  it('answers 404 for a deleted batch and for a batch of another deployment', async () => {
    const deployment = await createDeployment(server);
    const sibling = await createDeployment(server);
    const deleted = await createBatch(server, deployment.id);
    const siblingBatch = await createBatch(server, sibling.id);
    expect((await post(server, bulkPath(deployment.id, deleted.id), ndjson(regressionRows(5, 63)))).status).toBe(200);
    const removed = await server.op(DeleteMonitoringBatchDocument, { id: deleted.id });
    expect(removed.deleteMonitoringBatch.__typename).toBe('DeleteMonitoringBatchSuccess');
    const siblingBefore = await deploymentSnapshot(server, sibling.id);
    const missing = await answersOf(everyIngestRoute(server, deployment.id, MISSING_BATCH));
    for (const [route, answer] of Object.entries(missing)) expect(answer, route).toEqual({ status: 404, json: BATCH_NOT_FOUND });
    expect(await answersOf(everyIngestRoute(server, deployment.id, deleted.id))).toEqual(missing);
    expect(await answersOf(everyIngestRoute(server, deployment.id, siblingBatch.id))).toEqual(missing);
    // The refused uploads added nothing. The purge (1 s after the delete) may already have run on a
    // loaded machine: then nothing of the batch is left at all. Counter and rows are read in one
    // statement (one snapshot), so a purge committing between two reads cannot split them.
    const [left] = await server.sql<{ counter: number | null; rows: number }[]>`
      select (select prediction_count::int from monitoring_batches where id = ${deleted.id}) as counter,
        (select count(*)::int from prediction_rows where batch_id = ${deleted.id}) as rows`;
    expect([
      { counter: 5, rows: 5 },
      { counter: null, rows: 0 },
    ]).toContainEqual(left);
    expect(await deploymentSnapshot(server, sibling.id)).toEqual(siblingBefore);
  });
});

describe('deleteMonitoringBatch (GraphQL)', () => {
  it('removes a deleted batch from every read at once and purges its rows in the background', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'doomed');
    await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: 'm', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' },
    });
    const deleted = await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    expect(deleted.deleteMonitoringBatch).toEqual({ __typename: 'DeleteMonitoringBatchSuccess', deletedBatchId: batch.id });
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch).toBeNull();
    expect((await server.op(NodeDocument, { id: batch.id })).node).toBeNull();
    const list = await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id, search: batch.id });
    expect(list.deployment?.batches.totalCount).toBe(0);
    for (const again of [
      (await server.op(DeleteMonitoringBatchDocument, { id: batch.id })).deleteMonitoringBatch,
      (await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch,
      (await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'zombie' } })).updateMonitoringBatch,
    ]) {
      expect(again).toMatchObject({ __typename: 'NotFoundError', message: 'Monitoring batch not found', resource: 'MonitoringBatch' });
    }
    const deadline = Date.now() + 10_000;
    let remaining = 1;
    while (remaining > 0 && Date.now() < deadline) {
      await sleep(200);
      remaining = (await server.sql`select count(*)::int as n from monitoring_batches where id = ${batch.id}`)[0]!.n as number;
    }
    expect(remaining).toBe(0);
    expect((await server.sql`select count(*)::int as n from batch_model_history where batch_id = ${batch.id}`)[0]!.n).toBe(0);
  });

  it('purges a deleted batch with its raw predictions and aggregates', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(30, 42) } });
    // The stored rows carry the batch's key: counted by it, rows the purge left behind would show
    // (through prediction_rows they would not, once the batch row is gone).
    const [{ key }] = (await server.sql`select key from monitoring_batches where id = ${batch.id}`) as unknown as [{ key: string }];
    const rawRows = async () =>
      (await server.sql<{ n: number }[]>`select count(*)::int as n from predictions where batch_key = ${key}`)[0]!.n;
    expect(await rawRows()).toBe(30);
    const deleted = await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    expect(deleted.deleteMonitoringBatch.__typename).toBe('DeleteMonitoringBatchSuccess');
    const again = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(1, 43) },
    });
    expect(again.reportPredictions.__typename).toBe('NotFoundError');
    const deadline = Date.now() + 10_000;
    while ((await countRows(server, 'monitoring_batches', 'id', batch.id)) > 0 && Date.now() < deadline) await sleep(200);
    expect(await countRows(server, 'monitoring_batches', 'id', batch.id)).toBe(0);
    expect(await rawRows()).toBe(0);
    for (const table of ['batch_column_stats', 'batch_service_stats', 'batch_model_history'])
      expect(await countRows(server, table, 'batch_id', batch.id)).toBe(0);
  });
});

describe('DELETE /monitoringBatches/{batchId}/', () => {
  it('answers 204; afterwards the batch is gone from every read, and deleting it again is a 404', async () => {
    const { token, deploymentId } = await createTenant(server);
    const keep = await createRestBatch(server, deploymentId, token, { batchName: 'keep' });
    const doomed = await createRestBatch(server, deploymentId, token, { batchName: 'doomed' });

    const deleted = await server.rest('DELETE', batchPath(deploymentId, doomed.id), { token });
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeNull();

    const read = await server.rest('GET', batchPath(deploymentId, doomed.id), { token });
    expect(read.status).toBe(404);
    expect(read.json).toEqual(BATCH_NOT_FOUND);
    const again = await server.rest('DELETE', batchPath(deploymentId, doomed.id), { token });
    expect(again.status).toBe(404);
    expect(again.json).toEqual(BATCH_NOT_FOUND);
    const patched = await server.rest('PATCH', batchPath(deploymentId, doomed.id), { token, body: { batchName: 'undead' } });
    expect(patched.status).toBe(404);

    const listed = await server.rest('GET', batchesPath(deploymentId), { token });
    expect(listed.json).toMatchObject({ count: 1, totalCount: 1, data: [{ id: keep.id }] });
    const searched = await server.rest('GET', `${batchesPath(deploymentId)}?search=${doomed.id}`, { token });
    expect(searched.json.totalCount).toBe(0);
    const { monitoringBatch } = await server.op(MonitoringBatchDocument, { id: doomed.id }, token);
    expect(monitoringBatch).toBeNull();
  });

  it('answers 404 for an unknown batch and for a batch under another deployment, deleting nothing', async () => {
    const { token, deploymentId } = await createTenant(server);
    const other = await createDeployment(server, token);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'stays' });
    for (const route of [batchPath(deploymentId, MISSING_BATCH), batchPath(other.id, batch.id)]) {
      const answer = await server.rest('DELETE', route, { token });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
    expect((await server.rest('GET', batchPath(deploymentId, batch.id), { token })).status).toBe(200);
  });
});
