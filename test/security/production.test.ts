import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ViewerNameDocument } from '../generated/graphql.js';
import { expectNoProblems, launchBrowser, openPage } from '../helpers/browser.js';
import { createDeployment, createOrganization } from '../helpers/fixtures.js';
import { closeSockets, connect, runOnce } from '../helpers/graphql-ws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// BATCHLENS_MODE=production: no GraphiQL, no introspection (over HTTP and graphql-ws alike), while
// the API — and the dashboard, which uses generated operations, not introspection — work as before.

const chromiumCommand = systemPackage(CHROMIUM);

const SCHEMA_QUERY = '{ __schema { queryType { name } } }';
const TYPE_QUERY = '{ __type(name: "Deployment") { name fields { name } } }';
/** Introspection beside an ordinary field, through a fragment. */
const NESTED_QUERY = '{ viewer { name } ...Types } fragment Types on Query { __type(name: "User") { kind } }';

describe('production-mode settings', () => {
  it('turn GraphiQL and introspection off by default in production, on in development; explicit settings win', () => {
    expect(loadConfig({})).toMatchObject({ mode: 'development', graphiql: true, introspection: true, corsOrigins: [] });
    expect(loadConfig({ BATCHLENS_MODE: 'production' })).toMatchObject({ mode: 'production', graphiql: false, introspection: false });
    expect(loadConfig({ BATCHLENS_MODE: 'production', BATCHLENS_GRAPHIQL: 'on' })).toMatchObject({ graphiql: true, introspection: false });
    expect(loadConfig({ BATCHLENS_MODE: 'production', BATCHLENS_INTROSPECTION: 'on' })).toMatchObject({
      graphiql: false,
      introspection: true,
    });
    expect(loadConfig({ BATCHLENS_GRAPHIQL: 'off', BATCHLENS_INTROSPECTION: 'false' })).toMatchObject({
      graphiql: false,
      introspection: false,
    });
  });

  it('refuse bad values, naming the variable', () => {
    expect(() => loadConfig({ BATCHLENS_MODE: 'prod' })).toThrow('BATCHLENS_MODE must be development or production, got "prod"');
    expect(() => loadConfig({ BATCHLENS_GRAPHIQL: 'maybe' })).toThrow('BATCHLENS_GRAPHIQL must be on or off, got "maybe"');
    expect(() => loadConfig({ BATCHLENS_INTROSPECTION: '2' })).toThrow('BATCHLENS_INTROSPECTION must be on or off, got "2"');
  });

  it('read CORS origins as normalized origins, and refuse anything that is not one', () => {
    expect(
      loadConfig({ BATCHLENS_CORS_ORIGINS: ' https://App.Example.com ,http://localhost:5173/, https://x.example:443' }).corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://x.example']);
    expect(loadConfig({ BATCHLENS_CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    for (const bad of [
      'https://app.example.com/path',
      'app.example.com',
      'ftp://files.example.com',
      'https://user:pw@app.example.com',
      'https://a.example?x=1',
    ]) {
      expect(() => loadConfig({ BATCHLENS_CORS_ORIGINS: bad }), bad).toThrow(`BATCHLENS_CORS_ORIGINS: "${bad}" is not an origin`);
    }
  });
});

describe('a server in production mode', () => {
  let server: TestServer;
  beforeAll(async () => {
    const { mode, graphiql, introspection, corsOrigins } = loadConfig({ BATCHLENS_MODE: 'production' });
    server = await startTestServer({ mode, graphiql, introspection, corsOrigins });
  });
  afterAll(async () => {
    await closeSockets();
    await server?.stop();
  });

  it('refuses introspection over HTTP with INTROSPECTION_DISABLED, running nothing; __typename still works', async () => {
    for (const query of [SCHEMA_QUERY, TYPE_QUERY, NESTED_QUERY]) {
      const result = await server.graphql(query);
      expect(result.status, query).toBe(200);
      expect(result.data, query).toBeUndefined();
      // One error, at the introspection field (not one more for each field below it).
      expect(result.errors, query).toHaveLength(1);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('INTROSPECTION_DISABLED');
      expect(result.errors?.[0]?.message).toMatch(/^Introspection is switched off on this server \(BATCHLENS_INTROSPECTION=off/);
    }
    const typename = await server.graphql('{ __typename viewer { __typename name } }');
    expect(typename).toEqual({ status: 200, data: { __typename: 'Query', viewer: { __typename: 'Viewer', name: 'admin' } } });
    expect((await server.op(ViewerNameDocument, {})).viewer.name).toBe('admin');
  });

  it('refuses introspection over graphql-ws too, keeping the socket open for other operations', async () => {
    const client = connect(server);
    const refused = await runOnce(client, SCHEMA_QUERY);
    expect(refused.refused?.[0]).toMatch(/^Introspection is switched off/);
    const typeRefused = await runOnce(client, TYPE_QUERY);
    expect(typeRefused.refused?.[0]).toContain('"__type"');
    const typename = await runOnce(client, ViewerNameDocument);
    expect(typename).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('answers a browser asking for GraphiQL with a 404 naming BATCHLENS_GRAPHIQL, and serves none of its files', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('GRAPHIQL_DISABLED');
    expect(body.errors[0]!.message).toContain('BATCHLENS_GRAPHIQL');
    expect((await fetch(`${server.url}/graphiql/start.js`)).status).toBe(404);
    // A GET with an operation is still GraphQL over HTTP.
    const query = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
  });

  describe.runIf(chromiumCommand)('the dashboard in Chromium', () => {
    it('signs in and lists the organization’s deployments without introspection', async () => {
      const browser = await launchBrowser(chromiumCommand!);
      onTestFinished(() => browser.close());
      const tenant = await createOrganization(server);
      await createDeployment(server, tenant.token, { label: 'Churn scoring (production)' });
      await createDeployment(server, tenant.token, { label: 'Realtime fraud', batchMonitoringEnabled: false });
      const { page, problems } = await openPage(browser);
      await page.goto(`${server.url}/`);
      await page.getByLabel('API token').fill(tenant.token);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Deployments' }).waitFor();
      const rows = page.locator('table tbody tr');
      await rows.filter({ hasText: 'Realtime fraud' }).waitFor();
      expect(await rows.count()).toBe(2);
      expect(await rows.filter({ hasText: 'Churn scoring (production)' }).locator('.badge').textContent()).toBe('BATCH');
      expect(await page.content()).not.toContain('INTROSPECTION_DISABLED');
      expectNoProblems(problems);
      await page.context().close();
    });
  });
});
