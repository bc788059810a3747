import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { MAX_ACTUALS_PER_REQUEST, type SubmitActualsSummary, submitActuals } from './service.js';

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
      submitActuals(ctx.app.db, ctx.viewer, {
        deploymentId: input.deploymentId,
        itemPath: 'actuals',
        actuals: input.actuals.map((a) => ({ ...a, timestamp: a.timestamp?.toISOString() ?? null })),
      }),
  }),
);
