import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckModelBackendDocument } from '../generated/graphql.js';
import { createDeployment, createTenant, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import { closedPortUrl, type ModelServer, startModelServer } from '../helpers/model-server.js';
import { backendFor, createScoredDeployment, MODELS } from '../helpers/scoring.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// checkModelBackend: a "test connection" for a deployment's model backend. Readiness, and for the
// Open Inference Protocol v2 the model's metadata against the deployment's features and classes.
// A backend that is down or does not fit is a check with problems; only a missing one is an error.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

async function check(deploymentId: string, token = server.adminToken) {
  return (await server.op(CheckModelBackendDocument, { deploymentId }, token)).checkModelBackend;
}

describe('checkModelBackend', () => {
  it('a ready v2 model whose inputs and outputs fit the deployment: ready, no problems', async () => {
    const deployment = await createScoredDeployment(server, models, 'bin');
    const before = models.received.length;
    expect(await check(deployment.id)).toEqual({
      __typename: 'ModelBackendCheck',
      backend: `OPEN_INFERENCE_V2 ${models.url}/v2/models/bin`,
      ready: true,
      problems: [],
      latencyMs: expect.any(Number),
    });
    expect(models.received.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/models/bin/ready', 'GET /v2/models/bin']);
  });

  it('a ready MLflow server (GET /ping)', async () => {
    const deployment = await createScoredDeployment(server, models, 'reg', { protocol: 'MLFLOW' });
    expect(await check(deployment.id)).toMatchObject({ backend: `MLFLOW ${models.url}/mlflow/reg`, ready: true, problems: [] });
    expect(models.received.at(-1)).toMatchObject({ method: 'GET', path: '/mlflow/reg/ping' });
  });

  it('not ready: a model the server does not have, or a server that is down', async () => {
    const unknown = await createScoredDeployment(server, models, 'reg', { input: { modelBackend: backendFor(models, 'nope') } });
    const unknownCheck = await check(unknown.id);
    expect(unknownCheck).toMatchObject({ __typename: 'ModelBackendCheck', ready: false });
    expect(unknownCheck.__typename === 'ModelBackendCheck' && unknownCheck.problems).toEqual([
      `Model backend OPEN_INFERENCE_V2 ${models.url}/v2/models/nope: GET /v2/models/nope/ready answered 404: Model nope not found`,
    ]);

    const down = await closedPortUrl();
    for (const protocol of ['OPEN_INFERENCE_V2', 'MLFLOW'] as const) {
      const deployment = await createScoredDeployment(server, down, 'reg', { protocol });
      const result = await check(deployment.id);
      expect(result).toMatchObject({ ready: false, problems: [expect.stringMatching(/: could not connect \(ECONNREFUSED\)$/)] });
    }
  });

  it('a v2 model whose inputs or outputs do not fit the deployment: ready, with each mismatch named', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      targetType: 'MULTICLASS',
      targetName: 'kind',
      classNames: ['x', 'y'],
      features: [
        { name: 'a', type: 'CATEGORICAL' },
        { name: 'b', type: 'NUMERIC' },
        { name: 'd', type: 'NUMERIC' },
      ],
      modelBackend: backendFor(models, 'multi'),
    });
    const result = await check(deployment.id);
    expect(result).toMatchObject({ __typename: 'ModelBackendCheck', ready: true });
    expect(result.__typename === 'ModelBackendCheck' && [...result.problems].sort()).toEqual(
      [
        'input "a" takes FP64 but the feature is CATEGORICAL (BYTES)',
        'the model has no input for feature "d"',
        `the model's input "c" is not a feature of the deployment`,
        'the model answers 3 values per row; the deployment has 2 classes',
      ].sort(),
    );
  });

  it('ModelBackendError NOT_CONFIGURED for a deployment without a backend; NotFoundError for a missing or foreign one', async () => {
    const bare = await createDeployment(server);
    expect(await check(bare.id)).toMatchObject({
      __typename: 'ModelBackendError',
      failure: 'NOT_CONFIGURED',
      failedBackend: null,
      message: `Deployment ${bare.id} has no model backend; set one with updateDeploymentSettings(modelBackend)`,
    });
    const other = await createTenant(server);
    const foreign = await createScoredDeployment(server, models, 'reg', { token: other.token });
    const before = models.received.length;
    for (const id of [foreign.id, MISSING_DEPLOYMENT]) {
      expect(await check(id)).toEqual({ __typename: 'NotFoundError', message: 'Deployment not found', resource: 'Deployment' });
    }
    expect(models.received.length).toBe(before);
  });
});
