import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchAuditTrailDocument,
  BatchPageAuditTrailsDocument,
  CreateExpiringApiTokenDocument,
  CreateMonitoringBatchDocument,
  CreateUserWithExpiringTokenDocument,
  DeleteMonitoringBatchDocument,
  DeploymentBatchAuditTrailDocument,
  LockMonitoringBatchDocument,
  ReportPredictionsDocument,
  UnlockMonitoringBatchDocument,
  UpdateBatchModelHistoryDocument,
  UpdateDeploymentSettingsDocument,
  UpdateMonitoringBatchDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { scoredRows } from '../helpers/ingest-data.js';
import { inputCsv, inputRows, jobDeployment, MODELS, runJob } from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// Every change of a batch (created, edited, model history, locked, unlocked, deleted, rows added) is in its
// audit trail with who made it, with which token, when and what changed; written in the change's
// transaction by the services, so GraphQL, REST, ingest and jobs all record it; readable after the
// batch is deleted and purged; only by the batch's organization.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

/** An organization admin's own token with its id, and a member with theirs. */
async function tenantWithTokens() {
  const tenant = await createTenant(server);
  const admin = await server.op(CreateExpiringApiTokenDocument, { input: { name: 'auditor' } }, tenant.token);
  const member = await server.op(CreateUserWithExpiringTokenDocument, { input: { name: `member ${Date.now()}` } }, tenant.token);
  if (admin.createApiToken.__typename !== 'CreateApiTokenSuccess' || member.createUser.__typename !== 'CreateUserSuccess')
    throw new Error('tokens not created');
  return {
    ...tenant,
    admin: { id: tenant.adminId, tokenId: admin.createApiToken.token.id, secret: admin.createApiToken.secret },
    member: { id: member.createUser.user.id, tokenId: member.createUser.token.id, secret: member.createUser.secret },
  };
}

async function trail(batchId: string, token: string) {
  const data = await server.op(BatchAuditTrailDocument, { id: batchId, first: 100 }, token);
  return data.monitoringBatch?.auditTrail.edges.map((e) => e.node) ?? null;
}

async function deletedTrail(deploymentId: string, batchId: string, token: string) {
  const data = await server.op(DeploymentBatchAuditTrailDocument, { deploymentId, batchId, first: 100 }, token);
  return data.deployment?.batchAuditTrail.edges.map((e) => e.node) ?? null;
}

const auditRows = async () => (await server.sql`select count(*)::int as n from batch_audit_events`)[0]!.n as number;

describe('the audit trail of a batch changed through GraphQL', () => {
  it('records every change with actor, token and before/after values, newest first, and keeps it after delete and purge', async () => {
    const t = await tenantWithTokens();
    const created = await server.op(
      CreateMonitoringBatchDocument,
      { input: { deploymentId: t.deploymentId, name: 'nightly', description: 'first run' } },
      t.member.secret,
    );
    if (created.createMonitoringBatch.__typename !== 'CreateMonitoringBatchSuccess') throw new Error('not created');
    const batchId = created.createMonitoringBatch.batch.id;
    const edit = (input: Record<string, string | null>, token = t.admin.secret) =>
      server.op(UpdateMonitoringBatchDocument, { input: { id: batchId, ...input } }, token);

    await edit({ name: 'nightly 2026-01-01', description: null, externalUrl: 'https://ci.example.com/run/7' });
    await edit({ name: 'nightly 2026-01-01' }); // no change: no event
    const period = { batchId, modelId: 'm1', startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-02T00:00:00.000Z' };
    await server.op(UpdateBatchModelHistoryDocument, { input: period }, t.member.secret);
    await server.op(UpdateBatchModelHistoryDocument, { input: { ...period, endTime: '2026-01-03T00:00:00.000Z' } }, t.member.secret);
    await server.op(LockMonitoringBatchDocument, { id: batchId }, t.admin.secret);
    await server.op(LockMonitoringBatchDocument, { id: batchId }, t.admin.secret); // already locked: no event
    await server.op(UnlockMonitoringBatchDocument, { id: batchId }, t.member.secret);

    const events = await trail(batchId, t.admin.secret);
    const byMember = { actor: { id: t.member.id }, tokenId: t.member.tokenId };
    const byAdmin = { actor: { id: t.admin.id, name: 'admin' }, tokenId: t.admin.tokenId };
    expect(events).toMatchObject([
      { action: 'UNLOCKED', ...byMember, changes: [], modelId: null },
      { action: 'LOCKED', ...byAdmin, changes: [] },
      {
        action: 'MODEL_HISTORY_CHANGED',
        ...byMember,
        modelId: 'm1',
        changes: [{ field: 'endTime', before: '2026-01-02T00:00:00.000Z', after: '2026-01-03T00:00:00.000Z' }],
      },
      {
        action: 'MODEL_HISTORY_CHANGED',
        ...byMember,
        modelId: 'm1',
        changes: [
          { field: 'startTime', before: null, after: '2026-01-01T00:00:00.000Z' },
          { field: 'endTime', before: null, after: '2026-01-02T00:00:00.000Z' },
        ],
      },
      {
        action: 'UPDATED',
        ...byAdmin,
        changes: [
          { field: 'name', before: 'nightly', after: 'nightly 2026-01-01' },
          { field: 'description', before: 'first run', after: null },
          { field: 'externalUrl', before: null, after: 'https://ci.example.com/run/7' },
        ],
      },
      {
        action: 'CREATED',
        ...byMember,
        changes: [
          { field: 'name', before: null, after: 'nightly' },
          { field: 'description', before: null, after: 'first run' },
        ],
      },
    ]);
    expect(events!.every((e) => e.batchId === batchId)).toBe(true);
    const times = events!.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(Date.now() - times.at(-1)!).toBeLessThan(60_000);

    // Deleted: no longer a MonitoringBatch, but its trail is read through the deployment.
    await server.op(DeleteMonitoringBatchDocument, { id: batchId }, t.member.secret);
    expect(await trail(batchId, t.admin.secret)).toBeNull();
    const afterDelete = await deletedTrail(t.deploymentId, batchId, t.admin.secret);
    expect(afterDelete).toHaveLength(events!.length + 1);
    expect(afterDelete![0]).toMatchObject({ action: 'DELETED', ...byMember });
    expect(afterDelete!.slice(1)).toEqual(events);

    // The purge (1 s after a delete) removes the batch's rows, not its trail.
    const deadline = Date.now() + 10_000;
    while ((await server.sql`select 1 from monitoring_batches where id = ${batchId}`).length > 0) {
      if (Date.now() > deadline) throw new Error('the deleted batch was not purged');
      await sleep(100);
    }
    expect(await deletedTrail(t.deploymentId, batchId, t.admin.secret)).toEqual(afterDelete);
  });

  it('pages the trail newest first with cursors, on the batch and through the deployment', async () => {
    const t = await tenantWithTokens();
    const batch = await createBatch(server, t.deploymentId, 'paged', t.token);
    for (let i = 1; i <= 4; i++) await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: `paged ${i}` } }, t.token);
    const first = await server.op(BatchAuditTrailDocument, { id: batch.id, first: 2 }, t.token);
    const page1 = first.monitoringBatch!.auditTrail;
    expect(page1.edges.map((e) => e.node.changes[0]!.after)).toEqual(['paged 4', 'paged 3']);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await server.op(BatchAuditTrailDocument, { id: batch.id, first: 2, after: page1.pageInfo.endCursor }, t.token);
    const page2 = second.monitoringBatch!.auditTrail;
    expect(page2.edges.map((e) => e.node.changes[0]!.after)).toEqual(['paged 2', 'paged 1']);
    const third = await server.op(BatchAuditTrailDocument, { id: batch.id, first: 2, after: page2.pageInfo.endCursor }, t.token);
    expect(third.monitoringBatch!.auditTrail.edges.map((e) => e.node.action)).toEqual(['CREATED']);
    expect(third.monitoringBatch!.auditTrail.pageInfo.hasNextPage).toBe(false);
    const last = await server.op(BatchAuditTrailDocument, { id: batch.id, last: 2 }, t.token);
    expect(last.monitoringBatch!.auditTrail.edges.map((e) => e.node.changes[0]!.after)).toEqual(['paged 1', 'paged']);
    const viaDeployment = await server.op(
      DeploymentBatchAuditTrailDocument,
      { deploymentId: t.deploymentId, batchId: batch.id, first: 2, after: page1.pageInfo.endCursor },
      t.token,
    );
    expect(viaDeployment.deployment!.batchAuditTrail.edges.map((e) => e.node)).toEqual(page2.edges.map((e) => e.node));

    const forged = await server.graphql(BatchAuditTrailDocument, { id: batch.id, first: 2, after: 'bm90IGEgY3Vyc29y' }, t.token);
    expect(forged.status).toBe(200);
    expect(forged.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'after' }] } });
  });
});

describe('the audit trail of a batch changed through REST', () => {
  it('records create, edit with before/after, lock, unlock and delete with the REST caller as actor', async () => {
    const t = await tenantWithTokens();
    const base = `/api/v2/deployments/${t.deploymentId}/monitoringBatches/`;
    const created = await server.rest('POST', base, { token: t.member.secret, body: { batchName: 'from rest' } });
    expect(created.status).toBe(201);
    const batchId = created.json.id!;
    const patched = await server.rest('PATCH', `${base}${batchId}/`, {
      token: t.admin.secret,
      body: { batchName: 'renamed', externalContextUrl: 'https://example.com/x', isLocked: true },
    });
    expect(patched.status).toBe(200);
    expect((await server.rest('PATCH', `${base}${batchId}/`, { token: t.member.secret, body: { isLocked: false } })).status).toBe(200);
    expect((await server.rest('DELETE', `${base}${batchId}/`, { token: t.admin.secret })).status).toBe(204);

    const byMember = { actor: { id: t.member.id }, tokenId: t.member.tokenId };
    const byAdmin = { actor: { id: t.admin.id }, tokenId: t.admin.tokenId };
    expect(await deletedTrail(t.deploymentId, batchId, t.member.secret)).toMatchObject([
      { action: 'DELETED', ...byAdmin, changes: [] },
      { action: 'UNLOCKED', ...byMember },
      { action: 'LOCKED', ...byAdmin },
      {
        action: 'UPDATED',
        ...byAdmin,
        changes: [
          { field: 'name', before: 'from rest', after: 'renamed' },
          { field: 'externalUrl', before: null, after: 'https://example.com/x' },
        ],
      },
      { action: 'CREATED', ...byMember, changes: [{ field: 'name', before: null, after: 'from rest' }] },
    ]);
  });

  it('records a batch created by an ingest with a batch prefix, with the ingesting token', async () => {
    const t = await tenantWithTokens();
    const ingest = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: t.deploymentId, batchPrefix: 'agent', rows: scoredRows(1, 3) } },
      t.member.secret,
    );
    if (ingest.reportPredictions.__typename !== 'ReportPredictionsSuccess') throw new Error(JSON.stringify(ingest));
    const events = await trail(ingest.reportPredictions.batch.id, t.member.secret);
    expect(events).toMatchObject([
      { action: 'ROWS_ADDED', actor: { id: t.member.id }, tokenId: t.member.tokenId },
      {
        action: 'CREATED',
        actor: { id: t.member.id },
        tokenId: t.member.tokenId,
        changes: [{ field: 'name', before: null, after: ingest.reportPredictions.batch.name }],
      },
    ]);
  });

  it("records the batch a prediction job's run creates, for the job's creator without a token", async () => {
    const t = await tenantWithTokens();
    const deployment = await jobDeployment(server, models, 'reg', { token: t.token });
    const job = await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(3)), t.member.secret);
    expect(job.status).toBe('COMPLETED');
    const events = await trail(job.monitoringBatchId!, t.member.secret);
    // The run's rows are in the trail too (one event per stored chunk), after its creation.
    expect(events!.at(-1)).toMatchObject({ action: 'CREATED', actor: { id: t.member.id }, tokenId: null });
    expect(events!.slice(0, -1).length).toBeGreaterThan(0);
    expect(events!.slice(0, -1).every((e) => e.action === 'ROWS_ADDED' && e.actor.id === t.member.id && e.tokenId === null)).toBe(true);
    expect(events!.at(-1)!.changes).toContainEqual({
      field: 'description',
      before: null,
      after: `Predictions of batch prediction job ${job.id}`,
    });
  });
});

describe('failed changes', () => {
  it('record nothing: invalid input, batch monitoring off, an exceeded quota, a missing batch', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createDeployment(server, org.token);
    const batch = await createBatch(server, deployment.id, 'only one', org.token);
    const before = await auditRows();

    const invalid = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: '  ' } }, org.token);
    expect(invalid.updateMonitoringBatch.__typename).toBe('ValidationError');
    const badUrl = await server.rest('PATCH', `/api/v2/deployments/${deployment.id}/monitoringBatches/${batch.id}/`, {
      token: org.token,
      body: { batchName: 'ok', externalContextUrl: 'ftp://nope' },
    });
    expect(badUrl.status).toBe(422);
    const badPeriod = await server.op(
      UpdateBatchModelHistoryDocument,
      { input: { batchId: batch.id, modelId: 'm', startTime: '2026-01-02T00:00:00Z', endTime: '2026-01-01T00:00:00Z' } },
      org.token,
    );
    expect(badPeriod.updateBatchModelHistory.__typename).toBe('ValidationError');
    const overQuota = await server.op(CreateMonitoringBatchDocument, { input: { deploymentId: deployment.id, name: 'second' } }, org.token);
    expect(overQuota.createMonitoringBatch.__typename).toBe('BatchQuotaExceededError');
    const missing = await server.op(LockMonitoringBatchDocument, { id: MISSING_BATCH }, org.token);
    expect(missing.lockMonitoringBatch.__typename).toBe('NotFoundError');

    const off = await server.op(
      UpdateDeploymentSettingsDocument,
      { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } },
      org.token,
    );
    expect(off.updateDeploymentSettings.__typename).toBe('UpdateDeploymentSettingsSuccess');
    const disabled = await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, name: 'renamed' } }, org.token);
    expect(disabled.updateMonitoringBatch.__typename).toBe('BatchMonitoringDisabledError');
    const deleteDisabled = await server.op(DeleteMonitoringBatchDocument, { id: batch.id }, org.token);
    expect(deleteDisabled.deleteMonitoringBatch.__typename).toBe('BatchMonitoringDisabledError');

    expect(await auditRows()).toBe(before);
    expect((await trail(batch.id, org.token))!.map((e) => e.action)).toEqual(['CREATED']);
  });
});

describe('tenancy', () => {
  it("shows another organization nothing of a batch's trail, live or deleted, and lets it change nothing", async () => {
    const owner = await tenantWithTokens();
    const live = await createBatch(server, owner.deploymentId, 'live', owner.token);
    const gone = await createBatch(server, owner.deploymentId, 'gone', owner.token);
    await server.op(DeleteMonitoringBatchDocument, { id: gone.id }, owner.token);
    const stranger = await createTenant(server);

    // Through the stranger's own deployment, a foreign batch id is like a missing one: an empty trail.
    for (const batchId of [live.id, gone.id, MISSING_BATCH]) {
      const data = await server.op(
        DeploymentBatchAuditTrailDocument,
        { deploymentId: stranger.deploymentId, batchId, first: 10 },
        stranger.token,
      );
      expect(data.deployment!.batchAuditTrail).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    }
    // The owner's deployment and batch are missing for the stranger.
    expect(await trail(live.id, stranger.token)).toBeNull();
    expect(await deletedTrail(owner.deploymentId, gone.id, stranger.token)).toBeNull();
    // A batch of another deployment of the same organization is not this deployment's either.
    const other = await createDeployment(server, owner.token);
    expect(await deletedTrail(other.id, gone.id, owner.token)).toEqual([]);
    // The owner sees both.
    expect((await deletedTrail(owner.deploymentId, gone.id, owner.token))!.map((e) => e.action)).toEqual(['DELETED', 'CREATED']);

    const foreignLock = await server.op(LockMonitoringBatchDocument, { id: live.id }, stranger.token);
    expect(foreignLock.lockMonitoringBatch.__typename).toBe('NotFoundError');
    expect((await trail(live.id, owner.token))!.map((e) => e.action)).toEqual(['CREATED']);
  });
});

describe('SQL statements for the trails of a page of batches (dataloaders)', () => {
  it('costs the same number of statements for 3 and 25 batches with their trails and actors', async () => {
    const counts: number[] = [];
    for (const size of [3, 25]) {
      const t = await tenantWithTokens();
      for (let i = 0; i < size; i++) {
        const batch = await createBatch(server, t.deploymentId, `b${i}`, i % 2 ? t.admin.secret : t.member.secret);
        await server.op(UpdateMonitoringBatchDocument, { input: { id: batch.id, description: `d${i}` } }, t.member.secret);
      }
      const { answer: data, statements } = await server.statementsOf((headers) =>
        server.op(BatchPageAuditTrailsDocument, { deploymentId: t.deploymentId, first: size }, t.admin.secret, headers),
      );
      const batches = data.deployment!.batches.edges;
      expect(batches).toHaveLength(size);
      expect(batches.every((b) => b.node.auditTrail.edges.map((e) => e.node.action).join() === 'UPDATED,CREATED')).toBe(true);
      expect(batches.every((b) => b.node.auditTrail.edges[0]!.node.actor.id === t.member.id)).toBe(true);
      counts.push(statements.length);
    }
    // token → viewer, deployment, batch page, audit trails, actors
    expect(counts).toEqual([5, 5]);
  });
});
