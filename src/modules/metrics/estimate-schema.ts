// Label-free performance estimates (issue 15): what a binary model's accuracy should be from its
// predicted probabilities alone, next to what it was once actuals arrived. Every figure comes from
// per-batch histograms (estimate.ts); batch fields load them through dataloaders (one statement per
// page of batches for the histograms, the accuracy sums' loader for the rest).

import { builder } from '../../graphql/builder.js';
import { orThrow } from '../../graphql/errors.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import {
  type Calibration,
  type CalibrationBin,
  type EstimateTracking,
  type PerformanceEstimateShape,
  type PerformanceFigures,
  performanceEstimate,
} from './estimate.js';
import { metricLoaders } from './loaders.js';
import { BatchSelectionInputRef } from './schema.js';
import { accuracySums, probabilitySums, resolveSelection, type Selection } from './sums.js';

const PerformanceFiguresRef = builder.objectRef<PerformanceFigures>('PerformanceFigures').implement({
  description:
    'Binary classification figures at the deployment threshold (a prediction ≥ threshold is positive). null when undefined: no prediction; precision without a predicted positive; recall without a positive; AUC without both classes.',
  fields: (t) => ({
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
    precision: t.exposeFloat('precision', { nullable: true }),
    recall: t.exposeFloat('recall', { nullable: true }),
    f1: t.exposeFloat('f1', { nullable: true }),
    auc: t.exposeFloat('auc', { nullable: true, description: 'ROC AUC.' }),
  }),
});

const CalibrationBinRef = builder.objectRef<CalibrationBin>('CalibrationBin').implement({
  fields: (t) => ({
    lower: t.exposeFloat('lower'),
    upper: t.exposeFloat('upper', { description: 'Exclusive, except 1 for the last bin.' }),
    count: t.float({ description: 'Predictions with actuals whose probability is in [lower, upper).', resolve: (b) => b.count }),
    meanPredicted: t.exposeFloat('meanPredicted', {
      nullable: true,
      description: 'Their mean positive-class probability (from 1,000 probability bins: within 0.0005); null when count is 0.',
    }),
    observedPositiveRate: t.exposeFloat('observedPositiveRate', {
      nullable: true,
      description: 'The share of them whose actual is the positive class; null when count is 0.',
    }),
  }),
});

const CalibrationRef = builder.objectRef<Calibration>('Calibration').implement({
  description:
    'How well predicted probabilities matched outcomes, over the predictions with actuals, in 10 equal-width probability bins. The label-free estimate is only as good as this: it assumes a prediction of p is positive with probability p.',
  fields: (t) => ({
    expectedCalibrationError: t.exposeFloat('expectedCalibrationError', {
      nullable: true,
      description: 'Σ (count / predictionsWithActuals)·|observedPositiveRate − meanPredicted| over the bins; null without actuals.',
    }),
    maxCalibrationGap: t.exposeFloat('maxCalibrationGap', {
      nullable: true,
      description: 'The largest |observedPositiveRate − meanPredicted| of a non-empty bin; null without actuals.',
    }),
    predictionsWithActuals: t.float({ resolve: (c) => c.predictionsWithActuals }),
    bins: t.field({ type: [CalibrationBinRef], resolve: (c) => c.bins }),
  }),
});

const EstimateTrackingRef = builder.objectRef<EstimateTracking>('EstimateTracking').implement({
  description:
    'How far the label-free estimate was from what happened: per batch with actuals, the estimate over exactly its predictions with actuals (expectedWithActuals) against their realised figures, the absolute differences averaged with each batch weighing the same.',
  fields: (t) => ({
    batchesWithActuals: t.exposeInt('batchesWithActuals', {
      description: 'Batches with at least one actual: what accuracy is averaged over.',
    }),
    accuracyMeanAbsoluteError: t.exposeFloat('accuracyMeanAbsoluteError', {
      nullable: true,
      description: 'Mean |estimated − realised accuracy| over batchesWithActuals; null when there are none.',
    }),
    f1MeanAbsoluteError: t.exposeFloat('f1MeanAbsoluteError', {
      nullable: true,
      description: 'The same for F1, over f1BatchCount batches.',
    }),
    f1BatchCount: t.exposeInt('f1BatchCount', { description: 'Batches where both the estimated and the realised F1 are defined.' }),
    aucMeanAbsoluteError: t.exposeFloat('aucMeanAbsoluteError', {
      nullable: true,
      description: 'The same for ROC AUC, over aucBatchCount batches.',
    }),
    aucBatchCount: t.exposeInt('aucBatchCount', { description: 'Batches whose actuals hold both classes (realised AUC defined).' }),
  }),
});

const PerformanceEstimateRef = builder.objectRef<PerformanceEstimateShape>('PerformanceEstimate').implement({
  description:
    'Binary classification: confidence-based performance estimation (CBPE). From the 1,000-bin histogram of the predicted positive-class probabilities p, with bin midpoints p_b and counts n_b: expected TP = Σ_{p_b ≥ threshold} n_b·p_b, FP = Σ_{p_b ≥ threshold} n_b·(1 − p_b), FN = Σ_{p_b < threshold} n_b·p_b, TN = Σ_{p_b < threshold} n_b·(1 − p_b), and the figures from them; the ROC AUC estimate is the AUC of n_b·p_b positives against n_b·(1 − p_b) negatives. Valid when the model is calibrated (see calibration). With a threshold on a bin edge (threshold·1000 an integer in floating point, e.g. 0.5) bins split as ingest does and expected accuracy is within 0.0005 of the same sums over the exact probabilities; otherwise the bin holding the threshold is split in proportion to its width above and below it (its n_t predictions add at most (n_t / n)·(|2·threshold − 1| + 0.001) to that error). Next to it, once actuals arrive: the realised figures of the predictions with actuals and the estimate over exactly those predictions.',
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    predictionThreshold: t.exposeFloat('predictionThreshold', { description: "The deployment's threshold the figures are at." }),
    rowCount: t.float({
      description: 'Predictions the estimate is over (all of them, with or without actuals).',
      resolve: (e) => e.rowCount,
    }),
    expected: t.field({
      type: PerformanceFiguresRef,
      description: 'The label-free estimate over all rowCount predictions: available before any actual arrives.',
      resolve: (e) => e.expected,
    }),
    predictionsWithActuals: t.float({ resolve: (e) => e.predictionsWithActuals }),
    realised: t.field({
      type: PerformanceFiguresRef,
      description:
        'What happened: the figures of the predictions with actuals (as `accuracy` gives them: confusion counts at the threshold in force when each pair was counted); all null without actuals.',
      resolve: (e) => e.realised,
    }),
    expectedWithActuals: t.field({
      type: PerformanceFiguresRef,
      description: 'The label-free estimate over exactly the predictions with actuals: compare it with realised, like with like.',
      resolve: (e) => e.expectedWithActuals,
    }),
    calibration: t.field({ type: CalibrationRef, resolve: (e) => e.calibration }),
    tracking: t.field({ type: EstimateTrackingRef, resolve: (e) => e.tracking }),
  }),
});

const NOT_BINARY =
  'null unless the deployment is binary classification (no probability to estimate from for regression; multiclass is not estimated).';

builder.objectFields(DeploymentRef, (t) => ({
  performanceEstimate: t.field({
    type: PerformanceEstimateRef,
    nullable: true,
    description: `The label-free performance estimate merged over the selection; calibration over its batches with actuals, tracking per batch with actuals. ${NOT_BINARY}`,
    args: { batches: t.arg({ type: BatchSelectionInputRef, required: true }) },
    resolve: async (deployment, { batches }, ctx) => {
      const { db } = ctx.app;
      const selection = orThrow<Selection>(await resolveSelection(db, ctx.viewer, deployment.id, batches));
      if (deployment.targetType !== 'BINARY') return null;
      // The histogram of all predictions merged in SQL (one row); accuracy sums per batch, for the tracking.
      const [probability, accuracy] = await Promise.all([probabilitySums(db, selection, false), accuracySums(db, selection, true)]);
      return performanceEstimate(
        deployment.predictionThreshold,
        selection.batchIds.length,
        probability.get(''),
        selection.batchIds.map((id) => accuracy.get(id)),
      );
    },
  }),
}));

builder.objectFields(MonitoringBatchRef, (t) => ({
  performanceEstimate: t.field({
    type: PerformanceEstimateRef,
    nullable: true,
    description: `The batch's label-free performance estimate, and once actuals arrive its realised figures beside it. Pushed by the monitoringBatch subscription as rows stream in. ${NOT_BINARY}`,
    resolve: async (batch, _args, ctx) => {
      const deployment = await deploymentLoaders(ctx).deployment.load(batch.deploymentId);
      if (deployment?.targetType !== 'BINARY') return null;
      const loaders = metricLoaders(ctx);
      const [probability, accuracy] = await Promise.all([loaders.probability.load(batch.id), loaders.accuracy.load(batch.id)]);
      return performanceEstimate(deployment.predictionThreshold, 1, probability, [accuracy]);
    },
  }),
}));
