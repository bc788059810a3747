import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createTenant, createUser } from '../helpers/fixtures.js';
import { actualsPath, bulkPath, inputsPath, limitsPath, post, postJson, requestsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';
import { expectRateLimited, rateLimits } from './helpers.js';

// REST rate limits per route class (REST requests, ingest requests, ingest rows), per token and per
// organization, counted in PostgreSQL across server processes. Every test works with tokens of an
// organization of its own, so budgets never carry over from another test.

const WINDOW = 4;
const LIMITS = rateLimits({ windowSeconds: WINDOW, restRequests: [3, 5], ingestRequests: [3, 5], ingestRows: [100, 150] });

let server: TestServer;
/** A second server process on the same database. */
let other: TestServer;

beforeAll(async () => {
  server = await startTestServer({ rateLimits: LIMITS });
  other = await startTestServer({ rateLimits: LIMITS, databaseUrl: server.app.databaseUrl, bootstrapToken: server.adminToken });
});
afterAll(async () => {
  await other?.stop();
  await server?.stop();
});

const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ features: { age: from + i, city: 'Oslo' }, prediction: 1 }));
const ndjson = (n: number) =>
  `${rows(n)
    .map((row) => JSON.stringify(row))
    .join('\n')}\n`;

describe('REST requests', () => {
  it('answers 429 with Retry-After naming the limit once a token used its budget, and again after the window', async () => {
    const tenant = await createTenant(server);
    for (let i = 0; i < 3; i++)
      expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
    const refused = await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token });
    const retryAfter = expectRateLimited(refused, 'REST requests per token', 3, WINDOW);
    // A write of another class is not a REST request: ingest still has its budget.
    const ingest = await postJson(server, requestsPath(tenant.deploymentId), { numPredictions: 1 }, { token: tenant.token });
    expect(ingest.status).toBe(202);
    await sleep(retryAfter * 1000 + 100);
    expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
  });

  it('shares the organization budget between its tokens; another organization is unaffected', async () => {
    const tenant = await createTenant(server);
    const second = await createUser(server, tenant.token, 'second');
    const stranger = await createTenant(server);
    for (let i = 0; i < 3; i++)
      expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
    expectRateLimited(
      await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token }),
      'REST requests per token',
      3,
      WINDOW,
    );
    // 4 of the organization's 5 are used (the refused request counts: it was made).
    expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: second.secret })).status).toBe(200);
    expectRateLimited(
      await server.rest('GET', limitsPath(tenant.deploymentId), { token: second.secret }),
      'REST requests per organization',
      5,
      WINDOW,
    );
    for (let i = 0; i < 3; i++)
      expect((await server.rest('GET', limitsPath(stranger.deploymentId), { token: stranger.token })).status).toBe(200);
  });

  it('counts a token across server processes on one database', async () => {
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
    // Counted in one row per key (token and organization ids; never the token's secret).
    const [organization] =
      await server.sql`select points from rate_limits where key = ${`restRequests:organization:${tenant.organizationId}`}`;
    expect(organization!.points).toBe('4');
    const secrets = await server.sql`select key from rate_limits where strpos(key, ${tenant.token}) > 0`;
    expect(secrets).toHaveLength(0);
  });
});

describe('ingest requests', () => {
  it('are a class of their own: 429 after the budget, while reads go on', async () => {
    const tenant = await createTenant(server);
    for (let i = 0; i < 3; i++) {
      expect((await postJson(server, requestsPath(tenant.deploymentId), { numPredictions: 1 }, { token: tenant.token })).status).toBe(202);
    }
    const refused = await postJson(server, requestsPath(tenant.deploymentId), { numPredictions: 1 }, { token: tenant.token });
    expectRateLimited(refused, 'ingest requests per token', 3, WINDOW);
    expect((await server.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
  });
});

describe('ingest rows', () => {
  it('refuses a JSON report whose rows exceed what is left, storing none of them', async () => {
    const tenant = await createTenant(server);
    const batch = await createBatch(server, tenant.deploymentId, 'rows', tenant.token);
    const first = await postJson(server, inputsPath(tenant.deploymentId), { batchId: batch.id, data: rows(60) }, { token: tenant.token });
    expect(first.status).toBe(202);
    const refused = await postJson(
      server,
      inputsPath(tenant.deploymentId),
      { batchId: batch.id, data: rows(60, 60) },
      { token: tenant.token },
    );
    expectRateLimited(refused, 'ingest rows per token', 100, WINDOW);
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(60);
  });

  it('refuses a streamed upload that runs out of budget, storing nothing of it, and counts actuals as rows', async () => {
    const tenant = await createTenant(server);
    const batch = await createBatch(server, tenant.deploymentId, 'bulk', tenant.token);
    const refused = await post(server, bulkPath(tenant.deploymentId, batch.id), ndjson(101), { token: tenant.token });
    expectRateLimited(refused, 'ingest rows per token', 100, WINDOW);
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    const [stored] = await server.sql`select prediction_count from monitoring_batches where id = ${batch.id}`;
    expect(stored!.prediction_count).toBe('0');
    // The token's 101 rows are charged; actuals are rows too.
    const actuals = await postJson(
      server,
      actualsPath(tenant.deploymentId),
      { data: [{ associationId: 'a', actualValue: 1 }] },
      { token: tenant.token },
    );
    expectRateLimited(actuals, 'ingest rows per token', 100, WINDOW);
    expect(await countRows(server, 'actuals', 'deployment_id', tenant.deploymentId)).toBe(0);
  });

  it('lets an upload within the budget through', async () => {
    const tenant = await createTenant(server);
    const batch = await createBatch(server, tenant.deploymentId, 'fits', tenant.token);
    const answer = await post(server, bulkPath(tenant.deploymentId, batch.id), ndjson(100), { token: tenant.token });
    expect(answer.status).toBe(200);
    expect(answer.json.rowCount).toBe(100);
  });
});

describe('settings', () => {
  it('reads BATCHLENS_RATE_LIMITS and the budgets, naming a bad value', () => {
    const config = loadConfig({
      BATCHLENS_RATE_LIMITS: 'off',
      BATCHLENS_RATE_LIMIT_WINDOW_SECONDS: '10',
      BATCHLENS_RATE_LIMIT_INGEST_ROWS_PER_TOKEN: '5',
    });
    expect(config.rateLimits).toMatchObject({ enabled: false, windowSeconds: 10, ingestRows: { perToken: 5, perOrganization: 10 } });
    expect(loadConfig({}).rateLimits.enabled).toBe(true);
    expect(() => loadConfig({ BATCHLENS_RATE_LIMITS: 'maybe' })).toThrow('BATCHLENS_RATE_LIMITS must be on or off, got "maybe"');
    expect(() => loadConfig({ BATCHLENS_RATE_LIMIT_GRAPHQL_COST_PER_ORGANIZATION: '0' })).toThrow(
      'BATCHLENS_RATE_LIMIT_GRAPHQL_COST_PER_ORGANIZATION must be an integer ≥ 1, got "0"',
    );
  });

  it('with the switch off, nothing is limited and nothing is counted', async () => {
    const off = await startTestServer({ rateLimits: { ...LIMITS, enabled: false } });
    try {
      const tenant = await createTenant(off);
      for (let i = 0; i < 5; i++)
        expect((await off.rest('GET', limitsPath(tenant.deploymentId), { token: tenant.token })).status).toBe(200);
      const [{ n }] = (await off.sql`select count(*)::int as n from rate_limits`) as unknown as [{ n: number }];
      expect(n).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
