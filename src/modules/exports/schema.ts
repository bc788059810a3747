import { GraphQLError } from 'graphql';
import type { DataExport } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { untilLast } from '../../events/hub.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { freshLoaders } from '../../graphql/loaders.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { BatchSelectionInputRef } from '../metrics/schema.js';
import { createDataExport, downloadPath, EXPORT_STATUSES, exportProgress, exportsByIds, isExpired, listDataExports } from './service.js';

// Data exports over GraphQL (C12): create one for a batch selection, read it, follow its progress.

const DataExportFormatEnum = builder.enumType('DataExportFormat', {
  values: {
    CSV: { description: 'RFC 4180, UTF-8, a header row; timestamps ISO 8601 in UTC; a missing value is an empty cell.' },
    PARQUET: {
      description:
        'Typed columns (double, string, timestamp in ms UTC, boolean), Snappy, row groups of BATCHLENS_EXPORT_ROW_GROUP_ROWS rows.',
    },
  } as const,
});

const DataExportStatusEnum = builder.enumType('DataExportStatus', {
  values: {
    CREATED: { description: 'Waiting for a worker.' },
    RUNNING: { description: 'Writing the file from a snapshot taken when it started.' },
    SUCCEEDED: { description: 'The file is written (final); download it at downloadUrl until expiresAt.' },
    FAILED: { description: 'Stopped by an error (final; see error).' },
  } as const,
});

export const DataExportRef = builder.objectRef<DataExport>('DataExport').implement({
  description:
    'The predictions (and actuals) of a batch selection as one file: a consistent snapshot (rows arriving during the export are all in or all out of a batch), deleted batches left out. Columns: batch_id, batch_name, model_id, timestamp, association_id, one per feature (typed), prediction (regression) or probability_<class> per class and predicted_label, and with actuals actual_value, actual_timestamp, was_acted_on.',
  fields: (t) => ({
    id: t.exposeID('id'),
    deployment: t.field({
      type: DeploymentRef,
      nullable: true,
      resolve: (exp, _args, ctx) => deploymentLoaders(ctx).deployment.load(exp.deploymentId),
    }),
    status: t.field({ type: DataExportStatusEnum, resolve: (exp) => exp.status }),
    format: t.field({ type: DataExportFormatEnum, resolve: (exp) => exp.format }),
    includeActuals: t.exposeBoolean('includeActuals'),
    batchIds: t.idList({
      description: 'The selected batches, oldest first, as resolved when the export was created.',
      resolve: (exp) => exp.batchIds,
    }),
    batchCount: t.int({ resolve: (exp) => exp.batchIds.length }),
    modelId: t.exposeString('modelId', { nullable: true, description: 'Only this model’s rows; null = every model.' }),
    rowCount: t.float({ nullable: true, description: 'Rows in the snapshot; null until it is taken.', resolve: (exp) => exp.rowCount }),
    rowsWritten: t.float({ resolve: (exp) => exp.rowsWritten }),
    progress: t.float({ description: '0 to 1.', resolve: (exp) => exportProgress(exp) }),
    sizeBytes: t.float({ nullable: true, description: 'Of the file, once written.', resolve: (exp) => exp.sizeBytes }),
    downloadUrl: t.string({
      nullable: true,
      description: 'Path of the file (GET with the same bearer token) while it has SUCCEEDED and not expired.',
      resolve: (exp) => (exp.status === 'SUCCEEDED' && !isExpired(exp) ? downloadPath(exp) : null),
    }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the file is removed (BATCHLENS_EXPORT_RETENTION_HOURS after it was written).',
    }),
    expired: t.boolean({ resolve: (exp) => isExpired(exp) }),
    error: t.exposeString('error', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateDataExportInput = builder.inputType('CreateDataExportInput', {
  fields: (t) => ({
    deploymentId: t.id({ required: true }),
    selection: t.field({ type: BatchSelectionInputRef, required: true }),
    format: t.field({ type: DataExportFormatEnum, required: true, defaultValue: 'CSV' }),
    includeActuals: t.boolean({
      required: true,
      defaultValue: false,
      description: 'Add each prediction’s actual (value, timestamp, acted-upon flag).',
    }),
  }),
});

const CreateDataExportSuccess = builder.objectRef<{ export: DataExport }>('CreateDataExportSuccess').implement({
  fields: (t) => ({ export: t.field({ type: DataExportRef, resolve: (p) => p.export }) }),
});

builder.mutationField('createDataExport', (t) =>
  t.field({
    type: resultUnion('CreateDataExportResult', CreateDataExportSuccess, ['NotFoundError', 'ValidationError']),
    description: 'Starts an export of a batch selection (CREATED); follow it with `dataExportProgress`, then download `downloadUrl`.',
    args: { input: t.arg({ type: CreateDataExportInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const created = await createDataExport(ctx.app, ctx.viewer, {
        deploymentId: String(input.deploymentId),
        selection: { batchIds: input.selection.batchIds?.map(String), last: input.selection.last, modelId: input.selection.modelId },
        format: input.format,
        includeActuals: input.includeActuals,
      });
      return isError(created) ? created : { export: created };
    },
  }),
);

builder.queryField('dataExport', (t) =>
  t.field({
    type: DataExportRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await exportsByIds(ctx.app.db, ctx.viewer.organizationId, [String(id)]))[0] ?? null,
  }),
);

builder.objectField(DeploymentRef, 'dataExports', (t) =>
  t.field({
    type: [DataExportRef],
    description: 'The deployment’s exports, newest first.',
    args: {
      first: t.arg.int({ defaultValue: 20, description: '1–100.' }),
      status: t.arg({ type: DataExportStatusEnum }),
    },
    resolve: async (deployment, { first, status }, ctx) => {
      if (first == null || first < 1 || first > 100)
        throw new GraphQLError('first must be from 1 to 100', { extensions: { code: 'BAD_USER_INPUT' } });
      const list = await listDataExports(ctx.app.db, ctx.viewer, deployment.id, { offset: 0, limit: first, status: status ?? undefined });
      return isError(list) ? [] : list.exports;
    },
  }),
);

const FINAL_STATUSES: readonly DataExport['status'][] = EXPORT_STATUSES.filter((s) => s === 'SUCCEEDED' || s === 'FAILED');

builder.subscriptionField('dataExportProgress', (t) =>
  t.field({
    type: DataExportRef,
    description: 'The export now, then on every change (at most a few times a second); completes after sending SUCCEEDED or FAILED.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) => {
      const read = async () => (await exportsByIds(ctx.app.db, ctx.viewer.organizationId, [String(id)]))[0] ?? null;
      if (!(await read())) throw new GraphQLError('Data export not found', { extensions: { code: 'NOT_FOUND' } });
      return untilLast(ctx.app.live.state(`export:${id}`, read), (exp) => FINAL_STATUSES.includes(exp.status));
    },
    resolve: (exp, _args, ctx) => {
      freshLoaders(ctx);
      return exp;
    },
  }),
);
