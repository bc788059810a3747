import type { BaselineColumn, TrainingBaseline } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { DeploymentRef } from '../deployments/schema.js';
import { MAX_ROWS_PER_REPORT } from '../rows/normalize.js';
import { PredictionRowInput } from '../rows/schema.js';
import { binLabels } from './binning.js';
import { currentBaseline } from './current.js';
import { setTrainingBaseline } from './service.js';

const ColumnKindEnum = builder.enumType('BaselineColumnKind', { values: ['NUMERIC', 'CATEGORICAL'] as const });

interface BinShape {
  label: string;
  lower: number | null;
  upper: number | null;
  count: number;
  share: number;
}

const BaselineBinRef = builder.objectRef<BinShape>('BaselineBin').implement({
  description: 'One drift bin of a baseline column and how many baseline rows fell in it.',
  fields: (t) => ({
    label: t.exposeString('label', { description: 'Numeric: `[lower, upper)`; categorical: the value, `other` or `missing`.' }),
    lower: t.exposeFloat('lower', { nullable: true, description: 'Numeric bins: inclusive lower bound; null = open.' }),
    upper: t.exposeFloat('upper', { nullable: true, description: 'Numeric bins: exclusive upper bound; null = open.' }),
    count: t.exposeInt('count'),
    share: t.exposeFloat('share', { description: 'count ÷ baseline rows.' }),
  }),
});

const BaselineColumnRef = builder.objectRef<BaselineColumn>('BaselineColumn').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: "Feature name; '' for the prediction." }),
    kind: t.field({ type: ColumnKindEnum, resolve: (c) => (c.kind === 'numeric' ? 'NUMERIC' : 'CATEGORICAL') }),
    mean: t.float({ nullable: true, resolve: (c) => (c.kind === 'numeric' ? c.mean : null) }),
    std: t.float({ nullable: true, description: 'Population standard deviation.', resolve: (c) => (c.kind === 'numeric' ? c.std : null) }),
    bins: t.field({
      type: [BaselineBinRef],
      description:
        'Numeric: bins between the deciles (first and last open-ended), then missing. Categorical: the 25 most frequent values, other, missing.',
      resolve: (c) => {
        const total = c.counts.reduce((a, b) => a + b, 0);
        return binLabels(c).map((bin, i) => ({ ...bin, count: c.counts[i] ?? 0, share: total ? (c.counts[i] ?? 0) / total : 0 }));
      },
    }),
  }),
});

const TrainingBaselineRef = builder.objectRef<TrainingBaseline>('TrainingBaseline').implement({
  description: 'The sample drift is measured against; replacing it makes a new version and re-bins stored batches in the background.',
  fields: (t) => ({
    version: t.exposeInt('version'),
    rowCount: t.exposeInt('rowCount'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    features: t.field({ type: [BaselineColumnRef], resolve: (b) => b.columns.features }),
    prediction: t.field({
      type: BaselineColumnRef,
      nullable: true,
      description: 'Regression value, positive-class probability (binary) or predicted class (multiclass).',
      resolve: (b) => b.columns.prediction,
    }),
  }),
});

builder.objectField(DeploymentRef, 'trainingBaseline', (t) =>
  t.field({
    type: TrainingBaselineRef,
    nullable: true,
    description: 'The current baseline; null until one is set.',
    resolve: (d, _args, ctx) => currentBaseline(ctx.app.db, d),
  }),
);

const SetTrainingBaselineSuccess = builder.objectRef<{ baseline: TrainingBaseline }>('SetTrainingBaselineSuccess').implement({
  fields: (t) => ({ baseline: t.field({ type: TrainingBaselineRef, resolve: (p) => p.baseline }) }),
});

builder.mutationField('setTrainingBaseline', (t) =>
  t.field({
    type: resultUnion('SetTrainingBaselineResult', SetTrainingBaselineSuccess, ['NotFoundError', 'ValidationError']),
    description: `A new training baseline from a sample of up to ${MAX_ROWS_PER_REPORT} rows (same shape as reported predictions). Larger samples: POST /api/v2/deployments/{id}/trainingBaseline (CSV or NDJSON, streamed).`,
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('SetTrainingBaselineInput', {
          fields: (f) => ({ deploymentId: f.id({ required: true }), rows: f.field({ type: [PredictionRowInput], required: true }) }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const baseline = await setTrainingBaseline(ctx.app.pg, ctx.viewer, {
        deploymentId: input.deploymentId,
        items: input.rows.map((row) => ({ ...row, timestamp: row.timestamp?.toISOString() ?? null })),
        itemPath: 'rows',
      });
      if (isError(baseline)) return baseline;
      ctx.app.scheduleRebin();
      return { baseline };
    },
  }),
);
