import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchQuotaLiveDocument, DeploymentBatchesDocument, ViewerNameDocument } from '../generated/graphql.js';
import { createOrganization, createTenant } from '../helpers/fixtures.js';
import { closeSockets, connect, runOnce } from '../helpers/graphql-ws.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rateLimits } from './helpers.js';

// GraphQL's rate limit: each operation charges its query cost (graphql-armor's formula, page sizes
// from variables included) to the token and the organization; a refused operation does not run and
// answers one RATE_LIMITED error — HTTP 429 with Retry-After over HTTP, the operation's error over
// graphql-ws. Every test spends the budget of a token of its own (whose deployment, made through
// GraphQL, used a little of it).

const WINDOW = 30;
const PER_TOKEN = 500;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ rateLimits: rateLimits({ windowSeconds: WINDOW, graphqlCost: [PER_TOKEN, 100_000] }) });
});
afterAll(async () => {
  await closeSockets();
  await server?.stop();
});

async function post(token: string, document: typeof ViewerNameDocument | typeof DeploymentBatchesDocument, variables?: unknown) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

/** Spends a token's budget: one query costing more than all of it. */
async function spend(token: string): Promise<void> {
  const answer = await post(token, DeploymentBatchesDocument, { deploymentId: 'dep_000000000000000000000000', first: 100 });
  expect(answer.status).toBe(429);
}

/** How many times an operation runs before the token's budget refuses it (and that refusal). */
async function runsUntilRefused(
  token: string,
  document: typeof ViewerNameDocument | typeof DeploymentBatchesDocument,
  variables?: unknown,
) {
  for (let runs = 0; runs <= PER_TOKEN; runs++) {
    const answer = await post(token, document, variables);
    if (answer.status !== 200) return { runs, refusal: answer };
    expect(answer.body.errors).toBeUndefined();
  }
  throw new Error('never refused');
}

describe('GraphQL rate limit', () => {
  it('weighs each operation by its cost: a costlier query uses the budget up in fewer runs', async () => {
    // The same query, a page of 1, 2 or 100 batches, the page size given as a variable.
    const runs = [];
    for (const first of [1, 2, 100]) {
      const tenant = await createTenant(server);
      runs.push(await runsUntilRefused(tenant.token, DeploymentBatchesDocument, { deploymentId: tenant.deploymentId, first }));
    }
    const [one, two, hundred] = runs.map((outcome) => outcome.runs);
    expect(one).toBeGreaterThan(two!);
    expect(two).toBeGreaterThan(hundred!);
    expect(hundred).toBe(0); // one such query costs more than the whole budget

    const { refusal } = runs[0]!;
    expect(refusal.status).toBe(429);
    const retryAfter = Number(refusal.retryAfter);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW);
    expect(refusal.body.data).toBeUndefined();
    expect(refusal.body.errors).toHaveLength(1);
    expect(refusal.body.errors?.[0]?.extensions).toEqual({
      code: 'RATE_LIMITED',
      limit: 'GraphQL cost per token',
      allowed: PER_TOKEN,
      windowSeconds: WINDOW,
      retryAfterSeconds: retryAfter,
      resetAt: expect.any(String),
    });
    expect(refusal.body.errors?.[0]?.message).toContain('Rate limit exceeded: GraphQL cost per token');
  });

  it('answers 429 with application/json too, and leaves another organization alone', async () => {
    const spent = await createOrganization(server);
    await spend(spent.token);
    const answer = await server.graphql(ViewerNameDocument, {}, spent.token);
    expect(answer.status).toBe(429);
    expect(answer.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const other = await createOrganization(server);
    expect((await server.graphql(ViewerNameDocument, {}, other.token)).status).toBe(200);
  });

  it('refuses an operation over graphql-ws with the error, the socket staying open', async () => {
    const tenant = await createTenant(server);
    await spend(tenant.token);
    const client = connect(server, tenant.token);
    const query = await runOnce(client, ViewerNameDocument);
    expect(query.data ?? null).toBeNull();
    expect(query.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'GraphQL cost per token' });
    const subscription = await runOnce(client, BatchQuotaLiveDocument as never, { deploymentId: tenant.deploymentId } as never);
    expect(subscription.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // Another token on its own socket still runs.
    const fresh = await createOrganization(server);
    const answer = await runOnce(connect(server, fresh.token), ViewerNameDocument);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.viewer.name).toBeTruthy();
  });
});
