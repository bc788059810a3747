import type { ObjectRef } from '@pothos/core';
import { GraphQLError } from 'graphql';
import type { CustomMetric, MonitoringBatch } from '../../db/tables.js';
import { isError, type Result } from '../../errors.js';
import { builder, type SchemaTypes } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { orThrow, resultUnion } from '../../graphql/errors.js';
import { freshLoaders } from '../../graphql/loaders.js';
import { batchLoaders } from '../batches/loaders.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { batchesByIds } from '../batches/service.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { BatchSelectionInputRef } from '../metrics/schema.js';
import { type BatchSelectionInput, resolveSelection, type Selection } from '../metrics/sums.js';
import { organizationLoaders } from '../organizations/loaders.js';
import { UserRef } from '../organizations/schema.js';
import { type MetricReading, type MetricSums, mergeSums, readMetric } from './compute.js';
import { customMetricLoaders } from './loaders.js';
import { MAX_BUCKETS_PER_REPORT, MAX_SAMPLE_SIZE, type ReportSummary, reportCustomMetricValues } from './report.js';
import { createCustomMetric, deleteCustomMetric, MAX_CUSTOM_METRICS_PER_DEPLOYMENT, updateCustomMetric } from './service.js';
import { type BatchMetricSums, batchMetricSums, metricSumsByBatch } from './values.js';

// Custom metrics in GraphQL (C8): definitions, reported values, their merge over a batch selection,
// each batch's values (through a dataloader) and a live view of one batch's values. The same
// services as DataRobot's REST routes (rest.ts).

const CustomMetricTypeEnum = builder.enumType('CustomMetricType', {
  description:
    'How bucket values merge: SUM = Σ value; AVERAGE = Σ value·sampleSize ÷ Σ sampleSize; GAUGE = the value with the latest timestamp.',
  values: { AVERAGE: { value: 'average' }, SUM: { value: 'sum' }, GAUGE: { value: 'gauge' } } as const,
});

const DirectionalityEnum = builder.enumType('CustomMetricDirectionality', {
  values: { HIGHER_IS_BETTER: { value: 'higherIsBetter' }, LOWER_IS_BETTER: { value: 'lowerIsBetter' } } as const,
});

const ChangeEnum = builder.enumType('CustomMetricChange', {
  description: 'The value against the baseline, judged by the directionality.',
  values: {
    BETTER: { description: 'Above the baseline when higher is better, below it when lower is better.' },
    WORSE: {},
    SAME: { description: 'Equal to the baseline.' },
    UNKNOWN: { description: 'No baseline, or no value.' },
  } as const,
});

export const CustomMetricRef = builder.objectRef<CustomMetric>('CustomMetric');

/** What each value type shows: the reading of a metric's sums. */
interface ValueShape {
  metric: CustomMetric;
  reading: MetricReading;
}

const shapeOf = (metric: CustomMetric, sums: MetricSums | null): ValueShape => ({ metric, reading: readMetric(metric, sums) });

const CustomMetricValueRef = builder.objectRef<ValueShape>('CustomMetricValue');
const CustomMetricBatchValueRef = builder.objectRef<ValueShape & { batch: MonitoringBatch }>('CustomMetricBatchValue');

/** The fields every type showing a reading has (one batch, a batch of a series, a whole selection). */
function addReadingFields<T extends ValueShape>(ref: ObjectRef<SchemaTypes, T>): void {
  builder.objectFields(ref, (t) => ({
    value: t.float({
      nullable: true,
      description: 'By the aggregation type; null when nothing was reported.',
      resolve: (s) => s.reading.value,
    }),
    sampleCount: t.float({ description: 'Σ sampleSize of the buckets.', resolve: (s) => s.reading.sampleCount }),
    bucketCount: t.float({ description: 'Buckets reported.', resolve: (s) => s.reading.bucketCount }),
    min: t.float({ nullable: true, description: 'The smallest bucket value.', resolve: (s) => s.reading.min }),
    max: t.float({ nullable: true, description: 'The largest bucket value.', resolve: (s) => s.reading.max }),
    baselineValue: t.float({ nullable: true, resolve: (s) => s.reading.baselineValue }),
    percentChange: t.float({
      nullable: true,
      description: '(value − baseline) ÷ |baseline| · 100; null without a value or a baseline, or for a baseline of 0.',
      resolve: (s) => s.reading.percentChange,
    }),
    change: t.field({ type: ChangeEnum, resolve: (s) => s.reading.change }),
  }));
}

CustomMetricValueRef.implement({
  description: "A metric's value in one batch, merged over every model.",
  fields: (t) => ({ metric: t.field({ type: CustomMetricRef, resolve: (s) => s.metric }) }),
});

CustomMetricBatchValueRef.implement({
  description: 'One batch of a custom metric series.',
  fields: (t) => ({ batch: t.field({ type: MonitoringBatchRef, resolve: (s) => s.batch }) }),
});

interface SummaryShape extends ValueShape {
  selection: Selection;
  perBatch: Map<string, MetricSums>;
}

const SummaryRef = builder.objectRef<SummaryShape>('CustomMetricSummary').implement({
  description: "A metric's values in a batch selection, merged from the batches' stored aggregates.",
  fields: (t) => ({
    metric: t.field({ type: CustomMetricRef, resolve: (s) => s.metric }),
    batchCount: t.int({ description: 'Batches in the selection (with or without values).', resolve: (s) => s.selection.batchIds.length }),
    overBatches: t.field({
      type: [CustomMetricBatchValueRef],
      description: 'One row per batch of the selection, oldest first (batches without values too: value null).',
      resolve: async (s, _args, ctx) => {
        const batches = await batchLoaders(ctx).batch.loadMany(s.selection.batchIds);
        return batches.flatMap((batch) =>
          batch && !(batch instanceof Error) ? [{ batch, ...shapeOf(s.metric, s.perBatch.get(batch.id) ?? null) }] : [],
        );
      },
    }),
  }),
});

addReadingFields(CustomMetricValueRef);
addReadingFields(CustomMetricBatchValueRef);
addReadingFields(SummaryRef);

builder.node(CustomMetricRef, {
  description:
    "A deployment's own metric, reported as buckets into its batches (reportCustomMetricValues, or DataRobot's …/customMetrics/{id}/fromJSON/).",
  id: { resolve: (metric) => metric.id },
  loadOne: (id, ctx) => customMetricLoaders(ctx).metric.load(id),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique in the deployment.' }),
    units: t.exposeString('units', { description: 'The y-axis label.' }),
    type: t.field({ type: CustomMetricTypeEnum, resolve: (m) => m.type }),
    directionality: t.field({ type: DirectionalityEnum, resolve: (m) => m.directionality }),
    baselineValue: t.exposeFloat('baselineValue', { nullable: true }),
    isModelSpecific: t.exposeBoolean('isModelSpecific', {
      description: "Values are kept per model (the report's modelId, else the deployment's current model); otherwise for the deployment.",
    }),
    description: t.exposeString('description'),
    timeStep: t.exposeString('timeStep', { description: "DataRobot's time bucket size: stored only (values are kept per batch)." }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    createdBy: t.field({ type: UserRef, resolve: async (m, _args, ctx) => (await organizationLoaders(ctx).user.load(m.createdById))! }),
    deployment: t.field({
      type: DeploymentRef,
      resolve: async (m, _args, ctx) => (await deploymentLoaders(ctx).deployment.load(m.deploymentId))!,
    }),
    summary: t.field({
      type: SummaryRef,
      description:
        "The metric over a batch selection: the selected batches' stored rows, merged. The selection's modelId applies to a model-specific metric; a deployment metric's values belong to no model.",
      args: { batches: t.arg({ type: BatchSelectionInputRef, required: true }) },
      resolve: (metric, { batches }, ctx) => summaryOf(ctx, metric, batches),
    }),
  }),
});

/** A metric over a batch selection: the selected batches' stored rows, merged in batch order. */
async function summaryOf(ctx: GraphQLContext, metric: CustomMetric, batches: BatchSelectionInput) {
  const selection = orThrow<Selection>(await resolveSelection(ctx.app.db, ctx.viewer, metric.deploymentId, batches));
  const perBatch = await metricSumsByBatch(ctx.app.db, metric, selection);
  // In batch order: of equal gauge timestamps, the newer batch's value.
  const sums = mergeSums(selection.batchIds.map((id) => perBatch.get(id)));
  return { ...shapeOf(metric, sums), selection, perBatch };
}

builder.objectField(DeploymentRef, 'customMetricSummary', (t) =>
  t.field({
    type: SummaryRef,
    nullable: true,
    description:
      "`CustomMetric.summary` reached from the deployment: one of its metrics over a batch selection; null when the metric is not this deployment's.",
    args: {
      metricId: t.arg.id({ required: true }),
      batches: t.arg({ type: BatchSelectionInputRef, required: true }),
    },
    resolve: async (deployment, { metricId, batches }, ctx) => {
      const metric = await customMetricLoaders(ctx).metric.load(String(metricId));
      return metric && metric.deploymentId === deployment.id ? summaryOf(ctx, metric, batches) : null;
    },
  }),
);

builder.queryField('customMetric', (t) =>
  t.field({
    type: CustomMetricRef,
    nullable: true,
    description: 'null when the id does not exist, was deleted, or belongs to another organization.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => customMetricLoaders(ctx).metric.load(id),
  }),
);

builder.objectField(DeploymentRef, 'customMetrics', (t) =>
  t.field({
    type: [CustomMetricRef],
    description: `The deployment's custom metrics (at most ${MAX_CUSTOM_METRICS_PER_DEPLOYMENT}), oldest first.`,
    resolve: (deployment, _args, ctx) => customMetricLoaders(ctx).ofDeployment.load(deployment.id),
  }),
);

builder.objectField(MonitoringBatchRef, 'customMetrics', (t) =>
  t.field({
    type: [CustomMetricValueRef],
    description: "Every custom metric of the batch's deployment with its value in this batch (all models merged).",
    resolve: async (batch, _args, ctx) =>
      (await customMetricLoaders(ctx).batchValues.load(batch.id)).map(({ metric, sums }) => shapeOf(metric, sums)),
  }),
);

// ---------------------------------------------------------------------------------------------
// Mutations

const metricPayload = (name: string) =>
  builder.objectRef<{ customMetric: CustomMetric }>(name).implement({
    fields: (t) => ({ customMetric: t.field({ type: CustomMetricRef, resolve: (p) => p.customMetric }) }),
  });

const withMetric = (result: Result<CustomMetric>) => (isError(result) ? result : { customMetric: result });

builder.mutationField('createCustomMetric', (t) =>
  t.field({
    type: resultUnion('CreateCustomMetricResult', metricPayload('CreateCustomMetricSuccess'), [
      'NotFoundError',
      'ValidationError',
      'ConflictError',
    ]),
    description: `Defines a custom metric of the deployment (at most ${MAX_CUSTOM_METRICS_PER_DEPLOYMENT} a deployment). Allowed whether or not batch monitoring is on.`,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateCustomMetricInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            name: f.string({ required: true, description: 'Unique in the deployment; 1–255 characters.' }),
            units: f.string({ required: true, description: 'The y-axis label; 1–255 characters.' }),
            type: f.field({ type: CustomMetricTypeEnum, required: true }),
            directionality: f.field({ type: DirectionalityEnum, required: true }),
            isModelSpecific: f.boolean({ required: true }),
            baselineValue: f.float(),
            description: f.string({ description: 'At most 10,000 characters.' }),
            timeStep: f.string({ description: "DataRobot's time bucket size, stored only. Default `hour`." }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { deploymentId, ...fields } }, ctx) =>
      withMetric(await createCustomMetric(ctx.app.db, ctx.viewer, deploymentId, fields)),
  }),
);

builder.mutationField('updateCustomMetric', (t) =>
  t.field({
    type: resultUnion('UpdateCustomMetricResult', metricPayload('UpdateCustomMetricSuccess'), [
      'NotFoundError',
      'ValidationError',
      'ConflictError',
    ]),
    description:
      'Omitted fields keep their value; `baselineValue: null` removes the baseline. type and isModelSpecific change only while no value is reported.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateCustomMetricInput', {
          fields: (f) => ({
            id: f.id({ required: true }),
            name: f.string(),
            units: f.string(),
            type: f.field({ type: CustomMetricTypeEnum }),
            directionality: f.field({ type: DirectionalityEnum }),
            isModelSpecific: f.boolean(),
            baselineValue: f.float(),
            description: f.string(),
            timeStep: f.string(),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { id, ...fields } }, ctx) => withMetric(await updateCustomMetric(ctx.app.db, ctx.viewer, id, fields)),
  }),
);

const DeleteCustomMetricSuccess = builder.objectRef<{ deletedCustomMetricId: string }>('DeleteCustomMetricSuccess').implement({
  fields: (t) => ({ deletedCustomMetricId: t.exposeID('deletedCustomMetricId') }),
});

builder.mutationField('deleteCustomMetric', (t) =>
  t.field({
    type: resultUnion('DeleteCustomMetricResult', DeleteCustomMetricSuccess, ['NotFoundError']),
    description: 'Deletes the metric and every value reported for it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const deleted = await deleteCustomMetric(ctx.app.db, ctx.viewer, id);
      return isError(deleted) ? deleted : { deletedCustomMetricId: deleted.id };
    },
  }),
);

const ReportCustomMetricValuesSuccess = builder.objectRef<ReportSummary>('ReportCustomMetricValuesSuccess').implement({
  fields: (t) => ({
    customMetric: t.field({ type: CustomMetricRef, resolve: (s) => s.metric }),
    dryRun: t.exposeBoolean('dryRun', { description: 'true: everything was checked, nothing stored.' }),
    modelId: t.exposeString('modelId', { description: "The model the values are kept under; '' for a metric that is not model specific." }),
    bucketCount: t.exposeInt('bucketCount', { description: 'Buckets stored (or, in a dry run, that would be).' }),
    sampleCount: t.float({ description: 'Their Σ sampleSize.', resolve: (s) => s.sampleCount }),
    batches: t.field({
      type: [MonitoringBatchRef],
      description: 'The batches the buckets went to.',
      resolve: async (s, _args, ctx) =>
        (await batchLoaders(ctx).batch.loadMany(s.batchIds)).filter((b): b is MonitoringBatch => !!b && !(b instanceof Error)),
    }),
  }),
});

builder.mutationField('reportCustomMetricValues', (t) =>
  t.field({
    type: resultUnion('ReportCustomMetricValuesResult', ReportCustomMetricValuesSuccess, [
      'NotFoundError',
      'ValidationError',
      'BatchLockedError',
      'BatchMonitoringDisabledError',
    ]),
    description:
      `Adds up to ${MAX_BUCKETS_PER_REPORT} buckets of a metric's values to batches of its deployment, in one transaction (all or none). ` +
      'Each bucket must name a live, unlocked batch of the deployment; refusals name the bucket (`buckets.3.value`).',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('ReportCustomMetricValuesInput', {
          fields: (f) => ({
            metricId: f.id({ required: true }),
            buckets: f.field({
              required: true,
              type: [
                builder.inputType('CustomMetricBucketInput', {
                  fields: (b) => ({
                    value: b.float({ required: true }),
                    sampleSize: b.int({ description: `1 to ${MAX_SAMPLE_SIZE}; default 1. Weighs the value of an AVERAGE metric.` }),
                    timestamp: b.field({ type: 'DateTime', description: 'Default: now. The latest is a GAUGE metric’s value.' }),
                    batchId: b.id({ required: true }),
                    associationId: b.string({ description: 'Accepted for DataRobot compatibility; not stored.' }),
                  }),
                }),
              ],
            }),
            modelId: f.string({
              description:
                "For a model-specific metric: the model the values are of (default: the deployment's current model). Ignored otherwise.",
            }),
            dryRun: f.boolean({ description: 'Check everything, store nothing.' }),
          }),
        }),
      }),
    },
    resolve: (_root, { input: { metricId, buckets, modelId, dryRun } }, ctx) =>
      reportCustomMetricValues(
        ctx.app.db,
        ctx.viewer,
        metricId,
        {
          buckets: buckets.map(({ timestamp, ...bucket }) => ({ ...bucket, timestamp: timestamp?.toISOString() ?? null })),
          modelId,
          dryRun,
        },
        { batchField: 'batchId' },
      ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Live

interface BatchValuesState {
  batch: MonitoringBatch;
  values: BatchMetricSums[];
}

const BatchValuesRef = builder.objectRef<BatchValuesState>('CustomMetricBatchValues').implement({
  description: "A batch's value of every custom metric of its deployment.",
  fields: (t) => ({
    batch: t.field({ type: MonitoringBatchRef, resolve: (s) => s.batch }),
    values: t.field({ type: [CustomMetricValueRef], resolve: (s) => s.values.map(({ metric, sums }) => shapeOf(metric, sums)) }),
  }),
});

builder.subscriptionField('customMetricValues', (t) =>
  t.field({
    type: BatchValuesRef,
    description:
      "The batch's custom metric values now, then after every report into it or change of the batch (at most a few times a second); completes when the batch is deleted.",
    args: { batchId: t.arg.id({ required: true }) },
    subscribe: async (_root, { batchId }, ctx) => {
      const { organizationId } = ctx.viewer;
      const { db } = ctx.app;
      const read = async (): Promise<BatchValuesState | null> => {
        const [batch] = await batchesByIds(db, organizationId, [batchId]);
        if (!batch) return null;
        return { batch, values: (await batchMetricSums(db, organizationId, [batch.id])).get(batch.id) ?? [] };
      };
      if (!(await read())) throw new GraphQLError('Monitoring batch not found', { extensions: { code: 'NOT_FOUND' } });
      return ctx.app.live.state(`custom-metrics:${batchId}`, read);
    },
    resolve: (state, _args, ctx) => {
      freshLoaders(ctx);
      return state;
    },
  }),
);
