import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateApiTokenDocument,
  CreateUserDocument,
  DeploymentDocument,
  MonitoringBatchDocument,
  RevokeApiTokenDocument,
  ViewerDocument,
} from './generated/graphql.js';
import {
  BATCH_NOT_FOUND,
  createDeployment,
  createOrganization,
  DEPLOYMENT_NOT_FOUND,
  MISSING_BATCH,
  MISSING_DEPLOYMENT,
} from './helpers/fixtures.js';
import { type RestAnswer, startTestServer, type TestServer } from './helpers/server.js';

// The DataRobot-compatible REST routes (C13, the batch part), over real HTTP against a real
// database: POST/GET .../monitoringBatches/, GET/PATCH/DELETE .../monitoringBatches/{batchId}/,
// GET .../monitoringBatchLimits/ and PATCH .../settings/.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const batchesPath = (deploymentId: string) => `/api/v2/deployments/${deploymentId}/monitoringBatches/`;
const batchPath = (deploymentId: string, batchId: string) => `${batchesPath(deploymentId)}${batchId}/`;
const limitsPath = (deploymentId: string) => `/api/v2/deployments/${deploymentId}/monitoringBatchLimits/`;
const settingsPath = (deploymentId: string) => `/api/v2/deployments/${deploymentId}/settings/`;

/** A tenant with a batch-enabled deployment; `token` is its admin's. */
async function tenant(dailyBatchLimit: number | null = 100) {
  const org = await createOrganization(server, dailyBatchLimit);
  const deployment = await createDeployment(server, org.token);
  return { ...org, deploymentId: deployment.id };
}

/** Rows in monitoring_batches for a deployment, deleted or not: what the database holds. */
async function storedBatches(deploymentId: string): Promise<number> {
  const [row] = await server.sql<{ n: number }[]>`select count(*)::int as n from monitoring_batches where deployment_id = ${deploymentId}`;
  return row!.n;
}

async function quotaUsed(deploymentId: string, token: string): Promise<number> {
  const answer = await server.rest('GET', limitsPath(deploymentId), { token });
  expect(answer.status).toBe(200);
  return answer.json.used;
}

async function postBatch(deploymentId: string, token: string, body: unknown): Promise<RestAnswer> {
  return server.rest('POST', batchesPath(deploymentId), { token, body });
}

/** Creates a batch over REST and returns its JSON. */
async function createRestBatch(deploymentId: string, token: string, body: Record<string, unknown>) {
  const answer = await postBatch(deploymentId, token, body);
  expect(answer.status, JSON.stringify(answer.json)).toBe(201);
  return answer.json;
}

/** The next UTC midnight after `now`, as the quota's reset time. */
function nextUtcMidnight(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}

/** The request a `next` / `previous` link names, relative to the server. */
function relative(link: string): string {
  expect(link.startsWith(server.url)).toBe(true);
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
}

describe('POST /monitoringBatches/', () => {
  it('answers 201 with the batch in DataRobot field names', async () => {
    const { token, deploymentId, adminId } = await tenant();
    const { viewer } = await server.op(ViewerDocument, {}, token);
    const before = Date.now();
    const answer = await postBatch(deploymentId, token, {
      batchName: '  Nightly scoring 2024-06-01  ',
      description: 'Rows scored by the nightly job',
      externalContextUrl: 'https://ci.example.com/jobs/nightly/42',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const batch = answer.json;
    expect(batch).toEqual({
      id: expect.stringMatching(/^mb_[0-9a-f]{24}$/),
      deploymentId,
      batchName: 'Nightly scoring 2024-06-01',
      description: 'Rows scored by the nightly job',
      externalContextUrl: 'https://ci.example.com/jobs/nightly/42',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      createdBy: { id: adminId, name: viewer.name },
      isLocked: false,
      earliestPredictionTimestamp: null,
      latestPredictionTimestamp: null,
      predictionsCount: 0,
    });
    expect(Math.abs(Date.parse(batch.createdAt) - before)).toBeLessThan(10_000);

    // The same batch, under the same id, through GraphQL and in the database.
    const { monitoringBatch } = await server.op(MonitoringBatchDocument, { id: batch.id }, token);
    expect(monitoringBatch).toMatchObject({ id: batch.id, name: 'Nightly scoring 2024-06-01', createdAt: batch.createdAt });
    const [row] = await server.sql`select name, description, external_url, deployment_id from monitoring_batches where id = ${batch.id}`;
    expect(row).toEqual({
      name: 'Nightly scoring 2024-06-01',
      description: 'Rows scored by the nightly job',
      external_url: 'https://ci.example.com/jobs/nightly/42',
      deployment_id: deploymentId,
    });
  });

  it('accepts and ignores the DataRobot-Key header', async () => {
    const { token, deploymentId } = await tenant();
    const withKey = await server.rest('POST', batchesPath(deploymentId), {
      token,
      body: { batchName: 'with key' },
      headers: { 'DataRobot-Key': '544ec55f-61bf-f6ee-0caf-15c7f919a45d' },
    });
    const withoutKey = await postBatch(deploymentId, token, { batchName: 'without key' });
    expect(withKey.status).toBe(201);
    expect(withoutKey.status).toBe(201);
    expect(withKey.json.batchName).toBe('with key');
    const listed = await server.rest('GET', batchesPath(deploymentId), { token, headers: { 'DataRobot-Key': 'anything' } });
    expect(listed.status).toBe(200);
    expect(listed.json.totalCount).toBe(2);
  });

  it('takes the path with or without its trailing slash', async () => {
    const { token, deploymentId } = await tenant();
    const noSlash = await server.rest('POST', batchesPath(deploymentId).replace(/\/$/, ''), { token, body: { batchName: 'no slash' } });
    expect(noSlash.status).toBe(201);
    expect(noSlash.json.batchName).toBe('no slash');
    const one = await server.rest('GET', batchPath(deploymentId, noSlash.json.id).replace(/\/$/, ''), { token });
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(noSlash.json.id);
    const limits = await server.rest('GET', limitsPath(deploymentId).replace(/\/$/, ''), { token });
    expect(limits.json.used).toBe(1);
  });

  it('stores null for an omitted, null or empty description and externalContextUrl', async () => {
    const { token, deploymentId } = await tenant();
    const omitted = await createRestBatch(deploymentId, token, { batchName: 'omitted' });
    const nulls = await createRestBatch(deploymentId, token, { batchName: 'nulls', description: null, externalContextUrl: null });
    const empty = await createRestBatch(deploymentId, token, { batchName: 'empty', description: '', externalContextUrl: '' });
    for (const batch of [omitted, nulls, empty]) {
      expect(batch).toMatchObject({ description: null, externalContextUrl: null });
    }
  });

  it('accepts a name of 512 characters after trimming, a 10,000-character description and an http URL', async () => {
    const { token, deploymentId } = await tenant();
    const name = 'n'.repeat(512);
    const batch = await createRestBatch(deploymentId, token, {
      batchName: `   ${name}   `,
      description: 'd'.repeat(10_000),
      externalContextUrl: 'http://localhost:8080/run?id=7#rows',
    });
    expect(batch.batchName).toBe(name);
    expect(batch.description).toHaveLength(10_000);
    expect(batch.externalContextUrl).toBe('http://localhost:8080/run?id=7#rows');
  });

  it('ignores JSON fields it does not know', async () => {
    const { token, deploymentId } = await tenant();
    const batch = await createRestBatch(deploymentId, token, { batchName: 'extra fields', somethingElse: 1, id: MISSING_BATCH });
    expect(batch.batchName).toBe('extra fields');
    expect(batch.id).not.toBe(MISSING_BATCH);
    expect(batch).not.toHaveProperty('somethingElse');
  });
});

describe('POST /monitoringBatches/ with invalid input', () => {
  const invalid: [string, unknown, Record<string, string | RegExp>][] = [
    ['an empty batchName', { batchName: '' }, { batchName: 'must not be empty' }],
    ['a batchName of blanks only', { batchName: '   \t ' }, { batchName: 'must not be empty' }],
    ['a 513-character batchName', { batchName: 'x'.repeat(513) }, { batchName: 'must be at most 512 characters' }],
    ['a null batchName', { batchName: null }, { batchName: 'must not be null' }],
    ['no batchName', { description: 'only a description' }, { batchName: 'is required' }],
    ['a numeric batchName', { batchName: 42 }, { batchName: 'must be a string' }],
    ['a boolean batchName', { batchName: true }, { batchName: 'must be a string' }],
    ['an array batchName', { batchName: ['a'] }, { batchName: 'must be a string' }],
    ['an object batchName', { batchName: { name: 'a' } }, { batchName: 'must be a string' }],
    ['a NUL character in batchName', { batchName: 'before\u0000after' }, { batchName: /NUL/ }],
    [
      'a 10,001-character description',
      { batchName: 'ok', description: 'd'.repeat(10_001) },
      { description: 'must be at most 10000 characters' },
    ],
    ['a numeric description', { batchName: 'ok', description: 7 }, { description: 'must be a string' }],
    ['a NUL character in description', { batchName: 'ok', description: 'a\u0000' }, { description: /NUL/ }],
    [
      'an ftp:// externalContextUrl',
      { batchName: 'ok', externalContextUrl: 'ftp://files.example.com/run.csv' },
      { externalContextUrl: 'must be an absolute http:// or https:// URL' },
    ],
    [
      'a relative externalContextUrl',
      { batchName: 'ok', externalContextUrl: '/jobs/42' },
      { externalContextUrl: 'must be an absolute http:// or https:// URL' },
    ],
    [
      'a javascript: externalContextUrl',
      { batchName: 'ok', externalContextUrl: 'javascript:alert(1)' },
      { externalContextUrl: 'must be an absolute http:// or https:// URL' },
    ],
    [
      'a word for externalContextUrl',
      { batchName: 'ok', externalContextUrl: 'not a url' },
      { externalContextUrl: 'must be an absolute http:// or https:// URL' },
    ],
    ['a numeric externalContextUrl', { batchName: 'ok', externalContextUrl: 12 }, { externalContextUrl: 'must be a string' }],
    [
      'a 2,049-character externalContextUrl',
      { batchName: 'ok', externalContextUrl: `https://x.example/${'a'.repeat(2031)}` },
      { externalContextUrl: 'must be at most 2048 characters' },
    ],
    ['a JSON array body', [{ batchName: 'in an array' }], { body: 'must be a JSON object' }],
    ['a JSON string body', 'batchName', { body: 'must be a JSON object' }],
    ['a JSON null body', null, { body: 'must be a JSON object' }],
    ['a JSON number body', 5, { body: 'must be a JSON object' }],
  ];

  it.each(invalid)('answers 422 naming the field for %s, and stores nothing', async (_case, body, errors) => {
    const { token, deploymentId } = await tenant();
    const answer = await server.rest('POST', batchesPath(deploymentId), {
      token,
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(/^Invalid input: /);
    expect(Object.keys(answer.json.errors)).toEqual(Object.keys(errors));
    for (const [field, message] of Object.entries(errors)) {
      if (typeof message === 'string') expect(answer.json.errors[field]).toBe(message);
      else expect(answer.json.errors[field]).toMatch(message);
      expect(answer.json.message).toContain(field);
    }
    expect(await storedBatches(deploymentId)).toBe(0);
    expect(await quotaUsed(deploymentId, token)).toBe(0);
  });

  it('names every field at fault in one answer', async () => {
    const { token, deploymentId } = await tenant();
    const answer = await postBatch(deploymentId, token, {
      batchName: '',
      description: 'd'.repeat(10_001),
      externalContextUrl: 'ftp://example.com',
    });
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors).sort()).toEqual(['batchName', 'description', 'externalContextUrl']);
    expect(await storedBatches(deploymentId)).toBe(0);
  });

  it('costs no quota, even when the day has one batch left', async () => {
    const { token, deploymentId } = await tenant(1);
    for (const body of [{ batchName: '' }, { batchName: 'ok', externalContextUrl: 'ftp://x' }, []]) {
      expect((await postBatch(deploymentId, token, body)).status).toBe(422);
    }
    expect(await server.rest('GET', limitsPath(deploymentId), { token }).then((a) => a.json)).toMatchObject({ used: 0, remaining: 1 });
    expect((await postBatch(deploymentId, token, { batchName: 'the one' })).status).toBe(201);
  });
});

describe('malformed request bodies', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ maxBodyBytes: 1024 });
  });
  afterAll(async () => {
    await small?.stop();
  });

  it('answers 400 for a body that is not valid JSON', async () => {
    const { token, deploymentId } = await tenant();
    for (const rawBody of ['{"batchName": ', "{'batchName': 'single quotes'}", '{"batchName": "a",}', 'batchName=a']) {
      const answer = await server.rest('POST', batchesPath(deploymentId), {
        token,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.status, rawBody).toBe(400);
      expect(answer.json.message).toMatch(/^Request body is not valid JSON/);
    }
    expect(await storedBatches(deploymentId)).toBe(0);
  });

  it('answers 415 for JSON text sent as text/plain or a form', async () => {
    const { token, deploymentId } = await tenant();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const answer = await server.rest('POST', batchesPath(deploymentId), {
        token,
        rawBody: JSON.stringify({ batchName: 'typed wrong' }),
        headers: { 'content-type': type },
      });
      expect(answer.status, type).toBe(415);
      expect(answer.json.message).toContain('Content-Type must be application/json');
    }
    expect(await storedBatches(deploymentId)).toBe(0);
  });

  it('accepts application/json with a charset and the +json types', async () => {
    const { token, deploymentId } = await tenant();
    for (const type of ['application/json; charset=utf-8', 'application/vnd.api+json']) {
      const answer = await server.rest('POST', batchesPath(deploymentId), {
        token,
        rawBody: JSON.stringify({ batchName: type }),
        headers: { 'content-type': type },
      });
      expect(answer.status, type).toBe(201);
    }
  });

  it('answers 422 "batchName is required" for an empty body', async () => {
    const { token, deploymentId } = await tenant();
    const answer = await server.rest('POST', batchesPath(deploymentId), { token, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({ batchName: 'is required' });
    expect(await storedBatches(deploymentId)).toBe(0);
  });

  it('answers 413 for a body over the limit on every route that reads one, and stores nothing', async () => {
    const org = await createOrganization(small);
    const { id: deploymentId } = await createDeployment(small, org.token);
    const created = await small.rest('POST', batchesPath(deploymentId), { token: org.token, body: { batchName: 'small server batch' } });
    expect(created.status).toBe(201);
    const batch = created.json;
    const big = { batchName: 'b'.repeat(2000) };
    const requests: [string, string][] = [
      ['POST', batchesPath(deploymentId)],
      ['PATCH', batchPath(deploymentId, batch.id)],
      ['PATCH', settingsPath(deploymentId)],
    ];
    for (const [method, route] of requests) {
      const answer = await small.rest(method, route, { token: org.token, body: big });
      expect(answer.status, `${method} ${route}`).toBe(413);
      expect(answer.json.message).toContain('larger than the limit of 1024 bytes');
    }
    // Streamed without a Content-Length: refused while reading, still a 413.
    const bytes = new TextEncoder().encode(JSON.stringify({ batchName: 'c'.repeat(50_000) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 512) controller.enqueue(bytes.slice(at, at + 512));
        controller.close();
      },
    });
    const streamed = await fetch(`${small.url}${batchesPath(deploymentId)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.token}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await small.sql`select name from monitoring_batches where deployment_id = ${deploymentId}`).toEqual([
      { name: 'small server batch' },
    ]);
  });

  it('accepts a body of exactly the limit', async () => {
    const org = await createOrganization(small);
    const { id: deploymentId } = await createDeployment(small, org.token);
    const frame = JSON.stringify({ batchName: 'at the limit', description: '' });
    const rawBody = JSON.stringify({ batchName: 'at the limit', description: 'd'.repeat(1024 - frame.length) });
    expect(Buffer.byteLength(rawBody)).toBe(1024);
    const answer = await small.rest('POST', batchesPath(deploymentId), {
      token: org.token,
      rawBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(201);
  });
});

describe('GET /monitoringBatches/', () => {
  // Seven batches of one deployment with known creation times and prediction timestamps.
  const seeds = [
    { name: 'alpha run', createdAt: '2024-01-01T00:00:00.000Z', earliest: '2024-03-01T00:00:00.000Z', latest: '2024-03-05T00:00:00.000Z' },
    { name: 'bravo run', createdAt: '2024-01-02T00:00:00.000Z', earliest: '2024-02-01T00:00:00.000Z', latest: '2024-03-10T00:00:00.000Z' },
    {
      name: 'charlie run',
      createdAt: '2024-01-03T00:00:00.000Z',
      earliest: '2024-03-03T00:00:00.000Z',
      latest: '2024-03-04T00:00:00.000Z',
    },
    { name: 'delta', createdAt: '2024-01-04T00:00:00.000Z', earliest: null, latest: null },
    { name: 'echo 50%', createdAt: '2024-01-05T00:00:00.000Z', earliest: '2024-01-15T00:00:00.000Z', latest: '2024-04-01T00:00:00.000Z' },
    { name: 'foxtrot_x', createdAt: '2024-01-06T00:00:00.000Z', earliest: null, latest: null },
    { name: 'golf', createdAt: '2024-01-07T00:00:00.000Z', earliest: '2024-02-15T00:00:00.000Z', latest: '2024-02-20T00:00:00.000Z' },
  ];
  let token: string;
  let deploymentId: string;
  const ids: Record<string, string> = {};
  const list = (query = '') => server.rest('GET', `${batchesPath(deploymentId)}${query}`, { token });
  const names = (answer: RestAnswer) => answer.json.data.map((batch: { batchName: string }) => batch.batchName);
  /** Names of the batches whose timestamps are null, as `id asc` (or desc) breaks their tie. */
  const nullsById = (direction: 1 | -1) => ['delta', 'foxtrot_x'].sort((a, b) => (ids[a]! < ids[b]! ? -direction : direction));

  beforeAll(async () => {
    ({ token, deploymentId } = await tenant());
    for (const seed of seeds) {
      const batch = await createRestBatch(deploymentId, token, { batchName: seed.name });
      ids[seed.name] = batch.id;
      await server.sql`
        update monitoring_batches
        set created_at = ${seed.createdAt}, earliest_prediction_at = ${seed.earliest}, latest_prediction_at = ${seed.latest}
        where id = ${batch.id}`;
    }
  });

  it('answers count, totalCount, next, previous and the batches in DataRobot field names, newest first', async () => {
    const answer = await list();
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ count: 7, totalCount: 7, next: null, previous: null });
    expect(names(answer)).toEqual(seeds.map((s) => s.name).reverse());
    expect(answer.json.data[0]).toEqual({
      id: ids.golf,
      deploymentId,
      batchName: 'golf',
      description: null,
      externalContextUrl: null,
      createdAt: '2024-01-07T00:00:00.000Z',
      createdBy: { id: expect.stringMatching(/^usr_/), name: expect.any(String) },
      isLocked: false,
      earliestPredictionTimestamp: '2024-02-15T00:00:00.000Z',
      latestPredictionTimestamp: '2024-02-20T00:00:00.000Z',
      predictionsCount: 0,
    });
  });

  it('pages with offset and limit, and following next until null visits every batch exactly once', async () => {
    const seen: string[] = [];
    const counts: number[] = [];
    let request: string | null = `${batchesPath(deploymentId)}?limit=3&orderBy=name`;
    const previous: (string | null)[] = [];
    while (request) {
      const answer: RestAnswer = await server.rest('GET', request, { token });
      expect(answer.status).toBe(200);
      expect(answer.json.totalCount).toBe(7);
      expect(answer.json.count).toBe(answer.json.data.length);
      counts.push(answer.json.count);
      seen.push(...names(answer));
      previous.push(answer.json.previous);
      request = answer.json.next ? relative(answer.json.next) : null;
    }
    expect(counts).toEqual([3, 3, 1]);
    expect(seen).toEqual(seeds.map((s) => s.name));
    expect(new Set(seen).size).toBe(7);
    // previous points one page back and keeps the other parameters.
    expect(previous[0]).toBeNull();
    const back = new URL(previous[2]!);
    expect(Object.fromEntries(back.searchParams)).toEqual({ limit: '3', orderBy: 'name', offset: '3' });
    const page = await list('?limit=3&orderBy=name&offset=3');
    expect(names(page)).toEqual(['delta', 'echo 50%', 'foxtrot_x']);
    expect(new URL(page.json.previous).searchParams.get('offset')).toBe('0');
    expect(new URL(page.json.next).searchParams.get('offset')).toBe('6');
  });

  it('answers an empty page past the end, with previous and without next', async () => {
    const answer = await list('?offset=50&limit=10');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ count: 0, totalCount: 7, next: null, data: [] });
    expect(new URL(answer.json.previous).searchParams.get('offset')).toBe('40');
  });

  it('searches names case-insensitively by substring, and ids exactly', async () => {
    expect(names(await list('?search=RUN&orderBy=name'))).toEqual(['alpha run', 'bravo run', 'charlie run']);
    expect(names(await list('?search=Harli'))).toEqual(['charlie run']);
    expect((await list('?search=RUN')).json).toMatchObject({ count: 3, totalCount: 3 });
    expect(names(await list(`?search=${ids.delta}`))).toEqual(['delta']);
    expect(names(await list(`?search=${ids.delta!.slice(0, 10)}`))).toEqual([]);
    expect((await list('?search=nothing-like-this')).json).toMatchObject({ count: 0, totalCount: 0, data: [] });
  });

  it('takes % and _ in a search literally', async () => {
    expect(names(await list('?search=%25'))).toEqual(['echo 50%']);
    expect(names(await list('?search=_'))).toEqual(['foxtrot_x']);
  });

  it('orders by name, ascending and with - descending', async () => {
    const ascending = seeds.map((s) => s.name);
    expect(names(await list('?orderBy=name'))).toEqual(ascending);
    expect(names(await list('?orderBy=-name'))).toEqual([...ascending].reverse());
  });

  it('orders by createdAt, ascending and with - descending', async () => {
    const ascending = seeds.map((s) => s.name);
    expect(names(await list('?orderBy=createdAt'))).toEqual(ascending);
    expect(names(await list('?orderBy=-createdAt'))).toEqual([...ascending].reverse());
  });

  it('orders by earliestPredictionTimestamp with batches without predictions last ascending, first descending', async () => {
    const dated = ['echo 50%', 'bravo run', 'golf', 'alpha run', 'charlie run'];
    expect(names(await list('?orderBy=earliestPredictionTimestamp'))).toEqual([...dated, ...nullsById(1)]);
    expect(names(await list('?orderBy=-earliestPredictionTimestamp'))).toEqual([...nullsById(-1), ...[...dated].reverse()]);
  });

  it('orders by latestPredictionTimestamp with batches without predictions last ascending, first descending', async () => {
    const dated = ['golf', 'charlie run', 'alpha run', 'bravo run', 'echo 50%'];
    expect(names(await list('?orderBy=latestPredictionTimestamp'))).toEqual([...dated, ...nullsById(1)]);
    expect(names(await list('?orderBy=-latestPredictionTimestamp'))).toEqual([...nullsById(-1), ...[...dated].reverse()]);
  });

  it('pages through an order with ties and nulls without losing or repeating a batch', async () => {
    for (const orderBy of ['earliestPredictionTimestamp', '-latestPredictionTimestamp']) {
      const seen: string[] = [];
      for (let offset = 0; offset < 7; offset += 2) seen.push(...names(await list(`?orderBy=${orderBy}&limit=2&offset=${offset}`)));
      expect(seen).toEqual(names(await list(`?orderBy=${orderBy}`)));
    }
  });

  it('filters by createdAfter and createdBefore, both inclusive', async () => {
    expect(names(await list('?orderBy=createdAt&createdAfter=2024-01-05T00:00:00Z'))).toEqual(['echo 50%', 'foxtrot_x', 'golf']);
    expect(names(await list('?orderBy=createdAt&createdBefore=2024-01-02T00:00:00.000Z'))).toEqual(['alpha run', 'bravo run']);
    const between = await list('?orderBy=createdAt&createdAfter=2024-01-02&createdBefore=2024-01-04T00:00:00Z');
    expect(names(between)).toEqual(['bravo run', 'charlie run', 'delta']);
    expect(between.json.totalCount).toBe(3);
    expect(names(await list('?createdAfter=2024-01-01T12:00:00%2B13:00&orderBy=createdAt'))).toEqual(seeds.map((s) => s.name));
  });

  it('filters by startAfter (earliest prediction at or after) and endBefore (latest at or before)', async () => {
    expect(names(await list('?orderBy=name&startAfter=2024-02-15T00:00:00Z'))).toEqual(['alpha run', 'charlie run', 'golf']);
    expect(names(await list('?orderBy=name&endBefore=2024-03-05T00:00:00Z'))).toEqual(['alpha run', 'charlie run', 'golf']);
    expect(names(await list('?orderBy=name&startAfter=2024-02-01&endBefore=2024-03-04T00:00:00Z'))).toEqual(['charlie run', 'golf']);
    expect(names(await list('?orderBy=name&startAfter=2024-01-01&endBefore=2025-01-01'))).toEqual([
      'alpha run',
      'bravo run',
      'charlie run',
      'echo 50%',
      'golf',
    ]);
  });

  it('combines search, filters, order and paging; totalCount counts every match', async () => {
    const answer = await list('?search=run&createdAfter=2024-01-02&orderBy=-name&limit=1');
    expect(answer.json).toMatchObject({ count: 1, totalCount: 2 });
    expect(names(answer)).toEqual(['charlie run']);
    expect(names(await server.rest('GET', relative(answer.json.next), { token }))).toEqual(['bravo run']);
  });

  const badParams: [string, string[]][] = [
    ['limit=0', ['limit']],
    ['limit=abc', ['limit']],
    ['limit=1001', ['limit']],
    ['limit=2.5', ['limit']],
    ['offset=-1', ['offset']],
    ['offset=first', ['offset']],
    ['orderBy=bogus', ['orderBy']],
    ['orderBy=-', ['orderBy']],
    ['orderBy=--name', ['orderBy']],
    ['createdAfter=yesterday', ['createdAfter']],
    ['createdBefore=2024-13-01', ['createdBefore']],
    ['createdBefore=01/02/2024', ['createdBefore']],
    ['startAfter=2024-02-30', ['startAfter']],
    ['endBefore=0000-01-01T00:00:00Z', ['endBefore']],
    ['search=%00', ['search']],
    ['createdBy=usr_%00', ['createdBy']],
    ['limit=0&offset=-1&orderBy=size', ['limit', 'offset', 'orderBy']],
  ];
  it.each(badParams)('answers 422 naming the parameter for ?%s', async (query, fields) => {
    const answer = await list(`?${query}`);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(answer.json.message).toContain(field);
  });
});

describe('GET /monitoringBatches/ filtered by createdBy', () => {
  it('lists only the batches the given user created', async () => {
    const { token, deploymentId, adminId } = await tenant();
    const member = await server.op(CreateUserDocument, { input: { name: 'scoring robot', role: 'MEMBER' } }, token);
    if (member.createUser.__typename !== 'CreateUserSuccess') throw new Error(JSON.stringify(member));
    const memberId = member.createUser.user.id;
    await createRestBatch(deploymentId, token, { batchName: 'by admin 1' });
    await createRestBatch(deploymentId, token, { batchName: 'by admin 2' });
    const robots = await createRestBatch(deploymentId, member.createUser.secret, { batchName: 'by robot' });
    expect(robots.createdBy).toEqual({ id: memberId, name: 'scoring robot' });

    const byRobot = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=${memberId}`, { token });
    expect(byRobot.json).toMatchObject({ count: 1, totalCount: 1, data: [{ batchName: 'by robot', createdBy: { id: memberId } }] });
    const byAdmin = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=${adminId}&orderBy=name`, { token });
    expect(byAdmin.json.data.map((b: { batchName: string }) => b.batchName)).toEqual(['by admin 1', 'by admin 2']);
    const byNobody = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=usr_000000000000000000000000`, { token });
    expect(byNobody.json).toMatchObject({ count: 0, totalCount: 0, data: [] });
  });
});

describe('GET /monitoringBatches/{batchId}/', () => {
  it('answers the batch exactly as POST did', async () => {
    const { token, deploymentId } = await tenant();
    const created = await createRestBatch(deploymentId, token, {
      batchName: 'read me',
      description: 'd',
      externalContextUrl: 'https://x.example/1',
    });
    const answer = await server.rest('GET', batchPath(deploymentId, created.id), { token });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(created);
  });

  it('shows prediction timestamps and counts as stored', async () => {
    const { token, deploymentId } = await tenant();
    const created = await createRestBatch(deploymentId, token, { batchName: 'with predictions' });
    await server.sql`
      update monitoring_batches
      set earliest_prediction_at = '2024-05-01T08:00:00Z', latest_prediction_at = '2024-05-01T09:30:00.250Z', prediction_count = 1234
      where id = ${created.id}`;
    const answer = await server.rest('GET', batchPath(deploymentId, created.id), { token });
    expect(answer.json).toMatchObject({
      earliestPredictionTimestamp: '2024-05-01T08:00:00.000Z',
      latestPredictionTimestamp: '2024-05-01T09:30:00.250Z',
      predictionsCount: 1234,
    });
  });

  it('answers 404 "Monitoring batch not found" for an unknown batch and for a batch of another deployment', async () => {
    const { token, deploymentId } = await tenant();
    const other = await createDeployment(server, token);
    const batch = await createRestBatch(deploymentId, token, { batchName: 'lives elsewhere' });
    for (const route of [batchPath(deploymentId, MISSING_BATCH), batchPath(other.id, batch.id), batchPath(deploymentId, 'not-an-id')]) {
      const answer = await server.rest('GET', route, { token });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
  });
});

describe('PATCH /monitoringBatches/{batchId}/', () => {
  async function freshBatch() {
    const t = await tenant();
    const batch = await createRestBatch(t.deploymentId, t.token, {
      batchName: 'original',
      description: 'original description',
      externalContextUrl: 'https://example.com/original',
    });
    const patch = (body: unknown) => server.rest('PATCH', batchPath(t.deploymentId, batch.id), { token: t.token, body });
    const read = async () => (await server.rest('GET', batchPath(t.deploymentId, batch.id), { token: t.token })).json;
    return { ...t, batch, patch, read };
  }

  it('changes only the fields it is given', async () => {
    const { batch, patch, read } = await freshBatch();
    const renamed = await patch({ batchName: '  renamed  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toEqual({ ...batch, batchName: 'renamed' });
    const described = await patch({ description: 'new description' });
    expect(described.json).toEqual({ ...batch, batchName: 'renamed', description: 'new description' });
    const linked = await patch({ externalContextUrl: 'http://example.com/new' });
    expect(linked.json).toEqual({
      ...batch,
      batchName: 'renamed',
      description: 'new description',
      externalContextUrl: 'http://example.com/new',
    });
    expect(await read()).toEqual(linked.json);
  });

  it('clears description and externalContextUrl with null', async () => {
    const { batch, patch } = await freshBatch();
    const answer = await patch({ description: null, externalContextUrl: null });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ...batch, description: null, externalContextUrl: null });
  });

  it('clears description and externalContextUrl with ""', async () => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch({ description: '', externalContextUrl: '' });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ...batch, description: null, externalContextUrl: null });
    expect(await read()).toMatchObject({ description: null, externalContextUrl: null });
  });

  it('locks with isLocked true and unlocks with false', async () => {
    const { batch, patch, read } = await freshBatch();
    const locked = await patch({ isLocked: true });
    expect(locked.status).toBe(200);
    expect(locked.json).toEqual({ ...batch, isLocked: true });
    expect(await read()).toMatchObject({ isLocked: true });
    // A locked batch can still be renamed; locking only stops predictions.
    expect((await patch({ batchName: 'renamed while locked' })).json).toMatchObject({ batchName: 'renamed while locked', isLocked: true });
    const unlocked = await patch({ isLocked: false });
    expect(unlocked.json).toMatchObject({ isLocked: false, batchName: 'renamed while locked' });
  });

  it('answers the batch unchanged for an empty object', async () => {
    const { batch, patch } = await freshBatch();
    const answer = await patch({});
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(batch);
  });

  const invalid: [string, unknown, string][] = [
    ['an empty batchName', { batchName: '' }, 'batchName'],
    ['a null batchName', { batchName: null }, 'batchName'],
    ['a 513-character batchName', { batchName: 'y'.repeat(513) }, 'batchName'],
    ['a 10,001-character description', { description: 'z'.repeat(10_001) }, 'description'],
    ['an ftp:// externalContextUrl', { externalContextUrl: 'ftp://example.com/a' }, 'externalContextUrl'],
    ['a relative externalContextUrl', { externalContextUrl: 'jobs/42' }, 'externalContextUrl'],
    ['a string isLocked', { isLocked: 'yes' }, 'isLocked'],
    ['a null isLocked', { isLocked: null }, 'isLocked'],
    ['a JSON array body', [], 'body'],
  ];
  it.each(invalid)('answers 422 naming the field for %s, and changes nothing', async (_case, body, field) => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch(body);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors)).toEqual([field]);
    expect(await read()).toEqual(batch);
  });

  it('applies nothing when one of several fields is invalid', async () => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch({ batchName: 'valid new name', externalContextUrl: 'ftp://nope' });
    expect(answer.status).toBe(422);
    expect(await read()).toEqual(batch);
  });

  it('costs no quota', async () => {
    const { token, deploymentId, patch } = await freshBatch();
    await patch({ batchName: 'again' });
    await patch({ isLocked: true });
    expect(await quotaUsed(deploymentId, token)).toBe(1);
  });

  it('answers 404 for an unknown batch and for a batch under another deployment, changing nothing', async () => {
    const { token, batch, read } = await freshBatch();
    const other = await createDeployment(server, token);
    for (const route of [batchPath(batch.deploymentId, MISSING_BATCH), batchPath(other.id, batch.id)]) {
      const answer = await server.rest('PATCH', route, { token, body: { batchName: 'hijacked' } });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
    expect(await read()).toEqual(batch);
  });
});

describe('DELETE /monitoringBatches/{batchId}/', () => {
  it('answers 204; afterwards the batch is gone from every read, and deleting it again is a 404', async () => {
    const { token, deploymentId } = await tenant();
    const keep = await createRestBatch(deploymentId, token, { batchName: 'keep' });
    const doomed = await createRestBatch(deploymentId, token, { batchName: 'doomed' });

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
    const { token, deploymentId } = await tenant();
    const other = await createDeployment(server, token);
    const batch = await createRestBatch(deploymentId, token, { batchName: 'stays' });
    for (const route of [batchPath(deploymentId, MISSING_BATCH), batchPath(other.id, batch.id)]) {
      const answer = await server.rest('DELETE', route, { token });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
    expect((await server.rest('GET', batchPath(deploymentId, batch.id), { token })).status).toBe(200);
  });
});

describe('an unknown deployment', () => {
  it('answers 404 "Deployment not found" on the deployment routes and "Monitoring batch not found" on the batch routes', async () => {
    const { token } = await tenant();
    const deploymentRoutes: [string, string, unknown?][] = [
      ['GET', batchesPath(MISSING_DEPLOYMENT)],
      ['POST', batchesPath(MISSING_DEPLOYMENT), { batchName: 'orphan' }],
      ['GET', limitsPath(MISSING_DEPLOYMENT)],
      ['PATCH', settingsPath(MISSING_DEPLOYMENT), { batchMonitoring: { enabled: true } }],
    ];
    for (const [method, route, body] of deploymentRoutes) {
      const answer = await server.rest(method, route, { token, body });
      expect(answer.status, `${method} ${route}`).toBe(404);
      expect(answer.json).toEqual(DEPLOYMENT_NOT_FOUND);
    }
    const batchRoutes: [string, unknown?][] = [['GET'], ['PATCH', { batchName: 'x' }], ['DELETE']];
    for (const [method, body] of batchRoutes) {
      const answer = await server.rest(method, batchPath(MISSING_DEPLOYMENT, MISSING_BATCH), { token, body });
      expect(answer.status, method).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
  });

  it('answers 404, not 500, for ids that are not valid percent-encoding or hold a NUL', async () => {
    const { token, deploymentId } = await tenant();
    const batch = await createRestBatch(deploymentId, token, { batchName: 'safe' });
    const cases: [string, string, object][] = [
      ['GET', batchesPath('%E0%A4%A'), DEPLOYMENT_NOT_FOUND],
      ['GET', batchesPath('%00'), DEPLOYMENT_NOT_FOUND],
      ['GET', limitsPath('dep_%00'), DEPLOYMENT_NOT_FOUND],
      ['PATCH', settingsPath('%00'), DEPLOYMENT_NOT_FOUND],
      ['GET', batchPath(deploymentId, '%00'), BATCH_NOT_FOUND],
      ['DELETE', batchPath(deploymentId, `${batch.id}%00`), BATCH_NOT_FOUND],
      ['PATCH', batchPath(deploymentId, '%ZZ'), BATCH_NOT_FOUND],
    ];
    for (const [method, route, body] of cases) {
      const answer = await server.rest(method, route, {
        token,
        body: method === 'PATCH' ? { batchMonitoring: { enabled: true } } : undefined,
      });
      expect(answer.status, `${method} ${route}`).toBe(404);
      expect(answer.json).toEqual(body);
    }
    expect((await server.rest('GET', batchPath(deploymentId, batch.id), { token })).status).toBe(200);
  });
});

describe('PATCH /settings/ {"batchMonitoring": {"enabled": …}}', () => {
  it('switches batch monitoring off: creating, editing and deleting are refused; reading still works', async () => {
    const { token, deploymentId } = await tenant();
    const batch = await createRestBatch(deploymentId, token, { batchName: 'before switching off' });

    const off = await server.rest('PATCH', settingsPath(deploymentId), { token, body: { batchMonitoring: { enabled: false } } });
    expect(off.status).toBe(200);
    expect(off.json).toEqual({ batchMonitoring: { enabled: false } });
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(false);

    const refusal = { message: 'Batch monitoring is not enabled on this deployment; enable settings.batchMonitoring first' };
    const created = await postBatch(deploymentId, token, { batchName: 'while off' });
    expect(created.status).toBe(422);
    expect(created.json).toEqual(refusal);
    const patched = await server.rest('PATCH', batchPath(deploymentId, batch.id), { token, body: { batchName: 'edited while off' } });
    expect(patched.status).toBe(422);
    expect(patched.json).toEqual(refusal);
    const deleted = await server.rest('DELETE', batchPath(deploymentId, batch.id), { token });
    expect(deleted.status).toBe(422);
    expect(deleted.json).toEqual(refusal);

    expect(await storedBatches(deploymentId)).toBe(1);
    expect(await quotaUsed(deploymentId, token)).toBe(1);
    const one = await server.rest('GET', batchPath(deploymentId, batch.id), { token });
    expect(one.json).toEqual(batch);
    const listed = await server.rest('GET', batchesPath(deploymentId), { token });
    expect(listed.json).toMatchObject({ totalCount: 1, data: [batch] });
  });

  it('switches batch monitoring back on: creating, editing and deleting work again', async () => {
    const { token, deploymentId } = await tenant();
    const batch = await createRestBatch(deploymentId, token, { batchName: 'survivor' });
    await server.rest('PATCH', settingsPath(deploymentId), { token, body: { batchMonitoring: { enabled: false } } });
    const on = await server.rest('PATCH', settingsPath(deploymentId).replace(/\/$/, ''), {
      token,
      body: { batchMonitoring: { enabled: true } },
    });
    expect(on.status).toBe(200);
    expect(on.json).toEqual({ batchMonitoring: { enabled: true } });
    expect((await postBatch(deploymentId, token, { batchName: 'after switching on' })).status).toBe(201);
    expect((await server.rest('PATCH', batchPath(deploymentId, batch.id), { token, body: { isLocked: true } })).json.isLocked).toBe(true);
    expect((await server.rest('DELETE', batchPath(deploymentId, batch.id), { token })).status).toBe(204);
  });

  it('enables batch monitoring on a deployment created without it', async () => {
    const { token } = await tenant();
    const plain = await createDeployment(server, token, { batchMonitoringEnabled: false });
    expect((await postBatch(plain.id, token, { batchName: 'too early' })).status).toBe(422);
    await server.rest('PATCH', settingsPath(plain.id), { token, body: { batchMonitoring: { enabled: true } } });
    expect((await postBatch(plain.id, token, { batchName: 'now allowed' })).status).toBe(201);
  });

  const badBodies: [string, unknown, string][] = [
    ['an empty object', {}, 'batchMonitoring'],
    ['a JSON array', [], 'batchMonitoring'],
    ['a JSON null', null, 'batchMonitoring'],
    ['enabled as the string "yes"', { batchMonitoring: { enabled: 'yes' } }, 'batchMonitoring.enabled'],
    ['enabled as 1', { batchMonitoring: { enabled: 1 } }, 'batchMonitoring.enabled'],
    ['enabled missing', { batchMonitoring: {} }, 'batchMonitoring.enabled'],
    ['batchMonitoring as true', { batchMonitoring: true }, 'batchMonitoring.enabled'],
    ['batchMonitoring as null', { batchMonitoring: null }, 'batchMonitoring.enabled'],
  ];
  it.each(badBodies)('answers 422 naming the field for %s, and changes nothing', async (_case, body, field) => {
    const { token, deploymentId } = await tenant();
    const answer = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors)).toEqual([field]);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });

  it('answers 400 for invalid JSON and 415 for a non-JSON content type', async () => {
    const { token, deploymentId } = await tenant();
    const broken = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: '{"batchMonitoring":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    const typed = await server.rest('PATCH', settingsPath(deploymentId), {
      token,
      rawBody: '{"batchMonitoring":{"enabled":false}}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(typed.status).toBe(415);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });
});

describe('the daily batch quota over REST', () => {
  it('answers 429 with Retry-After, resetAt, limit and used once the day is used up', async () => {
    const { token, deploymentId } = await tenant(2);
    expect((await postBatch(deploymentId, token, { batchName: 'first' })).status).toBe(201);
    expect((await postBatch(deploymentId, token, { batchName: 'second' })).status).toBe(201);

    const refused = await postBatch(deploymentId, token, { batchName: 'third' });
    const now = Date.now();
    expect(refused.status).toBe(429);
    const resetAt = nextUtcMidnight();
    expect(refused.json).toEqual({
      message: `Daily batch limit of 2 reached for this deployment; it resets at ${resetAt}`,
      limit: 2,
      used: 2,
      resetAt,
    });
    const retryAfter = refused.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    const expectedSeconds = (Date.parse(resetAt) - now) / 1000;
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(Math.floor(expectedSeconds) - 5);
    expect(Number(retryAfter)).toBeLessThanOrEqual(Math.ceil(expectedSeconds) + 5);
    expect(Number(retryAfter)).toBeLessThanOrEqual(86_400);
    expect(await storedBatches(deploymentId)).toBe(2);
  });

  it('reads the quota from GET /monitoringBatchLimits/', async () => {
    const { token, deploymentId } = await tenant(2);
    const fresh = await server.rest('GET', limitsPath(deploymentId), { token });
    expect(fresh.status).toBe(200);
    expect(fresh.json).toEqual({ limit: 2, used: 0, remaining: 2, resetAt: nextUtcMidnight() });
    await postBatch(deploymentId, token, { batchName: 'one' });
    await postBatch(deploymentId, token, { batchName: 'two' });
    await postBatch(deploymentId, token, { batchName: 'three (refused)' });
    const spent = await server.rest('GET', limitsPath(deploymentId), { token });
    expect(spent.json).toEqual({ limit: 2, used: 2, remaining: 0, resetAt: nextUtcMidnight() });
  });

  it('does not refund a deleted batch', async () => {
    const { token, deploymentId } = await tenant(2);
    const first = await createRestBatch(deploymentId, token, { batchName: 'first' });
    await createRestBatch(deploymentId, token, { batchName: 'second' });
    expect((await server.rest('DELETE', batchPath(deploymentId, first.id), { token })).status).toBe(204);
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toMatchObject({ limit: 2, used: 2, remaining: 0 });
    expect((await postBatch(deploymentId, token, { batchName: 'replacement' })).status).toBe(429);
  });

  it('counts per deployment', async () => {
    const { token, deploymentId } = await tenant(1);
    const second = await createDeployment(server, token);
    expect((await postBatch(deploymentId, token, { batchName: 'a' })).status).toBe(201);
    expect((await postBatch(deploymentId, token, { batchName: 'b' })).status).toBe(429);
    expect((await postBatch(second.id, token, { batchName: 'c' })).status).toBe(201);
    expect((await server.rest('GET', limitsPath(second.id), { token })).json).toMatchObject({ limit: 1, used: 1, remaining: 0 });
  });

  it('lets exactly the remaining number of parallel creates through', async () => {
    const { token, deploymentId } = await tenant(3);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => postBatch(deploymentId, token, { batchName: `parallel ${i}` })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    expect(await storedBatches(deploymentId)).toBe(3);
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toMatchObject({ used: 3, remaining: 0 });
  });

  it('answers limit and remaining null for an unlimited organization', async () => {
    const { token, deploymentId } = await tenant(null);
    await createRestBatch(deploymentId, token, { batchName: 'unlimited' });
    expect((await server.rest('GET', limitsPath(deploymentId), { token })).json).toEqual({
      limit: null,
      used: 1,
      remaining: null,
      resetAt: nextUtcMidnight(),
    });
  });
});

describe('authentication', () => {
  it('answers 401 on every route with no token, a bad token, a revoked token or a non-Bearer scheme', async () => {
    const { token, deploymentId } = await tenant();
    const batch = await createRestBatch(deploymentId, token, { batchName: 'guarded' });
    const created = await server.op(CreateApiTokenDocument, { input: { name: 'soon revoked' } }, token);
    if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error(JSON.stringify(created));
    const revoked = created.createApiToken.secret;
    expect((await server.rest('GET', batchesPath(deploymentId), { token: revoked })).status).toBe(200);
    await server.op(RevokeApiTokenDocument, { id: created.createApiToken.token.id }, token);

    const routes: [string, string, unknown?][] = [
      ['GET', batchesPath(deploymentId)],
      ['POST', batchesPath(deploymentId), { batchName: 'anonymous' }],
      ['GET', batchPath(deploymentId, batch.id)],
      ['PATCH', batchPath(deploymentId, batch.id), { batchName: 'anonymous edit', isLocked: true }],
      ['DELETE', batchPath(deploymentId, batch.id)],
      ['GET', limitsPath(deploymentId)],
      ['PATCH', settingsPath(deploymentId), { batchMonitoring: { enabled: false } }],
    ];
    const credentials: [string, { token: string | null; headers?: Record<string, string> }][] = [
      ['no token', { token: null }],
      ['a bad token', { token: 'bl_this_is_not_a_token' }],
      ['a revoked token', { token: revoked }],
      ['a non-Bearer scheme', { token: null, headers: { authorization: `Token ${token}` } }],
      ['an empty Bearer', { token: null, headers: { authorization: 'Bearer ' } }],
    ];
    for (const [method, route, body] of routes) {
      for (const [label, credential] of credentials) {
        const answer = await server.rest(method, route, { ...credential, body });
        expect(answer.status, `${method} ${route} with ${label}`).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
        expect(answer.json.message).toMatch(/API token/);
      }
    }
    expect((await server.rest('GET', batchPath(deploymentId, batch.id), { token })).json).toEqual(batch);
    expect(await storedBatches(deploymentId)).toBe(1);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });
});

describe('tenancy', () => {
  it("answers another organization's deployment and batch ids exactly like ids that do not exist, on every route", async () => {
    const a = await tenant();
    const aBatch = await createRestBatch(a.deploymentId, a.token, {
      batchName: "A's batch",
      description: "A's",
      externalContextUrl: 'https://a.example/1',
    });
    const aLimits = (await server.rest('GET', limitsPath(a.deploymentId), { token: a.token })).json;
    const b = await tenant();

    type Probe = [method: string, route: (deploymentId: string, batchId: string) => string, body?: unknown];
    const probes: Probe[] = [
      ['GET', (d) => batchesPath(d)],
      ['GET', (d, id) => `${batchesPath(d)}?search=${id}`],
      ['POST', (d) => batchesPath(d), { batchName: 'intruder' }],
      ['POST', (d) => batchesPath(d), { batchName: '' }],
      ['GET', (d, id) => batchPath(d, id)],
      ['PATCH', (d, id) => batchPath(d, id), { batchName: 'hijacked', isLocked: true, description: null }],
      ['DELETE', (d, id) => batchPath(d, id)],
      ['GET', (d) => limitsPath(d)],
      ['PATCH', (d) => settingsPath(d), { batchMonitoring: { enabled: false } }],
    ];
    for (const [method, route, body] of probes) {
      const foreign = await server.rest(method, route(a.deploymentId, aBatch.id), { token: b.token, body });
      const missing = await server.rest(method, route(MISSING_DEPLOYMENT, MISSING_BATCH), { token: b.token, body });
      const label = `${method} ${route(':deploymentId', ':batchId')}`;
      expect(foreign.status, label).toBe(missing.status);
      expect(foreign.json, label).toEqual(missing.json);
      expect(foreign.status, label).toBeGreaterThanOrEqual(400);
      // A's batch id under B's own deployment, too.
      const ownForeign = await server.rest(method, route(b.deploymentId, aBatch.id), { token: b.token, body });
      const ownMissing = await server.rest(method, route(b.deploymentId, MISSING_BATCH), { token: b.token, body });
      if (method === 'GET' || method === 'PATCH' || method === 'DELETE') {
        expect(ownForeign.status, `${label} on B's deployment`).toBe(ownMissing.status);
        expect(ownForeign.json, `${label} on B's deployment`).toEqual(ownMissing.json);
      }
    }

    // B's own list does not leak A's batch by id or by creator.
    const byCreator = await server.rest('GET', `${batchesPath(b.deploymentId)}?createdBy=${a.adminId}`, { token: b.token });
    expect(byCreator.json.totalCount).toBe(0);

    // A's batch, deployment settings and quota are as they were.
    expect((await server.rest('GET', batchPath(a.deploymentId, aBatch.id), { token: a.token })).json).toEqual(aBatch);
    expect((await server.rest('GET', limitsPath(a.deploymentId), { token: a.token })).json).toEqual(aLimits);
    expect((await server.op(DeploymentDocument, { id: a.deploymentId }, a.token)).deployment?.batchMonitoringEnabled).toBe(true);
    expect(await storedBatches(a.deploymentId)).toBe(1);
  });
});

describe('routing', () => {
  it('answers 404 JSON for an unknown route', async () => {
    const { token, deploymentId } = await tenant();
    for (const route of [
      '/api/v2/nothing/',
      `/api/v2/deployments/${deploymentId}/`,
      `${batchPath(deploymentId, MISSING_BATCH)}extra/`,
      '/api/v1/deployments/x/monitoringBatches/',
    ]) {
      const answer = await server.rest('GET', route, { token });
      expect(answer.status, route).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.json.message).toEqual(expect.any(String));
    }
  });

  it('answers 405 with an Allow header for a wrong method on a known path', async () => {
    const { token, deploymentId } = await tenant();
    const cases: [string, string, string[]][] = [
      ['PUT', batchesPath(deploymentId), ['GET', 'POST']],
      ['DELETE', batchesPath(deploymentId), ['GET', 'POST']],
      ['POST', batchPath(deploymentId, MISSING_BATCH), ['DELETE', 'GET', 'PATCH']],
      ['PUT', batchPath(deploymentId, MISSING_BATCH), ['DELETE', 'GET', 'PATCH']],
      ['POST', limitsPath(deploymentId), ['GET']],
      ['GET', settingsPath(deploymentId), ['PATCH']],
    ];
    for (const [method, route, allowed] of cases) {
      const answer = await server.rest(method, route, { token, body: method === 'GET' ? undefined : {} });
      expect(answer.status, `${method} ${route}`).toBe(405);
      expect(answer.headers.get('allow')?.split(', ').sort()).toEqual(allowed);
      expect(answer.json.message).toContain(method);
    }
  });
});

describe('a DataRobot Python script (requests, bearer token, DataRobot-Key)', () => {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'compat', 'datarobot_create_batch.py');
  // The first Python on this machine that has `requests` (.ci/run installs python3-requests if none has).
  const python = ['python3', '/usr/bin/python3'].find((candidate) => {
    try {
      execFileSync(candidate, ['-c', 'import requests'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  const run = (env: Record<string, string>, args: string[] = []) => {
    if (!python) throw new Error('no python3 with the requests package: apt-get install python3-requests');
    return promisify(execFile)(python, [script, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
  };

  it('creates a batch with only the base URL changed, and prints its id', async () => {
    const { token, deploymentId } = await tenant();
    const { stdout } = await run({ DATAROBOT_ENDPOINT: server.url, DATAROBOT_API_TOKEN: token, DEPLOYMENT_ID: deploymentId }, [
      'scored by python',
    ]);
    const id = stdout.trim();
    expect(id).toMatch(/^mb_[0-9a-f]{24}$/);
    const answer = await server.rest('GET', batchPath(deploymentId, id), { token });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      id,
      batchName: 'scored by python',
      description: 'Created by the nightly scoring script',
      externalContextUrl: 'https://ci.example.com/jobs/nightly-scoring/42',
    });
  });

  it('exits non-zero, reporting the answer, when the server refuses the batch', async () => {
    const { token } = await tenant();
    const plain = await createDeployment(server, token, { batchMonitoringEnabled: false });
    const failure = await run({ DATAROBOT_ENDPOINT: server.url, DATAROBOT_API_TOKEN: token, DEPLOYMENT_ID: plain.id }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('Could not create the batch: 422');
    expect(failure?.stderr).toContain('Batch monitoring is not enabled');
    expect(await storedBatches(plain.id)).toBe(0);
  });
});
