import type { Deployment, MonitoringBatch } from '../../db/tables.js';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { orThrow } from '../../graphql/errors.js';
import { currentBaseline } from '../baselines/current.js';
import { baselineLoaders } from '../baselines/loaders.js';
import { batchLoaders } from '../batches/loaders.js';
import { MonitoringBatchRef } from '../batches/schema.js';
import { deploymentLoaders } from '../deployments/loaders.js';
import { DeploymentRef } from '../deployments/schema.js';
import { type DriftMatrixShape, driftMatrixOf, MAX_MATRIX_BATCHES, selectionDrift } from './comparisons.js';
import { type BinShare, executionTimeQuantile, serviceRates, slowRequests } from './compute.js';
import type { DriftCell } from './drift.js';
import { metricLoaders } from './loaders.js';
import {
  type AccuracyShape,
  accuracyShape,
  type DataDriftShape,
  type DriftReference,
  driftShape,
  type FeatureDriftShape,
  type PredictionStatsShape,
  predictionPercentile,
  predictionShape,
  type ServiceHealthShape,
  serviceShape,
  TRAINING_BASELINE,
} from './shapes.js';
import {
  accuracySums,
  type BatchSelectionInput,
  columnSums,
  labelSums,
  previousBatches,
  resolveSelection,
  type Selection,
  serviceSums,
} from './sums.js';

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

async function selectionOf(
  ctx: GraphQLContext,
  deployment: Deployment,
  batches: BatchSelectionInput,
  field = 'batches',
): Promise<Selection> {
  return orThrow<Selection>(await resolveSelection(ctx.app.db, ctx.viewer, deployment.id, batches, field));
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

const DriftStatusEnum = builder.enumType('DriftStatus', {
  description: 'How a comparison was judged.',
  values: {
    DRIFTED: { description: 'Significant (adjusted p-value ≤ the significance level) and the score reaches the drift threshold.' },
    NOT_DRIFTED: { description: 'Both sides hold enough rows, and the change is not significant or not large enough.' },
    INSUFFICIENT_DATA: { description: 'A side holds fewer rows than the minimum sample size: not judged, neither passing nor failing.' },
    NO_DATA: { description: 'A side holds no row binned by the current baseline.' },
  } as const,
});

const DriftReferenceKindEnum = builder.enumType('DriftReferenceKind', {
  description: 'What drift was measured against.',
  values: {
    TRAINING_BASELINE: { description: "The training baseline's own counts." },
    SELECTION: { description: 'A reference selection of batches (dataDrift(reference:)).' },
    PREVIOUS_BATCH: { description: "The deployment's batch created just before (overBatches(reference: PREVIOUS))." },
  } as const,
});

const FeatureDriftRef = builder.objectRef<FeatureDriftShape>('FeatureDrift').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: "Feature name ('' for the target/prediction)." }),
    score: t.exposeFloat('score', { nullable: true, description: 'null when a side holds no row binned by the current baseline.' }),
    importance: t.exposeFloat('importance', { nullable: true }),
    sampleSize: t.float({ description: 'Rows of the selection binned by the current baseline.', resolve: (f) => f.sampleSize }),
    referenceSampleSize: t.float({
      description: "Rows of the reference: the training baseline's, or the reference batches' rows binned by the current baseline.",
      resolve: (f) => f.referenceSampleSize,
    }),
    pValue: t.exposeFloat('pValue', {
      nullable: true,
      description:
        "Pearson's chi-square test of homogeneity on the two histograms' counts (bins empty on both sides left out; df = occupied bins − 1): the chance of a difference at least this large if both came from one distribution.",
    }),
    adjustedPValue: t.exposeFloat('adjustedPValue', {
      nullable: true,
      description:
        "pValue adjusted by Benjamini–Hochberg across the deployment's features compared here (those with enough rows); the target is its own family. null when not judged.",
    }),
    status: t.field({ type: DriftStatusEnum, resolve: (f) => f.status }),
    isDrifted: t.boolean({
      nullable: true,
      description: 'status is DRIFTED: significant AND score ≥ the drift threshold. null when not judged (INSUFFICIENT_DATA, NO_DATA).',
      resolve: (f) => (f.status === 'DRIFTED' ? true : f.status === 'NOT_DRIFTED' ? false : null),
    }),
    reference: t.field({
      type: DistributionRef,
      description: 'The reference histogram over the baseline bins.',
      resolve: (f) => f.reference,
    }),
    baseline: t.field({
      type: DistributionRef,
      deprecationReason: 'Use reference: the training baseline only when no reference selection is given.',
      resolve: (f) => f.reference,
    }),
    current: t.field({ type: DistributionRef, resolve: (f) => f.current }),
  }),
});

const DataDriftRef = builder.objectRef<DataDriftShape>('DataDrift').implement({
  fields: (t) => ({
    batchCount: t.exposeInt('batchCount'),
    metric: t.field({ type: DriftMetricEnum, resolve: (d) => d.metric }),
    driftThreshold: t.exposeFloat('driftThreshold'),
    significanceLevel: t.exposeFloat('significanceLevel', { description: 'The false-discovery rate α of the health settings.' }),
    minSampleSize: t.exposeInt('minSampleSize', { description: 'Rows each side needs to be judged (health settings).' }),
    reference: t.field({ type: DriftReferenceKindEnum, resolve: (d) => d.reference.kind }),
    referenceBatchIds: t.idList({
      description: 'The reference batches, oldest first (empty for the training baseline).',
      resolve: (d) => d.reference.batchIds,
    }),
    hasBaseline: t.exposeBoolean('hasBaseline', {
      description: 'false until a training baseline is set: features is then empty (its bins are what every comparison counts in).',
    }),
    features: t.field({ type: [FeatureDriftRef], resolve: (d) => d.features }),
    target: t.field({ type: FeatureDriftRef, nullable: true, description: 'Prediction (target) drift.', resolve: (d) => d.target }),
  }),
});

const ClassShareRef = builder.objectRef<PredictionStatsShape['classDistribution'][number]>('ClassShare').implement({
  fields: (t) => ({ className: t.exposeString('className'), count: t.float({ resolve: (c) => c.count }), share: t.exposeFloat('share') }),
});

export const AccuracyRef = builder.objectRef<AccuracyShape>('Accuracy').implement({
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
    meanActual: t.exposeFloat('meanActual', {
      nullable: true,
      description:
        'Of the predictions with actuals. Regression: the mean actual; binary: the share of actuals that are the positive class. null without actuals, and for multiclass (see actualClassDistribution).',
    }),
    meanPredicted: t.exposeFloat('meanPredicted', {
      nullable: true,
      description:
        'Of the predictions with actuals. Regression: the mean prediction; binary: the mean positive-class probability, from the 1,000 probability bins (within 0.0005). null without actuals, and for multiclass (see predictedClassDistribution).',
    }),
    actualClassDistribution: t.field({
      type: [ClassShareRef],
      description: 'Classification: the actuals of the predictions with actuals, per class (classNames order); empty for regression.',
      resolve: (a) => a.actualClasses,
    }),
    predictedClassDistribution: t.field({
      type: [ClassShareRef],
      description:
        'Classification: the predicted classes of the predictions with actuals (binary: at the deployment threshold), per class; empty for regression.',
      resolve: (a) => a.predictedClasses,
    }),
  }),
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

const SeriesDriftReferenceEnum = builder.enumType('SeriesDriftReference', {
  values: {
    TRAINING_BASELINE: { description: 'Each batch against the training baseline.' },
    PREVIOUS: {
      description:
        "Each batch against the deployment's batch created just before it (in the selection or not; the first batch has none: NO_DATA).",
    },
  } as const,
});

const DriftMatrixRowRef = builder.objectRef<{ batchId: string; cells: DriftCell[] }>('DriftMatrixRow').implement({
  fields: (t) => ({
    batchId: t.exposeID('batchId', { description: 'The batch measured (current).' }),
    scores: t.floatList({
      nullable: { list: false, items: true },
      description: 'Against each batch (reference) in turn: the drift score (0 on the diagonal; null when a side has no binned row).',
      resolve: (r) => r.cells.map((c) => c.score),
    }),
    pValues: t.floatList({
      nullable: { list: false, items: true },
      description: "Against each batch in turn: the chi-square test's p-value (unadjusted).",
      resolve: (r) => r.cells.map((c) => c.pValue),
    }),
    statuses: t.field({
      type: [DriftStatusEnum],
      description: 'Against each batch in turn: the judgement (significant at the significance level and score ≥ the drift threshold).',
      resolve: (r) => r.cells.map((c) => c.status),
    }),
  }),
});

const DriftMatrixRef = builder.objectRef<DriftMatrixShape>('DriftMatrix').implement({
  description:
    'rows[i][j]: batch i (current) against batch j (reference), over the baseline bins. Each cell is judged on its own (one feature: no correction across features). Empty without a training baseline.',
  fields: (t) => ({
    feature: t.exposeString('feature', { description: "The feature ('' for the target)." }),
    metric: t.field({ type: DriftMetricEnum, resolve: (m) => m.metric }),
    driftThreshold: t.exposeFloat('driftThreshold'),
    significanceLevel: t.exposeFloat('significanceLevel'),
    minSampleSize: t.exposeInt('minSampleSize'),
    hasBaseline: t.exposeBoolean('hasBaseline'),
    batches: t.field({
      type: [MonitoringBatchRef],
      description: 'Rows and columns, oldest first.',
      resolve: async (m, _args, ctx) =>
        (await batchLoaders(ctx).batch.loadMany(m.batchIds)).filter((b): b is MonitoringBatch => !!b && !(b instanceof Error)),
    }),
    sampleSizes: t.floatList({ description: "Each batch's rows binned by the current baseline.", resolve: (m) => m.sampleSizes }),
    rows: t.field({
      type: [DriftMatrixRowRef],
      description: 'One row per batch (current), oldest first; its cells are in the order of batches (reference).',
      resolve: (m) => m.cells.map((cells, i) => ({ batchId: m.batchIds[i]!, cells })),
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
      reference: t.arg({
        type: BatchSelectionInputRef,
        description:
          'Measure against these batches\' merged histograms instead of the training baseline ("this week against last month", "batch 37 against batch 36"). Binning stays the baseline\'s.',
      }),
    },
    resolve: async (deployment, { batches, metric, reference }, ctx) =>
      orThrow(await selectionDrift(ctx.app.db, ctx.viewer, deployment, { batches, metric: metric ?? 'PSI', reference })),
  }),
  driftMatrix: t.field({
    type: DriftMatrixRef,
    description: `Drift of every batch of the selection (at most ${MAX_MATRIX_BATCHES}) against every other, for one feature or the target, from one aggregate row per batch.`,
    args: {
      batches: t.arg({ type: BatchSelectionInputRef, required: true }),
      feature: t.arg.string({ description: 'A feature name; omitted or null: the target (prediction).' }),
      metric: t.arg({ type: DriftMetricEnum, defaultValue: 'PSI' }),
    },
    resolve: async (deployment, { batches, feature, metric }, ctx) =>
      orThrow(await driftMatrixOf(ctx.app.db, ctx.viewer, deployment, { batches, feature, metric: metric ?? 'PSI' })),
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
      reference: t.arg({
        type: SeriesDriftReferenceEnum,
        defaultValue: 'TRAINING_BASELINE',
        description: "What each batch's dataDrift is measured against.",
      }),
    },
    resolve: async (deployment, { batches, metric, reference }, ctx) => {
      const { db } = ctx.app;
      const selection = await selectionOf(ctx, deployment, batches);
      const previous = reference === 'PREVIOUS' ? await previousBatches(db, deployment.id, selection.batchIds) : new Map<string, string>();
      const columnSelection = { ...selection, batchIds: [...new Set([...selection.batchIds, ...previous.values()])] };
      const [baseline, service, columns, accuracy, labels, rows] = await Promise.all([
        currentBaseline(db, deployment),
        serviceSums(db, selection, true),
        columnSums(db, columnSelection, true),
        accuracySums(db, selection, true),
        labelSums(db, selection, true),
        batchLoaders(ctx).batch.loadMany(selection.batchIds),
      ]);
      const against = (batchId: string): DriftReference => {
        if (reference !== 'PREVIOUS') return TRAINING_BASELINE;
        const before = previous.get(batchId);
        return { kind: 'PREVIOUS_BATCH', batchIds: before ? [before] : [], sums: before ? columns.get(before) : undefined };
      };
      return rows.flatMap((batch) =>
        batch && !(batch instanceof Error)
          ? [
              {
                batch,
                service: serviceShape(service.get(batch.id), 1),
                drift: driftShape(deployment, baseline, columns.get(batch.id), metric ?? 'PSI', 1, against(batch.id)),
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
    resolve: async (batch, _args, ctx) => serviceShape(await metricLoaders(ctx).service.load(batch.id), 1),
  }),
  dataDrift: t.field({
    type: DataDriftRef,
    args: { metric: t.arg({ type: DriftMetricEnum, defaultValue: 'PSI' }) },
    resolve: async (batch, { metric }, ctx) => {
      const [deployment, baseline, columns] = await Promise.all([
        deploymentLoaders(ctx).deployment.load(batch.deploymentId),
        baselineLoaders(ctx).baseline.load(batch.deploymentId),
        metricLoaders(ctx).columns.load(batch.id),
      ]);
      return driftShape(deployment!, baseline, columns, metric ?? 'PSI', 1);
    },
  }),
  accuracy: t.field({
    type: AccuracyRef,
    resolve: async (batch, _args, ctx) => {
      const [deployment, totals] = await Promise.all([
        deploymentLoaders(ctx).deployment.load(batch.deploymentId),
        metricLoaders(ctx).accuracy.load(batch.id),
      ]);
      return accuracyShape(deployment!, totals, 1);
    },
  }),
}));
