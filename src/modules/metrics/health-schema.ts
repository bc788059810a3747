// Prediction health (C9): indicators, their settings, and the deployments inventory filtered by health.

import type { Deployment } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { orThrow, resultUnion } from '../../graphql/errors.js';
import { DeploymentRef } from '../deployments/schema.js';
import { activity } from './activity.js';
import { type DeploymentHealth, listDeploymentsByHealth } from './deployment-health.js';
import {
  ACCURACY_JUDGMENTS,
  ACCURACY_METRICS,
  BATCH_COUNT_CHOICES,
  healthSettings,
  type Indicator,
  type ResolvedHealthSettings,
} from './health.js';
import { updateHealthSettings } from './health-settings.js';
import { metricLoaders } from './loaders.js';

export const HEALTH_STATUSES = ['PASSING', 'AT_RISK', 'FAILING', 'UNKNOWN'] as const;

export const HealthStatusEnum = builder.enumType('HealthStatus', { values: HEALTH_STATUSES });

export const HealthFilterInput = builder.inputType('DeploymentHealthFilter', {
  description: 'Keeps deployments whose status is one of those listed, for each area given.',
  fields: (t) => ({
    service: t.field({ type: [HealthStatusEnum] }),
    drift: t.field({ type: [HealthStatusEnum] }),
    accuracy: t.field({ type: [HealthStatusEnum] }),
  }),
});

export const AccuracyMetricEnum = builder.enumType('AccuracyMetric', { values: ACCURACY_METRICS });

const AccuracyJudgmentEnum = builder.enumType('AccuracyJudgment', {
  description:
    'POINT: a threshold is reached when the metric is at or past it. CONFIDENCE_INTERVAL: only when the whole confidence interval (Accuracy.confidenceIntervals) is past it — upper end ≤ the threshold for metrics where higher is better, lower end ≥ it otherwise. LOG_LOSS, R2 and MAPE have no interval: that pair is refused, and a metric changed afterwards is judged by its point (the reason says so). MAE of a single prediction has no interval: UNKNOWN.',
  values: ACCURACY_JUDGMENTS,
});

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
    driftThreshold: t.exposeFloat('driftThreshold', {
      description: 'A feature has drifted when its change is significant (see significanceLevel) and its PSI reaches this (default 0.15).',
    }),
    significanceLevel: t.exposeFloat('significanceLevel', {
      description:
        "The false-discovery rate α (default 0.05): a change is significant when its chi-square p-value, adjusted by Benjamini–Hochberg across the deployment's features, is ≤ α.",
    }),
    minSampleSize: t.exposeInt('minSampleSize', {
      description:
        'Rows each side of a comparison needs (default 100); with fewer, a feature is INSUFFICIENT_DATA, neither passing nor failing.',
    }),
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
    judgeBy: t.field({ type: AccuracyJudgmentEnum, description: 'Default POINT.', resolve: (s) => s.judgeBy }),
    confidenceLevel: t.exposeFloat('confidenceLevel', { description: 'Of the intervals CONFIDENCE_INTERVAL judges by (default 0.95).' }),
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
    resolve: async (deployment, _args, ctx) => (await metricLoaders(ctx).health.load(deployment))!,
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
                  significanceLevel: g.float({ description: 'Greater than 0, less than 1.' }),
                  minSampleSize: g.int({ description: '1 or more.' }),
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
                  judgeBy: g.field({ type: AccuracyJudgmentEnum }),
                  confidenceLevel: g.float({ description: '0.5 to 0.999.' }),
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

builder.queryField('deployments', (t) =>
  t.connection(
    {
      type: DeploymentRef,
      description: "The organization's deployments, newest first.",
      args: {
        search: t.arg.string({ description: 'Case-insensitive part of the label, or an exact id.' }),
        health: t.arg({
          type: HealthFilterInput,
          description: 'Only deployments whose health status is among those given (the inventory view).',
        }),
      },
      resolve: async (_root, args, ctx) => orThrow(await listDeploymentsByHealth(ctx.app.db, ctx.viewer, args)),
    },
    {
      name: 'DeploymentConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (connection) => connection.totalCount() }) }),
    },
  ),
);
