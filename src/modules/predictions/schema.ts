import type { MonitoringBatch } from '../../db/tables.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { MAX_ACTUALS_PER_REQUEST, type SubmitActualsSummary, submitActuals } from '../actuals/service.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { type IngestSummary, ingestPredictions, MAX_ROWS_PER_REPORT, reportDeploymentStats } from './service.js';

export const PredictionRowInput = builder.inputType('PredictionRowInput', {
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', description: 'When the prediction was made; default: when it is received.' }),
    features: t.field({ type: 'JSON', description: 'Feature name → value. Unknown names are ignored and listed in the answer.' }),
    prediction: t.float({
      description: 'Regression: the predicted value. Binary: the probability of the positive class (instead of probabilities).',
    }),
    probabilities: t.floatList({
      description: "Classification: one probability per class, in the deployment's classNames order, summing to 1.",
    }),
    associationId: t.string({ description: 'Joins the prediction to its actual; unique within the deployment.' }),
  }),
});

const batchTargetFields = {
  batchId: 'The batch to add to (it must not be locked).',
  batchPrefix:
    'Instead of batchId: create a batch named `<prefix> - YYYY-MM-DD HH:MM:SS` (UTC) in the same transaction (counts against the quota).',
};

const ReportPredictionsSuccess = builder.objectRef<IngestSummary>('ReportPredictionsSuccess').implement({
  fields: (t) => ({
    batch: t.field({ type: MonitoringBatchRef, resolve: (s) => s.batch }),
    rowCount: t.exposeInt('rowCount', { description: 'Predictions stored.' }),
    unknownFeatures: t.exposeStringList('unknownFeatures', { description: 'Feature names not in the deployment schema: ignored.' }),
    actualsJoined: t.exposeInt('actualsJoined', { description: 'Stored rows that joined an actual submitted earlier.' }),
  }),
});

const ingestErrors = [
  'NotFoundError',
  'ValidationError',
  'BatchLockedError',
  'BatchMonitoringDisabledError',
  'BatchQuotaExceededError',
] as const;

builder.mutationField('reportPredictions', (t) =>
  t.field({
    type: resultUnion('ReportPredictionsResult', ReportPredictionsSuccess, [...ingestErrors]),
    description: `Adds up to ${MAX_ROWS_PER_REPORT} predictions to a batch in one transaction (all or none) and records one scoring request. For more rows use the bulk route.`,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('ReportPredictionsInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            batchId: f.id({ description: batchTargetFields.batchId }),
            batchPrefix: f.string({ description: batchTargetFields.batchPrefix }),
            modelId: f.string({ description: "The model that scored the rows; default: the deployment's current model." }),
            executionTimeMs: f.float({ description: 'How long the scoring request took, for service health.' }),
            rows: f.field({ type: [PredictionRowInput], required: true }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      return ingestPredictions(ctx.app.db, ctx.app.sql, ctx.viewer, {
        deploymentId: input.deploymentId,
        batchId: input.batchId,
        batchPrefix: input.batchPrefix,
        modelId: input.modelId,
        itemPath: 'rows',
        items: input.rows.map((row) => ({ ...row, timestamp: row.timestamp?.toISOString() ?? null })),
        request: { executionTimeMs: input.executionTimeMs ?? null },
      });
    },
  }),
);

const ReportDeploymentStatsSuccess = builder.objectRef<{ batch: MonitoringBatch }>('ReportDeploymentStatsSuccess').implement({
  fields: (t) => ({ batch: t.field({ type: MonitoringBatchRef, resolve: (s) => s.batch }) }),
});

builder.mutationField('reportDeploymentStats', (t) =>
  t.field({
    type: resultUnion('ReportDeploymentStatsResult', ReportDeploymentStatsSuccess, [...ingestErrors]),
    description: "Records one scoring request's statistics (the agent's report_deployment_stats); stores no prediction rows.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('ReportDeploymentStatsInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            batchId: f.id({
              description: `${batchTargetFields.batchId} Omitted: the deployment's batch of unassigned predictions of the UTC day.`,
            }),
            batchPrefix: f.string({ description: batchTargetFields.batchPrefix }),
            modelId: f.string(),
            numPredictions: f.int({ required: true }),
            executionTimeMs: f.float(),
            userError: f.boolean(),
            systemError: f.boolean(),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => reportDeploymentStats(ctx.app.db, ctx.app.sql, ctx.viewer, input),
  }),
);

const ActualInput = builder.inputType('ActualInput', {
  fields: (t) => ({
    associationId: t.string({ required: true }),
    actualValue: t.field({
      type: 'ActualValue',
      required: true,
      description: 'Regression: a number; classification: one of the class names.',
    }),
    wasActedOn: t.boolean(),
    timestamp: t.field({ type: 'DateTime' }),
  }),
});

const SubmitActualsSuccess = builder.objectRef<SubmitActualsSummary>('SubmitActualsSuccess').implement({
  fields: (t) => ({
    acceptedCount: t.exposeInt('acceptedCount', {
      description: 'Actuals stored (new, or replacing an earlier one for the same association id).',
    }),
    matchedCount: t.exposeInt('matchedCount', { description: 'Actuals that joined a prediction now.' }),
    unmatchedAssociationIds: t.exposeStringList('unmatchedAssociationIds', {
      description: 'Association ids with no prediction yet: kept, they join when the prediction arrives.',
    }),
  }),
});

builder.mutationField('submitActuals', (t) =>
  t.field({
    type: resultUnion('SubmitActualsResult', SubmitActualsSuccess, ['NotFoundError', 'ValidationError', 'BatchMonitoringDisabledError']),
    description: `Up to ${MAX_ACTUALS_PER_REQUEST} actual outcomes, joined to predictions by association id; accuracy of their batches updates in the same transaction.`,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('SubmitActualsInput', {
          fields: (f) => ({ deploymentId: f.id({ required: true }), actuals: f.field({ type: [ActualInput], required: true }) }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) =>
      submitActuals(ctx.app.db, ctx.app.sql, ctx.viewer, {
        deploymentId: input.deploymentId,
        itemPath: 'actuals',
        actuals: input.actuals.map((a) => ({ ...a, timestamp: a.timestamp?.toISOString() ?? null })),
      }),
  }),
);
