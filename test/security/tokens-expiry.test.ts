import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchLiveDocument,
  CreateExpiringApiTokenDocument,
  CreateOrganizationWithExpiringTokenDocument,
  CreateUserWithExpiringTokenDocument,
  ViewerNameDocument,
  ViewerTokenExpiriesDocument,
} from '../generated/graphql.js';
import { createBatch, createTenant } from '../helpers/fixtures.js';
import { closeSockets, openSocket, runOnce, watch } from '../helpers/graphql-ws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// API tokens may expire: from their expiresAt on they are refused exactly like a revoked token
// (401 on REST and GraphQL, graphql-ws closed with 4403), and the sockets and SSE streams opened
// with them are closed within a few seconds, like those of a revoked token.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

async function expiringToken(token: string, expiresAt: string, name = 'expiring') {
  const created = await server.op(CreateExpiringApiTokenDocument, { input: { name, expiresAt } }, token);
  if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error(JSON.stringify(created));
  return created.createApiToken;
}

describe('a token with an expiry', () => {
  it('works until it expires, then is refused everywhere and its live connections are closed', async () => {
    const tenant = await createTenant(server);
    const batch = await createBatch(server, tenant.deploymentId, 'watched', tenant.token);
    const expiresAt = inSeconds(4);
    const { secret, token } = await expiringToken(tenant.token, expiresAt);
    expect(token.expiresAt).toBe(expiresAt);
    const listed = await server.op(ViewerTokenExpiriesDocument, {}, tenant.token);
    expect(listed.viewer.apiTokens).toContainEqual({ id: token.id, name: 'expiring', expiresAt });

    // Before: REST, GraphQL, a subscribed socket and an SSE stream all work.
    const batchesPath = `/api/v2/deployments/${tenant.deploymentId}/monitoringBatches/`;
    expect((await server.rest('GET', batchesPath, { token: secret })).status).toBe(200);
    expect((await server.graphql(ViewerNameDocument, {}, secret)).status).toBe(200);
    const socket = openSocket(server, { authorization: `Bearer ${secret}` });
    const sub = watch(socket.client, BatchLiveDocument, { id: batch.id });
    await sub.until((m) => m.monitoringBatch.id === batch.id);
    const stream = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: print(BatchLiveDocument), variables: { id: batch.id } }),
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('watched')) text += new TextDecoder().decode((await reader.read()).value);
    const streamEnded = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // a destroyed response ends the stream with an error: it ended all the same
      }
      return Date.now();
    })();

    // After: the open connections are closed within a few seconds of the expiry.
    const expiry = Date.parse(expiresAt);
    const closedWith = await Promise.race([socket.closed, sleep(expiry - Date.now() + 6000).then(() => undefined)]);
    expect(closedWith).toBe(4403);
    const socketClosedAt = Date.now();
    expect(socketClosedAt).toBeGreaterThanOrEqual(expiry);
    expect(socketClosedAt - expiry).toBeLessThan(5000);
    const streamEndedAt = await Promise.race([streamEnded, sleep(6000).then(() => undefined)]);
    expect(streamEndedAt).toBeDefined();
    expect(streamEndedAt! - expiry).toBeLessThan(5000);

    // …and every new request is refused as a revoked token is.
    const rest = await server.rest('GET', batchesPath, { token: secret });
    expect(rest.status).toBe(401);
    expect(rest.json.message).toMatch(/expired/);
    const graphql = await server.graphql(ViewerNameDocument, {}, secret);
    expect(graphql.status).toBe(401);
    expect(graphql.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const refusedSocket = openSocket(server, { authorization: `Bearer ${secret}` });
    expect(await refusedSocket.closed).toBe(4403);

    // The expired token is no longer among the viewer's usable tokens; the others still work.
    const after = await server.op(ViewerTokenExpiriesDocument, {}, tenant.token);
    expect(after.viewer.apiTokens.map((t) => t.id)).not.toContain(token.id);
  });

  it('refuses a further operation on a socket whose token expired before the sweep noticed', async () => {
    const tenant = await createTenant(server);
    const { secret } = await expiringToken(tenant.token, inSeconds(1.5));
    const socket = openSocket(server, { authorization: `Bearer ${secret}` });
    await socket.connected;
    expect((await runOnce(socket.client, ViewerNameDocument, {})).data?.viewer.name).toBe('admin');
    await sleep(1600);
    const attempt = await runOnce(socket.client, ViewerNameDocument, {});
    expect(attempt.data).toBeUndefined();
    expect(await socket.closed).toBe(4403);
  });

  it('gives createUser and createOrganization tokens an expiry too; none by default', async () => {
    const tenant = await createTenant(server);
    const expiresAt = inSeconds(3600);
    const user = await server.op(CreateUserWithExpiringTokenDocument, { input: { name: 'temp', tokenExpiresAt: expiresAt } }, tenant.token);
    expect(user.createUser).toMatchObject({ __typename: 'CreateUserSuccess', token: { expiresAt } });
    const forever = await server.op(CreateUserWithExpiringTokenDocument, { input: { name: 'staff' } }, tenant.token);
    expect(forever.createUser).toMatchObject({ __typename: 'CreateUserSuccess', token: { expiresAt: null } });
    const org = await server.op(CreateOrganizationWithExpiringTokenDocument, {
      input: { name: `expiring org ${Date.now()}`, adminTokenExpiresAt: expiresAt },
    });
    expect(org.createOrganization).toMatchObject({ __typename: 'CreateOrganizationSuccess', token: { expiresAt } });
    if (org.createOrganization.__typename !== 'CreateOrganizationSuccess') throw new Error('no organization');
    expect((await server.graphql(ViewerNameDocument, {}, org.createOrganization.secret)).status).toBe(200);
  });

  it('keeps the bootstrap token non-expiring', async () => {
    const admin = await server.op(ViewerTokenExpiriesDocument, {});
    expect(admin.viewer.apiTokens.find((t) => t.name === 'bootstrap')).toMatchObject({ expiresAt: null });
  });
});

describe('refused expiries', () => {
  it('refuses a past or a too distant expiry with a ValidationError naming the field, and creates nothing', async () => {
    const tenant = await createTenant(server);
    const countTokens = async () => (await server.sql`select count(*)::int as n from api_tokens`)[0]!.n as number;
    const countUsers = async () => (await server.sql`select count(*)::int as n from users`)[0]!.n as number;
    const before = { tokens: await countTokens(), users: await countUsers() };

    for (const [expiresAt, message] of [
      [inSeconds(-1), 'must be in the future'],
      ['2020-01-01T00:00:00Z', 'must be in the future'],
      [inSeconds(3651 * 86_400), 'must be at most 3650 days from now'],
    ] as const) {
      const token = await server.op(CreateExpiringApiTokenDocument, { input: { name: 'bad', expiresAt } }, tenant.token);
      expect(token.createApiToken).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'expiresAt', message }] });
    }
    const user = await server.op(
      CreateUserWithExpiringTokenDocument,
      { input: { name: 'late', tokenExpiresAt: inSeconds(-60) } },
      tenant.token,
    );
    expect(user.createUser).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'tokenExpiresAt', message: 'must be in the future' }],
    });
    const org = await server.op(CreateOrganizationWithExpiringTokenDocument, {
      input: { name: `late org ${Date.now()}`, adminTokenExpiresAt: '2001-01-01T00:00:00Z' },
    });
    expect(org.createOrganization).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'adminTokenExpiresAt', message: 'must be in the future' }],
    });
    expect({ tokens: await countTokens(), users: await countUsers() }).toEqual(before);
  });

  it('answers a malformed expiry with a 400 naming the DateTime format, not a 500', async () => {
    const tenant = await createTenant(server);
    const answer = await server.graphql(CreateExpiringApiTokenDocument, { input: { name: 'x', expiresAt: 'tomorrow' } }, tenant.token);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.message).toMatch(/DateTime must be an ISO-8601 date-time/);
  });
});
