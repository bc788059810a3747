import http from 'node:http';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSharedBuffers, loadConfig } from '../src/config.js';
import { DeploymentBatchesDocument, ViewerNameDocument } from './generated/graphql.js';
import { countRows } from './helpers/db.js';
import { createBatch, createDeployment } from './helpers/fixtures.js';
import { type GraphQLAnswer, postGraphQL } from './helpers/graphql.js';
import { closeSockets, connect, openSocket, runOnce } from './helpers/graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** A server with small limits, so each one is easy to cross. */
let small: TestServer;
/** A server with the defaults from src/config.ts. */
let defaults: TestServer;
beforeAll(async () => {
  [small, defaults] = await Promise.all([
    startTestServer({ maxQueryDepth: 5, maxAliases: 3, maxQueryCost: 200, maxBodyBytes: 2048 }),
    startTestServer(),
  ]);
});
afterAll(async () => {
  await closeSockets();
  await Promise.all([small?.stop(), defaults?.stop()]);
});

// The queries here are written out by hand on purpose: each is built to sit exactly at a limit or
// one step over it (depth, aliases, cost, body size), which is the input under test. postGraphQL
// asks for the GraphQL-over-HTTP media type, so refusals come back as 4xx.

// deployments=1 edges=2 node=3 batches=4 totalCount=5
const DEPTH_5 = '{ deployments { edges { node { batches { totalCount } } } } }';
// deployments=1 edges=2 node=3 batches=4 pageInfo=5 hasNextPage=6
const DEPTH_6 = '{ deployments { edges { node { batches { pageInfo { hasNextPage } } } } } }';

describe('query depth (BATCHLENS_MAX_QUERY_DEPTH)', () => {
  it('answers a query at the limit', async () => {
    const answer = await postGraphQL(small, DEPTH_5);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { deployments: { edges: [] } } });
  });

  it('refuses a query one level deeper with the depth and the limit, executing nothing', async () => {
    const answer = await postGraphQL(small, DEPTH_6);
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]?.message).toBe('Syntax Error: Query depth limit of 5 exceeded, found 6.');
  });

  it('counts fields inside fragments, so a fragment cannot hide depth', async () => {
    const answer = await postGraphQL(
      small,
      '{ deployments { ...Page } } fragment Page on DeploymentConnection { edges { node { batches { pageInfo { hasNextPage } } } } }',
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toBe('Syntax Error: Query depth limit of 5 exceeded, found 6.');
  });

  it('does not run a mutation that is too deep', async () => {
    const label = `too deep ${Date.now()}`;
    // createDeployment=1 deployment=2 batches=3 edges=4 node=5 id=6 (inline fragments add no depth)
    const answer = await postGraphQL(
      small,
      `mutation { createDeployment(input: {label: "${label}", targetType: REGRESSION, targetName: "y"}) {
        ... on CreateDeploymentSuccess { deployment { batches { edges { node { id } } } } } } }`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toBe('Syntax Error: Query depth limit of 5 exceeded, found 6.');
    expect(await countRows(small, 'deployments', 'label', label)).toBe(0);
  });

  it('applies over graphql-ws too, and the socket stays usable', async () => {
    const { client, connected, closed } = openSocket(small, { authorization: `Bearer ${small.adminToken}` });
    await connected;
    expect(await runOnce(client, DEPTH_6)).toEqual({ refused: ['Syntax Error: Query depth limit of 5 exceeded, found 6.'] });
    expect(await runOnce(client, DEPTH_5)).toEqual({ data: { deployments: { edges: [] } } });
    const state = await Promise.race([
      closed.then((code) => `closed ${code}`),
      new Promise((resolve) => setTimeout(() => resolve('open'), 100)),
    ]);
    expect(state).toBe('open');
  });
});

describe('aliases (BATCHLENS_MAX_ALIASES)', () => {
  it('answers a query with as many aliases as allowed', async () => {
    const answer = await postGraphQL(small, '{ a: viewer { name } b: viewer { name } c: viewer { name } }');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { a: { name: 'admin' }, b: { name: 'admin' }, c: { name: 'admin' } } });
  });

  it('refuses one alias more, counting aliases at every level', async () => {
    for (const query of [
      '{ a: viewer { name } b: viewer { name } c: viewer { name } d: viewer { name } }',
      '{ a: viewer { n1: name n2: name n3: name } }',
    ]) {
      const answer = await postGraphQL(small, query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.data, query).toBeUndefined();
      expect(answer.body.errors?.[0]?.message, query).toBe('Syntax Error: Aliases limit of 3 exceeded, found 4.');
    }
  });

  it('does not count `__typename` aliases, which clients add themselves', async () => {
    const answer = await postGraphQL(small, '{ t1: __typename t2: __typename a: viewer { name } b: viewer { name } c: viewer { name } }');
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ t1: 'Query', t2: 'Query', c: { name: 'admin' } });
  });
});

describe('query cost (BATCHLENS_MAX_QUERY_COST)', () => {
  // Cost of `deployments(first: N) { totalCount }`: (2 for the object + 1.5 × 1 for the scalar) × N.
  it('answers a query within the cost limit', async () => {
    const answer = await postGraphQL(small, '{ deployments(first: 50) { totalCount } }');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { deployments: { totalCount: 0 } } });
  });

  it('refuses a query over it with the cost found and the limit', async () => {
    const answer = await postGraphQL(small, '{ deployments(first: 100) { totalCount } }');
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.message).toBe('Syntax Error: Query Cost limit of 200 exceeded, found 350.');
  });

  it('costs page sizes given as variables with their values, as if written in the query', async () => {
    const query = 'query($n: Int, $m: Int = 100) { deployments(first: $n) { totalCount } again: deployments(last: $m) { totalCount } }';
    const within = await postGraphQL(small, 'query($n: Int) { deployments(first: $n) { totalCount } }', { n: 50 });
    expect(within.status).toBe(200);
    expect(within.body).toEqual({ data: { deployments: { totalCount: 0 } } });
    const over = await postGraphQL(small, 'query($n: Int) { deployments(first: $n) { totalCount } }', { n: 100 });
    expect(over.status).toBe(400);
    expect(over.body.data).toBeUndefined();
    expect(over.body.errors?.[0]?.message).toBe('Syntax Error: Query Cost limit of 200 exceeded, found 350.');
    // A default value counts too, and so does a page size inside a fragment.
    const byDefault = await postGraphQL(small, query, { n: 1 });
    expect(byDefault.status).toBe(400);
    expect(byDefault.body.errors?.[0]?.message).toBe('Syntax Error: Query Cost limit of 200 exceeded, found 353.5.');
    const inFragment = await postGraphQL(
      small,
      'query($n: Int) { ...page } fragment page on Query { deployments(first: $n) { totalCount } }',
      {
        n: 100,
      },
    );
    const literal = await postGraphQL(small, '{ ...page } fragment page on Query { deployments(first: 100) { totalCount } }');
    expect([inFragment.status, literal.status]).toEqual([400, 400]);
    expect(inFragment.body.errors?.[0]?.message).toBe(literal.body.errors?.[0]?.message);
    // Over graphql-ws as well: the operation gets the error, the socket stays open.
    const client = connect(small);
    const refused = await runOnce(client, 'query($n: Int) { deployments(first: $n) { totalCount } }', { n: 100 });
    expect(JSON.stringify(refused)).toContain('Query Cost limit of 200 exceeded, found 350.');
    const fine = await runOnce(client, 'query($n: Int) { deployments(first: $n) { totalCount } }', { n: 2 });
    expect(fine).toEqual({ data: { deployments: { totalCount: 0 } } });
  });

  it('refuses nested pages under the default limits', async () => {
    const answer = await postGraphQL(
      defaults,
      '{ deployments(first: 100) { edges { node { batches(first: 100) { edges { node { id } } } } } } }',
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toMatch(/^Syntax Error: Query Cost limit of \d+ exceeded, found \d+(\.\d+)?\.$/);
  });
});

describe('request body (BATCHLENS_MAX_BODY_BYTES)', () => {
  const LIMIT_MESSAGE = 'Request body is larger than the limit of 2048 bytes (BATCHLENS_MAX_BODY_BYTES)';

  /** A GraphQL request body of exactly `size` bytes (the query padded with a comment). */
  function bodyOfSize(size: number): string {
    const empty = JSON.stringify({ query: '{ viewer { name } }\n#' });
    return JSON.stringify({ query: `{ viewer { name } }\n#${'x'.repeat(size - empty.length)}` });
  }

  async function postRaw(body: BodyInit, extra: RequestInit = {}) {
    const response = await fetch(`${small.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${small.adminToken}` },
      body,
      ...extra,
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  function chunked(text: string, chunkSize = 512): ReadableStream<Uint8Array> {
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    return new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + chunkSize));
        offset += chunkSize;
      },
    });
  }

  it('accepts a body of exactly the limit', async () => {
    const body = bodyOfSize(2048);
    expect(Buffer.byteLength(body)).toBe(2048);
    const answer = await postRaw(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('answers 413 with a JSON message naming the limit to a body one byte over (Content-Length)', async () => {
    const answer = await postRaw(bodyOfSize(2049));
    expect(answer.status).toBe(413);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ errors: [{ message: LIMIT_MESSAGE, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('answers 413 to a chunked body that grows past the limit, and reads a small chunked body', async () => {
    const over = await postRaw(chunked(bodyOfSize(5000)), { duplex: 'half' } as RequestInit);
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ errors: [{ message: LIMIT_MESSAGE, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });

    const under = await postRaw(chunked(bodyOfSize(2000), 100), { duplex: 'half' } as RequestInit);
    expect(under.status).toBe(200);
    expect(under.body).toEqual({ data: { viewer: { name: 'admin' } } });
  });

  it('answers 413 to a body without Content-Length sent with node:http, before it ends', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${small.url}/graphql`);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${small.adminToken}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      expect(req.getHeader('content-length')).toBeUndefined();
      // Keep sending well past the limit; the server answers without waiting for the end.
      req.write(`{"query": "{ viewer { name } }\\n#${'x'.repeat(3000)}`);
      req.write('x'.repeat(3000));
      setTimeout(() => req.end('"}'), 200);
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: LIMIT_MESSAGE, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('answers 413 on the REST routes too', async () => {
    // (The fixture's mutation asks for more than this server's cost limit allows.)
    const created = await postGraphQL<{ createDeployment: { deployment: { id: string } } }>(
      small,
      'mutation { createDeployment(input: {label: "rest body limit", targetType: REGRESSION, targetName: "y", batchMonitoringEnabled: true}) { ... on CreateDeploymentSuccess { deployment { id } } } }',
    );
    const deployment = created.body.data!.createDeployment.deployment;
    const response = await small.rest('POST', `/api/v2/deployments/${deployment.id}/monitoringBatches/`, {
      body: { batchName: 'big', description: 'x'.repeat(3000) },
    });
    expect(response.status).toBe(413);
    expect(response.json).toEqual({ message: LIMIT_MESSAGE });
    const list = await small.rest('GET', `/api/v2/deployments/${deployment.id}/monitoringBatches/`);
    expect(list.json.totalCount).toBe(0);
  });

  it('closes a graphql-ws socket whose message is over the limit, and the server keeps serving', async () => {
    const { client, connected, closed } = openSocket(small, { authorization: `Bearer ${small.adminToken}` });
    await connected;
    const outcome = await runOnce(client, `{ viewer { name } }\n#${'x'.repeat(3000)}`);
    expect(outcome).toEqual({ closedWith: 1009 }); // Message Too Big
    expect(await closed).toBe(1009);

    expect((await postGraphQL(small, ViewerNameDocument)).body).toEqual({ data: { viewer: { name: 'admin' } } });
    const again = openSocket(small, { authorization: `Bearer ${small.adminToken}` });
    await again.connected;
    expect(await runOnce(again.client, ViewerNameDocument, {})).toEqual({ data: { viewer: { name: 'admin' } } });
  });
});

describe('the default limits', () => {
  it('are those documented for BATCHLENS_MAX_*', () => {
    expect(loadConfig({})).toMatchObject({ maxBodyBytes: 10 * 1024 * 1024, maxQueryDepth: 12, maxQueryCost: 50_000, maxAliases: 30 });
  });

  it('let a full page of batches (the largest page, with every field, via a fragment) through', async () => {
    const deployment = await createDeployment(defaults);
    for (const name of ['first', 'second', 'third']) await createBatch(defaults, deployment.id, name);
    // The page a client asks for (test/operations/batches.graphql): page size as a variable, which
    // costs as much as the literal.
    const answer = await postGraphQL(defaults, DeploymentBatchesDocument, {
      deploymentId: deployment.id,
      first: 100,
      orderBy: { field: 'NAME', direction: 'ASC' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    const batches = answer.body.data!.deployment!.batches;
    expect(batches.totalCount).toBe(3);
    expect(batches.edges.map((edge) => edge.node.name)).toEqual(['first', 'second', 'third']);
    expect(batches.edges[0]!.node).toMatchObject({
      createdBy: { name: 'admin' },
      deployment: { id: deployment.id },
    });
  });

  it('let a query 12 levels deep and one with 30 aliases through, and refuse 13 levels and 31 aliases', async () => {
    // deployment=1 batches=2 edges=3 node=4 deployment=5 … node=12 id=13
    const nested = (leaf: string) =>
      `query ($id: ID!) { deployment(id: $id) { batches { edges { node { deployment { batches { edges { node { deployment { batches { edges { ${leaf} } } } } } } } } } } } }`;
    const deployment = await createDeployment(defaults);
    expect((await postGraphQL(defaults, nested('cursor'), { id: deployment.id })).body).toEqual({
      data: { deployment: { batches: { edges: [] } } },
    });
    const tooDeep = await postGraphQL(defaults, nested('node { id }'), { id: deployment.id });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.errors?.[0]?.message).toBe('Syntax Error: Query depth limit of 12 exceeded, found 13.');

    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`;
    const thirty = await postGraphQL(defaults, aliases(30));
    expect(thirty.status).toBe(200);
    expect(Object.keys(thirty.body.data ?? {})).toHaveLength(30);
    const thirtyOne = await postGraphQL(defaults, aliases(31));
    expect(thirtyOne.status).toBe(400);
    expect(thirtyOne.body.errors?.[0]?.message).toBe('Syntax Error: Aliases limit of 30 exceeded, found 31.');
  });
});

describe('introspection', () => {
  const graphiqlOptions = {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
  };

  function expectSchema(answer: GraphQLAnswer<IntrospectionQuery>) {
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data!.__schema.queryType.name).toBe('Query');
    expect(answer.body.data!.__schema.mutationType?.name).toBe('Mutation');
    const typeNames = answer.body.data!.__schema.types.map((type) => type.name);
    expect(typeNames).toEqual(expect.arrayContaining(['Deployment', 'MonitoringBatch', 'BatchQuota']));
  }

  it("answers codegen's and GraphiQL's introspection queries under the default limits", async () => {
    expectSchema(await postGraphQL<IntrospectionQuery>(defaults, getIntrospectionQuery()));
    expectSchema(await postGraphQL<IntrospectionQuery>(defaults, getIntrospectionQuery(graphiqlOptions)));
  });

  it('is exempt from the depth and cost limits (its type references nest 9 levels)', async () => {
    expectSchema(await postGraphQL<IntrospectionQuery>(small, getIntrospectionQuery()));
  });
});

describe('configuration from the environment', () => {
  it('names the variable and the value when one is not a valid integer', () => {
    expect(() => loadConfig({ BATCHLENS_MAX_QUERY_DEPTH: 'abc' })).toThrow('BATCHLENS_MAX_QUERY_DEPTH must be an integer ≥ 1, got "abc"');
    expect(() => loadConfig({ BATCHLENS_MAX_QUERY_COST: '1.5' })).toThrow('BATCHLENS_MAX_QUERY_COST must be an integer ≥ 1, got "1.5"');
    expect(() => loadConfig({ BATCHLENS_MAX_BODY_BYTES: '0' })).toThrow('BATCHLENS_MAX_BODY_BYTES must be an integer ≥ 1, got "0"');
    expect(() => loadConfig({ BATCHLENS_MAX_ALIASES: '-1' })).toThrow('BATCHLENS_MAX_ALIASES must be an integer ≥ 0, got "-1"');
    expect(() => loadConfig({ BATCHLENS_MAX_BODY_BYTES: '10mb' })).toThrow(/^BATCHLENS_MAX_BODY_BYTES/);
  });

  it('reads valid values, and treats an empty one as unset', () => {
    const config = loadConfig({
      BATCHLENS_MAX_QUERY_DEPTH: '7',
      BATCHLENS_MAX_QUERY_COST: '900',
      BATCHLENS_MAX_ALIASES: '0',
      BATCHLENS_MAX_BODY_BYTES: '',
    });
    expect(config).toMatchObject({ maxQueryDepth: 7, maxQueryCost: 900, maxAliases: 0, maxBodyBytes: 10 * 1024 * 1024 });
  });

  it("takes the embedded PostgreSQL's shared_buffers in PostgreSQL units, by default a quarter of the memory within 128MB–1GB", () => {
    expect(loadConfig({ BATCHLENS_PG_SHARED_BUFFERS: '2GB' }).embeddedPgSharedBuffers).toBe('2GB');
    expect(loadConfig({ BATCHLENS_PG_SHARED_BUFFERS: ' 768 MB ' }).embeddedPgSharedBuffers).toBe('768MB');
    expect(loadConfig({ BATCHLENS_PG_SHARED_BUFFERS: '' }).embeddedPgSharedBuffers).toBe(defaultSharedBuffers());
    for (const bad of ['512', '512mb', '1.5GB', '64kB', 'lots'])
      expect(() => loadConfig({ BATCHLENS_PG_SHARED_BUFFERS: bad })).toThrow(`BATCHLENS_PG_SHARED_BUFFERS must be a size`);
    expect(defaultSharedBuffers(256 * 1024 ** 2)).toBe('128MB');
    expect(defaultSharedBuffers(2 * 1024 ** 3)).toBe('512MB');
    expect(defaultSharedBuffers(64 * 1024 ** 3)).toBe('1024MB');
  });
});
