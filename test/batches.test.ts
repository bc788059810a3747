import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchOrderField,
  CreateMonitoringBatchDocument,
  CreateUserDocument,
  DeleteMonitoringBatchDocument,
  DeploymentBatchesDocument,
  type DeploymentBatchesQueryVariables,
  LockMonitoringBatchDocument,
  MonitoringBatchDocument,
  NodeDocument,
  UnlockMonitoringBatchDocument,
  UpdateBatchModelHistoryDocument,
  UpdateDeploymentSettingsDocument,
  UpdateMonitoringBatchDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const batchCount = async (deploymentId: string) =>
  (await server.sql<{ n: number }[]>`select count(*)::int as n from monitoring_batches where deployment_id = ${deploymentId}`)[0]!.n;

describe('creating a batch (C2)', () => {
  it('stores the trimmed name, description and URL, records the creator and starts empty', async () => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, {
      input: {
        deploymentId: deployment.id,
        name: '  nightly 2026-11-25 ',
        description: 'from the scoring job',
        externalUrl: 'https://ci.example.com/run/42',
      },
    });
    expect(result.createMonitoringBatch).toMatchObject({
      __typename: 'CreateMonitoringBatchSuccess',
      batch: {
        name: 'nightly 2026-11-25',
        description: 'from the scoring job',
        externalUrl: 'https://ci.example.com/run/42',
        createdBy: { name: 'admin' },
        isLocked: false,
        predictionCount: 0,
        earliestPredictionAt: null,
        latestPredictionAt: null,
        modelHistory: [],
        deployment: { id: deployment.id },
      },
    });
  });

  const invalid: [string, Record<string, unknown>, string, string][] = [
    ['an empty name', { name: '' }, 'name', 'must not be empty'],
    ['a blank name', { name: '   ' }, 'name', 'must not be empty'],
    ['a 513-character name', { name: 'n'.repeat(513) }, 'name', 'must be at most 512 characters'],
    ['a 10,001-character description', { name: 'ok', description: 'd'.repeat(10_001) }, 'description', 'must be at most 10000 characters'],
    ['an ftp URL', { name: 'ok', externalUrl: 'ftp://files.example.com/x' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
    ['a relative URL', { name: 'ok', externalUrl: '/runs/42' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
    ['a javascript: URL', { name: 'ok', externalUrl: 'javascript:alert(1)' }, 'externalUrl', 'must be an absolute http:// or https:// URL'],
  ];
  it.each(invalid)('refuses %s, naming the field, storing nothing and using no quota', async (_what, fields, field, message) => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'x', ...fields } });
    expect(result.createMonitoringBatch).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field, message }] });
    expect(await batchCount(deployment.id)).toBe(0);
    const quota = await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id });
    expect(quota.deployment?.batchQuota.used).toBe(0);
  });

  it('accepts a 512-character name and a 10,000-character description exactly', async () => {
    const deployment = await createDeployment(server);
    const result = await server.op(CreateMonitoringBatchDocument, {
      input: { deploymentId: deployment.id, name: 'n'.repeat(512), description: 'd'.repeat(10_000) },
    });
    expect(result.createMonitoringBatch.__typename).toBe('CreateMonitoringBatchSuccess');
  });

  it('answers a GraphQL validation error (not a 500) for a wrongly typed or missing name', async () => {
    const deployment = await createDeployment(server);
    const wrongType = await server.graphql(
      `mutation { createMonitoringBatch(input: {deploymentId: "${deployment.id}", name: 42}) { __typename } }`,
    );
    // GraphQL over HTTP with application/json: request errors come back as 200 with `errors` and no data.
    expect(wrongType.status).toBe(200);
    expect(wrongType.data ?? null).toBeNull();
    expect(wrongType.errors?.[0]?.message).toMatch(/String/);
    const missing = await server.graphql(`mutation { createMonitoringBatch(input: {deploymentId: "${deployment.id}"}) { __typename } }`);
    expect(missing.status).toBe(200);
    expect(missing.data ?? null).toBeNull();
    expect(missing.errors?.[0]?.message).toMatch(/name/);
  });
});

describe('the daily batch quota (C5)', () => {
  it('lets exactly K of N parallel creations through and types the rest with resetsAt', async () => {
    const org = await createOrganization(server, 10);
    const deployment = await createDeployment(server, org.token);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: `b${i}` } }, org.token),
      ),
    );
    const kinds = results.map((r) => r.createMonitoringBatch.__typename);
    expect(kinds.filter((k) => k === 'CreateMonitoringBatchSuccess')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'BatchQuotaExceededError')).toHaveLength(20);
    const nextMidnight = new Date();
    nextMidnight.setUTCHours(24, 0, 0, 0);
    const refusal = results.find((r) => r.createMonitoringBatch.__typename === 'BatchQuotaExceededError')!.createMonitoringBatch;
    expect(refusal).toMatchObject({
      resetsAt: nextMidnight.toISOString(),
      quota: { used: 10, limit: 10, remaining: 0, resetsAt: nextMidnight.toISOString() },
      message: expect.stringContaining('limit of 10'),
    });
    expect(await batchCount(deployment.id)).toBe(10);
    const quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toEqual({ used: 10, limit: 10, remaining: 0, resetsAt: nextMidnight.toISOString() });
  });

  it('counts per deployment, does not refund deletions, and ignores earlier days', async () => {
    const org = await createOrganization(server, 2);
    const first = await createDeployment(server, org.token);
    const second = await createDeployment(server, org.token);
    const a = await createBatch(server, first.id, 'a', org.token);
    await createBatch(server, first.id, 'b', org.token);
    expect((await server.op(DeleteMonitoringBatchDocument, { id: a.id }, org.token)).deleteMonitoringBatch.__typename).toBe(
      'DeleteMonitoringBatchSuccess',
    );
    const third = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: first.id, name: 'c' } }, org.token);
    expect(third.createMonitoringBatch.__typename).toBe('BatchQuotaExceededError');
    await createBatch(server, second.id, 'other deployment', org.token);
    // Yesterday's usage (full) does not count today.
    await server.sql`insert into batch_quota_usage (deployment_id, day, used) values (${second.id}, (now() at time zone 'utc')::date - 1, 2)`;
    const quota = (await server.op(DeploymentBatchesDocument, { deploymentId: second.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 1, remaining: 1 });
  });

  it('follows limit changes: null is unlimited, 0 refuses everything, lowering below use leaves 0 remaining', async () => {
    const org = await createOrganization(server, 3);
    const deployment = await createDeployment(server, org.token);
    await createBatch(server, deployment.id, 'one', org.token);
    await createBatch(server, deployment.id, 'two', org.token);
    const setLimit = (limit: number | null) =>
      server.graphql(
        'mutation($l: Int) { updateOrganizationSettings(input: {dailyBatchLimit: $l}) { __typename } }',
        { l: limit },
        org.token,
      );
    await setLimit(1);
    let quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 2, limit: 1, remaining: 0 });
    await setLimit(0);
    const zero = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'z' } }, org.token);
    expect(zero.createMonitoringBatch.__typename).toBe('BatchQuotaExceededError');
    await setLimit(null);
    for (let i = 0; i < 3; i++) await createBatch(server, deployment.id, `free ${i}`, org.token);
    quota = (await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, org.token)).deployment?.batchQuota;
    expect(quota).toMatchObject({ used: 5, limit: null, remaining: null });
  });
});

describe('editing a batch', () => {
  it('changes only the given fields; null or "" clears description and URL; null name is refused', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'before');
    await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, description: 'desc', externalUrl: 'http://a.example/b' } });
    const renamed = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: ' after ' } });
    expect(renamed.updateMonitoringBatch).toMatchObject({
      batch: { name: 'after', description: 'desc', externalUrl: 'http://a.example/b' },
    });
    const cleared = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, description: null, externalUrl: '' } });
    expect(cleared.updateMonitoringBatch).toMatchObject({ batch: { name: 'after', description: null, externalUrl: null } });
    const nullName = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: null } });
    expect(nullName.updateMonitoringBatch).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'name', message: 'must not be null' }],
    });
    const badUrl = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'kept?', externalUrl: 'mailto:x@y.z' } });
    expect(badUrl.updateMonitoringBatch).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'externalUrl' }] });
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch?.name).toBe('after');
  });

  it('refuses edits when the deployment has batch monitoring off', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const ops = [
      (await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'x' } })).updateMonitoringBatch,
      (await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch,
      (await server.op(DeleteMonitoringBatchDocument, { id: batch.id })).deleteMonitoringBatch,
    ];
    for (const result of ops) expect(result.__typename).toBe('BatchMonitoringDisabledError');
    // Reads still work: the data is not lost by switching the badge off.
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch?.name).toBe(batch.name);
  });
});

describe('model history (C3)', () => {
  it('sets and edits the period a model represents, refusing start after end', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const start = '2026-01-01T00:00:00.000Z';
    const end = '2026-01-31T23:59:59.999Z';
    const set = await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: 'model-a', startTime: start, endTime: end },
    });
    expect(set.updateBatchModelHistory).toMatchObject({
      batch: { modelHistory: [{ modelId: 'model-a', predictionCount: 0, startTime: start, endTime: end }] },
    });
    const moved = await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: 'model-a', startTime: '2025-12-01T00:00:00.000Z', endTime: start },
    });
    expect(moved.updateBatchModelHistory).toMatchObject({
      batch: { modelHistory: [{ startTime: '2025-12-01T00:00:00.000Z', endTime: start }] },
    });
    const reversed = await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: 'model-a', startTime: end, endTime: start },
    });
    expect(reversed.updateBatchModelHistory).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'endTime', message: 'must not be before startTime' }],
    });
    const blankModel = await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: ' ', startTime: start, endTime: end },
    });
    expect(blankModel.updateBatchModelHistory).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'modelId' }] });
    const badDate = await server.graphql(
      `mutation { updateBatchModelHistory(input: {batchId: "${batch.id}", modelId: "m", startTime: "last tuesday", endTime: "${end}"}) { __typename } }`,
    );
    expect(badDate.status).toBe(200);
    expect(badDate.data ?? null).toBeNull();
    expect(badDate.errors?.[0]?.message).toMatch(/ISO-8601/);
  });

  it('falls back to the prediction timestamps when no period was set', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.sql`insert into batch_model_history (deployment_id, batch_id, model_id, prediction_count, earliest_prediction_at, latest_prediction_at)
      values (${deployment.id}, ${batch.id}, 'model-b', 3, '2026-02-01T00:00:00Z', '2026-02-02T00:00:00Z')`;
    const read = await server.op(MonitoringBatchDocument, { id: batch.id });
    expect(read.monitoringBatch?.modelHistory).toEqual([
      { modelId: 'model-b', predictionCount: 3, startTime: '2026-02-01T00:00:00.000Z', endTime: '2026-02-02T00:00:00.000Z' },
    ]);
  });
});

describe('locking and deleting (C4)', () => {
  it('locks and unlocks, idempotently', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    for (let i = 0; i < 2; i++) {
      expect((await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch).toMatchObject({
        batch: { isLocked: true },
      });
    }
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch?.isLocked).toBe(true);
    expect((await server.op(UnlockMonitoringBatchDocument, { id: batch.id })).unlockMonitoringBatch).toMatchObject({
      batch: { isLocked: false },
    });
  });

  it('removes a deleted batch from every read at once and purges its rows in the background', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id, 'doomed');
    await server.op(UpdateBatchModelHistoryDocument, {
      input: { batchId: batch.id, modelId: 'm', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' },
    });
    const deleted = await server.op(DeleteMonitoringBatchDocument, { id: batch.id });
    expect(deleted.deleteMonitoringBatch).toEqual({ __typename: 'DeleteMonitoringBatchSuccess', deletedBatchId: batch.id });
    expect((await server.op(MonitoringBatchDocument, { id: batch.id })).monitoringBatch).toBeNull();
    expect((await server.op(NodeDocument, { id: batch.id })).node).toBeNull();
    const list = await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id, search: batch.id });
    expect(list.deployment?.batches.totalCount).toBe(0);
    for (const again of [
      (await server.op(DeleteMonitoringBatchDocument, { id: batch.id })).deleteMonitoringBatch,
      (await server.op(LockMonitoringBatchDocument, { id: batch.id })).lockMonitoringBatch,
      (await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'zombie' } })).updateMonitoringBatch,
    ]) {
      expect(again).toMatchObject({ __typename: 'NotFoundError', message: 'Monitoring batch not found', resource: 'MonitoringBatch' });
    }
    const deadline = Date.now() + 10_000;
    let remaining = 1;
    while (remaining > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      remaining = (await server.sql`select count(*)::int as n from monitoring_batches where id = ${batch.id}`)[0]!.n as number;
    }
    expect(remaining).toBe(0);
    expect((await server.sql`select count(*)::int as n from batch_model_history where batch_id = ${batch.id}`)[0]!.n).toBe(0);
  });
});

describe('listing batches (C2)', () => {
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
    const member = await server.op(CreateUserDocument, { input: { name: 'scorer' } }, org.token);
    if (member.createUser.__typename !== 'CreateUserSuccess') throw new Error('no member');
    memberId = member.createUser.user.id;
    for (const [i, name] of names.entries()) {
      const token = i % 2 === 0 ? org.token : member.createUser.secret;
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

describe('batch tenancy', () => {
  it("answers another organization's batch exactly like a missing one, for every operation", async () => {
    const a = await createOrganization(server);
    const b = await createOrganization(server);
    const deployment = await createDeployment(server, a.token);
    const batch = await createBatch(server, deployment.id, 'private', a.token);
    const missing = 'mb_ffffffffffffffffffffffff';
    const period = { modelId: 'm', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' };
    const probes = async (id: string) => [
      (await server.op(MonitoringBatchDocument, { id }, b.token)).monitoringBatch,
      (await server.op(NodeDocument, { id }, b.token)).node,
      (await server.op(UpdateMonitoringBatchDocument, { input: { id, name: 'stolen' } }, b.token)).updateMonitoringBatch,
      (await server.op(UpdateBatchModelHistoryDocument, { input: { batchId: id, ...period } }, b.token)).updateBatchModelHistory,
      (await server.op(LockMonitoringBatchDocument, { id }, b.token)).lockMonitoringBatch,
      (await server.op(UnlockMonitoringBatchDocument, { id }, b.token)).unlockMonitoringBatch,
      (await server.op(DeleteMonitoringBatchDocument, { id }, b.token)).deleteMonitoringBatch,
    ];
    const foreign = await probes(batch.id);
    expect(foreign).toEqual(await probes(missing));
    expect(foreign[0]).toBeNull();
    expect(foreign[2]).toMatchObject({ __typename: 'NotFoundError' });
    expect((await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id }, b.token)).deployment).toBeNull();
    const intact = (await server.op(MonitoringBatchDocument, { id: batch.id }, a.token)).monitoringBatch;
    expect(intact).toMatchObject({ name: 'private', isLocked: false, modelHistory: [] });
  });
});

describe('SQL statements per batch page (dataloaders)', () => {
  it('costs the same small number of statements for 5 and 50 batches with creator and model history', async () => {
    const org = await createOrganization(server, null);
    const counts: number[] = [];
    for (const size of [5, 50]) {
      const deployment = await createDeployment(server, org.token);
      const member = await server.op(CreateUserDocument, { input: { name: `u${size}` } }, org.token);
      if (member.createUser.__typename !== 'CreateUserSuccess') throw new Error('no member');
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, deployment.id, `b${i}`, i % 2 ? org.token : member.createUser.secret);
        await server.op(
          UpdateBatchModelHistoryDocument,
          { input: { batchId: batch.id, modelId: `m${i % 3}`, startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' } },
          org.token,
        );
      }
      server.statements.length = 0;
      const data = await server.op(DeploymentBatchesDocument, { deploymentId: deployment.id, first: 50 }, org.token);
      expect(data.deployment?.batches.edges).toHaveLength(size);
      expect(data.deployment?.batches.edges.every((e) => e.node.createdBy.name && e.node.modelHistory.length === 1)).toBe(true);
      counts.push(server.statements.length);
    }
    // token → viewer, deployment, batch page, totalCount, quota, creators, model histories
    expect(counts).toMatchInlineSnapshot(`
      [
        7,
        7,
      ]
    `);
    expect(counts[0]).toBe(counts[1]);
  });
});
