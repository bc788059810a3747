import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import type { BackendCheck } from './backend.js';
import { checkModelBackend } from './service.js';

const ModelBackendCheckRef = builder.objectRef<BackendCheck>('ModelBackendCheck').implement({
  description: "What a check of the deployment's model backend found.",
  fields: (t) => ({
    backend: t.exposeString('backend', {
      description: 'Protocol and URL of the backend, e.g. `OPEN_INFERENCE_V2 http://host/v2/models/m`.',
    }),
    ready: t.exposeBoolean('ready', { description: 'The readiness route (`/v2/models/{m}/ready` or `/ping`) answered 200.' }),
    problems: t.exposeStringList('problems', {
      description:
        "What is wrong: the backend unreachable or not ready, or (v2) the model's inputs and outputs against the deployment's features and classes. Empty when all is well.",
    }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'How long the check took.' }),
  }),
});

builder.mutationField('checkModelBackend', (t) =>
  t.field({
    type: resultUnion('CheckModelBackendResult', ModelBackendCheckRef, ['NotFoundError', 'ModelBackendError']),
    description:
      "Tests the deployment's model backend now (readiness, and for OPEN_INFERENCE_V2 the model's metadata against the deployment). A mutation because it calls the backend; it changes nothing. ModelBackendError (NOT_CONFIGURED) when the deployment has none.",
    args: { deploymentId: t.arg.id({ required: true }) },
    resolve: (_root, { deploymentId }, ctx) => checkModelBackend(ctx.app.db, ctx.viewer, deploymentId),
  }),
);
