import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMonitoringBatchDocument, DeploymentBatchesDocument, MonitoringBatchDocument, ViewerDocument } from '../generated/graphql.js';
import { countRows } from '../helpers/db.js';
import { createDeployment, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { batchesPath, batchPath, createRestBatch, limitsPath, postBatch, quotaUsed } from '../helpers/rest.js';
import { type RestBatch, startTestServer, type TestServer } from '../helpers/server.js';

// Creating a batch (C2), over GraphQL and over the DataRobot-compatible REST route: names are
// trimmed, every field is checked and named when wrong, and a refused batch stores nothing and
// costs no quota.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('createMonitoringBatch (GraphQL, C2)', () => {
  it('stores the trimmed name, description and URL, records the creator and starts empty', async () => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, {
      input: {
        deploymentId: deployment.id,
        name: '  nightly 2026-11-25 ',
        description: 'from the scoring job',
        externalUrl: 'https://ci.example.com/run/42',
      },
    });
    expect(result.createMonitoringBatch).toMatchObject({
      __typename: 'CreateMonitoringBatchSuccess',
      batch: {
        name: 'nightly 2026-11-25',
        description: 'from the scoring job',
        externalUrl: 'https://ci.example.com/run/42',
        createdBy: { name: 'admin' },
        isLocked: false,
        predictionCount: 0,
        earliestPredictionAt: null,
        latestPredictionAt: null,
        modelHistory: [],
        deployment: { id: deployment.id },
      },
    });
  });

  const invalid: [string, Record<string, unknown>, string, string][] = [
    ['an empty name', { name: '' }, 'name', 'must not be empty'],
    ['a blank name', { name: '   ' }, 'name', 'must not be empty'],
    ['a 513-character name', { name: 'n'.repeat(513) }, 'name', 'must be at most 512 characters'],
    ['a 10,001-character description', { name: 'ok', description: 'd'.repeat(10_001) }, 'description', 'must be at most 10000 characters'],
    ['an ftp URL', { name: 'ok', externalUrl: 'ftp://files.example.com/x' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
    ['a relative URL', { name: 'ok', externalUrl: '/runs/42' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
    ['a javascript: URL', { name: 'ok', externalUrl: 'javascript:alert(1)' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
  ];
  it.each(invalid)('refuses %s, naming the field, storing nothing and using no quota', async (_what, fields, field, message) => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'x', ...fields } });
    expect(result.createMonitoringBatch).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field, message }] });
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deployment.id)).toBe(0);
    const quota = await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id });
    expect(quota.deployment?.batchQuota.used).toBe(0);
  });

  it('accepts a 512-character name and a 10,000-character description exactly', async () => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, {
      input: { deploymentId: deployment.id, name: 'n'.repeat(512), description: 'd'.repeat(10_000) },
    });
    expect(result.createMonitoringBatch.__typename).toBe('CreateMonitoringBatchSuccess');
  });

  it('answers a GraphQL validation error (not a 500) for a wrongly typed or missing name', async () => {
    const deployment = await createDeployment(server);
    // Hand-written on purpose: a literal of the wrong type, and a missing required field, are
    // documents no typed operation can be.
    const wrongType = await server.graphql(
      `mutation { createMonitoringBatch(input: {deploymentId: "${deployment.id}", name: 42}) { __typename } }`,
    );
    // GraphQL over HTTP with application/json: request errors come back as 200 with `errors` and no data.
    expect(wrongType.status).toBe(200);
    expect(wrongType.data ?? null).toBeNull();
    expect(wrongType.errors?.[0]?.message).toMatch(/String/);
    const missing = await server.graphql(`mutation { createMonitoringBatch(input: {deploymentId: "${deployment.id}"}) { __typename } }`);
    expect(missing.status).toBe(200);
    expect(missing.data ?? null).toBeNull();
    expect(missing.errors?.[0]?.message).toMatch(/name/);
  });
});

describe('POST /monitoringBatches/', () => {
  it('answers 201 with the batch in DataRobot field names', async () => {
    const { token, deploymentId, adminId } = await createTenant(server);
    const { viewer } = await server.op(ViewerDocument, {}, token);
    const before = Date.now();
    const answer = await postBatch(server, deploymentId, token, {
      batchName: '  Nightly scoring 2024-06-01  ',
      description: 'Rows scored by the nightly job',
      externalContextUrl: 'https://ci.example.com/jobs/nightly/42',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const batch = answer.json as RestBatch;
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
      // batchlens' own: the seal, set by locking.
      fingerprint: null,
      sealedAt: null,
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
    const { token, deploymentId } = await createTenant(server);
    const withKey = await server.rest('POST', batchesPath(deploymentId), {
      token,
      body: { batchName: 'with key' },
      headers: { 'DataRobot-Key': '544ec55f-61bf-f6ee-0caf-15c7f919a45d' },
    });
    const withoutKey = await postBatch(server, deploymentId, token, { batchName: 'without key' });
    expect(withKey.status).toBe(201);
    expect(withoutKey.status).toBe(201);
    expect(withKey.json.batchName).toBe('with key');
    const listed = await server.rest('GET', batchesPath(deploymentId), { token, headers: { 'DataRobot-Key': 'anything' } });
    expect(listed.status).toBe(200);
    expect(listed.json.totalCount).toBe(2);
  });

  it('takes the path with or without its trailing slash', async () => {
    const { token, deploymentId } = await createTenant(server);
    const noSlash = await server.rest('POST', batchesPath(deploymentId).replace(/\/$/, ''), { token, body: { batchName: 'no slash' } });
    expect(noSlash.status).toBe(201);
    expect(noSlash.json.batchName).toBe('no slash');
    const one = await server.rest('GET', batchPath(deploymentId, noSlash.json.id!).replace(/\/$/, ''), { token });
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(noSlash.json.id);
    const limits = await server.rest('GET', limitsPath(deploymentId).replace(/\/$/, ''), { token });
    expect(limits.json.used).toBe(1);
  });

  it('stores null for an omitted, null or empty description and externalContextUrl', async () => {
    const { token, deploymentId } = await createTenant(server);
    const omitted = await createRestBatch(server, deploymentId, token, { batchName: 'omitted' });
    const nulls = await createRestBatch(server, deploymentId, token, { batchName: 'nulls', description: null, externalContextUrl: null });
    const empty = await createRestBatch(server, deploymentId, token, { batchName: 'empty', description: '', externalContextUrl: '' });
    for (const batch of [omitted, nulls, empty]) {
      expect(batch).toMatchObject({ description: null, externalContextUrl: null });
    }
  });

  it('accepts a name of 512 characters after trimming, a 10,000-character description and an http URL', async () => {
    const { token, deploymentId } = await createTenant(server);
    const name = 'n'.repeat(512);
    const batch = await createRestBatch(server, deploymentId, token, {
      batchName: `   ${name}   `,
      description: 'd'.repeat(10_000),
      externalContextUrl: 'http://localhost:8080/run?id=7#rows',
    });
    expect(batch.batchName).toBe(name);
    expect(batch.description).toHaveLength(10_000);
    expect(batch.externalContextUrl).toBe('http://localhost:8080/run?id=7#rows');
  });

  it('ignores JSON fields it does not know', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'extra fields', somethingElse: 1, id: MISSING_BATCH });
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
    const { token, deploymentId } = await createTenant(server);
    const answer = await server.rest('POST', batchesPath(deploymentId), {
      token,
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(422);
    expect(answer.json.message).toMatch(/^Invalid input: /);
    expect(Object.keys(answer.json.errors ?? {})).toEqual(Object.keys(errors));
    for (const [field, message] of Object.entries(errors)) {
      if (typeof message === 'string') expect(answer.json.errors?.[field]).toBe(message);
      else expect(answer.json.errors?.[field]).toMatch(message);
      expect(answer.json.message).toContain(field);
    }
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(0);
    expect(await quotaUsed(server, deploymentId, token)).toBe(0);
  });

  it('names every field at fault in one answer', async () => {
    const { token, deploymentId } = await createTenant(server);
    const answer = await postBatch(server, deploymentId, token, {
      batchName: '',
      description: 'd'.repeat(10_001),
      externalContextUrl: 'ftp://example.com',
    });
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {}).sort()).toEqual(['batchName', 'description', 'externalContextUrl']);
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(0);
  });

  it('costs no quota, even when the day has one batch left', async () => {
    const { token, deploymentId } = await createTenant(server, 1);
    for (const body of [{ batchName: '' }, { batchName: 'ok', externalContextUrl: 'ftp://x' }, []]) {
      expect((await postBatch(server, deploymentId, token, body)).status).toBe(422);
    }
    expect(await server.rest('GET', limitsPath(deploymentId), { token }).then((a) => a.json)).toMatchObject({ used: 0, remaining: 1 });
    expect((await postBatch(server, deploymentId, token, { batchName: 'the one' })).status).toBe(201);
  });
});
