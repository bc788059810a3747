import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createTenant } from '../helpers/fixtures.js';
import { limitsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { REDIS_SERVER, systemPackage } from '../helpers/system-packages.js';
import { sleep } from '../helpers/time.js';
import { expectRateLimited, rateLimits } from './helpers.js';

// With REDIS_URL, the rate limits are counted in Redis (a real redis-server), across processes; when
// Redis goes away, each process counts in memory with the same budgets: still answers, still limits.

const redisServer = systemPackage(REDIS_SERVER);
const WINDOW = 5;
const LIMITS = rateLimits({ windowSeconds: WINDOW, restRequests: [3, 100] });

describe.runIf(redisServer)('rate limits in Redis', () => {
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
    server = await startTestServer({ redisUrl, rateLimits: LIMITS });
    other = await startTestServer({ redisUrl, rateLimits: LIMITS, databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
  });

  afterAll(async () => {
    await other?.stop();
    await server?.stop();
    redis?.kill();
  });

  it('counts a token across server processes, and nothing in PostgreSQL', async () => {
    const tenant = await createTenant(server);
    // A request far from its limit does not wait for its charge, which reaches the store within 50 ms.
    const read = async (on: TestServer) => {
      const answer = await on.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token });
      await sleep(150);
      return answer;
    };
    expect((await read(server)).status).toBe(200);
    expect((await read(other)).status).toBe(200);
    expect((await read(server)).status).toBe(200);
    expectRateLimited(await read(other), 'REST requests per token', 3, WINDOW);
    const [{ n }] = (await server.sql`select count(*)::int as n from rate_limits`) as unknown as [{ n: number }];
    expect(n).toBe(0);
  });

  it('keeps answering, and limiting, from memory while Redis is away', async () => {
    const tenant = await createTenant(server);
    const stranger = await createTenant(server);
    redis.kill();
    await new Promise((resolve) => redis.once('exit', resolve));
    for (let i = 0; i < 3; i++)
      expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
    expectRateLimited(
      await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token }),
      'REST requests per token',
      3,
      WINDOW,
    );
    // Another organization's token is not affected by the outage either.
    expect((await other.rest('GET', limitsPath(stranger.deploymentId), { token: stranger.token })).status).toBe(200);
  });
});
