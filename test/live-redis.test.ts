import { type ChildProcess, spawn } from 'node:child_process';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../src/db/embedded.js';
import { LockMonitoringBatchDocument, ReportPredictionsDocument } from './generated/graphql.js';
import { createBatch, createDeployment } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// With REDIS_URL, live views travel over Redis pub/sub (a real redis-server) instead of NOTIFY.

let redis: ChildProcess;
let server: TestServer;
let other: TestServer;
let client: Client;

beforeAll(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    redis.once('error', (error) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${error.message}`)));
    redis.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve());
  });
  const redisUrl = `redis://127.0.0.1:${port}`;
  server = await startTestServer({ redisUrl });
  other = await startTestServer({ redisUrl, databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
  client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${server.adminToken}` },
    retryAttempts: 0,
  });
});

afterAll(async () => {
  await client?.dispose();
  await other?.stop();
  await server?.stop();
  redis?.kill();
});

describe('live views over Redis', () => {
  it('delivers changes made through another instance, and never NOTIFYs PostgreSQL', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const seen: { predictionCount: number; isLocked: boolean }[] = [];
    const iterator = client.iterate<{ monitoringBatch: { predictionCount: number; isLocked: boolean } }>({
      query: 'subscription($id: ID!) { monitoringBatch(id: $id) { predictionCount isLocked } }',
      variables: { id: batch.id },
    });
    const reading = (async () => {
      for await (const result of iterator) {
        if (result.data) seen.push(result.data.monitoringBatch);
      }
    })();
    const until = async (predicate: (s: { predictionCount: number; isLocked: boolean }) => boolean) => {
      const deadline = Date.now() + 5000;
      while (!seen.some(predicate)) {
        if (Date.now() > deadline) throw new Error(`not seen: ${JSON.stringify(seen)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await until((s) => s.predictionCount === 0);
    server.statements.length = 0;
    other.statements.length = 0;
    await other.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: {}, prediction: 1 }] } },
      server.adminToken,
    );
    await until((s) => s.predictionCount === 1);
    await other.op(LockMonitoringBatchDocument, { id: batch.id }, server.adminToken);
    await until((s) => s.isLocked);
    expect([...server.statements, ...other.statements].filter((q) => q.includes('pg_notify'))).toEqual([]);
    await iterator.return?.();
    await reading;
  });
});
