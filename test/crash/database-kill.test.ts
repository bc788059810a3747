// Crash safety (issue 13): PostgreSQL killed with SIGKILL and started again while a server process is
// under load (uploads, queries, a live subscription). Every acknowledged write is there afterwards,
// an unacknowledged one is all there or not at all, nothing answers a bare 500, the server answers
// again within 2 s of PostgreSQL being back, and the subscription resumes with the current state.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { BatchLiveDocument, DeploymentBatchesDocument } from '../generated/graphql.js';
import { makeDataDir } from '../helpers/crash.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { requestGraphQL } from '../helpers/graphql.js';
import { closeSockets, connect, watch } from '../helpers/graphql-ws.js';
import { ndjsonChunks } from '../helpers/ingest-data.js';
import { connectTo, newToken, ServerProcess, stopProcesses } from '../helpers/processes.js';
import { batchesPath, bulkPath, post } from '../helpers/rest.js';
import { sleep } from '../helpers/time.js';

const DATABASE = 'batchlens';
const dataDir = makeDataDir('pg-kill');
let pgPort: number;
let pg: EmbeddedDatabase | undefined;
let server: ServerProcess;
const token = newToken();

beforeAll(async () => {
  pgPort = await freePort();
  pg = await startEmbeddedPostgres({ dataDir, database: DATABASE, port: pgPort });
  await runMigrations(pg.url);
  server = await ServerProcess.spawn({ databaseUrl: pg.url, token });
  await server.ready();
});

afterAll(async () => {
  await closeSockets();
  await stopProcesses();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts PostgreSQL again on the same data directory (its old backends may take a moment to go). */
async function restartPostgres(): Promise<EmbeddedDatabase> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEmbeddedPostgres({ dataDir, database: DATABASE, port: pgPort });
    } catch (error) {
      if (attempt >= 40) throw error;
      await sleep(100);
    }
  }
}

describe('PostgreSQL killed under load', () => {
  it('loses no acknowledged write, half-stores nothing, answers 503 (never 500) while it is away and again within 2 s of its return', async () => {
    const endpoint = { url: server.url, adminToken: token };
    const deployment = await createDeployment(endpoint);
    const watched = await createBatch(endpoint, deployment.id);
    const sub = watch(connect(endpoint, token, { retry: true }), BatchLiveDocument, { id: watched.id });
    await sub.until((b) => b.monitoringBatch.predictionCount === 0);

    const ROWS = 2000;
    const statuses = new Map<string, number>(); // "<what> <status>" → how many
    const note = (what: string, status: number | string) => statuses.set(`${what} ${status}`, (statuses.get(`${what} ${status}`) ?? 0) + 1);
    const created: string[] = []; // batches whose creation was acknowledged
    const uploaded: string[] = []; // … and whose upload of ROWS rows was acknowledged
    let watchedAcknowledged = 0;
    let watchedSent = 0;
    let running = true;

    async function writer(n: number) {
      for (let i = 0; running; i++) {
        try {
          const response = await fetch(`${server.url}${batchesPath(deployment.id)}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ batchName: `w${n}-${i}` }),
          });
          note('create', response.status);
          const body = (await response.json()) as { id?: string };
          if (response.status !== 201) {
            await sleep(50);
            continue;
          }
          created.push(body.id!);
          const upload = await post(endpoint, bulkPath(deployment.id, body.id!), ndjsonChunks(ROWS, i * ROWS));
          note('upload', upload.status);
          if (upload.status === 200) uploaded.push(body.id!);
          watchedSent += 10;
          const small = await post(endpoint, bulkPath(deployment.id, watched.id), ndjsonChunks(10, 1_000_000 + i * 10 + n * 100_000));
          note('upload', small.status);
          if (small.status === 200) watchedAcknowledged += 10;
        } catch (error) {
          note('network error', (error as Error).message);
          await sleep(50);
        }
      }
    }
    async function reader() {
      while (running) {
        try {
          const answer = await requestGraphQL(endpoint, DeploymentBatchesDocument, { deploymentId: deployment.id, first: 5 });
          note('query', `${answer.status}${answer.errors ? ` ${answer.errors.map((e) => e.extensions?.code).join(',')}` : ''}`);
        } catch (error) {
          note('network error', (error as Error).message);
        }
        await sleep(20);
      }
    }
    const load = [writer(1), writer(2), reader()];
    await sleep(2000);

    // SIGKILL of the postmaster: no shutdown, no checkpoint; its backends die with it.
    const postmaster = Number((await import('node:fs')).readFileSync(`${dataDir}/pg/postmaster.pid`, 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await pg!.stop();
    pg = undefined;
    await sleep(1500); // the load meets a database that is away
    const createdBefore = created.length;
    pg = await restartPostgres(); // crash recovery from the WAL, then "ready to accept connections"
    const back = Date.now();
    let healthyAfter = -1;
    let queryAfter = -1;
    while (healthyAfter < 0 || queryAfter < 0) {
      if (Date.now() - back > 10_000) break;
      if (healthyAfter < 0) {
        const health = await fetch(`${server.url}/healthz`).catch(() => undefined);
        if (health?.status === 200) healthyAfter = Date.now() - back;
      }
      if (queryAfter < 0) {
        const answer = await requestGraphQL(endpoint, DeploymentBatchesDocument, { deploymentId: deployment.id, first: 1 }).catch(
          () => undefined,
        );
        if (answer?.status === 200 && !answer.errors) queryAfter = Date.now() - back;
      }
      await sleep(20);
    }
    await sleep(2000); // the load goes on against the restarted database
    running = false;
    await Promise.all(load);
    console.log(
      `PostgreSQL SIGKILL under load: /healthz 200 ${healthyAfter} ms and a GraphQL query ${queryAfter} ms after PostgreSQL was back; answers: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(server.exit, server.output()).toBeUndefined();
    expect(healthyAfter, '/healthz 200 after PostgreSQL is back (ms)').toBeGreaterThanOrEqual(0);
    expect(healthyAfter).toBeLessThan(2000);
    expect(queryAfter, 'a query answered after PostgreSQL is back (ms)').toBeGreaterThanOrEqual(0);
    expect(queryAfter).toBeLessThan(2000);
    expect(created.length).toBeGreaterThan(createdBefore); // writes go on after the restart

    // Nothing but acknowledgements and 503s: never a 500 (a client may see its connection cut).
    for (const key of statuses.keys()) {
      expect(key, `an answer under load: ${key}`).toMatch(
        /^(create 201|upload 200|query 200|(create|upload) 503|query 503 DATABASE_UNAVAILABLE|network error .*)$/,
      );
    }
    expect([...statuses.keys()].some((key) => key.includes('503'))).toBe(true);

    const sql = connectTo(pg.url);
    const stored = new Map(
      (
        await sql<{ id: string; prediction_count: number; rows: number }[]>`
          select b.id, b.prediction_count::int as prediction_count, (select count(*)::int from predictions p where p.batch_key = b.key) as rows
          from monitoring_batches b where b.deployment_id = ${deployment.id}`
      ).map((row) => [row.id, row]),
    );
    for (const id of created) expect(stored.has(id), `acknowledged batch ${id}`).toBe(true);
    for (const id of uploaded) expect(stored.get(id)?.rows, `acknowledged upload into ${id}`).toBe(ROWS);
    for (const [id, row] of stored) {
      if (id === watched.id) continue;
      expect([0, ROWS], `batch ${id}: all of its upload or none`).toContain(row.rows);
      expect(row.prediction_count, `batch ${id}: its count is its rows`).toBe(row.rows);
    }
    const watchedRow = stored.get(watched.id)!;
    expect(watchedRow.prediction_count).toBe(watchedRow.rows);
    expect(watchedRow.rows % 10).toBe(0);
    expect(watchedRow.rows).toBeGreaterThanOrEqual(watchedAcknowledged);
    expect(watchedRow.rows).toBeLessThanOrEqual(watchedSent);

    // The subscription opened before the kill follows the current state.
    const final = await post(endpoint, bulkPath(deployment.id, watched.id), ndjsonChunks(7, 5_000_000));
    expect(final.status).toBe(200);
    const resumed = await sub.until((b) => b.monitoringBatch.predictionCount === watchedRow.rows + 7, 5000);
    expect(resumed.data.monitoringBatch.predictionCount).toBe(watchedRow.rows + 7);
    expect(server.exit).toBeUndefined();
    expect(server.stderr).not.toContain('unexpected error');
  }, 90_000);
});
