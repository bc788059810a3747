import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchListDocument, type BatchListQuery, type BatchListQueryVariables } from '../../web/src/generated/graphql.js';
import {
  type BatchOrderField,
  DeleteMonitoringBatchDocument,
  DeploymentBatchCreatorsDocument,
  DeploymentBatchesDocument,
  type DeploymentBatchesQueryVariables,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization, createUser } from '../helpers/fixtures.js';
import { batchesPath, relativeLink } from '../helpers/rest.js';
import { type RestAnswer, startTestServer, type TestServer } from '../helpers/server.js';

// The orders the Batch Management table sorts by besides name and times: prediction count, creator
// (by name) and id. Many batches share a count or a creator, so pages must break ties by id and
// still visit every batch exactly once, forward and backward, over GraphQL cursors and REST offsets.
// Also the "created by" choices (Deployment.batchCreators).

let server: TestServer;
beforeAll(async () => {
  // The job and export ticks run every 50 ms here, so the statement counts below must (and do) leave
  // background work out: they once failed when a 5 s tick fell inside the measured request.
  server = await startTestServer({ jobSchedulerIntervalMs: 50 });
});
afterAll(async () => {
  await server?.stop();
});

interface Seed {
  name: string;
  creator: 'ann' | 'bob' | 'cyd';
  count: number;
}

// Three creators and four distinct counts over eleven batches: every sort value is shared.
const seeds: Seed[] = [
  { name: 'b01', creator: 'bob', count: 5 },
  { name: 'b02', creator: 'ann', count: 0 },
  { name: 'b03', creator: 'cyd', count: 5 },
  { name: 'b04', creator: 'bob', count: 12 },
  { name: 'b05', creator: 'ann', count: 5 },
  { name: 'b06', creator: 'ann', count: 0 },
  { name: 'b07', creator: 'cyd', count: 100_000 },
  { name: 'b08', creator: 'bob', count: 12 },
  { name: 'b09', creator: 'ann', count: 5 },
  { name: 'b10', creator: 'bob', count: 0 },
  { name: 'b11', creator: 'cyd', count: 5 },
];

describe('ordering batches by prediction count, creator and id', () => {
  let token: string;
  let deploymentId: string;
  const ids: Record<string, string> = {};
  const userIds: Record<string, string> = {};

  beforeAll(async () => {
    const org = await createOrganization(server, null);
    token = org.token;
    deploymentId = (await createDeployment(server, token)).id;
    const tokens: Record<string, string> = {};
    for (const name of ['ann', 'bob', 'cyd'] as const) {
      const user = await createUser(server, token, name);
      tokens[name] = user.secret;
      userIds[name] = user.id;
    }
    for (const seed of seeds) {
      ids[seed.name] = (await createBatch(server, deploymentId, seed.name, tokens[seed.creator])).id;
      await server.sql`update monitoring_batches set prediction_count = ${seed.count} where id = ${ids[seed.name]!}`;
    }
  });

  /** The seeds' names sorted by (value, id), reversed for DESC: the order the API must answer. */
  function expected(field: 'PREDICTION_COUNT' | 'CREATED_BY' | 'ID', direction: 'ASC' | 'DESC'): string[] {
    const value = (seed: Seed): number | string =>
      field === 'PREDICTION_COUNT' ? seed.count : field === 'CREATED_BY' ? seed.creator : ids[seed.name]!;
    const compare = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
    const sorted = [...seeds].sort((a, b) => compare(value(a), value(b)) || compare(ids[a.name]!, ids[b.name]!)).map((s) => s.name);
    return direction === 'ASC' ? sorted : sorted.reverse();
  }

  async function forward(variables: Omit<DeploymentBatchesQueryVariables, 'deploymentId'>, size: number): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const data = await server.op(DeploymentBatchesDocument, { deploymentId, first: size, after, ...variables }, token);
      const page = data.deployment!.batches;
      expect(page.totalCount).toBe(seeds.length);
      seen.push(...page.edges.map((edge) => edge.node.name));
      if (!page.pageInfo.hasNextPage) return seen;
      after = page.pageInfo.endCursor;
    }
  }

  async function backward(variables: Omit<DeploymentBatchesQueryVariables, 'deploymentId'>, size: number): Promise<string[]> {
    const seen: string[] = [];
    let before: string | null | undefined;
    for (;;) {
      const data = await server.op(DeploymentBatchesDocument, { deploymentId, last: size, before, ...variables }, token);
      const page = data.deployment!.batches;
      seen.unshift(...page.edges.map((edge) => edge.node.name));
      if (!page.pageInfo.hasPreviousPage) return seen;
      before = page.pageInfo.startCursor;
    }
  }

  const cases: ['PREDICTION_COUNT' | 'CREATED_BY' | 'ID', 'ASC' | 'DESC'][] = [
    ['PREDICTION_COUNT', 'ASC'],
    ['PREDICTION_COUNT', 'DESC'],
    ['CREATED_BY', 'ASC'],
    ['CREATED_BY', 'DESC'],
    ['ID', 'ASC'],
    ['ID', 'DESC'],
  ];

  it.each(cases)('GraphQL: %s %s visits every batch once across pages of 1, 2 and 3, forward and backward', async (field, direction) => {
    const orderBy = { field: field as BatchOrderField, direction };
    const want = expected(field, direction);
    for (const size of [1, 2, 3]) {
      expect(await forward({ orderBy }, size), `first ${size}`).toEqual(want);
      expect(await backward({ orderBy }, size), `last ${size}`).toEqual(want);
    }
  });

  it('GraphQL: a page boundary inside a tie (three batches of count 0) loses and repeats nothing', async () => {
    const orderBy = { field: 'PREDICTION_COUNT' as const, direction: 'ASC' as const };
    const first = await server.op(DeploymentBatchesDocument, { deploymentId, first: 2, orderBy }, token);
    const names = first.deployment!.batches.edges.map((edge) => edge.node.name);
    expect(names.every((name) => ['b02', 'b06', 'b10'].includes(name))).toBe(true);
    const rest = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, first: 2, after: first.deployment!.batches.pageInfo.endCursor, orderBy },
      token,
    );
    const next = rest.deployment!.batches.edges.map((edge) => edge.node);
    expect(['b02', 'b06', 'b10'].filter((name) => !names.includes(name))).toEqual([next[0]!.name]);
    expect(next[1]).toMatchObject({ predictionCount: 5 });
  });

  it('GraphQL: orders combine with search and filter; the creator order follows names, not ids', async () => {
    const data = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, first: 10, orderBy: { field: 'PREDICTION_COUNT', direction: 'DESC' }, filter: { createdBy: userIds.ann } },
      token,
    );
    const annNames = data.deployment!.batches.edges.map((edge) => edge.node.name);
    expect(annNames).toEqual(expected('PREDICTION_COUNT', 'DESC').filter((name) => seeds.find((s) => s.name === name)!.creator === 'ann'));
    const creators = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, first: 20, orderBy: { field: 'CREATED_BY', direction: 'ASC' } },
      token,
    );
    expect(creators.deployment!.batches.edges.map((edge) => edge.node.createdBy.name)).toEqual([
      ...Array(4).fill('ann'),
      ...Array(4).fill('bob'),
      ...Array(3).fill('cyd'),
    ]);
  });

  it('GraphQL: refuses a forged cursor for the count order as bad input (not a failing query)', async () => {
    const forged = Buffer.from(JSON.stringify(['twelve', ids.b01])).toString('base64url');
    const answer = await server.graphql(
      DeploymentBatchesDocument,
      { deploymentId, first: 2, after: forged, orderBy: { field: 'PREDICTION_COUNT', direction: 'ASC' } },
      token,
    );
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'after' }] } });
    const huge = Buffer.from(JSON.stringify(['99999999999999999999', ids.b01])).toString('base64url');
    const tooBig = await server.graphql(
      DeploymentBatchesDocument,
      { deploymentId, first: 2, after: huge, orderBy: { field: 'PREDICTION_COUNT', direction: 'ASC' } },
      token,
    );
    expect(tooBig.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  const restCases: [string, 'PREDICTION_COUNT' | 'CREATED_BY' | 'ID', 'ASC' | 'DESC'][] = [
    ['predictionsCount', 'PREDICTION_COUNT', 'ASC'],
    ['-predictionsCount', 'PREDICTION_COUNT', 'DESC'],
    ['createdBy', 'CREATED_BY', 'ASC'],
    ['-createdBy', 'CREATED_BY', 'DESC'],
    ['id', 'ID', 'ASC'],
    ['-id', 'ID', 'DESC'],
  ];

  it.each(restCases)('REST: ?orderBy=%s pages by offset in the same order as GraphQL', async (orderBy, field, direction) => {
    const seen: string[] = [];
    let request: string | null = `${batchesPath(deploymentId)}?orderBy=${orderBy}&limit=3`;
    while (request) {
      const answer: RestAnswer = await server.rest('GET', request, { token });
      expect(answer.status).toBe(200);
      seen.push(...answer.json.data!.map((batch) => batch.batchName));
      request = answer.json.next ? relativeLink(server, answer.json.next) : null;
    }
    expect(seen).toEqual(expected(field, direction));
  });

  it('REST: names the new orders when refusing an unknown one', async () => {
    const answer = await server.rest('GET', `${batchesPath(deploymentId)}?orderBy=size`, { token });
    expect(answer.status).toBe(422);
    expect(answer.json.message).toContain('predictionsCount');
  });
});

describe('Deployment.batchCreators', () => {
  it('lists each creator of a live batch once, by name; a creator of deleted batches only is left out', async () => {
    const org = await createOrganization(server, null);
    const deploymentId = (await createDeployment(server, org.token)).id;
    const zoe = await createUser(server, org.token, 'zoe');
    const abe = await createUser(server, org.token, 'abe');
    const gone = await createUser(server, org.token, 'gil');
    await createBatch(server, deploymentId, 'z1', zoe.secret);
    await createBatch(server, deploymentId, 'z2', zoe.secret);
    await createBatch(server, deploymentId, 'a1', abe.secret);
    const deleted = await createBatch(server, deploymentId, 'g1', gone.secret);
    await server.op(DeleteMonitoringBatchDocument, { id: deleted.id }, org.token);
    const data = await server.op(DeploymentBatchCreatorsDocument, { deploymentId }, org.token);
    expect(data.deployment?.batchCreators).toEqual([
      { id: abe.id, name: 'abe' },
      { id: zoe.id, name: 'zoe' },
    ]);
    const empty = (await createDeployment(server, org.token)).id;
    expect((await server.op(DeploymentBatchCreatorsDocument, { deploymentId: empty }, org.token)).deployment?.batchCreators).toEqual([]);
  });
});

describe('the Batch Management page’s query (web/src/batches/batches.graphql)', () => {
  it('costs the same small number of SQL statements for 5 and 50 batches, in every order', async () => {
    const org = await createOrganization(server, null);
    const member = await createUser(server, org.token, 'robot');
    const counts = { CREATED_AT: [] as number[], CREATED_BY: [] as number[], PREDICTION_COUNT: [] as number[] };
    for (const size of [5, 50]) {
      const deploymentId = (await createDeployment(server, org.token)).id;
      for (let i = 0; i < size; i++) await createBatch(server, deploymentId, `b${i}`, i % 2 ? org.token : member.secret);
      for (const field of Object.keys(counts) as (keyof typeof counts)[]) {
        // The dashboard's own operation, as the page sends it.
        const { answer, statements } = await server.statementsOf((headers) =>
          server.graphql<BatchListQuery, BatchListQueryVariables>(
            BatchListDocument.toString(),
            { deploymentId, first: 50, orderBy: { field, direction: 'DESC' } },
            org.token,
            headers,
          ),
        );
        expect(answer.errors).toBeUndefined();
        expect(answer.data?.deployment?.batches.edges).toHaveLength(size);
        expect(answer.data?.deployment?.batchCreators).toHaveLength(2);
        counts[field].push(statements.length);
      }
    }
    // token → viewer, deployment, batch page (its creators' names joined), totalCount, batchCreators, the rows' users
    expect(counts).toMatchInlineSnapshot(`
      {
        "CREATED_AT": [
          6,
          6,
        ],
        "CREATED_BY": [
          6,
          6,
        ],
        "PREDICTION_COUNT": [
          6,
          6,
        ],
      }
    `);
  });
});
