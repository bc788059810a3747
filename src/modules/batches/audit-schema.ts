import type { BatchAuditEvent, BatchFieldChange } from '../../db/tables.js';
import { builder } from '../../graphql/builder.js';
import { orThrow } from '../../graphql/errors.js';
import { DeploymentRef } from '../deployments/schema.js';
import { organizationLoaders } from '../organizations/loaders.js';
import { UserRef } from '../organizations/schema.js';
import { auditTrails, batchAuditActions } from './audit.js';
import { batchLoaders } from './loaders.js';
import { MonitoringBatchRef } from './schema.js';

// The audit trail of a batch (who created, edited, locked, unlocked and deleted it), readable on the
// batch and, once the batch is deleted, through its deployment.

const BatchAuditActionEnum = builder.enumType('BatchAuditAction', {
  values: batchAuditActions,
  description:
    "What happened to a batch. CREATED lists the initial name, description and external URL; UPDATED the edited fields; MODEL_HISTORY_CHANGED the period of one model (startTime, endTime); LOCKED carries the seal's fingerprint, UNLOCKED the fingerprint it cleared; ROWS_ADDED one ingest's rows (rowCount); STATS_REPORTED request statistics without rows; ACTUALS_MATCHED the predictions that got an actual (rowCount) and, on a sealed batch, its accuracy fingerprint after.",
});

const BatchFieldChangeRef = builder.objectRef<BatchFieldChange>('BatchFieldChange').implement({
  description: 'One field of a batch that a change set: its value before and after (timestamps in ISO-8601; null = none).',
  fields: (t) => ({
    field: t.exposeString('field', { description: '`name`, `description`, `externalUrl`, `startTime` or `endTime`.' }),
    before: t.exposeString('before', { nullable: true }),
    after: t.exposeString('after', { nullable: true }),
  }),
});

const BatchAuditEventRef = builder.objectRef<BatchAuditEvent>('BatchAuditEvent').implement({
  description: 'One change of a monitoring batch: who made it, with which token, when, and what changed.',
  fields: (t) => ({
    id: t.id({ description: 'Increasing in the order the changes happened.', resolve: (event) => String(event.id) }),
    batchId: t.exposeID('batchId', { description: 'The batch, which may since have been deleted.' }),
    action: t.field({ type: BatchAuditActionEnum, resolve: (event) => event.action }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actor: t.field({
      type: UserRef,
      description: 'The user who made the change (for a batch prediction job: the user who created the job).',
      resolve: async (event, _args, ctx) => (await organizationLoaders(ctx).user.load(event.actorId))!,
    }),
    tokenId: t.exposeID('tokenId', {
      nullable: true,
      description:
        "The id of the API token the change was requested with; null when the server acted for the user (a batch prediction job's run).",
    }),
    modelId: t.exposeString('modelId', { nullable: true, description: 'The model whose history changed (MODEL_HISTORY_CHANGED).' }),
    changes: t.field({ type: [BatchFieldChangeRef], resolve: (event) => event.changes }),
    rowCount: t.exposeInt('rowCount', {
      nullable: true,
      description: 'ROWS_ADDED: the rows one ingest stored; ACTUALS_MATCHED: the predictions that got an actual.',
    }),
    fingerprint: t.exposeString('fingerprint', {
      nullable: true,
      description:
        "LOCKED: the seal's fingerprint; UNLOCKED: the fingerprint cleared; ACTUALS_MATCHED on a sealed batch: its accuracy fingerprint after.",
    }),
  }),
});

const BatchAuditEventConnection = builder.connectionObject({ type: BatchAuditEventRef, name: 'BatchAuditEventConnection' });

builder.objectField(MonitoringBatchRef, 'auditTrail', (t) =>
  t.connection(
    {
      type: BatchAuditEventRef,
      description:
        'Who created, edited, locked (sealed), unlocked the batch, changed its model history, added rows, statistics or actuals, newest first.',
      resolve: (batch, args, ctx) => batchLoaders(ctx).auditTrail(args).load(batch.id),
    },
    BatchAuditEventConnection,
  ),
);

builder.objectField(DeploymentRef, 'batchAuditTrail', (t) =>
  t.connection(
    {
      type: BatchAuditEventRef,
      description:
        "The audit trail of one of the deployment's batches, newest first, also once the batch is deleted (its last event is DELETED). Empty for a batch id that is not the deployment's.",
      args: { batchId: t.arg.id({ required: true }) },
      resolve: async (deployment, { batchId, ...args }, ctx) => {
        const pages = orThrow(await auditTrails(ctx.app.db, ctx.viewer.organizationId, [batchId], args, deployment.id));
        return pages.get(batchId)!;
      },
    },
    BatchAuditEventConnection,
  ),
);
