import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchCountCreatedAfterDocument, CreateMonitoringBatchDocument } from './generated/graphql.js';
import { createBatch, createDeployment } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let deploymentId: string;
beforeAll(async () => {
  server = await startTestServer();
  deploymentId = (await createDeployment(server)).id;
  await createBatch(server, deploymentId, 'kept');
});
afterAll(async () => {
  await server?.stop();
});

describe('strings PostgreSQL cannot store', () => {
  it('refuses a NUL character in a variable, naming the variable, and stores nothing', async () => {
    const result = await server.graphql(CreateMonitoringBatchDocument, { input: { deploymentId, name: 'bad\u0000name' } });
    expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining('$input.name'), extensions: { code: 'BAD_USER_INPUT' } });
    expect((await server.sql`select count(*)::int as n from monitoring_batches where name like 'bad%'`)[0]!.n).toBe(0);
  });

  it('refuses a NUL character in a literal argument of a query (ids, search)', async () => {
    // Hand-written on purpose: the NUL is in the document's literals, not in variables.
    for (const query of [
      `{ deployment(id: "dep_\\u0000") { id } }`,
      `{ monitoringBatch(id: "mb_\\u0000") { id } }`,
      `{ node(id: "mb_\\u0000") { id } }`,
      `{ deployment(id: "${deploymentId}") { batches(search: "a\\u0000") { totalCount } } }`,
    ]) {
      const result = await server.graphql(query);
      expect(result.status).toBe(200);
      expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining('NUL'), extensions: { code: 'BAD_USER_INPUT' } });
    }
  });
});

describe('date-times', () => {
  it.each(['0000-01-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', 'yesterday'])(
    'refuses %s as a DateTime instead of failing in the database',
    async (value) => {
      const result = await server.graphql(BatchCountCreatedAfterDocument, { deploymentId, createdAfter: value });
      expect(result.errors?.[0]?.message).toMatch(/ISO-8601/);
      expect(result.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    },
  );

  it('accepts offsets and fractional seconds', async () => {
    const result = await server.graphql(BatchCountCreatedAfterDocument, { deploymentId, createdAfter: '2020-02-29T10:00:00.123+02:00' });
    expect(result.data).toEqual({ deployment: { batches: { totalCount: 1 } } });
  });
});

describe('malformed HTTP', () => {
  it('answers 400 to a malformed Host header', async () => {
    const port = new URL(server.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: exa%mple.com\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});
