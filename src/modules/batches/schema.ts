import type { ModelHistoryEntry, MonitoringBatch } from '../../db/tables.js';
import { isError, type Result } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { BatchQuotaRef, orThrow, resultUnion } from '../../graphql/errors.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { organizationLoaders } from '../organizations/loaders.js';
import { UserRef } from '../organizations/schema.js';
import { batchLoaders } from './loaders.js';
import {
  type BatchVerification,
  batchOrderFields,
  createBatch,
  deleteBatch,
  listBatches,
  setBatchLocked,
  updateBatch,
  updateBatchModelHistory,
  verifyBatch,
} from './service.js';

export const MonitoringBatchRef = builder.objectRef<MonitoringBatch>('MonitoringBatch');

const ModelHistoryEntryRef = builder.objectRef<ModelHistoryEntry>('ModelHistoryEntry').implement({
  description: 'One model that scored the batch, and the period its data represents (C3).',
  fields: (t) => ({
    modelId: t.exposeString('modelId'),
    predictionCount: t.exposeInt('predictionCount'),
    startTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Start of the period this data represents: the edited value, else the earliest prediction.',
      resolve: (entry) => entry.startTime ?? entry.earliestPredictionAt,
    }),
    endTime: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'End of the period this data represents: the edited value, else the latest prediction.',
      resolve: (entry) => entry.endTime ?? entry.latestPredictionAt,
    }),
  }),
});

builder.node(MonitoringBatchRef, {
  description: 'A named group of predictions: one scoring-job run, one nightly file, one agent report.',
  id: { resolve: (batch) => batch.id },
  loadOne: (id, ctx) => batchLoaders(ctx).batch.load(id),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    externalUrl: t.exposeString('externalUrl', {
      nullable: true,
      description: 'A link to where the batch came from (`externalContextUrl` in REST).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.field({
      type: UserRef,
      resolve: async (batch, _args, ctx) => (await organizationLoaders(ctx).user.load(batch.createdById))!,
    }),
    isLocked: t.exposeBoolean('isLocked', { description: 'A locked batch accepts no new predictions, and is sealed.' }),
    fingerprint: t.exposeString('fingerprint', {
      nullable: true,
      description:
        "The seal: an order-independent hash of the batch's stored rows and the aggregates derived from them, computed when it was locked; null when not sealed. `verifyBatch` recomputes it.",
    }),
    sealedAt: t.expose('sealedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the batch was locked and sealed; null when not sealed.',
    }),
    sealedBy: t.field({
      type: UserRef,
      nullable: true,
      description: 'Who locked and sealed the batch; null when not sealed.',
      resolve: (batch, _args, ctx) => (batch.sealedById === null ? null : organizationLoaders(ctx).user.load(batch.sealedById)),
    }),
    earliestPredictionAt: t.expose('earliestPredictionAt', { type: 'DateTime', nullable: true }),
    latestPredictionAt: t.expose('latestPredictionAt', { type: 'DateTime', nullable: true }),
    predictionCount: t.exposeInt('predictionCount'),
    modelHistory: t.field({ type: [ModelHistoryEntryRef], resolve: (batch, _args, ctx) => batchLoaders(ctx).modelHistory.load(batch.id) }),
    deployment: t.field({
      type: DeploymentRef,
      resolve: async (batch, _args, ctx) => (await deploymentLoaders(ctx).deployment.load(batch.deploymentId))!,
    }),
  }),
});

builder.queryField('monitoringBatch', (t) =>
  t.field({
    type: MonitoringBatchRef,
    nullable: true,
    description: 'null when the id does not exist, was deleted, or belongs to another organization.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => batchLoaders(ctx).batch.load(id),
  }),
);

const BatchOrderFieldEnum = builder.enumType('BatchOrderField', {
  values: batchOrderFields,
  description:
    "EARLIEST_PREDICTION and LATEST_PREDICTION put batches without predictions last ascending, first descending. CREATED_BY sorts by the creator's name. Ties are broken by id.",
});
const SortDirectionEnum = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

const BatchOrderInput = builder.inputType('BatchOrder', {
  fields: (t) => ({
    field: t.field({ type: BatchOrderFieldEnum, required: true }),
    direction: t.field({ type: SortDirectionEnum, required: true }),
  }),
});

const BatchFilterInput = builder.inputType('BatchFilter', {
  description: 'All bounds are inclusive. startAfter / endBefore leave out batches without predictions.',
  fields: (t) => ({
    createdBy: t.id({ description: 'User id of the creator.' }),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
    startAfter: t.field({ type: 'DateTime', description: 'Earliest prediction at or after this instant.' }),
    endBefore: t.field({ type: 'DateTime', description: 'Latest prediction at or before this instant.' }),
  }),
});

builder.objectField(DeploymentRef, 'batches', (t) =>
  t.connection(
    {
      type: MonitoringBatchRef,
      description: "The deployment's batches (deleted ones never appear). Default order: newest first.",
      args: {
        search: t.arg.string({ description: 'Case-insensitive part of the name, or an exact batch id.' }),
        orderBy: t.arg({ type: BatchOrderInput }),
        filter: t.arg({ type: BatchFilterInput }),
      },
      resolve: async (deployment, args, ctx) => orThrow(await listBatches(ctx.app.db, ctx.viewer, deployment.id, args)),
    },
    {
      name: 'MonitoringBatchConnection',
      fields: (c) => ({
        totalCount: c.int({ description: 'Batches matching search and filter.', resolve: (connection) => connection.totalCount() }),
      }),
    },
  ),
);

// ---------------------------------------------------------------------------------------------

const batchPayload = (name: string) =>
  builder.objectRef<{ batch: MonitoringBatch }>(name).implement({
    fields: (t) => ({ batch: t.field({ type: MonitoringBatchRef, resolve: (p) => p.batch }) }),
  });

const withBatch = (result: Result<MonitoringBatch>) => (isError(result) ? result : { batch: result });

builder.mutationField('createMonitoringBatch', (t) =>
  t.field({
    type: resultUnion('CreateMonitoringBatchResult', batchPayload('CreateMonitoringBatchSuccess'), [
      'NotFoundError',
      'ValidationError',
      'BatchQuotaExceededError',
      'BatchMonitoringDisabledError',
    ]),
    description: "Creates an empty batch. Counts against the deployment's daily batch quota.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateMonitoringBatchInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            name: f.string({ required: true, description: 'Trimmed; 1–512 characters.' }),
            description: f.string({ description: 'At most 10,000 characters.' }),
            externalUrl: f.string({ description: 'An absolute http(s) URL.' }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { deploymentId, ...fields } }, ctx) =>
      withBatch(await createBatch(ctx.app.db, ctx.viewer, deploymentId, fields)),
  }),
);

builder.mutationField('updateMonitoringBatch', (t) =>
  t.field({
    type: resultUnion('UpdateMonitoringBatchResult', batchPayload('UpdateMonitoringBatchSuccess'), [
      'NotFoundError',
      'ValidationError',
      'BatchMonitoringDisabledError',
    ]),
    description: 'Omitted fields keep their value; null or "" clears description and externalUrl.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateMonitoringBatchInput', {
          fields: (f) => ({
            id: f.id({ required: true }),
            name: f.string(),
            description: f.string(),
            externalUrl: f.string(),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { id, ...fields } }, ctx) => withBatch(await updateBatch(ctx.app.db, ctx.viewer, id, fields)),
  }),
);

builder.mutationField('updateBatchModelHistory', (t) =>
  t.field({
    type: resultUnion('UpdateBatchModelHistoryResult', batchPayload('UpdateBatchModelHistorySuccess'), [
      'NotFoundError',
      'ValidationError',
      'BatchMonitoringDisabledError',
    ]),
    description:
      "Sets the period a model's predictions in the batch represent (for backfills). Creates the entry if the model has none yet.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateBatchModelHistoryInput', {
          fields: (f) => ({
            batchId: f.id({ required: true }),
            modelId: f.string({ required: true }),
            startTime: f.field({ type: 'DateTime', required: true }),
            endTime: f.field({ type: 'DateTime', required: true, description: 'Not before startTime.' }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { batchId, ...period } }, ctx) =>
      withBatch(await updateBatchModelHistory(ctx.app.db, ctx.viewer, batchId, period)),
  }),
);

const lockErrors = ['NotFoundError', 'BatchMonitoringDisabledError'] as const;

builder.mutationField('lockMonitoringBatch', (t) =>
  t.field({
    type: resultUnion('LockMonitoringBatchResult', batchPayload('LockMonitoringBatchSuccess'), [...lockErrors]),
    description:
      'A locked batch refuses new predictions. Locking seals it: its fingerprint is computed from its rows and aggregates (one read of its rows) and kept, for `verifyBatch`. Locking a locked batch is a no-op.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => withBatch(await setBatchLocked(ctx.app.db, ctx.viewer, id, true)),
  }),
);

builder.mutationField('unlockMonitoringBatch', (t) =>
  t.field({
    type: resultUnion('UnlockMonitoringBatchResult', batchPayload('UnlockMonitoringBatchSuccess'), [...lockErrors]),
    description: 'Unlocking clears the seal (recorded in the audit trail with the fingerprint it cleared); locking again reseals.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => withBatch(await setBatchLocked(ctx.app.db, ctx.viewer, id, false)),
  }),
);

const BatchVerificationRef = builder.objectRef<BatchVerification>('BatchVerification').implement({
  description:
    "A sealed batch's fingerprints as stored at sealing and as recomputed now. Actuals that arrive after sealing move the stored accuracy fingerprint (each time an ACTUALS_MATCHED event in the audit trail), so `unchanged` is false only for a change that bypassed batchlens.",
  fields: (t) => ({
    batch: t.field({ type: MonitoringBatchRef, resolve: (v) => v.batch }),
    sealedAt: t.expose('sealedAt', { type: 'DateTime' }),
    sealedBy: t.field({ type: UserRef, resolve: async (v, _args, ctx) => (await organizationLoaders(ctx).user.load(v.sealedById))! }),
    fingerprint: t.exposeString('fingerprint', { description: 'Rows and the aggregates derived from them, as sealed.' }),
    recomputedFingerprint: t.exposeString('recomputedFingerprint', { description: 'The same hash over the batch as stored now.' }),
    accuracyFingerprint: t.exposeString('accuracyFingerprint', {
      description: 'The accuracy aggregates, as sealed and moved by actuals since.',
    }),
    recomputedAccuracyFingerprint: t.exposeString('recomputedAccuracyFingerprint'),
    unchanged: t.exposeBoolean('unchanged', { description: 'Both fingerprints recompute to their stored values.' }),
  }),
});

builder.queryField('verifyBatch', (t) =>
  t.field({
    type: resultUnion('VerifyBatchResult', BatchVerificationRef, ['NotFoundError', 'BatchNotSealedError']),
    description:
      "Recomputes a sealed (locked) batch's fingerprint from its stored rows and aggregates and says whether the batch is unchanged since it was sealed. Reads every row of the batch once.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => verifyBatch(ctx.app.db, ctx.viewer, id),
  }),
);

const DeleteMonitoringBatchSuccess = builder.objectRef<{ deletedBatchId: string }>('DeleteMonitoringBatchSuccess').implement({
  fields: (t) => ({ deletedBatchId: t.exposeID('deletedBatchId') }),
});

builder.mutationField('deleteMonitoringBatch', (t) =>
  t.field({
    type: resultUnion('DeleteMonitoringBatchResult', DeleteMonitoringBatchSuccess, [...lockErrors]),
    description: 'Removes the batch and all its data from every read at once. Does not refund the daily quota.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const deleted = await deleteBatch(ctx.app.db, ctx.viewer, id);
      if (isError(deleted)) return deleted;
      ctx.app.schedulePurge();
      return { deletedBatchId: deleted.id };
    },
  }),
);

builder.objectFields(DeploymentRef, (t) => ({
  batchCreators: t.field({
    type: [UserRef],
    description:
      'The users who created at least one of the deployment\'s batches (deleted ones aside), by name: the choices of a "created by" filter.',
    resolve: (d, _args, ctx) => batchLoaders(ctx).creators.load(d.id),
  }),
  batchQuota: t.field({
    type: BatchQuotaRef,
    description: "Today's batch quota (per UTC day).",
    resolve: async (d, _args, ctx) => (await batchLoaders(ctx).quota.load(d.id))!,
  }),
}));
