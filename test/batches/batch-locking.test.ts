import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LockMonitoringBatchDocument,
  MonitoringBatchDocument,
  ReportPredictionsDocument,
  UnlockMonitoringBatchDocument,
} from '../generated/graphql.js';
import { batchCounters, columnStats, countRows, deploymentSnapshot, serviceStats } from '../helpers/db.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { CSV, csv, expectedColumnStats, minuteRows, NDJSON, ndjson, regressionRows } from '../helpers/ingest-data.js';
import { answersOf, bulkPath, everyIngestRoute, LOCKED_MESSAGE, lockBatch, post } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// A locked batch accepts no predictions (C4): every ingest route refuses it whole (BatchLockedError,
// 409) and stores nothing, until it is unlocked. A lock racing with an ingest either comes after the
// whole ingest or refuses all of it: never part of one.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('lock and unlock', () => {
  it('locks and unlocks, idempotently', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    for (let i = 0; i < 2; i++) {
      expect((await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch).toMatchObject({
        batch: { isLocked: true },
      });
    }
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch?.isLocked).toBe(true);
    expect((await server.op(UnlockMonitoringBatchDocument, { id: batch.id })).unlockMonitoringBatch).toMatchObject({
      batch: { isLocked: false },
    });
  });
});

describe('a locked batch refuses predictions', () => {
  it('reportPredictions: refused whole, accepted again after unlocking', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(LockMonitoringBatchDocument, { id: batch.id });
    const refused = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(5) },
    });
    expect(refused.reportPredictions).toMatchObject({ __typename: 'BatchLockedError', message: expect.stringContaining('locked') });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id });
    const accepted = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(5) },
    });
    expect(accepted.reportPredictions).toMatchObject({ rowCount: 5 });
  });

  it('REST: 409 on every route, and nothing stored', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    expect((await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(5, 61)))).status).toBe(200);
    expect((await lockBatch(server, deployment.id, batch.id)).status).toBe(200);
    const before = await deploymentSnapshot(server, deployment.id);
    const got = await answersOf(everyIngestRoute(server, deployment.id, batch.id));
    for (const [route, answer] of Object.entries(got)) {
      expect(answer, route).toEqual({ status: 409, json: { message: LOCKED_MESSAGE, batchId: batch.id } });
    }
    // A big streamed upload to a locked batch is refused without reading it all.
    async function* endless() {
      const chunk = Buffer.from(ndjson(regressionRows(2000, 62)));
      for (let i = 0; i < 100; i++) yield chunk;
    }
    const streamed = await post(server, bulkPath(deployment.id, batch.id), endless());
    expect(streamed.status).toBe(409);
    expect(await deploymentSnapshot(server, deployment.id)).toEqual(before);
  });
});

describe('a lock racing with an ingest', () => {
  it('reportPredictions: either commits a whole ingest before a racing lock or refuses it whole, every time', async () => {
    const deployment = await createDeployment(server);
    for (let round = 0; round < 15; round++) {
      const batch = await createBatch(server, deployment.id);
      const [ingest] = await Promise.all([
        server.op(ReportPredictionsDocument, {
          input: { deploymentId: deployment.id, batchId: batch.id, rows: minuteRows(400, round + 100) },
        }),
        server.op(LockMonitoringBatchDocument, { id: batch.id }),
      ]);
      const stored = await countRows(server, 'predictions', 'batch_id', batch.id);
      if (ingest.reportPredictions.__typename === 'ReportPredictionsSuccess') expect(stored).toBe(400);
      else {
        expect(ingest.reportPredictions.__typename).toBe('BatchLockedError');
        expect(stored).toBe(0);
      }
      const [row] = await server.sql`select prediction_count from monitoring_batches where id = ${batch.id}`;
      expect(Number(row!.prediction_count)).toBe(stored);
    }
  });

  it('bulk upload: either stores a whole upload before the lock or refuses it whole with 409, 10 rounds', async () => {
    const deployment = await createDeployment(server);
    const outcomes: number[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = await createBatch(server, deployment.id);
      const rows = regressionRows(4000, 80 + round, `race-${round}-`);
      const body = round % 2 ? csv(rows, 'regression') : ndjson(rows);
      const [upload, lock] = await Promise.all([
        post(server, bulkPath(deployment.id, batch.id, '?executionTimeMs=3'), body, { contentType: round % 2 ? CSV : NDJSON }),
        sleep((round % 5) * 8).then(() => lockBatch(server, deployment.id, batch.id)),
      ]);
      expect(lock.status).toBe(200);
      expect(lock.json.isLocked).toBe(true);
      outcomes.push(upload.status);
      const stored = await countRows(server, 'predictions', 'batch_id', batch.id);
      if (upload.status === 200) {
        expect(upload.json).toMatchObject({ rowCount: 4000, predictionsCount: 4000 });
        expect(stored).toBe(4000);
        expect(await columnStats(server, batch.id)).toEqual(expectedColumnStats(rows, 'regression', deployment.modelId));
        expect(await serviceStats(server, batch.id)).toEqual([expect.objectContaining({ request_count: 1, prediction_count: 4000 })]);
      } else {
        expect(upload.status, JSON.stringify(upload.json)).toBe(409);
        expect(upload.json).toEqual({ message: LOCKED_MESSAGE, batchId: batch.id });
        expect(stored).toBe(0);
        expect(await countRows(server, 'batch_column_stats', 'batch_id', batch.id)).toBe(0);
        expect(await countRows(server, 'batch_service_stats', 'batch_id', batch.id)).toBe(0);
        expect(await countRows(server, 'batch_model_history', 'batch_id', batch.id)).toBe(0);
      }
      expect(await batchCounters(server, batch.id)).toMatchObject({ prediction_count: stored, is_locked: true });
      // Locked now, whatever happened: the next upload is refused.
      expect((await post(server, bulkPath(deployment.id, batch.id), ndjson(rows.slice(0, 1)))).status).toBe(409);
    }
    expect(outcomes.every((s) => s === 200 || s === 409)).toBe(true);
  });
});
