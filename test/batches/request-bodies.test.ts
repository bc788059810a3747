import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../helpers/db.js';
import { createDeployment, createOrganization, createTenant } from '../helpers/fixtures.js';
import { batchesPath, batchPath, settingsPath } from '../helpers/rest.js';
import { type RestBatch, startTestServer, type TestServer } from '../helpers/server.js';

// What the batch routes read from a request body: JSON (application/json or a +json type), within
// maxBodyBytes. Anything else is a 400, 415 or 413 answer, and nothing is stored.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('request bodies of the batch routes', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ maxBodyBytes: 1024 });
  });
  afterAll(async () => {
    await small?.stop();
  });

  it('answers 400 for a body that is not valid JSON', async () => {
    const { token, deploymentId } = await createTenant(server);
    for (const rawBody of ['{"batchName": ', "{'batchName': 'single quotes'}", '{"batchName": "a",}', 'batchName=a']) {
      const answer = await server.rest('POST', batchesPath(deploymentId), {
        token,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.status, rawBody).toBe(400);
      expect(answer.json.message).toMatch(/^Request body is not valid JSON/);
    }
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(0);
  });

  it('answers 415 for JSON text sent as text/plain or a form', async () => {
    const { token, deploymentId } = await createTenant(server);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const answer = await server.rest('POST', batchesPath(deploymentId), {
        token,
        rawBody: JSON.stringify({ batchName: 'typed wrong' }),
        headers: { 'content-type': type },
      });
      expect(answer.status, type).toBe(415);
      expect(answer.json.message).toContain('Content-Type must be application/json');
    }
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(0);
  });

  it('accepts application/json with a charset and the +json types', async () => {
    const { token, deploymentId } = await createTenant(server);
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
    const { token, deploymentId } = await createTenant(server);
    const answer = await server.rest('POST', batchesPath(deploymentId), { token, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({ batchName: 'is required' });
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(0);
  });

  it('answers 413 for a body over the limit on every route that reads one, and stores nothing', async () => {
    const org = await createOrganization(small);
    const { id: deploymentId } = await createDeployment(small, org.token);
    const created = await small.rest('POST', batchesPath(deploymentId), { token: org.token, body: { batchName: 'small server batch' } });
    expect(created.status).toBe(201);
    const batch = created.json as RestBatch;
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
