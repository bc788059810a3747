import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchSealDocument,
  LockMonitoringBatchDocument,
  ReportPredictionsDocument,
  UnlockMonitoringBatchDocument,
  VerifyBatchDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { ndjson, regressionRows } from '../helpers/ingest-data.js';
import { actualsPath, batchPath, bulkPath, inputsPath, lockBatch, post, postJson } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Locking a batch seals it: a fingerprint of its stored rows and the aggregates derived from them
// (and one of its accuracy aggregates, which actuals still move) is kept; verifyBatch recomputes it.
// Every change of the batch is in its audit trail.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

async function verify(id: string, token = server.adminToken) {
  return (await server.op(VerifyBatchDocument, { id }, token)).verifyBatch;
}

async function verified(id: string, token = server.adminToken) {
  const result = await verify(id, token);
  if (result.__typename !== 'BatchVerification') throw new Error(JSON.stringify(result));
  return result;
}

async function seal(id: string, token = server.adminToken) {
  return (await server.op(BatchSealDocument, { id }, token)).monitoringBatch!;
}

async function lock(id: string, token = server.adminToken) {
  const locked = await server.op(LockMonitoringBatchDocument, { id }, token);
  expect(locked.lockMonitoringBatch.__typename).toBe('LockMonitoringBatchSuccess');
}

const verificationPath = (deploymentId: string, batchId: string) => `${batchPath(deploymentId, batchId)}verification/`;

describe('locking a batch', () => {
  it('seals it: the fingerprint shows in GraphQL and REST, and verifies as unchanged', async () => {
    const t = await createTenant(server);
    const batch = await createBatch(server, t.deploymentId, 'sealed', t.token);
    expect(
      (
        await post(server, bulkPath(t.deploymentId, batch.id, '?executionTimeMs=4'), ndjson(regressionRows(50, 1, 's-')), {
          token: t.token,
        })
      ).status,
    ).toBe(200);
    expect((await seal(batch.id, t.token)).fingerprint).toBeNull();

    const answer = await lockBatch(server, t.deploymentId, batch.id, t.token);
    expect(answer.status).toBe(200);
    const rest = answer.json as { fingerprint: string; sealedAt: string; isLocked: boolean };
    expect(rest.isLocked).toBe(true);
    expect(rest.fingerprint).toMatch(/^v1:[0-9a-f]{32}$/);
    const sealed = await seal(batch.id, t.token);
    expect(sealed).toMatchObject({ isLocked: true, fingerprint: rest.fingerprint, sealedAt: rest.sealedAt, sealedBy: { id: t.adminId } });
    expect((await server.rest('GET', batchPath(t.deploymentId, batch.id), { token: t.token })).json).toMatchObject({
      fingerprint: rest.fingerprint,
      sealedAt: rest.sealedAt,
    });

    const v = await verified(batch.id, t.token);
    expect(v).toMatchObject({
      batch: { id: batch.id },
      unchanged: true,
      fingerprint: rest.fingerprint,
      recomputedFingerprint: rest.fingerprint,
      sealedAt: rest.sealedAt,
      sealedBy: { id: t.adminId },
    });
    expect(v.recomputedAccuracyFingerprint).toBe(v.accuracyFingerprint);
    const viaRest = await server.rest('GET', verificationPath(t.deploymentId, batch.id), { token: t.token });
    expect(viaRest.status).toBe(200);
    expect(viaRest.json).toMatchObject({ batchId: batch.id, unchanged: true, fingerprint: rest.fingerprint, sealedBy: t.adminId });
  });

  it('gives the same fingerprint to the same rows stored in any order and split into any requests', async () => {
    const deployment = await createDeployment(server);
    const rows = regressionRows(40, 7); // no association ids: the same rows may sit in two batches
    const one = await createBatch(server, deployment.id);
    const other = await createBatch(server, deployment.id);
    const different = await createBatch(server, deployment.id);
    const send = async (batchId: string, data: unknown[]) =>
      expect((await postJson(server, inputsPath(deployment.id), { batchId, data })).status).toBe(202);
    await send(one.id, rows);
    const reversed = [...rows].reverse();
    await send(other.id, reversed.slice(0, 13));
    await send(other.id, reversed.slice(13));
    await send(
      different.id,
      rows.map((row, i) => (i === 17 ? { ...row, prediction: (row.prediction as number) + 0.125 } : row)),
    );
    for (const batch of [one, other, different]) await lock(batch.id);
    const [a, b, c] = await Promise.all([one, other, different].map((batch) => seal(batch.id)));
    expect(b!.fingerprint).toBe(a!.fingerprint);
    expect(c!.fingerprint).not.toBe(a!.fingerprint);
  });
});

describe('verifying a sealed batch', () => {
  it('finds a row or an aggregate changed behind the server’s back, and the batch unchanged once restored', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(30, 2, 't-')));
    await lock(batch.id);
    expect((await verified(batch.id)).unchanged).toBe(true);
    const key = (await server.sql`select key from monitoring_batches where id = ${batch.id}`)[0]!.key as number;

    // A row's prediction.
    await server.sql`update predictions set prediction = prediction + 1 where batch_key = ${key} and association_text = 't-4'`;
    const tampered = await verified(batch.id);
    expect(tampered.unchanged).toBe(false);
    expect(tampered.recomputedFingerprint).not.toBe(tampered.fingerprint);
    await server.sql`update predictions set prediction = prediction - 1 where batch_key = ${key} and association_text = 't-4'`;
    expect((await verified(batch.id)).unchanged).toBe(true);

    // A row's feature, a deleted row, a copied row.
    await server.sql`update predictions set categorical_features = '["Nowhere"]' where batch_key = ${key} and association_text = 't-5'`;
    expect((await verified(batch.id)).unchanged).toBe(false);
    await server.sql`delete from predictions where batch_key = ${key} and association_text = 't-5'`;
    expect((await verified(batch.id)).unchanged).toBe(false);

    // An aggregate only.
    const other = await createBatch(server, deployment.id);
    await post(server, bulkPath(deployment.id, other.id), ndjson(regressionRows(30, 3, 'u-')));
    await lock(other.id);
    await server.sql`update batch_column_stats set sum = sum + 1 where batch_id = ${other.id} and column_name = 'age'`;
    expect((await verified(other.id)).unchanged).toBe(false);
    await server.sql`update batch_column_stats set sum = sum - 1 where batch_id = ${other.id} and column_name = 'age'`;
    await server.sql`update batch_service_stats set request_count = request_count + 1 where batch_id = ${other.id}`;
    expect((await verified(other.id)).unchanged).toBe(false);
  });

  it('accepts actuals that arrive after sealing (audited), and finds the accuracy aggregates changed otherwise', async () => {
    const t = await createTenant(server);
    const batch = await createBatch(server, t.deploymentId, 'with actuals', t.token);
    await post(server, bulkPath(t.deploymentId, batch.id), ndjson(regressionRows(20, 4, 'a-')), { token: t.token });
    await lock(batch.id, t.token);
    const before = await verified(batch.id, t.token);

    const actuals = await postJson(
      server,
      actualsPath(t.deploymentId),
      { data: [0, 1, 2].map((i) => ({ associationId: `a-${i}`, actualValue: i * 10 })) },
      { token: t.token },
    );
    expect(actuals.status).toBe(202);
    const after = await verified(batch.id, t.token);
    expect(after).toMatchObject({ unchanged: true, fingerprint: before.fingerprint });
    expect(after.accuracyFingerprint).not.toBe(before.accuracyFingerprint);
    const [matched] = (await seal(batch.id, t.token)).auditTrail.edges.map((e) => e.node);
    expect(matched).toMatchObject({
      action: 'ACTUALS_MATCHED',
      rowCount: 3,
      fingerprint: after.accuracyFingerprint,
      actor: { id: t.adminId },
    });

    await server.sql`update batch_accuracy_stats set sum_squared_error = sum_squared_error * 2 where batch_id = ${batch.id}`;
    const tampered = await verified(batch.id, t.token);
    expect(tampered).toMatchObject({ unchanged: false, recomputedFingerprint: before.fingerprint });
    expect(tampered.recomputedAccuracyFingerprint).not.toBe(tampered.accuracyFingerprint);
  });

  it('answers BatchNotSealedError for a batch never locked or unlocked since (409 over REST)', async () => {
    const t = await createTenant(server);
    const batch = await createBatch(server, t.deploymentId, 'open', t.token);
    expect(await verify(batch.id, t.token)).toEqual({
      __typename: 'BatchNotSealedError',
      batchId: batch.id,
      message: 'Monitoring batch is not sealed: lock it to seal it',
    });
    const rest = await server.rest('GET', verificationPath(t.deploymentId, batch.id), { token: t.token });
    expect(rest.status).toBe(409);
    expect(rest.json).toMatchObject({ batchId: batch.id });
  });

  it("answers NotFound for another organization's batch exactly as for a missing one", async () => {
    const owner = await createTenant(server);
    const batch = await createBatch(server, owner.deploymentId, 'theirs', owner.token);
    await lock(batch.id, owner.token);
    const stranger = await createTenant(server);
    const foreign = await verify(batch.id, stranger.token);
    const missing = await verify(MISSING_BATCH, stranger.token);
    expect(foreign).toEqual({ __typename: 'NotFoundError', message: 'Monitoring batch not found', resource: 'MonitoringBatch' });
    expect(missing).toEqual(foreign);
    const restForeign = await server.rest('GET', verificationPath(owner.deploymentId, batch.id), { token: stranger.token });
    const restMissing = await server.rest('GET', verificationPath(stranger.deploymentId, MISSING_BATCH), { token: stranger.token });
    expect(restForeign.status).toBe(404);
    expect(restMissing).toMatchObject({ status: 404, json: restForeign.json });
    // A batch id under another deployment of the same organization is missing too.
    const elsewhere = await createDeployment(server, owner.token);
    expect((await server.rest('GET', verificationPath(elsewhere.id, batch.id), { token: owner.token })).status).toBe(404);
  });
});

describe('unlocking and locking again', () => {
  it('clears the seal, and reseals with the same fingerprint when nothing changed', async () => {
    const t = await createTenant(server);
    const batch = await createBatch(server, t.deploymentId, 'relocked', t.token);
    await post(server, bulkPath(t.deploymentId, batch.id), ndjson(regressionRows(10, 5, 'r-')), { token: t.token });
    await lock(batch.id, t.token);
    const first = await seal(batch.id, t.token);

    const unlocked = await server.op(UnlockMonitoringBatchDocument, { id: batch.id }, t.token);
    expect(unlocked.unlockMonitoringBatch.__typename).toBe('UnlockMonitoringBatchSuccess');
    expect(await seal(batch.id, t.token)).toMatchObject({ isLocked: false, fingerprint: null, sealedAt: null, sealedBy: null });
    expect((await server.rest('GET', batchPath(t.deploymentId, batch.id), { token: t.token })).json).toMatchObject({
      fingerprint: null,
      sealedAt: null,
    });
    expect((await verify(batch.id, t.token)).__typename).toBe('BatchNotSealedError');

    await lock(batch.id, t.token);
    const again = await seal(batch.id, t.token);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(new Date(again.sealedAt!).getTime()).toBeGreaterThanOrEqual(new Date(first.sealedAt!).getTime());

    // Rows added while unlocked: a new fingerprint.
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id }, t.token);
    await post(server, bulkPath(t.deploymentId, batch.id), ndjson(regressionRows(3, 6, 'r2-')), { token: t.token });
    await lock(batch.id, t.token);
    expect((await seal(batch.id, t.token)).fingerprint).not.toBe(first.fingerprint);
    expect((await verified(batch.id, t.token)).unchanged).toBe(true);
  });
});

describe('the audit trail of a sealed batch', () => {
  it('records rows added by every ingest (count, actor, token), lock with the fingerprint, and unlock', async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server, org.token);
    const batch = await createBatch(server, deployment.id, 'audited', org.token);
    await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(7, 8, 'x-')), { token: org.token });
    await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: regressionRows(4, 9) }, { token: org.token });
    const reported = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: { age: 1 }, prediction: 2 }] } },
      org.token,
    );
    expect(reported.reportPredictions.__typename).toBe('ReportPredictionsSuccess');
    await postJson(
      server,
      `/api/v2/deployments/${deployment.id}/predictionRequests/fromJSON/`,
      { batchId: batch.id, numPredictions: 5 },
      { token: org.token },
    );
    await lock(batch.id, org.token);
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id }, org.token);

    const sealed = await seal(batch.id, org.token);
    const events = sealed.auditTrail.edges.map((e) => e.node);
    const fingerprint = (
      await server.sql`select fingerprint from batch_audit_events where batch_id = ${batch.id} and action = 'LOCKED'`
    )[0]!.fingerprint as string;
    expect(fingerprint).toMatch(/^v1:/);
    expect(events.map(({ action, rowCount, fingerprint }) => ({ action, rowCount, fingerprint }))).toEqual([
      { action: 'UNLOCKED', rowCount: null, fingerprint },
      { action: 'LOCKED', rowCount: null, fingerprint },
      { action: 'STATS_REPORTED', rowCount: 0, fingerprint: null },
      { action: 'ROWS_ADDED', rowCount: 1, fingerprint: null },
      { action: 'ROWS_ADDED', rowCount: 4, fingerprint: null },
      { action: 'ROWS_ADDED', rowCount: 7, fingerprint: null },
      { action: 'CREATED', rowCount: null, fingerprint: null },
    ]);
    expect(events.every((e) => e.actor.id === org.adminId && e.tokenId !== null)).toBe(true);
  });

  it('records nothing for a refused ingest', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const count = async () => (await server.sql`select count(*)::int as n from batch_audit_events where batch_id = ${batch.id}`)[0]!.n;
    const before = await count();
    expect(
      (await postJson(server, inputsPath(deployment.id), { batchId: batch.id, data: [{ features: {}, prediction: 'x' }] })).status,
    ).toBe(422);
    expect(await count()).toBe(before);
    await lock(batch.id);
    expect((await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(3, 10)))).status).toBe(409);
    expect(await count()).toBe(before + 1);
  });
});
