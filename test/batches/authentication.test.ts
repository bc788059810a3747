import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateApiTokenDocument, DeploymentDocument, RevokeApiTokenDocument } from '../generated/graphql.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment, createTenant } from '../helpers/fixtures.js';
import {
  actualsPath,
  answersOf,
  batchesPath,
  batchPath,
  createRestBatch,
  everyIngestRoute,
  limitsPath,
  postJson,
  settingsPath,
} from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Every REST route needs a valid API token (Authorization: Bearer …): without one, with an unknown,
// revoked or malformed one, the answer is 401 and nothing is read or changed.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the batch routes', () => {
  it('answers 401 on every route with no token, a bad token, a revoked token or a non-Bearer scheme', async () => {
    const { token, deploymentId } = await createTenant(server);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'guarded' });
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
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', deploymentId)).toBe(1);
    expect((await server.op(DeploymentDocument, { id: deploymentId }, token)).deployment?.batchMonitoringEnabled).toBe(true);
  });
});

describe('the ingest routes', () => {
  it('answers 401 without a valid token on every route', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    for (const token of [null, 'bl_not_a_token']) {
      const got = await answersOf({
        ...everyIngestRoute(server, deployment.id, batch.id, token),
        actuals: () => postJson(server, actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 1 }] }, { token }),
      });
      for (const [route, answer] of Object.entries(got)) expect(answer.status, route).toBe(401);
    }
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
  });
});
