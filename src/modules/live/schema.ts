import { and, eq } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { type Deployment, type MonitoringBatch, monitoringBatches } from '../../db/tables.js';
import { type DomainError, isError } from '../../errors.js';
import { type BatchEventKind, mapChannel } from '../../events/hub.js';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { BatchQuotaRef } from '../../graphql/errors.js';
import { freshLoaders } from '../../graphql/loaders.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { batchesByIds, quotasFor } from '../batches/service.js';
import { getDeployment } from '../deployments/service.js';
import { type DeploymentHealth, healthOfDeployments } from '../metrics/deployment-health.js';
import { HealthRef } from '../metrics/health-schema.js';
import { accuracyVersion } from '../metrics/sums.js';

// Subscriptions (C11): each sends the current state first, then changes (coalesced per topic).

builder.subscriptionType({});

function notFound(error: DomainError): never {
  throw new GraphQLError(error.message, { extensions: { code: 'NOT_FOUND' } });
}

async function visibleDeployment(ctx: GraphQLContext, id: string): Promise<Deployment> {
  const deployment = await getDeployment(ctx.app.db, ctx.viewer, id);
  return isError(deployment) ? notFound(deployment) : deployment;
}

builder.subscriptionField('batchQuota', (t) =>
  t.field({
    type: BatchQuotaRef,
    description: "The deployment's daily batch quota now, then whenever it changes (a batch created, the limit changed, UTC midnight).",
    args: { deploymentId: t.arg.id({ required: true }) },
    subscribe: async (_root, { deploymentId }, ctx) => {
      const deployment = await visibleDeployment(ctx, deploymentId);
      const { organizationId } = ctx.viewer;
      return ctx.app.live.state(
        `quota:${deployment.id}`,
        async () => (await quotasFor(ctx.app.db, organizationId, [deployment.id])).get(deployment.id) ?? null,
        organizationId,
      );
    },
    resolve: (quota) => quota,
  }),
);

builder.subscriptionField('monitoringBatch', (t) =>
  t.field({
    type: MonitoringBatchRef,
    description:
      'The batch now (counts, timestamps, lock, name …), then on every change (rows, actuals joining its predictions, lock, name …), at most a few times a second while rows stream in; completes when the batch is deleted.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) => {
      const { organizationId } = ctx.viewer;
      // An unchanged state is not sent again, and actuals change no batch row: the accuracy sums'
      // version makes their arrival a new state (accuracy, performanceEstimate are pushed).
      const read = async (): Promise<(MonitoringBatch & { accuracyVersion: string }) | null> => {
        const [[batch], accuracy] = await Promise.all([batchesByIds(ctx.app.db, organizationId, [id]), accuracyVersion(ctx.app.db, id)]);
        return batch ? { ...batch, accuracyVersion: accuracy } : null;
      };
      if (!(await read())) throw new GraphQLError('Monitoring batch not found', { extensions: { code: 'NOT_FOUND' } });
      return ctx.app.live.state(`batch:${id}`, read);
    },
    resolve: (batch, _args, ctx) => {
      freshLoaders(ctx);
      return batch;
    },
  }),
);

const BatchEventKindEnum = builder.enumType('BatchEventKind', { values: ['CREATED', 'UPDATED', 'LOCKED', 'UNLOCKED', 'DELETED'] as const });

interface BatchEvent {
  kind: BatchEventKind;
  batch: MonitoringBatch;
}

const BatchEventRef = builder.objectRef<BatchEvent>('BatchEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: BatchEventKindEnum, resolve: (e) => e.kind }),
    batch: t.field({
      type: MonitoringBatchRef,
      description: 'The batch as it is after the event (for DELETED: as it was).',
      resolve: (e) => e.batch,
    }),
  }),
});

builder.subscriptionField('batchEvents', (t) =>
  t.field({
    type: BatchEventRef,
    description: "Lifecycle events of the deployment's batches, in order.",
    args: { deploymentId: t.arg.id({ required: true }) },
    subscribe: async (_root, { deploymentId }, ctx) => {
      const deployment = await visibleDeployment(ctx, deploymentId);
      const { db } = ctx.app;
      return mapChannel(ctx.app.live.events(deployment.id), async (event) => {
        // Deleted batches included: a DELETED event shows the batch as it was.
        const [batch] = await db
          .select()
          .from(monitoringBatches)
          .where(and(eq(monitoringBatches.id, event.b), eq(monitoringBatches.organizationId, ctx.viewer.organizationId)));
        return batch ? { kind: event.e, batch } : null;
      });
    },
    resolve: (event, _args, ctx) => {
      freshLoaders(ctx);
      return event;
    },
  }),
);

builder.subscriptionField('deploymentHealth', (t) =>
  t.field({
    type: HealthRef,
    description: "The deployment's health now, then whenever a status or its reason changes.",
    args: { deploymentId: t.arg.id({ required: true }) },
    subscribe: async (_root, { deploymentId }, ctx) => {
      const deployment = await visibleDeployment(ctx, deploymentId);
      const { organizationId } = ctx.viewer;
      return ctx.app.live.state<DeploymentHealth>(`health:${deployment.id}`, async () => {
        const current = await getDeployment(ctx.app.db, ctx.viewer, deployment.id);
        if (isError(current)) return null;
        return (await healthOfDeployments(ctx.app.db, organizationId, [current])).get(current.id) ?? null;
      });
    },
    resolve: (health) => health,
  }),
);
