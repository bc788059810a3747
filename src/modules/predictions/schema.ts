import type { MonitoringBatch } from '../../db/tables.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { MAX_ROWS_PER_REPORT } from '../rows/normalize.js';
import { PredictionRowInput } from '../rows/schema.js';
import { type IngestSummary, ingestPredictions, reportDeploymentStats } from './service.js';

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
      return ingestPredictions(ctx.app.pg, ctx.viewer, {
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
    resolve: (_root, { input }, ctx) => reportDeploymentStats(ctx.app.db, ctx.viewer, input),
  }),
);
