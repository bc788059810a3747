import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchLiveDocument, CheckModelBackendDocument, UpdateModelBackendDocument } from '../generated/graphql.js';
import { createBatch, createUser } from '../helpers/fixtures.js';
import { requestGraphQL } from '../helpers/graphql.js';
import { closeSockets, connect, openSocket, runOnce, watch } from '../helpers/graphql-ws.js';
import { FAST_JOBS, inputCsv, inputRows, runJob } from '../helpers/jobs.js';
import { LogCapture } from '../helpers/logs.js';
import { closedPortUrl, type ModelServer, startModelServer } from '../helpers/model-server.js';
import { batchesPath, post } from '../helpers/rest.js';
import { backendFor, createScoredDeployment, MODELS, predict, ROWS } from '../helpers/scoring.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// No API token, no model-backend secret and no Authorization header value is ever logged: a session
// that uses all of them — good and bad tokens in headers and in graphql-ws connectionParams, backend
// settings with secret headers, real-time scoring and a batch prediction job against the example
// model server, failing backends included — at the most talkative log level, then a search of
// everything the server wrote for each secret.

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const BACKEND_AUTHORIZATION = `Bearer ${secret('backend-bearer')}`;
const BACKEND_KEY = secret('backend-key');
const BAD_TOKEN = `bl_${secret('not-a-token')}`;
const MALFORMED_AUTHORIZATION = `Basic ${secret('basic-credentials')}`;
const BACKEND_HEADERS = [
  { name: 'Authorization', value: BACKEND_AUTHORIZATION },
  { name: 'X-Api-Key', value: BACKEND_KEY },
];

let server: TestServer;
let models: ModelServer;
const logs = new LogCapture();

beforeAll(async () => {
  [server, models] = await Promise.all([
    startTestServer({ ...FAST_JOBS, logLevel: 'trace' }, { logDestination: logs.destination }),
    startModelServer(MODELS),
  ]);
});
afterAll(async () => {
  await closeSockets();
  await Promise.all([server?.stop(), models?.stop()]);
});

describe('secrets in the logs', () => {
  it('a session with tokens, bad tokens, backend secrets, scoring and a job writes none of them', { timeout: 120_000 }, async () => {
    const member = await createUser(server, server.adminToken, 'member', 'MEMBER');

    // Tokens in Authorization headers: good, bad, malformed; REST, GraphQL, /metrics.
    for (const authorization of [
      `Bearer ${server.adminToken}`,
      `Bearer ${member.secret}`,
      `Bearer ${BAD_TOKEN}`,
      MALFORMED_AUTHORIZATION,
    ]) {
      await fetch(`${server.url}${batchesPath('dep_000000000000000000000000')}`, { headers: { authorization } });
      await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: 'query SecretsViewer { viewer { id } }' }),
      });
      await fetch(`${server.url}/metrics`, { headers: { authorization } });
    }

    // graphql-ws: a good token, then bad ones in connectionParams.
    const client = connect(server, member.secret);
    expect((await runOnce(client, 'query SecretsWs { viewer { id } }')).data).toBeTruthy();
    for (const params of [{ authorization: `Bearer ${BAD_TOKEN}` }, { Authorization: MALFORMED_AUTHORIZATION }, { token: BAD_TOKEN }]) {
      expect(await openSocket(server, params).closed).toBe(4403);
    }

    // Backend settings with secret headers; real-time scoring that works and that fails.
    const deployment = await createScoredDeployment(server, models, 'reg', {
      input: { modelBackend: { ...backendFor(models, 'reg'), headers: BACKEND_HEADERS } },
    });
    expect((await predict(server, deployment.id, ROWS)).status).toBe(200);
    const failing = await createScoredDeployment(server, models, 'failing', {
      input: { modelBackend: { ...backendFor(models, 'failing'), headers: BACKEND_HEADERS } },
    });
    expect((await predict(server, failing.id, ROWS)).status).toBeGreaterThanOrEqual(500);
    const malformed = await createScoredDeployment(server, models, 'malformed', {
      input: { modelBackend: { ...backendFor(models, 'malformed'), headers: BACKEND_HEADERS } },
    });
    expect((await predict(server, malformed.id, ROWS)).status).toBeGreaterThanOrEqual(500);
    const unreachable = await createScoredDeployment(server, await closedPortUrl(), 'reg', {
      input: { modelBackend: { ...backendFor(await closedPortUrl(), 'reg'), headers: BACKEND_HEADERS } },
    });
    expect((await predict(server, unreachable.id, ROWS)).status).toBeGreaterThanOrEqual(500);
    await server.op(CheckModelBackendDocument, { deploymentId: failing.id });
    await server.op(CheckModelBackendDocument, { deploymentId: unreachable.id });
    // Settings refused (a bad header name) and accepted, by GraphQL.
    await requestGraphQL(server, UpdateModelBackendDocument, {
      input: {
        deploymentId: deployment.id,
        modelBackend: { ...backendFor(models, 'reg'), headers: [{ name: 'Bad Name', value: BACKEND_KEY }] },
      },
    });
    await requestGraphQL(
      server,
      UpdateModelBackendDocument,
      { input: { deploymentId: deployment.id, modelBackend: { ...backendFor(models, 'reg'), headers: BACKEND_HEADERS } } },
      member.secret,
    );
    // ... and over REST (the settings route), with the values in the body.
    await post(server, `/api/v2/deployments/${deployment.id}/settings/`, JSON.stringify({ modelBackend: { headers: BACKEND_HEADERS } }), {
      contentType: 'application/json',
    });

    // Batch prediction jobs: one that completes, one whose backend fails every try.
    const csv = inputCsv(inputRows(5));
    expect((await runJob(server, { deploymentId: deployment.id, passthroughColumns: ['id'] }, csv)).status).toBe('COMPLETED');
    expect((await runJob(server, { deploymentId: failing.id, passthroughColumns: ['id'] }, csv)).status).toBe('FAILED');

    // A live view over graphql-ws and SSE with the token.
    const batch = await createBatch(server, deployment.id);
    const live = watch(client, BatchLiveDocument, { id: batch.id });
    await live.until((data) => data.monitoringBatch?.id === batch.id);
    await live.stop();
    const controller = new AbortController();
    const sse = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${member.secret}` },
      body: JSON.stringify({ query: print(BatchLiveDocument), variables: { id: batch.id } }),
      signal: controller.signal,
    });
    const reader = sse.body!.getReader();
    let text = '';
    while (!text.includes('predictionCount')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await client.dispose();
    await sleep(300);

    // The session was logged (the check below is not vacuous) ...
    const lines = logs.lines();
    expect(lines.filter((line) => line.msg === 'request').length).toBeGreaterThan(30);
    expect(lines.some((line) => line.msg === 'graphql-ws operation')).toBe(true);
    expect(
      lines.some((line) => String(line.operation).startsWith('POST /predApi/') || String(line.operation).includes('/predictions')),
    ).toBe(true);
    expect(lines.some((line) => line.level === 'debug')).toBe(true);
    // ... and holds none of the secrets, nor any Authorization value.
    for (const value of [
      server.adminToken,
      member.secret,
      BAD_TOKEN,
      MALFORMED_AUTHORIZATION,
      BACKEND_AUTHORIZATION,
      BACKEND_AUTHORIZATION.slice('Bearer '.length),
      BACKEND_KEY,
    ]) {
      expect(logs.text).not.toContain(value);
    }
    expect(logs.text).not.toMatch(/bl_test_[0-9a-f]{8}/);
    expect(logs.text.toLowerCase()).not.toContain('"authorization":"bearer');
  });
});
