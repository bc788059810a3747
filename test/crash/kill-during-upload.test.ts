// Crash safety (issue 13): a server killed with SIGKILL in the middle of a 1,000,000-row bulk upload.
// The upload is one transaction: after the restart none of its rows is visible, and every count,
// aggregate and quota figure agrees with the rows that are there.
import { afterAll, describe, expect, it } from 'vitest';
import { DataDriftDocument, DeploymentBatchesDocument, MonitoringBatchDocument, ServiceHealthDocument } from '../generated/graphql.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { runOperation } from '../helpers/graphql.js';
import { ndjsonChunks } from '../helpers/ingest-data.js';
import { connectTo, newToken, ServerProcess, stopProcesses } from '../helpers/processes.js';
import { bulkPath, post } from '../helpers/rest.js';
import { createTestDatabase } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

afterAll(stopProcesses);

const ROWS = 1_000_000;
/** The server is killed once this many rows of the upload were handed to the socket. */
const KILL_AFTER = 250_000;

describe('kill -9 during a bulk upload', () => {
  it(`none of a ${ROWS.toLocaleString('en')}-row upload cut short by SIGKILL is stored; every figure matches the rows present`, async () => {
    const databaseUrl = await createTestDatabase();
    const token = newToken();
    const first = await ServerProcess.spawn({ databaseUrl, token });
    await first.ready();
    const sql = connectTo(databaseUrl);
    const endpoint = { url: first.url, adminToken: token };
    const deployment = await createDeployment(endpoint);
    const kept = await createBatch(endpoint, deployment.id);
    const target = await createBatch(endpoint, deployment.id);
    expect((await post(endpoint, bulkPath(deployment.id, kept.id), ndjsonChunks(1000))).status).toBe(200);
    expect((await post(endpoint, bulkPath(deployment.id, target.id), ndjsonChunks(500, 1000))).status).toBe(200);

    // The big upload streams (10,000 rows a chunk, at the pace the server reads); SIGKILL once
    // KILL_AFTER rows are out and PostgreSQL is seen copying them.
    let sent = 0;
    let killedAt = 0;
    async function* body() {
      for await (const chunk of ndjsonChunks(ROWS, 10_000)) {
        yield chunk;
        sent += 10_000;
        if (sent >= KILL_AFTER && !killedAt) {
          const [copying] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'copy%' and state = 'active'`;
          if (copying!.n > 0) {
            killedAt = sent;
            first.kill();
            return;
          }
        }
      }
    }
    const started = Date.now();
    const upload = await post(endpoint, bulkPath(deployment.id, target.id), body()).catch((error: Error) => error);
    await first.exited;
    console.log(
      `kill -9 after ${killedAt.toLocaleString('en')} of ${ROWS.toLocaleString('en')} rows were sent (${Date.now() - started} ms)`,
    );
    expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(upload).toBeInstanceOf(Error); // no answer: the server died

    // PostgreSQL notices the dead connection and rolls the COPY back.
    for (let waited = 0; ; waited += 100) {
      const [open] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`;
      if (open!.n === 0) break;
      if (waited > 20_000) throw new Error('the killed server’s transaction is still open');
      await sleep(100);
    }

    const rolledBack = Date.now();
    const second = await ServerProcess.spawn({ databaseUrl, token });
    await second.ready();
    console.log(`rolled back ${rolledBack - started} ms after the upload began; restarted in ${Date.now() - rolledBack} ms`);
    const again = { url: second.url, adminToken: token };
    const count = async (batchId: string) =>
      (
        await sql<
          { n: number }[]
        >`select count(*)::int as n from predictions where batch_key = (select key from monitoring_batches where id = ${batchId})`
      )[0]!.n;
    expect(await count(kept.id)).toBe(1000);
    expect(await count(target.id)).toBe(500); // none of the cut upload's rows

    for (const [batchId, rows] of [
      [kept.id, 1000],
      [target.id, 500],
    ] as const) {
      const { monitoringBatch } = await runOperation(again, MonitoringBatchDocument, { id: batchId });
      expect(monitoringBatch?.predictionCount).toBe(rows);
      const [stored] = await sql<{ count: number; stats: number }[]>`
        select b.prediction_count::int as count,
          (select coalesce(sum(s.prediction_count), 0)::int from batch_service_stats s where s.batch_id = b.id) as stats
        from monitoring_batches b where b.id = ${batchId}`;
      expect(stored).toEqual({ count: rows, stats: rows });
      const health = await runOperation(again, ServiceHealthDocument, { id: deployment.id, batches: { batchIds: [batchId] } });
      expect(health.deployment?.serviceHealth.totalPredictions).toBe(rows);
      const drift = await runOperation(again, DataDriftDocument, { id: deployment.id, batches: { batchIds: [batchId] } });
      for (const feature of drift.deployment!.dataDrift.features) {
        expect(feature.sampleSize, feature.name).toBe(rows); // every row has age and city
      }
    }
    const all = await runOperation(again, ServiceHealthDocument, { id: deployment.id, batches: { batchIds: [kept.id, target.id] } });
    expect(all.deployment?.serviceHealth.totalPredictions).toBe(1500);
    // The quota counts the batches created: two, as the table holds.
    const batches = await runOperation(again, DeploymentBatchesDocument, { deploymentId: deployment.id, first: 10 });
    const [created] = await sql<{ n: number }[]>`select count(*)::int as n from monitoring_batches where deployment_id = ${deployment.id}`;
    expect(batches.deployment?.batchQuota.used).toBe(2);
    expect(batches.deployment?.batches.totalCount).toBe(created!.n);
    expect(created!.n).toBe(2);

    // Nothing is left locked: the same batch takes the next upload.
    const next = await post(again, bulkPath(deployment.id, target.id), ndjsonChunks(100, 5000));
    expect(next.status, JSON.stringify(next.json)).toBe(200);
    expect(await count(target.id)).toBe(600);
    await second.terminate();
  }, 90_000); // ~50 s on a busy 2-core machine, most of it two server starts
});
