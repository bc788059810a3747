import type { Deployment, FeatureDefinition } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { deploymentLoaders } from './loaders.js';
import { createDeployment, updateDeploymentSettings } from './service.js';

export const DeploymentRef = builder.objectRef<Deployment>('Deployment');
const TargetTypeEnum = builder.enumType('TargetType', { values: ['BINARY', 'MULTICLASS', 'REGRESSION'] as const });
const FeatureTypeEnum = builder.enumType('FeatureType', { values: ['NUMERIC', 'CATEGORICAL'] as const });

const FeatureRef = builder.objectRef<FeatureDefinition>('Feature').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.field({ type: FeatureTypeEnum, resolve: (f) => f.type }),
    importance: t.exposeFloat('importance', { nullable: true, description: 'Feature importance, 0–1.' }),
  }),
});

builder.node(DeploymentRef, {
  description: 'A deployed model whose predictions are monitored.',
  id: { resolve: (deployment) => deployment.id },
  loadOne: (id, ctx) => deploymentLoaders(ctx).deployment.load(id),
  fields: (t) => ({
    label: t.exposeString('label'),
    description: t.exposeString('description', { nullable: true }),
    targetType: t.field({ type: TargetTypeEnum, resolve: (d) => d.targetType }),
    targetName: t.exposeString('targetName'),
    classNames: t.exposeStringList('classNames', { nullable: true, description: 'Classes of a binary or multiclass target.' }),
    positiveClass: t.exposeString('positiveClass', { nullable: true, description: 'The positive class of a binary target.' }),
    predictionThreshold: t.exposeFloat('predictionThreshold', {
      description: 'Probability at or above which a binary prediction is the positive class.',
    }),
    features: t.field({ type: [FeatureRef], resolve: (d) => d.features }),
    modelId: t.exposeString('modelId', { description: 'The model currently serving the deployment.' }),
    batchMonitoringEnabled: t.exposeBoolean('batchMonitoringEnabled', {
      description: 'The BATCH badge: batch operations are allowed only when this is true.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('deployment', (t) =>
  t.field({
    type: DeploymentRef,
    nullable: true,
    description: 'null when the id does not exist or belongs to another organization.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => deploymentLoaders(ctx).deployment.load(id),
  }),
);

const FeatureInput = builder.inputType('FeatureInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    type: t.field({ type: FeatureTypeEnum, required: true }),
    importance: t.float({ description: '0–1.' }),
  }),
});

const DeploymentSuccess = (name: string) =>
  builder.objectRef<{ deployment: Deployment }>(name).implement({
    fields: (t) => ({ deployment: t.field({ type: DeploymentRef, resolve: (p) => p.deployment }) }),
  });

const CreateDeploymentSuccess = DeploymentSuccess('CreateDeploymentSuccess');
const UpdateDeploymentSettingsSuccess = DeploymentSuccess('UpdateDeploymentSettingsSuccess');

builder.mutationField('createDeployment', (t) =>
  t.field({
    type: resultUnion('CreateDeploymentResult', CreateDeploymentSuccess, ['ValidationError']),
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateDeploymentInput', {
          fields: (f) => ({
            label: f.string({ required: true, description: '1–512 characters.' }),
            description: f.string(),
            targetType: f.field({ type: TargetTypeEnum, required: true }),
            targetName: f.string({ required: true }),
            classNames: f.stringList({ description: 'Binary: exactly 2; multiclass: 2 or more; regression: none.' }),
            positiveClass: f.string({ description: 'Binary only: one of classNames.' }),
            predictionThreshold: f.float({ description: 'Binary only, 0–1. Default 0.5.' }),
            features: f.field({ type: [FeatureInput] }),
            modelId: f.string({ description: 'The current model id; generated when omitted.' }),
            batchMonitoringEnabled: f.boolean({ description: 'Default false.' }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const deployment = await createDeployment(ctx.app.db, ctx.viewer, input);
      return isError(deployment) ? deployment : { deployment };
    },
  }),
);

builder.mutationField('updateDeploymentSettings', (t) =>
  t.field({
    type: resultUnion('UpdateDeploymentSettingsResult', UpdateDeploymentSettingsSuccess, ['NotFoundError', 'ValidationError']),
    description: 'Omitted fields keep their value.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateDeploymentSettingsInput', {
          fields: (f) => ({
            deploymentId: f.id({ required: true }),
            label: f.string(),
            description: f.string({ description: 'null clears it.' }),
            modelId: f.string(),
            predictionThreshold: f.float(),
            batchMonitoringEnabled: f.boolean({ description: 'Switches batch monitoring (the BATCH badge) on or off.' }),
          }),
        }),
      }),
    },
    resolve: async (_root, { input: { deploymentId, ...settings } }, ctx) => {
      const deployment = await updateDeploymentSettings(ctx.app.db, ctx.viewer, deploymentId, settings);
      return isError(deployment) ? deployment : { deployment };
    },
  }),
);
