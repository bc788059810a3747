import type { BatchPredictionJob, BatchPredictionJobDefinition, JobSchedule, ScheduleField } from '../../db/tables.js';
import { isError, type Result, ValidationError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { orThrow, resultUnion } from '../../graphql/errors.js';
import { byId, fromMap, lazily, perRequest } from '../../graphql/loaders.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { organizationLoaders } from '../organizations/loaders.js';
import { UserRef } from '../organizations/schema.js';
import {
  createDefinition,
  type DefinitionInput,
  type DefinitionRuns,
  definitionRuns,
  definitionsByIds,
  definitionsPage,
  deleteDefinition,
  NO_RUNS,
  runDefinition,
  updateDefinition,
} from './definitions.js';
import { jobLoaders } from './loaders.js';
import { cronExpression } from './schedule.js';
import {
  BatchPredictionJobRef,
  BatchPredictionJobSpecRef,
  BatchPredictionJobStatusEnum,
  CreateBatchPredictionJobInput,
  jobSpecBody,
} from './schema.js';

// Batch prediction job definitions in GraphQL (C10): a saved job that runs on request or on a
// schedule. The same service as DataRobot's REST routes (definitions-rest.ts).

const definitionLoaders = perRequest(({ app: { db }, viewer }) =>
  lazily({
    definition: () => byId((ids) => definitionsByIds(db, viewer.organizationId, ids)),
    /** Only called with ids of definitions already loaded through the viewer's organization. */
    runs: () => fromMap<DefinitionRuns, DefinitionRuns>((ids) => definitionRuns(db, viewer.organizationId, ids), NO_RUNS),
  }),
);

const everyOr = (field: ScheduleField) => (field[0] === '*' ? null : (field as number[]));

const JobScheduleRef = builder.objectRef<JobSchedule>('JobSchedule').implement({
  description:
    'When a definition runs, in UTC, as DataRobot schedules it: each field a list of values, null for every value ("*"). ' +
    'A day matches when it matches dayOfMonth OR dayOfWeek if both are set; if one of them is null, the other alone decides.',
  fields: (t) => ({
    minute: t.field({ type: ['Int'], nullable: true, description: '0–59; null = every minute.', resolve: (s) => everyOr(s.minute) }),
    hour: t.field({ type: ['Int'], nullable: true, description: '0–23; null = every hour.', resolve: (s) => everyOr(s.hour) }),
    dayOfMonth: t.field({
      type: ['Int'],
      nullable: true,
      description: '1–31 (dates a month lacks are skipped); null = every day.',
      resolve: (s) => everyOr(s.dayOfMonth),
    }),
    month: t.field({ type: ['Int'], nullable: true, description: '1–12; null = every month.', resolve: (s) => everyOr(s.month) }),
    dayOfWeek: t.field({
      type: ['Int'],
      nullable: true,
      description: '0 (Sunday) – 6 (Saturday); null = every day of the week.',
      resolve: (s) => everyOr(s.dayOfWeek),
    }),
    cron: t.string({ description: 'The same schedule as a 5-field cron expression (UTC).', resolve: (s) => cronExpression(s) }),
  }),
});

const JobScheduleInput = builder.inputType('JobScheduleInput', {
  description: 'Each field a list of values; omitted or null = every value ("*" in DataRobot\'s schedule).',
  fields: (t) => ({
    minute: t.intList({ description: '0–59.' }),
    hour: t.intList({ description: '0–23.' }),
    dayOfMonth: t.intList({ description: '1–31.' }),
    month: t.intList({ description: '1–12.' }),
    dayOfWeek: t.intList({ description: '0 (Sunday) – 6.' }),
  }),
});

type ScheduleArg = { [K in keyof JobSchedule]?: number[] | null } | null | undefined;

/** GraphQL's schedule (null = every) in DataRobot's shape (["*"]), which the service validates. */
function scheduleInput(schedule: ScheduleArg): unknown {
  if (!schedule) return schedule;
  const field = (values: number[] | null | undefined) => values ?? ['*'];
  return {
    minute: field(schedule.minute),
    hour: field(schedule.hour),
    dayOfMonth: field(schedule.dayOfMonth),
    month: field(schedule.month),
    dayOfWeek: field(schedule.dayOfWeek),
  };
}

export const BatchPredictionJobDefinitionRef = builder.objectRef<BatchPredictionJobDefinition>('BatchPredictionJobDefinition');

const runs = (definition: BatchPredictionJobDefinition, ctx: Parameters<typeof definitionLoaders>[0]) =>
  definitionLoaders(ctx).runs.load(definition.id);

builder.node(BatchPredictionJobDefinitionRef, {
  description:
    'A saved batch prediction job that runs on request (runBatchPredictionJobDefinition) or, when enabled, on its schedule. ' +
    "Each run is a batch prediction job of the definition's settings, started as the definition's creator.",
  id: { resolve: (definition) => definition.id },
  loadOne: (id, ctx) => definitionLoaders(ctx).definition.load(id),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in the organization.' }),
    enabled: t.exposeBoolean('enabled', { description: 'Runs on its schedule when true.' }),
    schedule: t.field({ type: JobScheduleRef, nullable: true, resolve: (d) => d.schedule }),
    batchPredictionJob: t.field({
      type: BatchPredictionJobSpecRef,
      description: 'The job settings each run uses, every setting filled in.',
      resolve: (d) => d.spec,
    }),
    deployment: t.field({
      type: DeploymentRef,
      resolve: async (d, _args, ctx) => (await deploymentLoaders(ctx).deployment.load(d.deploymentId))!,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    createdBy: t.field({ type: UserRef, resolve: async (d, _args, ctx) => (await organizationLoaders(ctx).user.load(d.createdById))! }),
    updatedBy: t.field({
      type: UserRef,
      resolve: async (d, _args, ctx) => (await organizationLoaders(ctx).user.load(d.updatedById ?? d.createdById))!,
    }),
    nextScheduledRunTime: t.expose('nextScheduledRunAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The next scheduled run; null unless enabled with a schedule.',
    }),
    lastScheduledRunTime: t.expose('lastScheduledRunAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The scheduled time of the last scheduled run (a run missed while the server was down starts late, once).',
    }),
    lastStartedJob: t.field({
      type: BatchPredictionJobRef,
      nullable: true,
      description: 'The newest job of this definition (scheduled or run on request).',
      resolve: async (d, _args, ctx) => {
        const id = (await runs(d, ctx)).lastStartedJobId;
        return id ? jobLoaders(ctx).job.load(id) : null;
      },
    }),
    lastStartedJobStatus: t.field({
      type: BatchPredictionJobStatusEnum,
      nullable: true,
      description: 'Status of the newest job.',
      resolve: async (d, _args, ctx) => (await runs(d, ctx)).lastStartedJobStatus,
    }),
    lastStartedJobTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the newest job was created.',
      resolve: async (d, _args, ctx) => (await runs(d, ctx)).lastStartedJobTime,
    }),
    lastSuccessfulRunTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the newest completed job finished.',
      resolve: async (d, _args, ctx) => (await runs(d, ctx)).lastSuccessfulRunTime,
    }),
    lastFailedRunTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the newest failed job finished (a scheduled run that could not start is a failed job too).',
      resolve: async (d, _args, ctx) => (await runs(d, ctx)).lastFailedRunTime,
    }),
  }),
});

builder.queryField('batchPredictionJobDefinition', (t) =>
  t.field({
    type: BatchPredictionJobDefinitionRef,
    nullable: true,
    description: 'null when the id does not exist, was deleted, or belongs to another organization.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => definitionLoaders(ctx).definition.load(id),
  }),
);

builder.objectField(DeploymentRef, 'batchPredictionJobDefinitions', (t) =>
  t.connection(
    {
      type: BatchPredictionJobDefinitionRef,
      description: "The deployment's batch prediction job definitions (deleted ones never appear), newest first.",
      args: { search: t.arg.string({ description: 'Case-insensitive part of the name.' }) },
      resolve: async (deployment, args, ctx) => orThrow(await definitionsPage(ctx.app.db, ctx.viewer, deployment.id, args)),
    },
    {
      name: 'BatchPredictionJobDefinitionConnection',
      fields: (c) => ({
        totalCount: c.int({ description: 'Definitions matching search.', resolve: (connection) => connection.totalCount() }),
      }),
    },
  ),
);

builder.objectField(BatchPredictionJobRef, 'definition', (t) =>
  t.field({
    type: BatchPredictionJobDefinitionRef,
    nullable: true,
    description: 'The definition that started this run (scheduled or run on request); null for a one-time job or a deleted definition.',
    resolve: (job, _args, ctx) => (job.definitionId ? definitionLoaders(ctx).definition.load(job.definitionId) : null),
  }),
);

// ---------------------------------------------------------------------------------------------

/** The typed job settings as DataRobot's body (what the service validates), errors named under batchPredictionJob. */
function jobSettings(input: typeof CreateBatchPredictionJobInput.$inferInput | null | undefined): unknown {
  if (input == null) return input;
  const body = jobSpecBody(input);
  if (!isError(body)) return body;
  const errors = body instanceof ValidationError ? body.fieldErrors : [{ field: '', message: body.message }];
  return new ValidationError(errors.map((e) => ({ field: `batchPredictionJob${e.field ? `.${e.field}` : ''}`, message: e.message })));
}

const definitionPayload = (name: string) =>
  builder.objectRef<{ definition: BatchPredictionJobDefinition }>(name).implement({
    fields: (t) => ({ definition: t.field({ type: BatchPredictionJobDefinitionRef, resolve: (p) => p.definition }) }),
  });

const withDefinition = (result: Result<BatchPredictionJobDefinition>) => (isError(result) ? result : { definition: result });

builder.mutationField('createBatchPredictionJobDefinition', (t) =>
  t.field({
    type: resultUnion('CreateBatchPredictionJobDefinitionResult', definitionPayload('CreateBatchPredictionJobDefinitionSuccess'), [
      'ValidationError',
      'ConflictError',
      'BatchMonitoringDisabledError',
      'ModelBackendError',
    ]),
    description:
      'Saves a batch prediction job to run on request or, when enabled, on its schedule. An enabled definition needs a schedule ' +
      'and an input the server reads itself (intakeSettings.type url).',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateBatchPredictionJobDefinitionInput', {
          fields: (f) => ({
            name: f.string({ description: 'Unique in the organization; 1–100 characters. Default: one made from the id.' }),
            enabled: f.boolean({ description: 'Run on the schedule. Default false.' }),
            schedule: f.field({ type: JobScheduleInput }),
            batchPredictionJob: f.field({
              type: CreateBatchPredictionJobInput,
              required: true,
              description: 'The job settings, as for createBatchPredictionJob.',
            }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const batchPredictionJob = jobSettings(input.batchPredictionJob);
      if (batchPredictionJob instanceof ValidationError) return batchPredictionJob;
      const definition: DefinitionInput = { ...input, schedule: scheduleInput(input.schedule), batchPredictionJob };
      return withDefinition(await createDefinition(ctx.app.db, ctx.viewer, definition));
    },
  }),
);

builder.mutationField('updateBatchPredictionJobDefinition', (t) =>
  t.field({
    type: resultUnion('UpdateBatchPredictionJobDefinitionResult', definitionPayload('UpdateBatchPredictionJobDefinitionSuccess'), [
      'NotFoundError',
      'ValidationError',
      'ConflictError',
      'BatchMonitoringDisabledError',
      'ModelBackendError',
    ]),
    description:
      'Omitted fields stay; `schedule: null` removes the schedule. ' +
      'A new schedule, or a definition enabled again, counts from now (runs missed meanwhile do not happen).',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateBatchPredictionJobDefinitionInput', {
          fields: (f) => ({
            id: f.id({ required: true }),
            name: f.string(),
            enabled: f.boolean(),
            schedule: f.field({ type: JobScheduleInput }),
            batchPredictionJob: f.field({
              type: CreateBatchPredictionJobInput,
              description: 'New job settings; its optional settings left out keep their stored value.',
            }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { id, ...fields } }, ctx) => {
      const batchPredictionJob = jobSettings(fields.batchPredictionJob);
      if (batchPredictionJob instanceof ValidationError) return batchPredictionJob;
      const definition: DefinitionInput = { ...fields, schedule: scheduleInput(fields.schedule), batchPredictionJob };
      return withDefinition(await updateDefinition(ctx.app.db, ctx.viewer, id, definition));
    },
  }),
);

const DeleteDefinitionSuccess = builder
  .objectRef<{ deletedDefinitionId: string }>('DeleteBatchPredictionJobDefinitionSuccess')
  .implement({ fields: (t) => ({ deletedDefinitionId: t.exposeID('deletedDefinitionId') }) });

builder.mutationField('deleteBatchPredictionJobDefinition', (t) =>
  t.field({
    type: resultUnion('DeleteBatchPredictionJobDefinitionResult', DeleteDefinitionSuccess, ['NotFoundError']),
    description: 'The definition disappears and never runs again; its jobs stay, and a running one goes on.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const deleted = await deleteDefinition(ctx.app.db, ctx.viewer, id);
      return isError(deleted) ? deleted : { deletedDefinitionId: deleted.id };
    },
  }),
);

const RunDefinitionSuccess = builder
  .objectRef<{ job: BatchPredictionJob; definition: BatchPredictionJobDefinition }>('RunBatchPredictionJobDefinitionSuccess')
  .implement({
    fields: (t) => ({
      jobId: t.id({ description: 'The batch prediction job started.', resolve: (p) => p.job.id }),
      job: t.field({ type: BatchPredictionJobRef, resolve: (p) => p.job }),
      definition: t.field({ type: BatchPredictionJobDefinitionRef, resolve: (p) => p.definition }),
    }),
  });

builder.mutationField('runBatchPredictionJobDefinition', (t) =>
  t.field({
    type: resultUnion('RunBatchPredictionJobDefinitionResult', RunDefinitionSuccess, [
      'NotFoundError',
      'ValidationError',
      'BatchMonitoringDisabledError',
      'ModelBackendError',
    ]),
    description:
      'Run now: a batch prediction job of the definition\'s settings, started by the caller (DataRobot\'s "fromJobDefinition"). ' +
      'A url input is read at once; a localFile job waits for its CSV upload.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const job = await runDefinition(ctx.app, ctx.viewer, id);
      if (isError(job)) return job;
      const definition = await definitionLoaders(ctx).definition.load(id);
      return { job, definition: definition! };
    },
  }),
);
