import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringBatchDocument, UpdateBatchModelHistoryDocument, UpdateMonitoringBatchDocument } from '../generated/graphql.js';
import { BATCH_NOT_FOUND, createBatch, createDeployment, createTenant, MISSING_BATCH } from '../helpers/fixtures.js';
import { batchPath, createRestBatch, quotaUsed } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Editing a batch changes only the fields given (null or "" clears the optional ones), applies
// nothing when one field is wrong, and costs no quota. The model history (C3) is the period each
// model's predictions represent.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('updateMonitoringBatch (GraphQL)', () => {
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
});

describe('PATCH /monitoringBatches/{batchId}/', () => {
  async function freshBatch() {
    const t = await createTenant(server);
    const batch = await createRestBatch(server, t.deploymentId, t.token, {
      batchName: 'original',
      description: 'original description',
      externalContextUrl: 'https://example.com/original',
    });
    const patch = (body: unknown) => server.rest('PATCH', batchPath(t.deploymentId, batch.id), { token: t.token, body });
    const read = async () => (await server.rest('GET', batchPath(t.deploymentId, batch.id), { token: t.token })).json;
    return { ...t, batch, patch, read };
  }

  it('changes only the fields it is given', async () => {
    const { batch, patch, read } = await freshBatch();
    const renamed = await patch({ batchName: '  renamed  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toEqual({ ...batch, batchName: 'renamed' });
    const described = await patch({ description: 'new description' });
    expect(described.json).toEqual({ ...batch, batchName: 'renamed', description: 'new description' });
    const linked = await patch({ externalContextUrl: 'http://example.com/new' });
    expect(linked.json).toEqual({
      ...batch,
      batchName: 'renamed',
      description: 'new description',
      externalContextUrl: 'http://example.com/new',
    });
    expect(await read()).toEqual(linked.json);
  });

  it('clears description and externalContextUrl with null', async () => {
    const { batch, patch } = await freshBatch();
    const answer = await patch({ description: null, externalContextUrl: null });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ...batch, description: null, externalContextUrl: null });
  });

  it('clears description and externalContextUrl with ""', async () => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch({ description: '', externalContextUrl: '' });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ...batch, description: null, externalContextUrl: null });
    expect(await read()).toMatchObject({ description: null, externalContextUrl: null });
  });

  it('locks with isLocked true and unlocks with false', async () => {
    const { batch, patch, read } = await freshBatch();
    const locked = await patch({ isLocked: true });
    expect(locked.status).toBe(200);
    // Locking seals it (test/batches/sealing.test.ts).
    expect(locked.json).toEqual({ ...batch, isLocked: true, fingerprint: expect.stringMatching(/^v1:/), sealedAt: expect.any(String) });
    expect(await read()).toMatchObject({ isLocked: true });
    // A locked batch can still be renamed; locking only stops predictions.
    expect((await patch({ batchName: 'renamed while locked' })).json).toMatchObject({ batchName: 'renamed while locked', isLocked: true });
    const unlocked = await patch({ isLocked: false });
    expect(unlocked.json).toMatchObject({ isLocked: false, batchName: 'renamed while locked' });
  });

  it('answers the batch unchanged for an empty object', async () => {
    const { batch, patch } = await freshBatch();
    const answer = await patch({});
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(batch);
  });

  const invalid: [string, unknown, string][] = [
    ['an empty batchName', { batchName: '' }, 'batchName'],
    ['a null batchName', { batchName: null }, 'batchName'],
    ['a 513-character batchName', { batchName: 'y'.repeat(513) }, 'batchName'],
    ['a 10,001-character description', { description: 'z'.repeat(10_001) }, 'description'],
    ['an ftp:// externalContextUrl', { externalContextUrl: 'ftp://example.com/a' }, 'externalContextUrl'],
    ['a relative externalContextUrl', { externalContextUrl: 'jobs/42' }, 'externalContextUrl'],
    ['a string isLocked', { isLocked: 'yes' }, 'isLocked'],
    ['a null isLocked', { isLocked: null }, 'isLocked'],
    ['a JSON array body', [], 'body'],
  ];
  it.each(invalid)('answers 422 naming the field for %s, and changes nothing', async (_case, body, field) => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch(body);
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.json.errors ?? {})).toEqual([field]);
    expect(await read()).toEqual(batch);
  });

  it('applies nothing when one of several fields is invalid', async () => {
    const { batch, patch, read } = await freshBatch();
    const answer = await patch({ batchName: 'valid new name', externalContextUrl: 'ftp://nope' });
    expect(answer.status).toBe(422);
    expect(await read()).toEqual(batch);
  });

  it('costs no quota', async () => {
    const { token, deploymentId, patch } = await freshBatch();
    await patch({ batchName: 'again' });
    await patch({ isLocked: true });
    expect(await quotaUsed(server, deploymentId, token)).toBe(1);
  });

  it('answers 404 for an unknown batch and for a batch under another deployment, changing nothing', async () => {
    const { token, batch, read } = await freshBatch();
    const other = await createDeployment(server, token);
    for (const route of [batchPath(batch.deploymentId, MISSING_BATCH), batchPath(other.id, batch.id)]) {
      const answer = await server.rest('PATCH', route, { token, body: { batchName: 'hijacked' } });
      expect(answer.status, route).toBe(404);
      expect(answer.json).toEqual(BATCH_NOT_FOUND);
    }
    expect(await read()).toEqual(batch);
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
    // Hand-written on purpose: an invalid DateTime literal in the document itself.
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
