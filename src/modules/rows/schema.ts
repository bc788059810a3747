import { builder } from '../../graphql/builder.js';

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
