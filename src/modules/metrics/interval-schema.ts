import { ValidationError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { orThrow } from '../../graphql/errors.js';
import { AccuracyMetricEnum } from './health-schema.js';
import {
  accuracyIntervals,
  CONFIDENCE_LEVEL_RULE,
  DEFAULT_CONFIDENCE_LEVEL,
  INTERVAL_METHOD_DESCRIPTIONS,
  INTERVAL_METHODS,
  isValidConfidenceLevel,
  type MetricInterval,
  NO_INTERVAL,
} from './intervals.js';
import { AccuracyRef } from './schema.js';

// Confidence intervals of the accuracy metrics (pure math in intervals.ts).

const IntervalMethodEnum = builder.enumType('IntervalMethod', {
  values: Object.fromEntries(INTERVAL_METHODS.map((m) => [m, { description: INTERVAL_METHOD_DESCRIPTIONS[m] }])) as Record<
    (typeof INTERVAL_METHODS)[number],
    { description: string }
  >,
});

const MetricIntervalRef = builder.objectRef<MetricInterval>('MetricInterval').implement({
  description: 'A two-sided confidence interval of one accuracy metric, computed from the stored sums.',
  fields: (t) => ({
    metric: t.field({ type: AccuracyMetricEnum, resolve: (i) => i.metric }),
    value: t.exposeFloat('value', { description: 'The point value (the same as the metric field of Accuracy).' }),
    lower: t.exposeFloat('lower'),
    upper: t.exposeFloat('upper'),
    level: t.exposeFloat('level'),
    method: t.field({ type: IntervalMethodEnum, resolve: (i) => i.method }),
  }),
});

const noInterval = Object.entries(NO_INTERVAL)
  .map(([metric, why]) => `${metric} (${why})`)
  .join('; ');

builder.objectFields(AccuracyRef, (t) => ({
  confidenceIntervals: t.field({
    type: [MetricIntervalRef],
    description: `One entry per metric of the target type that has a value and an interval: regression RMSE, MAE; binary ACCURACY, TPR, PPV, F1, AUC; multiclass ACCURACY. The predictions with actuals are taken as independent draws. None for ${noInterval}.`,
    args: { level: t.arg.float({ defaultValue: DEFAULT_CONFIDENCE_LEVEL, description: 'Confidence level, 0.5 to 0.999.' }) },
    resolve: (a, { level }) => {
      const chosen = level ?? DEFAULT_CONFIDENCE_LEVEL;
      if (!isValidConfidenceLevel(chosen)) orThrow(ValidationError.of('level', CONFIDENCE_LEVEL_RULE));
      return accuracyIntervals(a.targetType, a.totals, chosen, a);
    },
  }),
}));
