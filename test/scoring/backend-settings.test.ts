import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckModelBackendDocument,
  CreateDeploymentWithBackendDocument,
  DeploymentModelBackendDocument,
  type ModelBackendInput,
  UpdateModelBackendDocument,
} from '../generated/graphql.js';
import { createDeployment, createUser } from '../helpers/fixtures.js';
import { requestGraphQL } from '../helpers/graphql.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { backendFor, createScoredDeployment, MODELS, predict, ROWS } from '../helpers/scoring.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The model backend setting of a deployment: set by organization admins only (createDeployment,
// updateDeploymentSettings), validated naming the field, its headers write-only (only their names
// are returned) and sent with every request to the backend.

let server: TestServer;
let models: ModelServer;
let member: string;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
  member = (await createUser(server, server.adminToken, 'member', 'MEMBER')).secret;
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

const SECRET = 'Bearer model-secret-4711';
const HEADERS = [
  { name: 'X-Tenant', value: 'tenant-9' },
  { name: 'Authorization', value: SECRET },
];

function update(deploymentId: string, modelBackend: ModelBackendInput | null, token = server.adminToken) {
  return requestGraphQL(server, UpdateModelBackendDocument, { input: { deploymentId, modelBackend } }, token);
}

describe('the model backend setting', () => {
  it('is set by admins and read back without header values: protocol, url, modelName, timeoutMs, headerNames', async () => {
    const deployment = await createDeployment(server);
    const answer = await update(deployment.id, { ...backendFor(`${models.url}/`, 'reg'), headers: HEADERS });
    expect(answer.data?.updateDeploymentSettings).toMatchObject({
      __typename: 'UpdateDeploymentSettingsSuccess',
      deployment: {
        modelBackend: {
          protocol: 'OPEN_INFERENCE_V2',
          url: models.url,
          modelName: 'reg',
          timeoutMs: 30000,
          headerNames: ['Authorization', 'X-Tenant'],
        },
      },
    });
    const read = await requestGraphQL(server, DeploymentModelBackendDocument, { id: deployment.id });
    expect(read.data?.deployment?.modelBackend?.headerNames).toEqual(['Authorization', 'X-Tenant']);
    for (const text of [JSON.stringify(answer), JSON.stringify(read)]) {
      expect(text).not.toContain('model-secret');
      expect(text).not.toContain('tenant-9');
    }
  });

  it('sends its headers with every request to the backend: scoring and checks', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg', {
      input: { modelBackend: { ...backendFor(models, 'reg'), headers: HEADERS } },
    });
    const before = models.received.length;
    expect((await predict(server, deployment.id, ROWS)).status).toBe(200);
    await server.op(CheckModelBackendDocument, { deploymentId: deployment.id });
    const sent = models.received.slice(before);
    expect(sent.map((r) => r.path)).toEqual(['/v2/models/reg/infer', '/v2/models/reg/ready', '/v2/models/reg']);
    for (const request of sent) expect(request.headers).toMatchObject({ authorization: SECRET, 'x-tenant': 'tenant-9' });
  });

  it('keeps its headers when they are left out, clears them with [], and is removed with null', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg', {
      input: { modelBackend: { ...backendFor(models, 'reg'), headers: HEADERS } },
    });
    const names = async () =>
      (await server.op(DeploymentModelBackendDocument, { id: deployment.id })).deployment!.modelBackend?.headerNames;
    await update(deployment.id, { ...backendFor(models, 'multi'), timeoutMs: 500 });
    expect(await names()).toEqual(['Authorization', 'X-Tenant']);
    await update(deployment.id, { ...backendFor(models, 'reg'), headers: [] });
    expect(await names()).toEqual([]);
    await update(deployment.id, null);
    expect((await server.op(DeploymentModelBackendDocument, { id: deployment.id })).deployment!.modelBackend).toBeNull();
  });

  it('is refused to members (ForbiddenError) on create and update; their other settings still go through', async () => {
    const created = await requestGraphQL(
      server,
      CreateDeploymentWithBackendDocument,
      {
        input: { label: 'by a member', targetType: 'REGRESSION', targetName: 'y', modelBackend: backendFor(models, 'reg') },
      },
      member,
    );
    expect(created.data?.createDeployment).toEqual({
      __typename: 'ForbiddenError',
      message: 'Only organization admins can set a model backend',
    });
    const deployment = await createScoredDeployment(server, models, 'reg');
    const updated = await update(deployment.id, backendFor(models, 'multi'), member);
    expect(updated.data?.updateDeploymentSettings).toMatchObject({ __typename: 'ForbiddenError' });
    const removed = await update(deployment.id, null, member);
    expect(removed.data?.updateDeploymentSettings).toMatchObject({ __typename: 'ForbiddenError' });
    const read = await server.op(DeploymentModelBackendDocument, { id: deployment.id }, member);
    expect(read.deployment!.modelBackend).toMatchObject({ modelName: 'reg' });
    // Members may score on it.
    expect((await predict(server, deployment.id, ROWS, { token: member })).status).toBe(200);
  });

  it('names the field at fault: v2 without modelName, a URL that is not http(s), a bad header, a timeout out of range', async () => {
    const deployment = await createDeployment(server);
    const cases: [ModelBackendInput, string, string][] = [
      [{ protocol: 'OPEN_INFERENCE_V2', url: models.url }, 'modelBackend.modelName', 'is required for the Open Inference Protocol v2'],
      [{ protocol: 'MLFLOW', url: 'ftp://models.example/x' }, 'modelBackend.url', 'must be an http(s) URL'],
      [{ protocol: 'MLFLOW', url: 'not a url' }, 'modelBackend.url', 'must be an http(s) URL'],
      [
        { protocol: 'MLFLOW', url: models.url, headers: [{ name: 'Bad Name', value: 'x' }] },
        'modelBackend.headers.0.name',
        'must be an HTTP header name',
      ],
      [
        { protocol: 'MLFLOW', url: models.url, headers: [{ name: 'Host', value: 'x' }] },
        'modelBackend.headers.0.name',
        'is set by batchlens itself',
      ],
      [{ protocol: 'MLFLOW', url: models.url, timeoutMs: 5 }, 'modelBackend.timeoutMs', 'must be at least 10'],
    ];
    for (const [input, field, message] of cases) {
      const answer = await update(deployment.id, input);
      expect(answer.data?.updateDeploymentSettings, JSON.stringify(input)).toMatchObject({
        __typename: 'ValidationError',
        fieldErrors: [{ field, message }],
      });
    }
    expect((await server.op(DeploymentModelBackendDocument, { id: deployment.id })).deployment!.modelBackend).toBeNull();
  });
});
