import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateBatchPredictionJobDefinitionInput,
  CreateJobDefinitionDocument,
  DeleteJobDefinitionDocument,
  DeploymentJobDefinitionsDocument,
  JobDefinitionDocument,
  JobDefinitionNodeDocument,
  JobWithDefinitionDocument,
  RunJobDefinitionDocument,
  UpdateJobDefinitionDocument,
} from '../generated/graphql.js';
import { createDeployment, createUser } from '../helpers/fixtures.js';
import {
  type Backend,
  type CsvServer,
  createScoringTenant,
  DEFINITION_NOT_FOUND,
  DEFINITIONS,
  definitionBody,
  definitionOf,
  definitionPath,
  EVERY_MINUTE,
  eventually,
  FROM_DEFINITION,
  jobOf,
  jobPath,
  MISSING_DEFINITION,
  startCsvServer,
  startModelServer,
} from '../helpers/job-definitions.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Batch prediction job definitions (C10, C13): DataRobot's /batchPredictionJobDefinitions routes and
// the GraphQL operations on the same service — create, read, list, change, delete, run now — their
// validation (named fields), names unique per organization, and tenancy.

let server: TestServer;
let backend: Backend;
let csv: CsvServer;
beforeAll(async () => {
  [server, backend, csv] = await Promise.all([startTestServer(), startModelServer(), startCsvServer()]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), backend?.stop(), csv?.stop()]);
});

/** The next 02:30 UTC after now. */
function next0230(now = new Date()): string {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 2, 30));
  if (at <= now) at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString();
}

const DAILY_0230 = { minute: [30], hour: [2], dayOfMonth: ['*'], month: ['*'], dayOfWeek: ['*'] };

describe('creating and reading (REST)', () => {
  it("creates a definition from DataRobot's body (job settings at the top level) and answers it with the settings under batchPredictionJob", async () => {
    const tenant = await createScoringTenant(server, backend);
    const before = new Date();
    const created = await server.rest('POST', DEFINITIONS, {
      token: tenant.token,
      body: { name: 'nightly', enabled: true, schedule: DAILY_0230, ...definitionBody(tenant.deploymentId, csv.url, { numConcurrent: 2 }) },
    });
    expect(created.status).toBe(201);
    const definition = definitionOf(created);
    expect(definition).toMatchObject({
      name: 'nightly',
      enabled: true,
      deploymentId: tenant.deploymentId,
      schedule: DAILY_0230,
      nextScheduledRunTime: next0230(before),
      lastScheduledRunTime: null,
      lastStartedJobStatus: null,
      lastStartedJobTime: null,
      lastSuccessfulRunTime: null,
      lastFailedRunTime: null,
      createdBy: { userId: tenant.adminId },
      updatedBy: { userId: tenant.adminId },
    });
    expect(definition.id).toMatch(/^jobdef_/);
    expect(definition.createdBy.username).toEqual(expect.any(String));
    // Every job setting is filled in with DataRobot's default.
    expect(definition.batchPredictionJob).toMatchObject({
      deploymentId: tenant.deploymentId,
      intakeSettings: { type: 'url', url: csv.url },
      outputSettings: { type: 'localFile' },
      numConcurrent: 2,
      includeProbabilities: true,
      abortOnError: true,
    });
    const read = await server.rest('GET', definitionPath(definition.id), { token: tenant.token });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created.json);
  });

  it('takes the job settings nested under batchPredictionJob too, but not both ways at once', async () => {
    const tenant = await createScoringTenant(server, backend);
    const nested = await server.rest('POST', DEFINITIONS, {
      token: tenant.token,
      body: { name: 'nested', batchPredictionJob: definitionBody(tenant.deploymentId, null) },
    });
    expect(nested.status).toBe(201);
    expect(definitionOf(nested)).toMatchObject({ enabled: false, schedule: null, nextScheduledRunTime: null });
    expect(definitionOf(nested).batchPredictionJob.intakeSettings).toEqual({ type: 'localFile' });

    const mixed = await server.rest('POST', DEFINITIONS, {
      token: tenant.token,
      body: { name: 'mixed', numConcurrent: 2, batchPredictionJob: definitionBody(tenant.deploymentId, null) },
    });
    expect(mixed.status).toBe(422);
    expect(Object.keys(mixed.json.errors!)).toEqual(['numConcurrent']);
  });

  it('names a definition itself when the request does not', async () => {
    const tenant = await createScoringTenant(server, backend);
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, { token: tenant.token, body: definitionBody(tenant.deploymentId, null) }),
    );
    expect(created.name).toContain(created.id);
  });

  it('refuses bad input naming each field: schedule values, month names, enabled without a schedule or with a local file', async () => {
    const tenant = await createScoringTenant(server, backend);
    const post = (body: Record<string, unknown>) => server.rest('POST', DEFINITIONS, { token: tenant.token, body });
    const base = definitionBody(tenant.deploymentId, csv.url);

    const badMinute = await post({ ...base, schedule: { ...DAILY_0230, minute: [0, 61] } });
    expect(badMinute.status).toBe(422);
    expect(Object.keys(badMinute.json.errors!)).toEqual(['schedule.minute.1']);
    expect(badMinute.json.errors!['schedule.minute.1']).toContain('0 to 59');

    const badMonth = await post({ ...base, schedule: { ...DAILY_0230, month: ['smarch', 'jan'] } });
    expect(badMonth.status).toBe(422);
    expect(Object.keys(badMonth.json.errors!)).toEqual(['schedule.month.0']);
    expect(badMonth.json.errors!['schedule.month.0']).toContain('month name');

    const several = await post({ ...base, schedule: { minute: ['*', 5], hour: [24], dayOfMonth: [], month: ['*'] } });
    expect(several.json.errors).toEqual({
      'schedule.minute': '"*" must be the only value',
      'schedule.hour.0': expect.stringContaining('0 to 23'),
      'schedule.dayOfMonth': expect.stringContaining('must not be empty'),
      'schedule.dayOfWeek': expect.stringContaining('is required'),
    });

    const never = await post({ ...base, schedule: { ...DAILY_0230, dayOfMonth: [30, 31], month: ['feb'] } });
    expect(Object.keys(never.json.errors!)).toEqual(['schedule.dayOfMonth']);

    const noSchedule = await post({ ...base, enabled: true });
    expect(noSchedule.status).toBe(422);
    expect(Object.keys(noSchedule.json.errors!)).toEqual(['schedule']);

    const localFile = await post({ ...definitionBody(tenant.deploymentId, null), enabled: true, schedule: DAILY_0230 });
    expect(localFile.status).toBe(422);
    expect(Object.keys(localFile.json.errors!)).toEqual(['intakeSettings.type']);
    expect(localFile.json.errors!['intakeSettings.type']).toContain('url');
    const nestedLocalFile = await post({
      enabled: true,
      schedule: DAILY_0230,
      batchPredictionJob: definitionBody(tenant.deploymentId, null),
    });
    expect(Object.keys(nestedLocalFile.json.errors!)).toEqual(['batchPredictionJob.intakeSettings.type']);

    const badSettings = await post({ name: '', enabled: 'yes', intakeSettings: { type: 's3' }, maxExplanations: 3 });
    expect(Object.keys(badSettings.json.errors!).sort()).toEqual([
      'deploymentId',
      'enabled',
      'intakeSettings.type',
      'maxExplanations',
      'name',
    ]);

    const unknownDeployment = await post(definitionBody('dep_000000000000000000000000', csv.url));
    expect(unknownDeployment.json.errors).toEqual({ deploymentId: 'Deployment not found' });

    const listed = await server.rest('GET', DEFINITIONS, { token: tenant.token });
    expect(listed.json.totalCount).toBe(0);
  });

  it('refuses a deployment that cannot run jobs: without batch monitoring, without a model backend', async () => {
    const tenant = await createScoringTenant(server, null);
    const noBackend = await server.rest('POST', DEFINITIONS, { token: tenant.token, body: definitionBody(tenant.deploymentId, csv.url) });
    expect(noBackend.status).toBe(422);
    expect(noBackend.json.message).toContain('no model backend');
  });

  it('keeps names unique in the organization (409), among definitions not deleted', async () => {
    const tenant = await createScoringTenant(server, backend);
    const other = await createScoringTenant(server, backend);
    const body = { name: 'daily scoring', ...definitionBody(tenant.deploymentId, csv.url) };
    const first = await server.rest('POST', DEFINITIONS, { token: tenant.token, body });
    expect(first.status).toBe(201);
    const again = await server.rest('POST', DEFINITIONS, { token: tenant.token, body: { ...body, name: ' daily scoring ' } });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('daily scoring');
    expect(again.json.errors).toEqual({ name: again.json.message });
    // Another organization may use the name.
    const elsewhere = await server.rest('POST', DEFINITIONS, {
      token: other.token,
      body: { ...body, deploymentId: other.deploymentId },
    });
    expect(elsewhere.status).toBe(201);
    // Renaming onto a taken name is a conflict too.
    const second = definitionOf(await server.rest('POST', DEFINITIONS, { token: tenant.token, body: { ...body, name: 'weekly' } }));
    const rename = await server.rest('PATCH', definitionPath(second.id), { token: tenant.token, body: { name: 'daily scoring' } });
    expect(rename.status).toBe(409);
    // Deleting frees the name.
    expect((await server.rest('DELETE', definitionPath(definitionOf(first).id), { token: tenant.token })).status).toBe(204);
    expect((await server.rest('PATCH', definitionPath(second.id), { token: tenant.token, body: { name: 'daily scoring' } })).status).toBe(
      200,
    );
  });
});

describe('changing, deleting and listing (REST)', () => {
  it('PATCH changes only what it names; job settings merge into the stored ones', async () => {
    const tenant = await createScoringTenant(server, backend);
    const user = await createUser(server, tenant.token, 'editor');
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, {
        token: tenant.token,
        body: { name: 'p', enabled: true, schedule: DAILY_0230, ...definitionBody(tenant.deploymentId, csv.url, { numConcurrent: 3 }) },
      }),
    );
    const patch = (body: Record<string, unknown>, token = tenant.token) =>
      server.rest('PATCH', definitionPath(created.id), { token, body });

    const renamed = await patch({ name: 'renamed', includeProbabilities: false }, user.secret);
    expect(renamed.status).toBe(200);
    expect(definitionOf(renamed)).toMatchObject({
      name: 'renamed',
      enabled: true,
      schedule: DAILY_0230,
      nextScheduledRunTime: created.nextScheduledRunTime,
      createdBy: { userId: tenant.adminId },
      updatedBy: { userId: user.id, username: 'editor' },
    });
    expect(definitionOf(renamed).batchPredictionJob).toMatchObject({
      numConcurrent: 3,
      includeProbabilities: false,
      intakeSettings: created.batchPredictionJob.intakeSettings,
    });
    expect(definitionOf(renamed).updated >= created.updated).toBe(true);

    const hourly = await patch({ schedule: { ...EVERY_MINUTE, minute: [0] } });
    const nextHour = new Date();
    nextHour.setUTCHours(nextHour.getUTCHours() + 1, 0, 0, 0);
    expect(definitionOf(hourly).nextScheduledRunTime).toBe(nextHour.toISOString());

    const disabled = await patch({ enabled: false });
    expect(definitionOf(disabled)).toMatchObject({ enabled: false, nextScheduledRunTime: null, schedule: { minute: [0] } });
    // A disabled definition may read a local file; enabling it again then is refused.
    expect((await patch({ intakeSettings: { type: 'localFile' } })).status).toBe(200);
    const enable = await patch({ enabled: true });
    expect(enable.status).toBe(422);
    expect(Object.keys(enable.json.errors!)).toEqual(['intakeSettings.type']);
    const noSchedule = await patch({ schedule: null, enabled: true, intakeSettings: { type: 'url', url: csv.url } });
    expect(Object.keys(noSchedule.json.errors!)).toEqual(['schedule']);

    const bad = await patch({ enabled: null, name: '', numConcurrent: 0, schedule: { ...DAILY_0230, dayOfWeek: ['funday'] } });
    expect(Object.keys(bad.json.errors!).sort()).toEqual(['enabled', 'name', 'numConcurrent', 'schedule.dayOfWeek.0']);
    const unchanged = definitionOf(await server.rest('GET', definitionPath(created.id), { token: tenant.token }));
    expect(unchanged).toMatchObject({ name: 'renamed', enabled: false });
    expect(unchanged.batchPredictionJob.intakeSettings).toEqual({ type: 'localFile' });
  });

  it('DELETE removes the definition from every read and from run now; its jobs stay', async () => {
    const tenant = await createScoringTenant(server, backend);
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, { token: tenant.token, body: definitionBody(tenant.deploymentId, null) }),
    );
    const run = jobOf(await server.rest('POST', FROM_DEFINITION, { token: tenant.token, body: { jobDefinitionId: created.id } }));
    const deleted = await server.rest('DELETE', definitionPath(created.id), { token: tenant.token });
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeNull();
    for (const [method, path, body] of [
      ['GET', definitionPath(created.id), undefined],
      ['PATCH', definitionPath(created.id), { name: 'x' }],
      ['DELETE', definitionPath(created.id), undefined],
      ['POST', FROM_DEFINITION, { jobDefinitionId: created.id }],
    ] as const) {
      const answer = await server.rest(method, path, { token: tenant.token, body });
      expect([method, path, answer.status, answer.json]).toEqual([method, path, 404, DEFINITION_NOT_FOUND]);
    }
    expect((await server.rest('GET', DEFINITIONS, { token: tenant.token })).json.totalCount).toBe(0);
    expect((await server.rest('GET', jobPath(run.id), { token: tenant.token })).status).toBe(200);
  });

  it('lists newest first by offset and limit, filtered by deployment and by part of the name', async () => {
    const tenant = await createScoringTenant(server, backend);
    const otherDeployment = await createDeployment(server, tenant.token, {
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: backend.url, modelName: 'price' },
    });
    const ids: string[] = [];
    for (const [name, deploymentId] of [
      ['alpha daily', tenant.deploymentId],
      ['beta daily', tenant.deploymentId],
      ['gamma weekly', otherDeployment.id],
    ] as const) {
      const body = { name, ...definitionBody(deploymentId, null) };
      ids.push(definitionOf(await server.rest('POST', DEFINITIONS, { token: tenant.token, body })).id);
    }
    const page = await server.rest('GET', `${DEFINITIONS}?offset=0&limit=2`, { token: tenant.token });
    expect(page.json).toMatchObject({ count: 2, totalCount: 3, previous: null });
    expect((page.json.data as unknown as { id: string }[]).map((d) => d.id)).toEqual([ids[2], ids[1]]);
    expect(page.json.next).toContain('offset=2');
    const rest = await server.rest('GET', `${DEFINITIONS}?offset=2&limit=2`, { token: tenant.token });
    expect((rest.json.data as unknown as { id: string }[]).map((d) => d.id)).toEqual([ids[0]]);
    expect(rest.json.next).toBeNull();

    const search = await server.rest('GET', `${DEFINITIONS}?searchName=DAILY`, { token: tenant.token });
    expect((search.json.data as unknown as { name: string }[]).map((d) => d.name)).toEqual(['beta daily', 'alpha daily']);
    const byDeployment = await server.rest('GET', `${DEFINITIONS}?deploymentId=${tenant.deploymentId}`, { token: tenant.token });
    expect((byDeployment.json.data as unknown as { id: string }[]).map((d) => d.id)).toEqual([ids[1], ids[0]]);
    const both = await server.rest('GET', `${DEFINITIONS}?deploymentId=${otherDeployment.id}&searchName=daily`, { token: tenant.token });
    expect(both.json.totalCount).toBe(0);
    const bad = await server.rest('GET', `${DEFINITIONS}?limit=-1`, { token: tenant.token });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.errors!)).toEqual(['limit']);
  });
});

describe('run now', () => {
  it('starts a job of the definition that reads its url, scores it and records it on the definition', async () => {
    const tenant = await createScoringTenant(server, backend);
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, {
        token: tenant.token,
        body: { name: 'now', ...definitionBody(tenant.deploymentId, csv.url) },
      }),
    );
    const started = await server.rest('POST', FROM_DEFINITION, { token: tenant.token, body: { jobDefinitionId: created.id } });
    expect(started.status).toBe(202);
    const job = jobOf(started);
    expect(job).toMatchObject({ batchPredictionJobDefinition: { id: created.id }, source: 'job_definition' });
    expect(started.headers.get('location')).toContain(jobPath(job.id));
    const done = await eventually(
      async () => jobOf(await server.rest('GET', jobPath(job.id), { token: tenant.token })),
      (j) => j.status === 'COMPLETED' || j.status === 'FAILED',
    );
    expect(done).toMatchObject({ status: 'COMPLETED', scoredRows: 2 });
    const after = definitionOf(await server.rest('GET', definitionPath(created.id), { token: tenant.token }));
    expect(after).toMatchObject({ lastStartedJobStatus: 'COMPLETED', lastFailedRunTime: null, lastScheduledRunTime: null });
    expect(after.lastSuccessfulRunTime).toEqual(expect.any(String));
    expect(after.lastStartedJobTime).toEqual(expect.any(String));
  });

  it('starts a local-file definition as a job waiting for its upload', async () => {
    const tenant = await createScoringTenant(server, backend);
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, { token: tenant.token, body: definitionBody(tenant.deploymentId, null) }),
    );
    const job = jobOf(await server.rest('POST', FROM_DEFINITION, { token: tenant.token, body: { jobDefinitionId: created.id } }));
    expect(job.status).toBe('INITIALIZING');
    expect(job.links.csvUpload).toContain(`${jobPath(job.id)}csvUpload/`);
    const after = definitionOf(await server.rest('GET', definitionPath(created.id), { token: tenant.token }));
    expect(after.lastStartedJobStatus).toBe('INITIALIZING');
  });

  it('refuses a body without jobDefinitionId, and an unknown id', async () => {
    const missing = await server.rest('POST', FROM_DEFINITION, { body: {} });
    expect(missing.status).toBe(422);
    expect(Object.keys(missing.json.errors!)).toEqual(['jobDefinitionId']);
    const unknown = await server.rest('POST', FROM_DEFINITION, { body: { jobDefinitionId: MISSING_DEFINITION } });
    expect([unknown.status, unknown.json]).toEqual([404, DEFINITION_NOT_FOUND]);
  });
});

describe('tenancy', () => {
  it("answers another organization's definition exactly like a missing one, on every route and operation, and changes nothing", async () => {
    const owner = await createScoringTenant(server, backend);
    const stranger = await createScoringTenant(server, backend);
    const created = definitionOf(
      await server.rest('POST', DEFINITIONS, {
        token: owner.token,
        body: { name: 'private', ...definitionBody(owner.deploymentId, csv.url) },
      }),
    );
    for (const id of [created.id, MISSING_DEFINITION]) {
      for (const [method, path, body] of [
        ['GET', definitionPath(id), undefined],
        ['PATCH', definitionPath(id), { name: 'stolen', enabled: false }],
        ['DELETE', definitionPath(id), undefined],
        ['POST', FROM_DEFINITION, { jobDefinitionId: id }],
      ] as const) {
        const answer = await server.rest(method, path, { token: stranger.token, body });
        expect([method, path, answer.status, answer.json]).toEqual([method, path, 404, DEFINITION_NOT_FOUND]);
      }
      expect((await server.op(JobDefinitionDocument, { id }, stranger.token)).batchPredictionJobDefinition).toBeNull();
      expect((await server.op(JobDefinitionNodeDocument, { id }, stranger.token)).node).toBeNull();
      const update = await server.op(UpdateJobDefinitionDocument, { input: { id, name: 'stolen' } }, stranger.token);
      const remove = await server.op(DeleteJobDefinitionDocument, { id }, stranger.token);
      const run = await server.op(RunJobDefinitionDocument, { id }, stranger.token);
      for (const result of [
        update.updateBatchPredictionJobDefinition,
        remove.deleteBatchPredictionJobDefinition,
        run.runBatchPredictionJobDefinition,
      ]) {
        expect(result).toMatchObject({
          __typename: 'NotFoundError',
          resource: 'BatchPredictionJobDefinition',
          message: DEFINITION_NOT_FOUND.message,
        });
      }
    }
    // The stranger's lists do not show it; the owner's definition is as it was, with no job.
    expect((await server.rest('GET', DEFINITIONS, { token: stranger.token })).json.totalCount).toBe(0);
    const list = await server.op(DeploymentJobDefinitionsDocument, { id: owner.deploymentId }, stranger.token);
    expect(list.deployment).toBeNull();
    const still = await server.rest('GET', definitionPath(created.id), { token: owner.token });
    expect(still.json).toEqual(created);
    // A definition cannot point at another organization's deployment either.
    const foreign = await server.rest('POST', DEFINITIONS, { token: stranger.token, body: definitionBody(owner.deploymentId, csv.url) });
    expect(foreign.json.errors).toEqual({ deploymentId: 'Deployment not found' });
  });
});

describe('GraphQL', () => {
  const urlJob = (deploymentId: string) => ({ deploymentId, intakeSettings: { type: 'URL' as const, url: csv.url } });
  const localJob = (deploymentId: string) => ({ deploymentId, intakeSettings: { type: 'LOCAL_FILE' as const } });

  it('creates, reads, lists, changes, runs and deletes a definition', async () => {
    const tenant = await createScoringTenant(server, backend);
    const created = await server.op(
      CreateJobDefinitionDocument,
      {
        input: {
          name: 'graphql nightly',
          enabled: true,
          schedule: { minute: [30], hour: [2] },
          batchPredictionJob: { ...urlJob(tenant.deploymentId), includeProbabilities: false },
        },
      },
      tenant.token,
    );
    const result = created.createBatchPredictionJobDefinition;
    if (result.__typename !== 'CreateBatchPredictionJobDefinitionSuccess') throw new Error(JSON.stringify(result));
    const definition = result.definition;
    expect(definition).toMatchObject({
      name: 'graphql nightly',
      enabled: true,
      schedule: { minute: [30], hour: [2], dayOfMonth: null, month: null, dayOfWeek: null, cron: '30 2 * * *' },
      deployment: { id: tenant.deploymentId },
      createdBy: { id: tenant.adminId },
      nextScheduledRunTime: next0230(),
      lastStartedJob: null,
      lastStartedJobStatus: null,
    });
    expect(definition.batchPredictionJob).toEqual({
      deploymentId: tenant.deploymentId,
      intakeSettings: { type: 'URL', url: csv.url },
      numConcurrent: 4,
      includeProbabilities: false,
      chunkSize: 'auto',
    });
    expect((await server.op(JobDefinitionDocument, { id: definition.id }, tenant.token)).batchPredictionJobDefinition).toEqual(definition);
    expect((await server.op(JobDefinitionNodeDocument, { id: definition.id }, tenant.token)).node).toEqual({
      __typename: 'BatchPredictionJobDefinition',
      id: definition.id,
      name: 'graphql nightly',
    });

    const updated = await server.op(
      UpdateJobDefinitionDocument,
      {
        input: {
          id: definition.id,
          schedule: { dayOfWeek: [1, 5], hour: [6], minute: [0] },
          batchPredictionJob: { ...urlJob(tenant.deploymentId), numConcurrent: 1 },
        },
      },
      tenant.token,
    );
    if (updated.updateBatchPredictionJobDefinition.__typename !== 'UpdateBatchPredictionJobDefinitionSuccess') throw new Error('update');
    const changed = updated.updateBatchPredictionJobDefinition.definition;
    expect(changed.schedule).toMatchObject({ dayOfWeek: [1, 5], cron: '0 6 * * 1,5' });
    // Settings left out keep their value; those given change.
    expect(changed.batchPredictionJob).toMatchObject({ numConcurrent: 1, includeProbabilities: false, intakeSettings: { type: 'URL' } });
    expect([1, 5]).toContain(new Date(changed.nextScheduledRunTime!).getUTCDay());

    const run = await server.op(RunJobDefinitionDocument, { id: definition.id }, tenant.token);
    if (run.runBatchPredictionJobDefinition.__typename !== 'RunBatchPredictionJobDefinitionSuccess') throw new Error('run');
    const { jobId } = run.runBatchPredictionJobDefinition;
    expect(jobId).toMatch(/^job_/);
    expect(run.runBatchPredictionJobDefinition.job).toMatchObject({ id: jobId, status: 'INITIALIZING', definitionId: definition.id });
    expect(run.runBatchPredictionJobDefinition.definition).toMatchObject({
      lastStartedJob: { id: jobId },
      lastStartedJobStatus: 'INITIALIZING',
    });
    expect((await server.op(JobWithDefinitionDocument, { id: jobId }, tenant.token)).batchPredictionJob).toEqual({
      id: jobId,
      definition: { id: definition.id, name: 'graphql nightly' },
    });
    expect(jobOf(await server.rest('GET', jobPath(jobId), { token: tenant.token })).batchPredictionJobDefinition).toEqual({
      id: definition.id,
    });

    const removed = await server.op(DeleteJobDefinitionDocument, { id: definition.id }, tenant.token);
    expect(removed.deleteBatchPredictionJobDefinition).toEqual({
      __typename: 'DeleteBatchPredictionJobDefinitionSuccess',
      deletedDefinitionId: definition.id,
    });
    expect((await server.op(JobDefinitionDocument, { id: definition.id }, tenant.token)).batchPredictionJobDefinition).toBeNull();
  });

  it('answers typed errors naming the fields, and a taken name as a ConflictError', async () => {
    const tenant = await createScoringTenant(server, backend);
    const create = (input: CreateBatchPredictionJobDefinitionInput) => server.op(CreateJobDefinitionDocument, { input }, tenant.token);
    const invalid = await create({
      enabled: true,
      schedule: { minute: [61], month: [13] },
      batchPredictionJob: localJob(tenant.deploymentId),
    });
    expect(invalid.createBatchPredictionJobDefinition).toMatchObject({ __typename: 'ValidationError' });
    const fields = (invalid.createBatchPredictionJobDefinition as { fieldErrors: { field: string }[] }).fieldErrors.map((e) => e.field);
    expect(fields).toEqual(['schedule.minute.0', 'schedule.month.0']);
    const localFile = await create({ enabled: true, schedule: {}, batchPredictionJob: localJob(tenant.deploymentId) });
    expect((localFile.createBatchPredictionJobDefinition as { fieldErrors: { field: string }[] }).fieldErrors.map((e) => e.field)).toEqual([
      'batchPredictionJob.intakeSettings.type',
    ]);
    const noSchedule = await create({ enabled: true, batchPredictionJob: urlJob(tenant.deploymentId) });
    expect((noSchedule.createBatchPredictionJobDefinition as { fieldErrors: { field: string }[] }).fieldErrors.map((e) => e.field)).toEqual(
      ['schedule'],
    );
    const first = await create({ name: 'same', batchPredictionJob: localJob(tenant.deploymentId) });
    expect(first.createBatchPredictionJobDefinition.__typename).toBe('CreateBatchPredictionJobDefinitionSuccess');
    const second = await create({ name: 'same', batchPredictionJob: localJob(tenant.deploymentId) });
    expect(second.createBatchPredictionJobDefinition).toMatchObject({ __typename: 'ConflictError', field: 'name' });
  });

  it("pages a deployment's definitions newest first, with search and totalCount", async () => {
    const tenant = await createScoringTenant(server, backend);
    const ids: string[] = [];
    for (const name of ['one a', 'two b', 'three a']) {
      ids.push(
        definitionOf(
          await server.rest('POST', DEFINITIONS, { token: tenant.token, body: { name, ...definitionBody(tenant.deploymentId, null) } }),
        ).id,
      );
    }
    const first = await server.op(DeploymentJobDefinitionsDocument, { id: tenant.deploymentId, first: 2 }, tenant.token);
    const connection = first.deployment!.batchPredictionJobDefinitions;
    expect(connection.totalCount).toBe(3);
    expect(connection.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    const next = await server.op(
      DeploymentJobDefinitionsDocument,
      { id: tenant.deploymentId, first: 2, after: connection.pageInfo.endCursor },
      tenant.token,
    );
    expect(next.deployment!.batchPredictionJobDefinitions.edges.map((e) => e.node.id)).toEqual([ids[0]]);
    const search = await server.op(DeploymentJobDefinitionsDocument, { id: tenant.deploymentId, search: ' A' }, tenant.token);
    expect(search.deployment!.batchPredictionJobDefinitions.edges.map((e) => e.node.name)).toEqual(['three a', 'one a']);
  });
});
