import type { Deployment, FeatureDefinition, ModelBackend } from '../../db/tables.js';
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

const ModelBackendProtocolEnum = builder.enumType('ModelBackendProtocol', {
  description: 'How batchlens talks to a model server.',
  values: {
    OPEN_INFERENCE_V2: { description: 'Open Inference Protocol v2 (KServe, MLServer, Triton): `POST /v2/models/{modelName}/infer`.' },
    MLFLOW: { description: "MLflow's scoring server: `POST /invocations` with `dataframe_split`." },
  },
});

const ModelBackendRef = builder.objectRef<ModelBackend>('ModelBackend').implement({
  description: "Where the deployment's model answers (real-time predictions and batch prediction jobs).",
  fields: (t) => ({
    protocol: t.field({ type: ModelBackendProtocolEnum, resolve: (b) => b.protocol }),
    url: t.exposeString('url', { description: 'Base URL of the model server.' }),
    modelName: t.exposeString('modelName', { nullable: true, description: 'The model on an Open Inference Protocol v2 server.' }),
    timeoutMs: t.exposeInt('timeoutMs', { description: 'How long one request to the backend may take.' }),
    headerNames: t.stringList({
      description: 'Names of the headers sent with every request; their values are secrets and never returned.',
      resolve: (b) => Object.keys(b.headers).sort(),
    }),
  }),
});

const HttpHeaderInput = builder.inputType('HttpHeaderInput', {
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
});

const ModelBackendInput = builder.inputType('ModelBackendInput', {
  description: 'Organization admins only.',
  fields: (t) => ({
    protocol: t.field({ type: ModelBackendProtocolEnum, required: true }),
    url: t.string({ required: true, description: 'http(s) base URL of the model server.' }),
    modelName: t.string({ description: 'Required for OPEN_INFERENCE_V2.' }),
    headers: t.field({
      type: [HttpHeaderInput],
      description: 'Sent with every request (e.g. Authorization). Write-only. Omitted: keep the stored ones; [] clears them.',
    }),
    timeoutMs: t.int({ description: 'Per request, 10–600000 ms. Default 30000.' }),
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
    modelBackend: t.field({
      type: ModelBackendRef,
      nullable: true,
      description: 'Where the model answers; null when none is set.',
      resolve: (d) => d.modelBackend,
    }),
    associationIdColumn: t.exposeString('associationIdColumn', {
      nullable: true,
      description:
        "The input column a batch prediction job reads each row's association id from (DataRobot's association id setting), " +
        'so actuals join the predictions of its runs; null when jobs record no association ids.',
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
    type: resultUnion('CreateDeploymentResult', CreateDeploymentSuccess, ['ValidationError', 'ForbiddenError']),
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
            modelBackend: f.field({ type: ModelBackendInput, description: 'Organization admins only.' }),
            associationIdColumn: f.string({ description: 'The input column batch prediction jobs read association ids from.' }),
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
    type: resultUnion('UpdateDeploymentSettingsResult', UpdateDeploymentSettingsSuccess, [
      'NotFoundError',
      'ValidationError',
      'ForbiddenError',
    ]),
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
            modelBackend: f.field({ type: ModelBackendInput, description: 'Organization admins only; null removes the backend.' }),
            associationIdColumn: f.string({
              description: 'The input column batch prediction jobs read association ids from; null: they record none.',
            }),
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
