import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';
import { BatchLiveDocument, LockMonitoringBatchDocument, ReportPredictionsDocument } from './generated/graphql.js';
import { createBatch, createDeployment } from './helpers/fixtures.js';
import { closeSockets, connect, watch } from './helpers/graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { REDIS_SERVER, systemPackage } from './helpers/system-packages.js';

// With REDIS_URL, live views travel over Redis pub/sub (a real redis-server) instead of NOTIFY.

const redisServer = systemPackage(REDIS_SERVER);

describe.runIf(redisServer)('live views over Redis', () => {
  let redis: ChildProcess;
  let server: TestServer;
  let other: TestServer;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      redis.once('error', (error) => reject(new Error(`redis-server could not start (${REDIS_SERVER.install}): ${error.message}`)));
      redis.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve());
    });
    const redisUrl = `redis://127.0.0.1:${port}`;
    server = await startTestServer({ redisUrl });
    other = await startTestServer({ redisUrl, databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
  });

  afterAll(async () => {
    await closeSockets();
    await other?.stop();
    await server?.stop();
    redis?.kill();
  });

  it('delivers changes made through another instance, and never NOTIFYs PostgreSQL', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const sub = watch(connect(server), BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.predictionCount === 0);
    server.statements.length = 0;
    other.statements.length = 0;
    await other.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: {}, prediction: 1 }] } },
      server.adminToken,
    );
    await sub.until((m) => m.monitoringBatch.predictionCount === 1);
    await other.op(LockMonitoringBatchDocument, { id: batch.id }, server.adminToken);
    await sub.until((m) => m.monitoringBatch.isLocked);
    expect([...server.statements, ...other.statements].filter((q) => q.includes('pg_notify'))).toEqual([]);
    await sub.stop();
    await sub.done;
  });
});
