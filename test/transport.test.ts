import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateApiTokenDocument,
  CreateDeploymentDocument,
  CreateDeploymentTypenameDocument,
  DeploymentAndNodeDocument,
  DeploymentIdDocument,
  DeploymentLabelDocument,
  DeploymentsLabelledDocument,
  RevokeApiTokenDocument,
  ViewerNameDocument,
  ViewerOrganizationDocument,
  ViewerOrganizationIdDocument,
} from './generated/graphql.js';
import { createDeployment, createOrganization } from './helpers/fixtures.js';
import { postGraphQL } from './helpers/graphql.js';
import { closeSockets, openSocket, runOnce } from './helpers/graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// GraphQL over every transport the server offers: HTTP GET and POST, server-sent events and
// graphql-ws; their authentication, CORS, GraphiQL, and protocol errors. Requests are the typed
// operations from test/operations (printed where a test writes the HTTP request itself);
// hand-written GraphQL text is left only where the text is what a test is about (syntax errors,
// unknown fields, two operations in one document).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

const graphqlUrl = () => `${server.url}/graphql`;
const bearer = (token = server.adminToken) => ({ authorization: `Bearer ${token}` });
const VIEWER_NAME = print(ViewerNameDocument);
const VIEWER_ORGANIZATION = print(ViewerOrganizationDocument);

/** How many deployments of the caller's organization carry this label. */
async function deploymentsLabelled(label: string, token = server.adminToken): Promise<number> {
  return (await server.op(DeploymentsLabelledDocument, { search: label }, token)).deployments.totalCount;
}

/** createDeployment's variables for a regression deployment with this label. */
const regressionInput = (label: string) => ({ input: { label, targetType: 'REGRESSION' as const, targetName: 'y' } });

describe('GET /healthz', () => {
  it('answers 200 {status: "ok"} without a token while the database is reachable', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('GraphQL over HTTP at /graphql', () => {
  it('answers a query sent with POST', async () => {
    const response = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('answers a query sent with GET ?query=', async () => {
    const response = await fetch(`${graphqlUrl()}?query=${encodeURIComponent(VIEWER_NAME)}`, { headers: bearer() });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('passes variables and operationName on GET', async () => {
    // Two operations in one document (not a single typed operation): operationName picks one.
    const query = 'query Other { viewer { id } } query Mine($search: String) { deployments(search: $search) { totalCount } }';
    const params = new URLSearchParams({ query, operationName: 'Mine', variables: JSON.stringify({ search: 'no such deployment' }) });
    const response = await fetch(`${graphqlUrl()}?${params}`, { headers: bearer() });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { deployments: { totalCount: 0 } } });
  });

  it('refuses a mutation sent with GET (405) and runs nothing', async () => {
    const label = `get-mutation-${Date.now()}`;
    const params = new URLSearchParams({
      query: print(CreateDeploymentTypenameDocument),
      variables: JSON.stringify(regressionInput(label)),
    });
    const response = await fetch(`${graphqlUrl()}?${params}`, { headers: bearer() });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toBe('Can only perform a mutation operation from a POST request.');
    expect(response.headers.get('allow')).toBe('POST');
    expect(await deploymentsLabelled(label)).toBe(0);
    // The same mutation over POST does create it, so the GET refusal is not a broken operation.
    const posted = await server.graphql(CreateDeploymentTypenameDocument, regressionInput(label));
    expect(posted.data?.createDeployment.__typename).toBe('CreateDeploymentSuccess');
    expect(await deploymentsLabelled(label)).toBe(1);
  });
});

describe('CORS', () => {
  // Allowed origins are a setting (BATCHLENS_CORS_ORIGINS; test/security/headers.test.ts); by default
  // there are none: the API is same-origin only, and another origin's browser gets no CORS header.
  it('by default refuses another origin’s preflight and gives its requests no CORS header; the request itself still needs a token', async () => {
    const preflight = await fetch(graphqlUrl(), {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await preflight.json()) as { message: string }).message).toContain('BATCHLENS_CORS_ORIGINS');

    const withToken = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('access-control-allow-origin')).toBeNull();
    expect(await withToken.json()).toEqual({ data: { viewer: { name: 'admin' } } });

    const withoutToken = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(withoutToken.status).toBe(401);
  });
});

describe('GraphiQL', () => {
  it('serves the GraphiQL page to a browser without a token', async () => {
    const response = await fetch(graphqlUrl(), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html.toLowerCase()).toContain('graphiql');
    expect(html).toContain('batchlens');
  });

  it('still answers 401 UNAUTHENTICATED to an operation without a token, from a browser or not', async () => {
    const fromBrowser = await fetch(`${graphqlUrl()}?query=${encodeURIComponent(VIEWER_NAME)}`, {
      headers: { accept: 'text/html' },
    });
    expect(fromBrowser.status).toBe(401);
    expect(fromBrowser.headers.get('www-authenticate')).toBe('Bearer');
    const browserBody = (await fromBrowser.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
    expect(browserBody.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(browserBody.errors[0]!.message).toContain('Authorization: Bearer');
    expect(browserBody.data).toBeUndefined();

    const posted = await server.graphql(ViewerNameDocument, {}, null);
    expect(posted.status).toBe(401);
    expect(posted.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(posted.data).toBeUndefined();
  });
});

describe('GraphQL over server-sent events', () => {
  it('streams a query result as a `next` event followed by `complete`', async () => {
    const response = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer() },
      body: JSON.stringify({ query: VIEWER_ORGANIZATION }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = await response.text();
    const events = stream
      .split(/\n\n/)
      .map((block) => block.trim())
      .filter((block) => block.startsWith('event:'))
      .map((block) => {
        const [eventLine, ...dataLines] = block.split('\n');
        const data = dataLines.map((line) => line.replace(/^data: ?/, '')).join('\n');
        return { event: eventLine!.replace(/^event: ?/, ''), data };
      });
    expect(events.map((e) => e.event)).toEqual(['next', 'complete']);
    expect(JSON.parse(events[0]!.data)).toEqual({ data: { viewer: { name: 'admin', organization: { name: 'default' } } } });
  });

  it('answers 401 to an SSE request without a token', async () => {
    const response = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: VIEWER_NAME }),
    });
    expect(response.status).toBe(401);
  });
});

describe('graphql-ws on /graphql', () => {
  it('runs a query and a mutation over one authenticated socket', async () => {
    const { client, connected } = openSocket(server, { authorization: `Bearer ${server.adminToken}` });
    await connected;

    const viewer = await runOnce(client, ViewerOrganizationDocument, {});
    expect(viewer).toEqual({ data: { viewer: { name: 'admin', organization: { name: 'default' } } } });

    const label = `ws-deployment-${Date.now()}`;
    const created = await runOnce(client, CreateDeploymentDocument, {
      input: {
        label,
        targetType: 'BINARY',
        targetName: 'churn',
        classNames: ['no', 'yes'],
        positiveClass: 'yes',
        batchMonitoringEnabled: true,
      },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createDeployment).toMatchObject({
      __typename: 'CreateDeploymentSuccess',
      deployment: {
        label,
        targetType: 'BINARY',
        targetName: 'churn',
        classNames: ['no', 'yes'],
        positiveClass: 'yes',
        batchMonitoringEnabled: true,
      },
    });

    // What the socket created is there for HTTP clients too.
    if (created.data?.createDeployment.__typename !== 'CreateDeploymentSuccess') throw new Error(JSON.stringify(created));
    const id = created.data.createDeployment.deployment.id;
    const overHttp = await server.graphql(DeploymentLabelDocument, { id });
    expect(overHttp.data?.deployment).toEqual({ label });
  });

  it('accepts the `Authorization` spelling of the connection parameter too', async () => {
    const { client, connected } = openSocket(server, { Authorization: `Bearer ${server.adminToken}` });
    await connected;
    expect(await runOnce(client, ViewerNameDocument, {})).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('closes the socket with 4403 Forbidden without a token, with a bad token, or a malformed header', async () => {
    for (const params of [
      undefined,
      {},
      { authorization: 'Bearer bl_not_a_real_token' },
      { authorization: server.adminToken },
      { authorization: 42 },
    ]) {
      const { closed } = openSocket(server, params);
      expect(await closed, JSON.stringify(params)).toBe(4403);
    }
  });

  it('closes a new socket with 4403 once its token is revoked', async () => {
    const created = await server.op(CreateApiTokenDocument, { input: { name: 'ws-revoked' } });
    if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error('token not created');
    const { secret, token } = created.createApiToken;

    const before = openSocket(server, { authorization: `Bearer ${secret}` });
    await before.connected;
    expect(await runOnce(before.client, ViewerNameDocument, {})).toEqual({ data: { viewer: { name: 'admin' } } });

    const revoked = await server.op(RevokeApiTokenDocument, { id: token.id });
    expect(revoked.revokeApiToken.__typename).toBe('RevokeApiTokenSuccess');

    const after = openSocket(server, { authorization: `Bearer ${secret}` });
    expect(await after.closed).toBe(4403);
  });

  it('refuses further operations on a socket opened before its token was revoked', async () => {
    const created = await server.op(CreateApiTokenDocument, { input: { name: 'ws-revoked-open' } });
    if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error('token not created');
    const { secret, token } = created.createApiToken;

    const socket = openSocket(server, { authorization: `Bearer ${secret}` });
    await socket.connected;
    expect(await runOnce(socket.client, ViewerNameDocument, {})).toEqual({ data: { viewer: { name: 'admin' } } });

    await server.op(RevokeApiTokenDocument, { id: token.id });
    const label = `after-revoke-${Date.now()}`;
    const attempt = await runOnce(socket.client, CreateDeploymentTypenameDocument, regressionInput(label));
    expect(attempt).toEqual({ closedWith: 4403 });
    expect(await socket.closed).toBe(4403);
    expect(await deploymentsLabelled(label)).toBe(0);
  });

  it("keeps tenants apart: organization B's socket sees A's deployment as missing", async () => {
    const deploymentA = await createDeployment(server);
    const orgB = await createOrganization(server);
    const socketB = openSocket(server, { authorization: `Bearer ${orgB.token}` });
    await socketB.connected;

    const probe = await runOnce(socketB.client, DeploymentAndNodeDocument, { id: deploymentA.id });
    expect(probe).toEqual({ data: { deployment: null, node: null } });

    const own = await runOnce(socketB.client, ViewerOrganizationIdDocument, {});
    expect(own.data?.viewer.organization.id).toBe(orgB.organizationId);

    const socketA = openSocket(server, { authorization: `Bearer ${server.adminToken}` });
    await socketA.connected;
    expect(await runOnce(socketA.client, DeploymentIdDocument, { id: deploymentA.id })).toEqual({
      data: { deployment: { id: deploymentA.id } },
    });
  });

  it('reports GraphQL errors of one operation without closing the socket', async () => {
    const { client, connected, closed } = openSocket(server, { authorization: `Bearer ${server.adminToken}` });
    await connected;
    // Bad input on purpose: text that no typed operation can be.
    const unknownField = await runOnce(client, '{ viewer { nope } }');
    expect(unknownField.refused?.join('\n')).toMatch(/Cannot query field "nope" on type "Viewer"/);
    const syntax = await runOnce(client, '{ viewer { ');
    expect(syntax.refused?.join('\n')).toMatch(/Syntax Error/);
    expect(await runOnce(client, ViewerNameDocument, {})).toEqual({ data: { viewer: { name: 'admin' } } });
    const stillOpen: unknown = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('open'), 100)),
    ]);
    expect(stillOpen).toBe('open');
  });
});

describe('protocol errors', () => {
  it('answers 404 JSON for an unknown path (`/` is the dashboard)', async () => {
    for (const path of ['/nope', '/graphql/extra', '/healthz/x', '/index.htm']) {
      const response = await fetch(`${server.url}${path}`, { headers: bearer() });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      const body = (await response.json()) as { message: string };
      expect(body.message, path).toContain('Not found');
      expect(body.message, path).toContain('/graphql');
      expect(body.message, path).toContain('The dashboard is at /');
    }
  });

  it('answers 400 (not 500) to a malformed JSON body', async () => {
    for (const body of [JSON.stringify({ query: VIEWER_NAME }).slice(0, -1), 'not json', '', '[]', '{"query": 42}']) {
      const response = await fetch(graphqlUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const json = (await response.json()) as { errors: { message: string }[] };
      expect(json.errors[0]!.message, JSON.stringify(body)).toBeTruthy();
    }
  });

  // GraphQL over HTTP: with the spec's media type a request that cannot execute is a 400; a client
  // that only accepts the legacy `application/json` gets 200 with `errors` and no `data`.
  // (The queries below are malformed on purpose: they are the bad input under test.)
  it('answers 400 with the parser message to a syntax error', async () => {
    const answer = await postGraphQL(server, '{ viewer { name ', undefined, 'application/graphql-response+json');
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(/^application\/graphql-response\+json/);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.message).toBe('Syntax Error: Expected Name, found <EOF>.');
  });

  it('answers 400 naming an unknown field', async () => {
    const answer = await postGraphQL(server, '{ viewer { name shoeSize } }', undefined, 'application/graphql-response+json');
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.message).toBe('Cannot query field "shoeSize" on type "Viewer".');
  });

  it('answers the same errors with 200 and no data to a legacy `application/json` client', async () => {
    for (const [query, message] of [
      ['{ viewer { name ', 'Syntax Error: Expected Name, found <EOF>.'],
      ['{ viewer { name shoeSize } }', 'Cannot query field "shoeSize" on type "Viewer".'],
    ] as const) {
      const answer = await postGraphQL(server, query, undefined, 'application/json');
      expect(answer.status, query).toBe(200);
      expect(answer.contentType, query).toMatch(/^application\/json/);
      expect(answer.body.data, query).toBeUndefined();
      expect(answer.body.errors?.[0]?.message, query).toBe(message);
    }
  });
});
