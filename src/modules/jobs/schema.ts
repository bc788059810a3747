import { GraphQLError } from 'graphql';
import type { BatchPredictionJob, JobSpec } from '../../db/tables.js';
import { isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { untilLast } from '../../events/hub.js';
import { builder } from '../../graphql/builder.js';
import { orThrow, resultUnion } from '../../graphql/errors.js';
import { freshLoaders } from '../../graphql/loaders.js';
import { batchLoaders } from '../batches/loaders.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { organizationLoaders } from '../organizations/loaders.js';
import { UserRef } from '../organizations/schema.js';
import { jobLoaders } from './loaders.js';
import { abortRunningJob, createJob, isFinal, jobsByIds, listJobPage } from './service.js';
import { jobPaths, jobProgress } from './view.js';

// Batch prediction jobs over GraphQL (C10, C11): the job, its spec, a deployment's jobs, the run
// behind a monitoring batch, create / abort, and live progress. Same services as the REST routes.

export const BatchPredictionJobStatusEnum = builder.enumType('BatchPredictionJobStatus', {
  values: {
    INITIALIZING: { description: 'Created; waiting for its input (a CSV upload or reading the URL) or for a worker.' },
    RUNNING: { description: 'Scoring chunks into its monitoring batch.' },
    COMPLETED: { description: 'Every input row was processed (final).' },
    ABORTED: { description: 'Aborted by a user, or its monitoring batch was locked or deleted during the run (final).' },
    FAILED: { description: 'Stopped by an error: refused input, the model backend, the batch quota … (final; see statusDetails).' },
  } as const,
});

const IntakeTypeEnum = builder.enumType('BatchPredictionJobIntakeType', {
  description: 'Where a job reads its input CSV.',
  values: {
    LOCAL_FILE: {
      value: 'localFile',
      description: 'Uploaded by the client: `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv), see `csvUploadPath`.',
    },
    URL: { value: 'url', description: 'Read by batchlens from an http(s) URL when the job starts.' },
  } as const,
});

const PassthroughColumnsSetEnum = builder.enumType('BatchPredictionJobPassthroughColumnsSet', {
  values: { ALL: { value: 'all', description: 'Every input column is copied to the output.' } } as const,
});

const IntakeSettingsRef = builder.objectRef<JobSpec['intakeSettings']>('BatchPredictionJobIntakeSettings').implement({
  fields: (t) => ({
    type: t.field({ type: IntakeTypeEnum, resolve: (intake) => intake.type }),
    url: t.string({
      nullable: true,
      description: 'The input URL, for URL intakes.',
      resolve: (intake) => ('url' in intake ? intake.url : null),
    }),
  }),
});

interface ColumnNameRemapping {
  inputName: string;
  outputName: string | null;
}

const ColumnNameRemappingRef = builder.objectRef<ColumnNameRemapping>('ColumnNameRemapping').implement({
  fields: (t) => ({
    inputName: t.exposeString('inputName', {
      description: 'A column of the output as batchlens names it (an input or prediction column).',
    }),
    outputName: t.exposeString('outputName', { nullable: true, description: 'Its name in the output file; null leaves the column out.' }),
  }),
});

export const BatchPredictionJobSpecRef = builder.objectRef<JobSpec>('BatchPredictionJobSpec').implement({
  description: "What a job was asked to do, every setting filled in (DataRobot's Batch Prediction API names).",
  fields: (t) => ({
    deploymentId: t.exposeID('deploymentId'),
    intakeSettings: t.field({ type: IntakeSettingsRef, resolve: (spec) => spec.intakeSettings }),
    passthroughColumns: t.exposeStringList('passthroughColumns', {
      nullable: true,
      description: 'Input columns copied to the output, in this order.',
    }),
    passthroughColumnsSet: t.field({
      type: PassthroughColumnsSetEnum,
      nullable: true,
      description: 'ALL: every input column is copied to the output.',
      resolve: (spec) => spec.passthroughColumnsSet,
    }),
    includeProbabilities: t.exposeBoolean('includeProbabilities', { description: 'Class probability columns in the output.' }),
    includePredictionStatus: t.exposeBoolean('includePredictionStatus', { description: 'A prediction_status column in the output.' }),
    chunkSize: t.string({
      description: '`auto`, `fixed`, `dynamic`, or the bytes of input per chunk as a decimal number.',
      resolve: (spec) => String(spec.chunkSize),
    }),
    numConcurrent: t.exposeInt('numConcurrent', { description: 'Chunks scored at once.' }),
    abortOnError: t.exposeBoolean('abortOnError', {
      description: 'Whether a chunk the model backend cannot score fails the job (else its rows are output as errors).',
    }),
    columnNamesRemapping: t.field({
      type: [ColumnNameRemappingRef],
      description: 'Output columns renamed or left out.',
      resolve: (spec) => Object.entries(spec.columnNamesRemapping).map(([inputName, outputName]) => ({ inputName, outputName })),
    }),
    skipDriftTracking: t.exposeBoolean('skipDriftTracking', { description: 'Predictions are recorded without their features (no drift).' }),
    monitoringBatchPrefix: t.exposeString('monitoringBatchPrefix', {
      nullable: true,
      description: 'The run records into a new monitoring batch named `<prefix> - <UTC date time>`.',
    }),
  }),
});

export const BatchPredictionJobRef = builder.objectRef<BatchPredictionJob>('BatchPredictionJob');

builder.node(BatchPredictionJobRef, {
  description:
    "One run of batch predictions: its input is scored through the deployment's model backend in chunks, the output file written and every prediction recorded in a monitoring batch of its own.",
  id: { resolve: (job) => job.id },
  loadOne: (id, ctx) => jobLoaders(ctx).job.load(id),
  fields: (t) => ({
    status: t.field({ type: BatchPredictionJobStatusEnum, resolve: (job) => job.status }),
    percentageCompleted: t.float({
      description: 'Share of the input rows processed (scored or failed), 0–100, rounded down to one decimal; 100 once COMPLETED.',
      resolve: (job) => jobProgress(job).percentageCompleted,
    }),
    scoredRows: t.exposeInt('scoredRows', { description: 'Rows scored and recorded so far.' }),
    failedRows: t.exposeInt('failedRows', { description: 'Rows the model backend could not score (abortOnError false).' }),
    inputRows: t.exposeInt('inputRows', { nullable: true, description: 'Rows of the input; null until it is read.' }),
    statusDetails: t.exposeString('statusDetails', { description: 'What the job is doing, or why it ended.' }),
    logs: t.exposeStringList('logs', { description: 'Timestamped notes of the run (retries, abort, completion).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When scoring started (RUNNING).' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true, description: 'When the job reached a final status.' }),
    elapsedTimeSec: t.int({
      description: 'Seconds from the start (creation, before it started) to the end (now, while it runs).',
      resolve: (job) => jobProgress(job).elapsedTimeSec,
    }),
    resultsDeleted: t.exposeBoolean('resultsDeleted', {
      description: 'The input and output files were deleted after the retention period; the recorded predictions stay.',
    }),
    spec: t.field({ type: BatchPredictionJobSpecRef, resolve: (job) => job.spec }),
    deployment: t.field({
      type: DeploymentRef,
      resolve: async (job, _args, ctx) => (await deploymentLoaders(ctx).deployment.load(job.deploymentId))!,
    }),
    monitoringBatch: t.field({
      type: MonitoringBatchRef,
      nullable: true,
      description: 'The batch the run records its predictions in: null before it starts, and once the batch is deleted.',
      resolve: (job, _args, ctx) => (job.batchId ? batchLoaders(ctx).batch.load(job.batchId) : null),
    }),
    definitionId: t.exposeID('definitionId', {
      nullable: true,
      description: 'The job definition that started this run (scheduled or run now); null for a one-time job.',
    }),
    createdBy: t.field({
      type: UserRef,
      resolve: async (job, _args, ctx) => (await organizationLoaders(ctx).user.load(job.createdById))!,
    }),
    downloadPath: t.string({
      nullable: true,
      description:
        'REST path of the output CSV (GET, same bearer token): once scoring started, streamed while the job runs; null before, and once the results are deleted.',
      resolve: (job) => jobPaths(job).download,
    }),
    csvUploadPath: t.string({
      nullable: true,
      description: 'REST path to PUT the input CSV to (Content-Type text/csv), for LOCAL_FILE intakes; accepted once, while INITIALIZING.',
      resolve: (job) => jobPaths(job).csvUpload,
    }),
  }),
});

builder.queryField('batchPredictionJob', (t) =>
  t.field({
    type: BatchPredictionJobRef,
    nullable: true,
    description: 'null when the id does not exist or belongs to another organization.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => jobLoaders(ctx).job.load(id),
  }),
);

builder.objectField(DeploymentRef, 'batchPredictionJobs', (t) =>
  t.connection(
    {
      type: BatchPredictionJobRef,
      description: "The deployment's batch prediction jobs, newest first.",
      args: { status: t.arg({ type: [BatchPredictionJobStatusEnum], description: 'Only jobs in one of these statuses.' }) },
      resolve: async (deployment, { status, ...page }, ctx) =>
        orThrow(await listJobPage(ctx.app.db, ctx.viewer, { deploymentId: deployment.id, status }, page)),
    },
    {
      name: 'BatchPredictionJobConnection',
      fields: (c) => ({
        totalCount: c.int({ description: 'Jobs matching the status filter.', resolve: (connection) => connection.totalCount() }),
      }),
    },
  ),
);

builder.objectField(MonitoringBatchRef, 'predictionJob', (t) =>
  t.field({
    type: BatchPredictionJobRef,
    nullable: true,
    description: 'The batch prediction job whose run made this batch (and records into it); null for other batches.',
    resolve: (batch, _args, ctx) => jobLoaders(ctx).jobOfBatch.load(batch.id),
  }),
);

// ---------------------------------------------------------------------------------------------

const IntakeSettingsInput = builder.inputType('BatchPredictionJobIntakeInput', {
  fields: (t) => ({
    type: t.field({ type: IntakeTypeEnum, required: true }),
    url: t.string({ description: 'Required for URL (an http(s) URL of a CSV file); omitted for LOCAL_FILE.' }),
  }),
});

const ColumnNameRemappingInput = builder.inputType('ColumnNameRemappingInput', {
  fields: (t) => ({
    inputName: t.string({ required: true, description: 'An output column as batchlens names it.' }),
    outputName: t.string({ description: 'Its new name; null or omitted leaves the column out of the output.' }),
  }),
});

export const CreateBatchPredictionJobInput = builder.inputType('CreateBatchPredictionJobInput', {
  description: "A job's settings, as DataRobot's Batch Prediction API names them; omitted ones take DataRobot's defaults.",
  fields: (t) => ({
    deploymentId: t.id({ required: true, description: 'A deployment with batch monitoring on and a model backend.' }),
    intakeSettings: t.field({
      type: IntakeSettingsInput,
      required: true,
      description:
        "URL: batchlens reads the CSV when the job starts. LOCAL_FILE: the client then uploads the CSV with `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv, same bearer token; the path is the job's `csvUploadPath`), and the job starts once it is in.",
    }),
    passthroughColumns: t.stringList({ description: 'Input columns copied to the output (at most 100).' }),
    passthroughColumnsSet: t.field({
      type: PassthroughColumnsSetEnum,
      description: 'ALL copies every input column; not with passthroughColumns.',
    }),
    includeProbabilities: t.boolean({ description: 'Default true.' }),
    includePredictionStatus: t.boolean({ description: 'Default false.' }),
    chunkSize: t.string({
      description: '`auto` (default), `fixed`, `dynamic`, or bytes of input per chunk (20–41943040) as a decimal number.',
    }),
    numConcurrent: t.int({ description: 'Chunks scored at once, 1–32. Default 4.' }),
    abortOnError: t.boolean({ description: 'Default true: a chunk the model backend cannot score fails the job.' }),
    columnNamesRemapping: t.field({ type: [ColumnNameRemappingInput], description: 'Output columns to rename or leave out.' }),
    skipDriftTracking: t.boolean({ description: 'Default false.' }),
    monitoringBatchPrefix: t.string({ description: 'The run records into a new batch named `<prefix> - <UTC date time>`.' }),
  }),
});

type CreateJobInput = typeof CreateBatchPredictionJobInput.$inferInput;

const CHUNK_SIZE_WORDS = new Set(['auto', 'fixed', 'dynamic']);

/** The GraphQL input as DataRobot's job spec body (what createJob validates); omitted settings left out, for their defaults. */
export function jobSpecBody(input: CreateJobInput): Result<Record<string, unknown>> {
  const { intakeSettings: intake, chunkSize, columnNamesRemapping, ...settings } = input;
  if (intake.type === 'url' && !intake.url) return ValidationError.of('intakeSettings.url', 'is required for a URL intake');
  if (intake.type === 'localFile' && intake.url != null) {
    return ValidationError.of('intakeSettings.url', 'must be omitted for a LOCAL_FILE intake (the CSV is uploaded)');
  }
  let chunks: string | number | undefined;
  if (chunkSize != null) {
    if (CHUNK_SIZE_WORDS.has(chunkSize)) chunks = chunkSize;
    else if (/^[0-9]{1,9}$/.test(chunkSize)) chunks = Number(chunkSize);
    else return ValidationError.of('chunkSize', 'must be auto, fixed, dynamic or a number of bytes');
  }
  const body: Record<string, unknown> = {
    intakeSettings: intake.type === 'url' ? { type: 'url', url: intake.url } : { type: 'localFile' },
    ...(chunks === undefined ? {} : { chunkSize: chunks }),
    ...(columnNamesRemapping == null
      ? {}
      : { columnNamesRemapping: columnNamesRemapping.map((e) => ({ inputName: e.inputName, outputName: e.outputName ?? null })) }),
  };
  for (const [key, value] of Object.entries(settings)) if (value != null) body[key] = value;
  return body;
}

const jobPayload = (name: string) =>
  builder.objectRef<{ job: BatchPredictionJob }>(name).implement({
    fields: (t) => ({ job: t.field({ type: BatchPredictionJobRef, resolve: (p) => p.job }) }),
  });

builder.mutationField('createBatchPredictionJob', (t) =>
  t.field({
    type: resultUnion('CreateBatchPredictionJobResult', jobPayload('CreateBatchPredictionJobSuccess'), [
      'NotFoundError',
      'ValidationError',
      'ModelBackendError',
      'BatchMonitoringDisabledError',
    ]),
    description:
      "Creates a one-time batch prediction job (INITIALIZING). A URL intake starts at once; a LOCAL_FILE one waits for its CSV: `PUT /api/v2/batchPredictions/{id}/csvUpload/` (Content-Type text/csv, the job's `csvUploadPath`). Follow it with `batchPredictionJobProgress`. Its run creates a monitoring batch under the deployment's daily quota.",
    args: { input: t.arg({ type: CreateBatchPredictionJobInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!(await deploymentLoaders(ctx).deployment.load(input.deploymentId))) return new NotFoundError('Deployment');
      const body = jobSpecBody(input);
      if (isError(body)) return body;
      const job = await createJob(ctx.app.db, ctx.viewer, body);
      if (isError(job)) return job;
      if (job.spec.intakeSettings.type === 'url') await ctx.app.wakeJob(job.id);
      return { job };
    },
  }),
);

builder.mutationField('abortBatchPredictionJob', (t) =>
  t.field({
    type: resultUnion('AbortBatchPredictionJobResult', jobPayload('AbortBatchPredictionJobSuccess'), ['NotFoundError', 'JobStateError']),
    description:
      'Aborts a waiting or running job: ABORTED at once, and no chunk is recorded after that (chunks recorded before stay in its batch). A finished job is a JobStateError.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const job = await abortRunningJob(ctx.app.db, ctx.viewer, id);
      return isError(job) ? job : { job };
    },
  }),
);

// ---------------------------------------------------------------------------------------------

builder.subscriptionField('batchPredictionJobProgress', (t) =>
  t.field({
    type: BatchPredictionJobRef,
    description:
      'The job now, then on every change (status, rows scored …), at most a few times a second however many chunks it scores; completes after sending the final status (COMPLETED, ABORTED or FAILED).',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) => {
      const { organizationId } = ctx.viewer;
      const read = async () => (await jobsByIds(ctx.app.db, organizationId, [id]))[0] ?? null;
      if (!(await read())) throw new GraphQLError('Batch prediction job not found', { extensions: { code: 'NOT_FOUND' } });
      return untilLast(ctx.app.live.state(`job:${id}`, read), (job) => isFinal(job.status));
    },
    resolve: (job, _args, ctx) => {
      freshLoaders(ctx);
      return job;
    },
  }),
);
