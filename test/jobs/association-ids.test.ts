import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccuracyDocument as Accuracy,
  DeploymentAssociationIdColumnDocument as DeploymentAssociationIdColumn,
  SubmitActualsDocument as SubmitActuals,
  UpdateDeploymentSettingsDocument as UpdateDeploymentSettings,
} from '../generated/graphql.js';
import { createOrganization } from '../helpers/fixtures.js';
import { createJob, expectedAnswer, inputCsv, inputRows, jobDeployment, MODELS, runJob, uploadCsv } from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The deployment's association id column (DataRobot's association id setting): a batch prediction
// job records that input column as each prediction's association id, so actuals join the
// predictions of its runs, in either order.

let server: TestServer;
let models: ModelServer;
beforeAll(async () => {
  [server, models] = await Promise.all([startTestServer(), startModelServer(MODELS)]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), models?.stop()]);
});

async function setColumn(deploymentId: string, associationIdColumn: string | null, token = server.adminToken) {
  const data = await server.op(UpdateDeploymentSettings, { input: { deploymentId, associationIdColumn } }, token);
  expect(data.updateDeploymentSettings.__typename).toBe('UpdateDeploymentSettingsSuccess');
  return (await server.op(DeploymentAssociationIdColumn, { id: deploymentId }, token)).deployment?.associationIdColumn;
}

/** A multiclass deployment (classes x, y, z) scoring through the model server, association ids from `id`. */
async function deploymentWithColumn(column: string | null = 'id') {
  const deployment = await jobDeployment(server, models, 'multi');
  expect(await setColumn(deployment.id, column)).toBe(column);
  return deployment;
}

/** The association ids of a batch's predictions, in insertion order. */
async function storedIds(batchId: string): Promise<(string | null)[]> {
  const rows = await server.sql<{ association_id: string | null }[]>`
    select association_id from prediction_rows where batch_id = ${batchId} order by id`;
  return rows.map((r) => r.association_id);
}

/** The most probable class of the model's answer for a row: an actual that makes the prediction right. */
const predictedClass = (row: ReturnType<typeof inputRows>[number]) => {
  const p = expectedAnswer('multi', row);
  return MODELS.multi.classNames![p.indexOf(Math.max(...p))]!;
};

describe('the association id column setting', () => {
  it('is set on creation or in the settings, null clears it, and a blank name is refused', async () => {
    const deployment = await jobDeployment(server, models, 'multi');
    expect((await server.op(DeploymentAssociationIdColumn, { id: deployment.id })).deployment?.associationIdColumn).toBeNull();
    expect(await setColumn(deployment.id, 'order_id')).toBe('order_id');
    expect(await setColumn(deployment.id, null)).toBeNull();
    const refused = await server.op(UpdateDeploymentSettings, { input: { deploymentId: deployment.id, associationIdColumn: '  ' } });
    expect(refused.updateDeploymentSettings).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'associationIdColumn' }],
    });
  });

  it('of another organization’s deployment is not found, like a missing one', async () => {
    const deployment = await jobDeployment(server, models, 'multi');
    const other = await createOrganization(server);
    const answer = await server.op(
      UpdateDeploymentSettings,
      { input: { deploymentId: deployment.id, associationIdColumn: 'id' } },
      other.token,
    );
    expect(answer.updateDeploymentSettings).toMatchObject({ __typename: 'NotFoundError' });
    expect((await server.op(DeploymentAssociationIdColumn, { id: deployment.id })).deployment?.associationIdColumn).toBeNull();
  });
});

describe('a job on a deployment with an association id column', () => {
  it('records each row’s id from that column, in every chunk, and actuals join them in either order', async () => {
    const deployment = await deploymentWithColumn();
    const rows = inputRows(23, 'day-');
    // Half the actuals come before the predictions: they join when the job stores the rows.
    const early = rows.slice(0, 10).map((row) => ({ associationId: row.id, actualValue: predictedClass(row) }));
    const before = await server.op(SubmitActuals, { input: { deploymentId: deployment.id, actuals: early } });
    expect(before.submitActuals).toMatchObject({ matchedCount: 0, unmatchedAssociationIds: early.map((a) => a.associationId) });

    const job = await runJob(server, { deploymentId: deployment.id, chunkSize: 60, numConcurrent: 3 }, inputCsv(rows));
    expect(job).toMatchObject({ status: 'COMPLETED', scoredRows: 23 });
    const ids = await storedIds(job.monitoringBatchId!);
    expect([...ids].sort()).toEqual(rows.map((r) => r.id).sort());

    // Three of the late actuals are a class the model did not pick: 20 of 23 right.
    const wrong = (row: (typeof rows)[number]) => MODELS.multi.classNames!.find((c) => c !== predictedClass(row))!;
    const late = rows.slice(10).map((row, i) => ({ associationId: row.id, actualValue: i < 3 ? wrong(row) : predictedClass(row) }));
    const after = await server.op(SubmitActuals, { input: { deploymentId: deployment.id, actuals: late } });
    expect(after.submitActuals).toMatchObject({ matchedCount: 13, unmatchedAssociationIds: [] });

    const accuracy = (await server.op(Accuracy, { id: deployment.id, batches: { batchIds: [job.monitoringBatchId!] } })).deployment
      ?.accuracy;
    expect(accuracy?.predictionsWithActuals).toBe(23);
    expect(accuracy?.accuracy).toBeCloseTo(20 / 23, 9);
  });

  it('records no id for a row whose cell is empty', async () => {
    const deployment = await deploymentWithColumn('ref');
    const csv = 'ref,a,b,c\nr1,1,2,red\n,2,3,blue\nr3,3,4,green\n';
    const job = await runJob(server, { deploymentId: deployment.id }, csv);
    expect(job.status).toBe('COMPLETED');
    expect(await storedIds(job.monitoringBatchId!)).toEqual(['r1', null, 'r3']);
  });

  it('records none when the input lacks the column', async () => {
    const deployment = await deploymentWithColumn('ref');
    const job = await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(4)));
    expect(job.status).toBe('COMPLETED');
    expect(await storedIds(job.monitoringBatchId!)).toEqual([null, null, null, null]);
  });

  it('refuses an input that repeats an id or has one too long, naming the lines, and stores nothing', async () => {
    const deployment = await deploymentWithColumn();
    const long = 'x'.repeat(257);
    const csv = `id,a,b,c\nr1,1,2,red\nr2,2,3,blue\nr1,3,4,green\n${long},4,5,red\n`;
    const job = await createJob(server, { deploymentId: deployment.id });
    const answer = await uploadCsv(server, job.id, csv);
    expect(answer.status).toBe(422);
    expect(answer.json.errors).toEqual({
      'line 4.id': 'repeats the association id of line 2',
      'line 5.id': 'must be at most 256 characters',
    });
    const stored = await server.sql<{ n: number }[]>`select count(*)::int as n from batch_prediction_job_chunks where job_id = ${job.id}`;
    expect(stored[0]!.n).toBe(0);
  });

  it('fails a run whose ids the deployment already has, naming the id, and keeps the earlier predictions', async () => {
    const deployment = await deploymentWithColumn();
    const csv = inputCsv(inputRows(5, 'dup-'));
    const first = await runJob(server, { deploymentId: deployment.id }, csv);
    expect(first.status).toBe('COMPLETED');
    const second = await runJob(server, { deploymentId: deployment.id }, csv);
    expect(second.status).toBe('FAILED');
    expect(second.statusDetails).toContain('"dup-0" is already used by another prediction of this deployment');
    expect(await storedIds(first.monitoringBatchId!)).toHaveLength(5);
    expect(await storedIds(second.monitoringBatchId!)).toEqual([]);
  });
});

describe('a job on a deployment without an association id column', () => {
  it('records no ids even when the input has a column of that name', async () => {
    const deployment = await deploymentWithColumn(null);
    const job = await runJob(server, { deploymentId: deployment.id, passthroughColumns: ['id'] }, inputCsv(inputRows(3)));
    expect(job.status).toBe('COMPLETED');
    expect(await storedIds(job.monitoringBatchId!)).toEqual([null, null, null]);
  });
});
