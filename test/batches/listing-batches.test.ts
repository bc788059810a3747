import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchOrderField, DeploymentBatchesDocument, type DeploymentBatchesQueryVariables } from '../generated/graphql.js';
import {
  BATCH_NOT_FOUND,
  createBatch,
  createDeployment,
  createOrganization,
  createTenant,
  createUser,
  MISSING_BATCH,
} from '../helpers/fixtures.js';
import { batchesPath, batchPath, createRestBatch, relativeLink } from '../helpers/rest.js';
import { type RestAnswer, startTestServer, type TestServer } from '../helpers/server.js';

// Reading batches: pages in every order (ties and batches without predictions included) visit each
// batch exactly once; search and filters; and one batch by id. Over GraphQL (cursors) and REST
// (offset / limit with next and previous links).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('deployment.batches (GraphQL, C2)', () => {
  let deploymentId: string;
  let memberId: string;
  let orgToken: string;
  const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo'];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const org = await createOrganization(server, null);
    orgToken = org.token;
    const deployment = await createDeployment(server, org.token);
    deploymentId = deployment.id;
    const member = await createUser(server, org.token, 'scorer');
    memberId = member.id;
    for (const [i, name] of names.entries()) {
      const token = i % 2 === 0 ? org.token : member.secret;
      ids[name] = (await createBatch(server, deploymentId, name, token)).id;
    }
    // Prediction periods (ingest comes later): alpha earliest … echo latest; delta has none.
    const periods: Record<string, [string, string]> = {
      Alpha: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'],
      bravo: ['2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z'],
      charlie: ['2026-01-05T00:00:00Z', '2026-01-09T00:00:00Z'],
      echo: ['2026-01-07T00:00:00Z', '2026-01-08T00:00:00Z'],
    };
    for (const [name, [earliest, latest]] of Object.entries(periods)) {
      await server.sql`update monitoring_batches set earliest_prediction_at = ${earliest}, latest_prediction_at = ${latest} where id = ${ids[name]!}`;
    }
  });

  async function allNames(variables: Omit<DeploymentBatchesQueryVariables, 'deploymentId'>, pageSize = 2): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const data = await server.op(DeploymentBatchesDocument, { deploymentId, first: pageSize, after, ...variables }, orgToken);
      const page = data.deployment!.batches;
      seen.push(...page.edges.map((e) => e.node.name));
      if (!page.pageInfo.hasNextPage) return seen;
      after = page.pageInfo.endCursor;
    }
  }

  const orders: [BatchOrderField, 'ASC' | 'DESC', string[]][] = [
    ['NAME', 'ASC', ['Alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['NAME', 'DESC', ['echo', 'delta', 'charlie', 'bravo', 'Alpha']],
    ['CREATED_AT', 'ASC', names],
    ['CREATED_AT', 'DESC', [...names].reverse()],
    ['EARLIEST_PREDICTION', 'ASC', ['Alpha', 'bravo', 'charlie', 'echo', 'delta']],
    ['EARLIEST_PREDICTION', 'DESC', ['delta', 'echo', 'charlie', 'bravo', 'Alpha']],
    ['LATEST_PREDICTION', 'ASC', ['Alpha', 'bravo', 'echo', 'charlie', 'delta']],
    ['LATEST_PREDICTION', 'DESC', ['delta', 'charlie', 'echo', 'bravo', 'Alpha']],
  ];
  it.each(orders)('orders by %s %s across pages', async (field, direction, expected) => {
    const sorted = await allNames({ orderBy: { field, direction } });
    // Names compare in the database collation; only the case of "Alpha" may differ between C and ICU/libc.
    if (field === 'NAME') expect(sorted.map((n) => n.toLowerCase())).toEqual(expected.map((n) => n.toLowerCase()));
    else expect(sorted).toEqual(expected);
  });

  it('defaults to newest first and reports totalCount', async () => {
    const data = await server.op(DeploymentBatchesDocument, { deploymentId, first: 2 }, orgToken);
    expect(data.deployment?.batches.totalCount).toBe(5);
    expect(data.deployment?.batches.edges.map((e) => e.node.name)).toEqual(['echo', 'bravo']);
  });

  it('pages backward with last/before', async () => {
    const forward = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, first: 5, orderBy: { field: 'CREATED_AT', direction: 'ASC' } },
      orgToken,
    );
    const cursors = forward.deployment!.batches.edges.map((e) => e.cursor);
    const back = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, last: 2, before: cursors[3], orderBy: { field: 'CREATED_AT', direction: 'ASC' } },
      orgToken,
    );
    expect(back.deployment?.batches.edges.map((e) => e.node.name)).toEqual(['Alpha', 'charlie']);
    expect(back.deployment?.batches.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('searches names case-insensitively and by exact id, treating % and _ literally', async () => {
    expect(await allNames({ search: 'ALP' })).toEqual(['Alpha']);
    expect(await allNames({ search: ids.charlie })).toEqual(['charlie']);
    expect(await allNames({ search: '%' })).toEqual([]);
    expect(await allNames({ search: '_' })).toEqual([]);
  });

  it('filters by creator, creation time and prediction period (inclusive bounds)', async () => {
    expect(await allNames({ filter: { createdBy: memberId }, orderBy: { field: 'NAME', direction: 'ASC' } })).toEqual(['Alpha', 'bravo']);
    expect(await allNames({ filter: { startAfter: '2026-01-03T00:00:00Z' }, orderBy: { field: 'NAME', direction: 'ASC' } })).toEqual([
      'bravo',
      'charlie',
      'echo',
    ]);
    expect(await allNames({ filter: { endBefore: '2026-01-08T00:00:00Z' }, orderBy: { field: 'NAME', direction: 'ASC' } })).toEqual([
      'Alpha',
      'bravo',
      'echo',
    ]);
    const all = await server.op(
      DeploymentBatchesDocument,
      { deploymentId, first: 5, orderBy: { field: 'CREATED_AT', direction: 'ASC' } },
      orgToken,
    );
    const created = all.deployment!.batches.edges.map((e) => e.node.createdAt);
    expect(
      await allNames({
        filter: { createdAfter: created[1], createdBefore: created[3] },
        orderBy: { field: 'CREATED_AT', direction: 'ASC' },
      }),
    ).toEqual(['Alpha', 'charlie', 'bravo']);
  });

  it('refuses first + last together and a page over 100, naming the argument', async () => {
    // Hand-written on purpose: the literal page arguments are the bad input.
    const both = await server.graphql(
      `{ deployment(id: "${deploymentId}") { batches(first: 1, last: 1) { totalCount } } }`,
      undefined,
      orgToken,
    );
    expect(both.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'last' }] } });
    const big = await server.graphql(`{ deployment(id: "${deploymentId}") { batches(first: 101) { totalCount } } }`, undefined, orgToken);
    expect(big.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'first' }] } });
  });
});

describe('GET /monitoringBatches/', () => {
  // Seven batches of one deployment with known creation times and prediction timestamps.
  const seeds = [
    { name: 'alpha run', createdAt: '2024-01-01T00:00:00.000Z', earliest: '2024-03-01T00:00:00.000Z', latest: '2024-03-05T00:00:00.000Z' },
    { name: 'bravo run', createdAt: '2024-01-02T00:00:00.000Z', earliest: '2024-02-01T00:00:00.000Z', latest: '2024-03-10T00:00:00.000Z' },
    {
      name: 'charlie run',
      createdAt: '2024-01-03T00:00:00.000Z',
      earliest: '2024-03-03T00:00:00.000Z',
      latest: '2024-03-04T00:00:00.000Z',
    },
    { name: 'delta', createdAt: '2024-01-04T00:00:00.000Z', earliest: null, latest: null },
    { name: 'echo 50%', createdAt: '2024-01-05T00:00:00.000Z', earliest: '2024-01-15T00:00:00.000Z', latest: '2024-04-01T00:00:00.000Z' },
    { name: 'foxtrot_x', createdAt: '2024-01-06T00:00:00.000Z', earliest: null, latest: null },
    { name: 'golf', createdAt: '2024-01-07T00:00:00.000Z', earliest: '2024-02-15T00:00:00.000Z', latest: '2024-02-20T00:00:00.000Z' },
  ];
  let token: string;
  let deploymentId: string;
  const ids: Record<string, string> = {};
  const list = (query = '') => server.rest('GET', `${batchesPath(deploymentId)}${query}`, { token });
  const names = (answer: RestAnswer) => answer.json.data!.map((batch: { batchName: string }) => batch.batchName);
  /** Names of the batches whose timestamps are null, as `id asc` (or desc) breaks their tie. */
  const nullsById = (direction: 1 | -1) => ['delta', 'foxtrot_x'].sort((a, b) => (ids[a]! < ids[b]! ? -direction : direction));

  beforeAll(async () => {
    ({ token, deploymentId } = await createTenant(server));
    for (const seed of seeds) {
      const batch = await createRestBatch(server, deploymentId, token, { batchName: seed.name });
      ids[seed.name] = batch.id;
      await server.sql`
        update monitoring_batches
        set created_at = ${seed.createdAt}, earliest_prediction_at = ${seed.earliest}, latest_prediction_at = ${seed.latest}
        where id = ${batch.id}`;
    }
  });

  it('answers count, totalCount, next, previous and the batches in DataRobot field names, newest first', async () => {
    const answer = await list();
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ count: 7, totalCount: 7, next: null, previous: null });
    expect(names(answer)).toEqual(seeds.map((s) => s.name).reverse());
    expect(answer.json.data![0]).toEqual({
      id: ids.golf,
      deploymentId,
      batchName: 'golf',
      description: null,
      externalContextUrl: null,
      createdAt: '2024-01-07T00:00:00.000Z',
      createdBy: { id: expect.stringMatching(/^usr_/), name: expect.any(String) },
      isLocked: false,
      earliestPredictionTimestamp: '2024-02-15T00:00:00.000Z',
      latestPredictionTimestamp: '2024-02-20T00:00:00.000Z',
      predictionsCount: 0,
      fingerprint: null,
      sealedAt: null,
    });
  });

  it('pages with offset and limit, and following next until null visits every batch exactly once', async () => {
    const seen: string[] = [];
    const counts: number[] = [];
    let request: string | null = `${batchesPath(deploymentId)}?limit=3&orderBy=name`;
    const previous: (string | null)[] = [];
    while (request) {
      const answer: RestAnswer = await server.rest('GET', request, { token });
      expect(answer.status).toBe(200);
      expect(answer.json.totalCount).toBe(7);
      expect(answer.json.count).toBe(answer.json.data!.length);
      counts.push(answer.json.count!);
      seen.push(...names(answer));
      previous.push(answer.json.previous ?? null);
      request = answer.json.next ? relativeLink(server, answer.json.next!) : null;
    }
    expect(counts).toEqual([3, 3, 1]);
    expect(seen).toEqual(seeds.map((s) => s.name));
    expect(new Set(seen).size).toBe(7);
    // previous points one page back and keeps the other parameters.
    expect(previous[0]).toBeNull();
    const back = new URL(previous[2]!);
    expect(Object.fromEntries(back.searchParams)).toEqual({ limit: '3', orderBy: 'name', offset: '3' });
    const page = await list('?limit=3&orderBy=name&offset=3');
    expect(names(page)).toEqual(['delta', 'echo 50%', 'foxtrot_x']);
    expect(new URL(page.json.previous!).searchParams.get('offset')).toBe('0');
    expect(new URL(page.json.next!).searchParams.get('offset')).toBe('6');
  });

  it('answers an empty page past the end, with previous and without next', async () => {
    const answer = await list('?offset=50&limit=10');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ count: 0, totalCount: 7, next: null, data: [] });
    expect(new URL(answer.json.previous!).searchParams.get('offset')).toBe('40');
  });

  it('searches names case-insensitively by substring, and ids exactly', async () => {
    expect(names(await list('?search=RUN&orderBy=name'))).toEqual(['alpha run', 'bravo run', 'charlie run']);
    expect(names(await list('?search=Harli'))).toEqual(['charlie run']);
    expect((await list('?search=RUN')).json).toMatchObject({ count: 3, totalCount: 3 });
    expect(names(await list(`?search=${ids.delta}`))).toEqual(['delta']);
    expect(names(await list(`?search=${ids.delta!.slice(0, 10)}`))).toEqual([]);
    expect((await list('?search=nothing-like-this')).json).toMatchObject({ count: 0, totalCount: 0, data: [] });
  });

  it('takes % and _ in a search literally', async () => {
    expect(names(await list('?search=%25'))).toEqual(['echo 50%']);
    expect(names(await list('?search=_'))).toEqual(['foxtrot_x']);
  });

  it('orders by name, ascending and with - descending', async () => {
    const ascending = seeds.map((s) => s.name);
    expect(names(await list('?orderBy=name'))).toEqual(ascending);
    expect(names(await list('?orderBy=-name'))).toEqual([...ascending].reverse());
  });

  it('orders by createdAt, ascending and with - descending', async () => {
    const ascending = seeds.map((s) => s.name);
    expect(names(await list('?orderBy=createdAt'))).toEqual(ascending);
    expect(names(await list('?orderBy=-createdAt'))).toEqual([...ascending].reverse());
  });

  it('orders by earliestPredictionTimestamp with batches without predictions last ascending, first descending', async () => {
    const dated = ['echo 50%', 'bravo run', 'golf', 'alpha run', 'charlie run'];
    expect(names(await list('?orderBy=earliestPredictionTimestamp'))).toEqual([...dated, ...nullsById(1)]);
    expect(names(await list('?orderBy=-earliestPredictionTimestamp'))).toEqual([...nullsById(-1), ...[...dated].reverse()]);
  });

  it('orders by latestPredictionTimestamp with batches without predictions last ascending, first descending', async () => {
    const dated = ['golf', 'charlie run', 'alpha run', 'bravo run', 'echo 50%'];
    expect(names(await list('?orderBy=latestPredictionTimestamp'))).toEqual([...dated, ...nullsById(1)]);
    expect(names(await list('?orderBy=-latestPredictionTimestamp'))).toEqual([...nullsById(-1), ...[...dated].reverse()]);
  });

  it('pages through an order with ties and nulls without losing or repeating a batch', async () => {
    for (const orderBy of ['earliestPredictionTimestamp', '-latestPredictionTimestamp']) {
      const seen: string[] = [];
      for (let offset = 0; offset < 7; offset += 2) seen.push(...names(await list(`?orderBy=${orderBy}&limit=2&offset=${offset}`)));
      expect(seen).toEqual(names(await list(`?orderBy=${orderBy}`)));
    }
  });

  it('filters by createdAfter and createdBefore, both inclusive', async () => {
    expect(names(await list('?orderBy=createdAt&createdAfter=2024-01-05T00:00:00Z'))).toEqual(['echo 50%', 'foxtrot_x', 'golf']);
    expect(names(await list('?orderBy=createdAt&createdBefore=2024-01-02T00:00:00.000Z'))).toEqual(['alpha run', 'bravo run']);
    const between = await list('?orderBy=createdAt&createdAfter=2024-01-02&createdBefore=2024-01-04T00:00:00Z');
    expect(names(between)).toEqual(['bravo run', 'charlie run', 'delta']);
    expect(between.json.totalCount).toBe(3);
    expect(names(await list('?createdAfter=2024-01-01T12:00:00%2B13:00&orderBy=createdAt'))).toEqual(seeds.map((s) => s.name));
  });

  it('filters by startAfter (earliest prediction at or after) and endBefore (latest at or before)', async () => {
    expect(names(await list('?orderBy=name&startAfter=2024-02-15T00:00:00Z'))).toEqual(['alpha run', 'charlie run', 'golf']);
    expect(names(await list('?orderBy=name&endBefore=2024-03-05T00:00:00Z'))).toEqual(['alpha run', 'charlie run', 'golf']);
    expect(names(await list('?orderBy=name&startAfter=2024-02-01&endBefore=2024-03-04T00:00:00Z'))).toEqual(['charlie run', 'golf']);
    expect(names(await list('?orderBy=name&startAfter=2024-01-01&endBefore=2025-01-01'))).toEqual([
      'alpha run',
      'bravo run',
      'charlie run',
      'echo 50%',
      'golf',
    ]);
  });

  it('combines search, filters, order and paging; totalCount counts every match', async () => {
    const answer = await list('?search=run&createdAfter=2024-01-02&orderBy=-name&limit=1');
    expect(answer.json).toMatchObject({ count: 1, totalCount: 2 });
    expect(names(answer)).toEqual(['charlie run']);
    expect(names(await server.rest('GET', relativeLink(server, answer.json.next!), { token }))).toEqual(['bravo run']);
  });

  const badParams: [string, string[]][] = [
    ['limit=0', ['limit']],
    ['limit=abc', ['limit']],
    ['limit=1001', ['limit']],
    ['limit=2.5', ['limit']],
    ['offset=-1', ['offset']],
    ['offset=first', ['offset']],
    ['orderBy=bogus', ['orderBy']],
    ['orderBy=-', ['orderBy']],
    ['orderBy=--name', ['orderBy']],
    ['createdAfter=yesterday', ['createdAfter']],
    ['createdBefore=2024-13-01', ['createdBefore']],
    ['createdBefore=01/02/2024', ['createdBefore']],
    ['startAfter=2024-02-30', ['startAfter']],
    ['endBefore=0000-01-01T00:00:00Z', ['endBefore']],
    ['search=%00', ['search']],
    ['createdBy=usr_%00', ['createdBy']],
    ['limit=0&offset=-1&orderBy=size', ['limit', 'offset', 'orderBy']],
  ];
  it.each(badParams)('answers 422 naming the parameter for ?%s', async (query, fields) => {
    const answer = await list(`?${query}`);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {}).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(answer.json.message).toContain(field);
  });
});

describe('GET /monitoringBatches/ filtered by createdBy', () => {
  it('lists only the batches the given user created', async () => {
    const { token, deploymentId, adminId } = await createTenant(server);
    const member = await createUser(server, token, 'scoring robot', 'MEMBER');
    const memberId = member.id;
    await createRestBatch(server, deploymentId, token, { batchName: 'by admin 1' });
    await createRestBatch(server, deploymentId, token, { batchName: 'by admin 2' });
    const robots = await createRestBatch(server, deploymentId, member.secret, { batchName: 'by robot' });
    expect(robots.createdBy).toEqual({ id: memberId, name: 'scoring robot' });

    const byRobot = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=${memberId}`, { token });
    expect(byRobot.json).toMatchObject({ count: 1, totalCount: 1, data: [{ batchName: 'by robot', createdBy: { id: memberId } }] });
    const byAdmin = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=${adminId}&orderBy=name`, { token });
    expect(byAdmin.json.data!.map((b: { batchName: string }) => b.batchName)).toEqual(['by admin 1', 'by admin 2']);
    const byNobody = await server.rest('GET', `${batchesPath(deploymentId)}?createdBy=usr_000000000000000000000000`, { token });
    expect(byNobody.json).toMatchObject({ count: 0, totalCount: 0, data: [] });
  });
});

describe('GET /monitoringBatches/{batchId}/', () => {
  it('answers the batch exactly as POST did', async () => {
    const { token, deploymentId } = await createTenant(server);
    const created = await createRestBatch(server, deploymentId, token, {
      batchName: 'read me',
      description: 'd',
      externalContextUrl: 'https://x.example/1',
    });
    const answer = await server.rest('GET', batchPath(deploymentId, created.id), { token });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(created);
  });

  it('shows prediction timestamps and counts as stored', async () => {
    const { token, deploymentId } = await createTenant(server);
    const created = await createRestBatch(server, deploymentId, token, { batchName: 'with predictions' });
    await server.sql`
      update monitoring_batches
      set earliest_prediction_at = '2024-05-01T08:00:00Z', latest_prediction_at = '2024-05-01T09:30:00.250Z', prediction_count = 1234
      where id = ${created.id}`;
    const answer = await server.rest('GET', batchPath(deploymentId, created.id), { token });
    expect(answer.json).toMatchObject({
      earliestPredictionTimestamp: '2024-05-01T08:00:00.000Z',
      latestPredictionTimestamp: '2024-05-01T09:30:00.250Z',
      predictionsCount: 1234,
    });
  });

  it('answers 404 "Monitoring batch not found" for an unknown batch and for a batch of another deployment', async () => {
    const { token, deploymentId } = await createTenant(server);
    const other = await createDeployment(server, token);
    const batch = await createRestBatch(server, deploymentId, token, { batchName: 'lives elsewhere' });
    for (const route of [batchPath(deploymentId, MISSING_BATCH), batchPath(other.id, batch.id), batchPath(deploymentId, 'not-an-id')]) {
      const answer = await server.rest('GET', route, { token });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
  });
});
