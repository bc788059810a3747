import type { Deployment, MonitoringBatch } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { orThrow, resultUnion } from '../../graphql/errors.js';
import { currentBaseline } from '../baselines/current.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { DeploymentRef } from '../deployments/schema.js';
import { activity } from './activity.js';
import { type BinShare, executionTimeQuantile, serviceRates, slowRequests } from './compute.js';
import type { DeploymentHealth } from './deployment-health.js';
import {
  ACCURACY_METRICS,
  BATCH_COUNT_CHOICES,
  healthSettings,
  type Indicator,
  type ResolvedHealthSettings,
  updateHealthSettings,
} from './health.js';
import { HealthStatusEnum } from './health-types.js';
import {
  type AccuracyShape,
  accuracyShape,
  type DataDriftShape,
  driftShape,
  type FeatureDriftShape,
  type PredictionStatsShape,
  predictionPercentile,
  predictionShape,
  type ServiceHealthShape,
  serviceShape,
} from './shapes.js';
import { accuracySums, type BatchSelectionInput, columnSums, labelSums, resolveSelection, type Selection, serviceSums } from './sums.js';

// Monitoring over a batch selection (C8) and prediction health (C9). Every number is a merge of
// per-batch aggregates: deployment fields merge the whole selection in SQL; the series and the
// batch fields read per-batch sums (batch fields through dataloaders: one statement per page).

export const BatchSelectionInputRef = builder.inputType('BatchSelection', {
  description:
    'Which batches to merge: `batchIds` (ids of other deployments or organizations are left out) or `last` (the N most recent). Optionally one model.',
  fields: (t) => ({
    batchIds: t.idList(),
    last: t.int({ description: `The N most recent batches (1–10000).` }),
    modelId: t.string({ description: 'Only what this model scored.' }),
  }),
});

const DriftMetricEnum = builder.enumType('DriftMetric', {
  description:
    'PSI = Σ (a − e)·ln(a/e) and KL divergence = Σ a·ln(a/e) (current ‖ baseline), both after replacing zero shares by 0.0001; Jensen–Shannon divergence with log base 2 (0…1); Hellinger distance √(½ Σ (√a − √e)²) (0…1). Shares are over the baseline bins plus missing.',
  values: ['PSI', 'JS_DIVERGENCE', 'HELLINGER', 'KL_DIVERGENCE'] as const,
});

async function selectionOf(ctx: GraphQLContext, deployment: Deployment, batches: BatchSelectionInput): Promise<Selection> {
  return orThrow<Selection>(await resolveSelection(ctx.app.db, ctx.viewer, deployment.id, batches));
}

// ---------------------------------------------------------------------------------------------
// Types

const ExecutionTimeRef = builder.objectRef<ServiceHealthShape>('ExecutionTimeStats').implement({
  description: 'Execution times (ms) of the requests that reported one. Quantiles come from a mergeable sketch (≤ 0.5% relative error).',
  fields: (t) => ({
    count: t.int({ resolve: (s) => s.sums.executionTimeCount }),
    mean: t.float({ nullable: true, resolve: (s) => serviceRates(s.sums).meanExecutionTime }),
    median: t.float({ nullable: true, resolve: (s) => executionTimeQuantile(s.sums, 0.5) }),
    p90: t.float({ nullable: true, resolve: (s) => executionTimeQuantile(s.sums, 0.9) }),
    min: t.float({ nullable: true, resolve: (s) => s.sums.executionTimeMin }),
    max: t.float({ nullable: true, resolve: (s) => s.sums.executionTimeMax }),
    quantile: t.float({
      nullable: true,
      args: { q: t.arg.float({ required: true, description: '0 to 1.' }) },
      resolve: (s, { q }) => (q >= 0 && q <= 1 ? executionTimeQuantile(s.sums, q) : null),
    }),
  }),
});

const ServiceHealthRef = builder.objectRef<ServiceHealthShape>('ServiceHealth').implement({
  fields: (t) => ({
    batchCount: t.int({ description: 'Batches merged.', resolve: (s) => s.batchCount }),
    totalPredictions: t.float({ description: 'Predictions the recorded requests made.', resolve: (s) => s.sums.predictionCount }),
    totalRequests: t.float({ resolve: (s) => s.sums.requestCount }),
    executionTime: t.field({ type: ExecutionTimeRef, resolve: (s) => s }),
    slowRequests: t.float({
      description: 'Requests slower than thresholdMs (read from the sketch).',
      args: { thresholdMs: t.arg.float({ required: true }) },
      resolve: (s, { thresholdMs }) => slowRequests(s.sums, thresholdMs),
    }),
    userErrorRate: t.float({
      nullable: true,
      description: 'User-error requests ÷ requests.',
      resolve: (s) => serviceRates(s.sums).userErrorRate,
    }),
    serverErrorRate: t.float({
      nullable: true,
      description: 'Server-error requests ÷ requests.',
      resolve: (s) => serviceRates(s.sums).serverErrorRate,
    }),
    numConsumers: t.int({ description: 'Distinct callers.', resolve: (s) => s.sums.consumerCount }),
  }),
});

const DriftBinRef = builder.objectRef<BinShare>('DriftBin').implement({
  fields: (t) => ({
    label: t.exposeString('label'),
    lower: t.exposeFloat('lower', { nullable: true }),
    upper: t.exposeFloat('upper', { nullable: true }),
    count: t.float({ resolve: (b) => b.count }),
    share: t.exposeFloat('share'),
  }),
});

const DistributionRef = builder.objectRef<BinShare[]>('Distribution').implement({
  fields: (t) => ({ bins: t.field({ type: [DriftBinRef], resolve: (bins) => bins }) }),
});

const FeatureDriftRef = builder.objectRef<FeatureDriftShape>('FeatureDrift').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: "Feature name ('' for the target/prediction)." }),
    score: t.exposeFloat('score', { nullable: true, description: 'null when no row of the selection is binned by the current baseline.' }),
    importance: t.exposeFloat('importance', { nullable: true }),
    sampleSize: t.float({ description: 'Rows of the selection binned by the current baseline.', resolve: (f) => f.sampleSize }),
    isDrifted: t.exposeBoolean('isDrifted', { nullable: true, description: 'score ≥ the drift threshold of the health settings.' }),
    baseline: t.field({ type: DistributionRef, resolve: (f) => f.baseline }),
    current: t.field({ type: DistributionRef, resolve: (f) => f.current }),
  }),
});

const DataDriftRef = builder.objectRef<DataDriftShape>('DataDrift').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    metric: t.field({ type: DriftMetricEnum, resolve: (d) => d.metric }),
    driftThreshold: t.exposeFloat('driftThreshold'),
    hasBaseline: t.exposeBoolean('hasBaseline', { description: 'false until a training baseline is set: features is then empty.' }),
    features: t.field({ type: [FeatureDriftRef], resolve: (d) => d.features }),
    target: t.field({ type: FeatureDriftRef, nullable: true, description: 'Prediction (target) drift.', resolve: (d) => d.target }),
  }),
});

const AccuracyRef = builder.objectRef<AccuracyShape>('Accuracy').implement({
  description:
    'From predictions joined to their latest actual. Binary: logLoss, auc, accuracy, f1, tpr, ppv (at the deployment threshold); regression: rmse, mae, r2, mape (percent, over actuals ≠ 0); multiclass: logLoss, accuracy.',
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    predictionsWithActuals: t.float({ resolve: (a) => a.count }),
    logLoss: t.exposeFloat('logLoss', { nullable: true }),
    auc: t.exposeFloat('auc', { nullable: true, description: 'From 1,000 probability bins (within 0.005 of the exact ROC AUC).' }),
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
    f1: t.exposeFloat('f1', { nullable: true }),
    tpr: t.exposeFloat('tpr', { nullable: true }),
    ppv: t.exposeFloat('ppv', { nullable: true }),
    rmse: t.exposeFloat('rmse', { nullable: true }),
    mae: t.exposeFloat('mae', { nullable: true }),
    r2: t.exposeFloat('r2', { nullable: true }),
    mape: t.exposeFloat('mape', { nullable: true }),
  }),
});

const ClassShareRef = builder.objectRef<PredictionStatsShape['classDistribution'][number]>('ClassShare').implement({
  fields: (t) => ({ className: t.exposeString('className'), count: t.float({ resolve: (c) => c.count }), share: t.exposeFloat('share') }),
});

const PredictionStatsRef = builder.objectRef<PredictionStatsShape>('PredictionStats').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    rowCount: t.float({ resolve: (p) => p.rowCount }),
    meanPrediction: t.exposeFloat('meanPrediction', { nullable: true, description: 'Regression value or positive-class probability.' }),
    percentile: t.float({
      nullable: true,
      description: 'From the baseline bins of the prediction (linear inside a bin): needs a training baseline.',
      args: { q: t.arg.float({ required: true }) },
      resolve: (p, { q }) => (q >= 0 && q <= 1 ? predictionPercentile(p, q) : null),
    }),
    classDistribution: t.field({
      type: [ClassShareRef],
      description: 'Classification: predictions per predicted class.',
      resolve: (p) => p.classDistribution,
    }),
  }),
});

interface OverBatchRow {
  batch: MonitoringBatch;
  service: ServiceHealthShape;
  drift: DataDriftShape;
  accuracy: AccuracyShape;
  predictions: PredictionStatsShape;
}

const BatchMetricsRef = builder.objectRef<OverBatchRow>('BatchMetrics').implement({
  description: 'One batch of an over-batches series.',
  fields: (t) => ({
    batch: t.field({ type: MonitoringBatchRef, resolve: (r) => r.batch }),
    serviceHealth: t.field({ type: ServiceHealthRef, resolve: (r) => r.service }),
    dataDrift: t.field({ type: DataDriftRef, resolve: (r) => r.drift }),
    accuracy: t.field({ type: AccuracyRef, resolve: (r) => r.accuracy }),
    predictions: t.field({ type: PredictionStatsRef, resolve: (r) => r.predictions }),
  }),
});

// ---------------------------------------------------------------------------------------------
// Deployment fields

builder.objectFields(DeploymentRef, (t) => ({
  serviceHealth: t.field({
    type: ServiceHealthRef,
    args: { batches: t.arg({ type: BatchSelectionInputRef, required: true }) },
    resolve: async (deployment, { batches }, ctx) => {
      const selection = await selectionOf(ctx, deployment, batches);
      return serviceShape((await serviceSums(ctx.app.db, selection, false)).get(''), selection.batchIds.length);
    },
  }),
  dataDrift: t.field({
    type: DataDriftRef,
    args: {
      batches: t.arg({ type: BatchSelectionInputRef, required: true }),
      metric: t.arg({ type: DriftMetricEnum, defaultValue: 'PSI' }),
    },
    resolve: async (deployment, { batches, metric }, ctx) => {
      const selection = await selectionOf(ctx, deployment, batches);
      const [baseline, sums] = await Promise.all([currentBaseline(ctx.app.db, deployment), columnSums(ctx.app.db, selection, false)]);
      return driftShape(deployment, baseline, sums.get(''), metric ?? 'PSI', selection.batchIds.length);
    },
  }),
  accuracy: t.field({
    type: AccuracyRef,
    args: { batches: t.arg({ type: BatchSelectionInputRef, required: true }) },
    resolve: async (deployment, { batches }, ctx) => {
      const selection = await selectionOf(ctx, deployment, batches);
      return accuracyShape(deployment, (await accuracySums(ctx.app.db, selection, false)).get(''), selection.batchIds.length);
    },
  }),
  predictions: t.field({
    type: PredictionStatsRef,
    args: { batches: t.arg({ type: BatchSelectionInputRef, required: true }) },
    resolve: async (deployment, { batches }, ctx) => {
      const selection = await selectionOf(ctx, deployment, batches);
      const [baseline, columns, labels] = await Promise.all([
        currentBaseline(ctx.app.db, deployment),
        columnSums(ctx.app.db, selection, false),
        labelSums(ctx.app.db, selection, false),
      ]);
      return predictionShape(deployment, baseline, columns.get(''), labels.get(''), selection.batchIds.length);
    },
  }),
  overBatches: t.field({
    type: [BatchMetricsRef],
    description: 'One row per batch of the selection, oldest first: the series behind every over-batches chart.',
    args: {
      batches: t.arg({ type: BatchSelectionInputRef, required: true }),
      metric: t.arg({ type: DriftMetricEnum, defaultValue: 'PSI' }),
    },
    resolve: async (deployment, { batches, metric }, ctx) => {
      const { db } = ctx.app;
      const selection = await selectionOf(ctx, deployment, batches);
      const [baseline, service, columns, accuracy, labels, rows] = await Promise.all([
        currentBaseline(db, deployment),
        serviceSums(db, selection, true),
        columnSums(db, selection, true),
        accuracySums(db, selection, true),
        labelSums(db, selection, true),
        ctx.loaders.batch.loadMany(selection.batchIds),
      ]);
      return rows.flatMap((batch) =>
        batch && !(batch instanceof Error)
          ? [
              {
                batch,
                service: serviceShape(service.get(batch.id), 1),
                drift: driftShape(deployment, baseline, columns.get(batch.id), metric ?? 'PSI', 1),
                accuracy: accuracyShape(deployment, accuracy.get(batch.id), 1),
                predictions: predictionShape(deployment, baseline, columns.get(batch.id), labels.get(batch.id), 1),
              },
            ]
          : [],
      );
    },
  }),
}));

// ---------------------------------------------------------------------------------------------
// Batch fields, through dataloaders

builder.objectFields(MonitoringBatchRef, (t) => ({
  serviceHealth: t.field({
    type: ServiceHealthRef,
    resolve: async (batch, _args, ctx) => serviceShape(await ctx.loaders.metrics.service.load(batch.id), 1),
  }),
  dataDrift: t.field({
    type: DataDriftRef,
    args: { metric: t.arg({ type: DriftMetricEnum, defaultValue: 'PSI' }) },
    resolve: async (batch, { metric }, ctx) => {
      const [deployment, baseline, columns] = await Promise.all([
        ctx.loaders.deployment.load(batch.deploymentId),
        ctx.loaders.metrics.baseline.load(batch.deploymentId),
        ctx.loaders.metrics.columns.load(batch.id),
      ]);
      return driftShape(deployment!, baseline, columns, metric ?? 'PSI', 1);
    },
  }),
  accuracy: t.field({
    type: AccuracyRef,
    resolve: async (batch, _args, ctx) => {
      const [deployment, totals] = await Promise.all([
        ctx.loaders.deployment.load(batch.deploymentId),
        ctx.loaders.metrics.accuracy.load(batch.id),
      ]);
      return accuracyShape(deployment!, totals, 1);
    },
  }),
}));

// ---------------------------------------------------------------------------------------------
// Health (C9)

const AccuracyMetricEnum = builder.enumType('AccuracyMetric', { values: ACCURACY_METRICS });

const IndicatorRef = builder.objectRef<Indicator>('HealthIndicator').implement({
  fields: (t) => ({
    status: t.field({ type: HealthStatusEnum, resolve: (i) => i.status }),
    reason: t.exposeString('reason', { description: 'Which rates, features or metric decided the status.' }),
    batchCount: t.exposeInt('batchCount', { description: 'Batches the status was computed over.' }),
  }),
});

export const HealthRef = builder.objectRef<DeploymentHealth>('DeploymentHealth').implement({
  fields: (t) => ({
    service: t.field({ type: IndicatorRef, resolve: (h) => h.service }),
    drift: t.field({ type: IndicatorRef, resolve: (h) => h.drift }),
    accuracy: t.field({ type: IndicatorRef, resolve: (h) => h.accuracy }),
  }),
});

const BatchCountDescription = `One of ${BATCH_COUNT_CHOICES.join(', ')}.`;

const ServiceSettingsRef = builder.objectRef<ResolvedHealthSettings['service']>('ServiceHealthSettings').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    errorRateAtRisk: t.exposeFloat('errorRateAtRisk', {
      description: 'User + server error rate at which service is AT_RISK (default 0.01).',
    }),
    errorRateFailing: t.exposeFloat('errorRateFailing', { description: 'Error rate at which service is FAILING (default 0.05).' }),
  }),
});

const DriftSettingsRef = builder.objectRef<ResolvedHealthSettings['dataDrift']>('DataDriftHealthSettings').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    driftThreshold: t.exposeFloat('driftThreshold', { description: 'A feature has drifted when its PSI reaches this (default 0.15).' }),
    importanceThreshold: t.exposeFloat('importanceThreshold', {
      description: 'A feature is of high importance from this importance on (default 0.5).',
    }),
    lowImportanceAtRiskCount: t.exposeInt('lowImportanceAtRiskCount', { nullable: true }),
    lowImportanceFailingCount: t.exposeInt('lowImportanceFailingCount', { nullable: true }),
    highImportanceAtRiskCount: t.exposeInt('highImportanceAtRiskCount', { nullable: true }),
    highImportanceFailingCount: t.exposeInt('highImportanceFailingCount', { nullable: true }),
    excludedFeatures: t.exposeStringList('excludedFeatures'),
  }),
});

const AccuracySettingsRef = builder.objectRef<ResolvedHealthSettings['accuracy']>('AccuracyHealthSettings').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    metric: t.field({ type: AccuracyMetricEnum, resolve: (s) => s.metric }),
    atRiskThreshold: t.exposeFloat('atRiskThreshold', {
      nullable: true,
      description: 'null: accuracy status stays UNKNOWN until thresholds are set.',
    }),
    failingThreshold: t.exposeFloat('failingThreshold', { nullable: true }),
  }),
});

const HealthSettingsRef = builder.objectRef<ResolvedHealthSettings>('HealthSettings').implement({
  fields: (t) => ({
    service: t.field({ type: ServiceSettingsRef, resolve: (s) => s.service }),
    dataDrift: t.field({ type: DriftSettingsRef, resolve: (s) => s.dataDrift }),
    accuracy: t.field({ type: AccuracySettingsRef, resolve: (s) => s.accuracy }),
  }),
});

interface ActivityDay {
  day: string;
  predictionCount: number;
}

const ActivityDayRef = builder.objectRef<ActivityDay>('ActivityDay').implement({
  fields: (t) => ({
    day: t.exposeString('day', { description: 'UTC date, YYYY-MM-DD.' }),
    predictionCount: t.float({ resolve: (d) => d.predictionCount }),
  }),
});

builder.objectFields(DeploymentRef, (t) => ({
  health: t.field({
    type: HealthRef,
    description: 'Service, drift and accuracy status over the last N batches (N per area from healthSettings).',
    resolve: async (deployment, _args, ctx) => (await ctx.loaders.metrics.health.load(deployment))!,
  }),
  healthSettings: t.field({ type: HealthSettingsRef, resolve: (deployment) => healthSettings(deployment) }),
  activity: t.field({
    type: [ActivityDayRef],
    description: 'Batch predictions per UTC day (by prediction timestamp) over the last 7 days, today last.',
    resolve: (deployment, _args, ctx) => activity(ctx.app.db, deployment.id),
  }),
}));

const UpdateHealthSettingsSuccess = builder.objectRef<{ deployment: Deployment }>('UpdateHealthSettingsSuccess').implement({
  fields: (t) => ({ deployment: t.field({ type: DeploymentRef, resolve: (p) => p.deployment }) }),
});

builder.mutationField('updateHealthSettings', (t) =>
  t.field({
    type: resultUnion('UpdateHealthSettingsResult', UpdateHealthSettingsSuccess, ['NotFoundError', 'ValidationError']),
    description: 'Omitted settings keep their value. Counts set to null disable that rule.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateHealthSettingsInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            service: f.field({
              type: builder.inputType('ServiceHealthSettingsInput', {
                fields: (g) => ({
                  batchCount: g.int({ description: BatchCountDescription }),
                  errorRateAtRisk: g.float(),
                  errorRateFailing: g.float(),
                }),
              }),
            }),
            dataDrift: f.field({
              type: builder.inputType('DataDriftHealthSettingsInput', {
                fields: (g) => ({
                  batchCount: g.int({ description: BatchCountDescription }),
                  driftThreshold: g.float(),
                  importanceThreshold: g.float(),
                  lowImportanceAtRiskCount: g.int(),
                  lowImportanceFailingCount: g.int(),
                  highImportanceAtRiskCount: g.int(),
                  highImportanceFailingCount: g.int(),
                  excludedFeatures: g.stringList(),
                }),
              }),
            }),
            accuracy: f.field({
              type: builder.inputType('AccuracyHealthSettingsInput', {
                fields: (g) => ({
                  batchCount: g.int({ description: BatchCountDescription }),
                  metric: g.field({ type: AccuracyMetricEnum }),
                  atRiskThreshold: g.float(),
                  failingThreshold: g.float(),
                }),
              }),
            }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { deploymentId, ...settings } }, ctx) => {
      const deployment = await updateHealthSettings(ctx.app.db, ctx.viewer, deploymentId, settings);
      return isError(deployment) ? deployment : { deployment };
    },
  }),
);
