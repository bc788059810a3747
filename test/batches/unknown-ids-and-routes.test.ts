import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NOT_FOUND, createTenant, DEPLOYMENT_NOT_FOUND, MISSING_BATCH, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import { batchesPath, batchPath, createRestBatch, limitsPath, settingsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Unknown ids answer 404 with the DataRobot message of what is missing (never a 500, whatever the
// id holds); unknown routes answer 404 JSON, and a wrong method on a known path 405 with Allow.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('an unknown deployment', () => {
  it('answers 404 "Deployment not found" on the deployment routes and "Monitoring batch not found" on the batch routes', async () => {
    const { token } = await createTenant(server);
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
    const { token, deploymentId } = await createTenant(server);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'safe' });
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

describe('routing', () => {
  it('answers 404 JSON for an unknown route', async () => {
    const { token, deploymentId } = await createTenant(server);
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
    const { token, deploymentId } = await createTenant(server);
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
